"""The server's queue: requests use the engine one at a time, first come first served (:class:`Gate`)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from ..errors import BusyError
from ..progress import CancelToken

DEFAULT_MAX_QUEUE = 8


class Gate:
    """Admits requests to the engine one at a time, first come first served, with a bounded queue."""

    def __init__(self, max_waiting: int = DEFAULT_MAX_QUEUE) -> None:
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._started: float | None = None
        self._durations: deque[float] = deque(maxlen=20)

    @property
    def pending(self) -> int:
        """Requests admitted and not finished (the one running included)."""
        return len(self._queue)

    def admit(self, bounded: bool = True) -> object:
        """A ticket for the queue, or :class:`BusyError` (503) when ``max_waiting`` already wait.

        ``bounded=False`` always queues (a dubbing job already accepted takes its turn line by line).
        """
        with self._cond:
            if bounded and len(self._queue) > self.max_waiting:
                mean = sum(self._durations) / len(self._durations) if self._durations else 5.0
                retry = max(1, min(300, math.ceil(mean * len(self._queue))))
                raise BusyError(
                    zh=f"服务器正忙：已有 {len(self._queue)} 个请求在处理或排队。请 {retry} 秒后重试。",
                    en=f"The server is busy: {len(self._queue)} requests are running or queued. Retry in {retry} s.",
                    retry_after=retry,
                )
            ticket = object()
            self._queue.append(ticket)
            return ticket

    def wait(self, ticket: object, cancel: CancelToken | None = None) -> None:
        """Block until ``ticket`` is first in line; :class:`~studio.errors.Cancelled` if ``cancel`` is set meanwhile."""

        def ready() -> bool:
            return not self._queue or self._queue[0] is ticket or ticket not in self._queue

        with self._cond:
            if cancel is None:
                self._cond.wait_for(ready)
            else:
                while not ready():
                    cancel.check()
                    self._cond.wait(0.2)
            self._started = time.monotonic()

    def done(self, ticket: object) -> None:
        """Leave the queue (running or not); safe to call twice."""
        with self._cond:
            if ticket not in self._queue:
                return
            if self._queue[0] is ticket and self._started is not None:
                self._durations.append(time.monotonic() - self._started)
                self._started = None
            self._queue.remove(ticket)
            self._cond.notify_all()
