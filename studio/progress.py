"""Progress reporting and cancellation shared by every long job.

The engine reports through a plain callable, so the UI can forward it to a
Gradio progress bar, the CLI to tqdm, and the API to a job record.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterator

from .errors import Cancelled

#: ``progress(fraction_or_None, message)``; fraction in [0, 1] or None when unknown.
ProgressFn = Callable[[float | None, str], None]


def no_progress(fraction: float | None, message: str) -> None:
    """A progress callback that ignores everything."""


#: What this thread is working for, as (zh, en), told to whoever waits for the model meanwhile.
Activity = Callable[[], tuple[str, str]]
_activity: contextvars.ContextVar[Activity | None] = contextvars.ContextVar("studio_activity", default=None)


@contextlib.contextmanager
def doing(describe: Activity) -> Iterator[None]:
    """Name what the current thread does (e.g. a dubbing job and its line) while it holds the model."""
    token = _activity.set(describe)
    try:
        yield
    finally:
        _activity.reset(token)


def current_activity() -> Activity | None:
    """What the current thread said it does (:func:`doing`), or None."""
    return _activity.get()


class CancelToken:
    """Set from any thread; long jobs call :meth:`check` between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._event.set()

    def reset(self) -> None:
        """Clear a previous cancellation so the token can be reused."""
        self._event.clear()

    @property
    def cancelled(self) -> bool:
        """Whether cancellation was requested."""
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled()


class TqdmProgress:
    """A progress callback that drives a tqdm bar (for the command line)."""

    def __init__(self, desc: str = "") -> None:
        self._desc = desc
        self._bar = None  # created on the first report, so a job that fails early prints no empty bar
        self._last = 0.0

    def __call__(self, fraction: float | None, message: str) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=100, desc=self._desc, bar_format="{l_bar}{bar}| {postfix}")
        if fraction is not None:
            target = max(0.0, min(1.0, fraction)) * 100
            self._bar.update(max(0.0, target - self._last))
            self._last = max(self._last, target)
        self._bar.set_postfix_str(message, refresh=True)

    def close(self) -> None:
        """Finish the bar."""
        if self._bar is not None:
            self._bar.close()
