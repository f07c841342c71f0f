"""One segment's audio as it is generated: the engine runs in a worker thread and hands over chunks.

The engine streams a local generation's codec frames through
:func:`studio.synthesis.streaming` (a first chunk of a few frames, then larger
ones); this module turns that callback into an iterator a streaming response
can pull from. Leaving the iterator early (the client went away) cancels the
generation and waits for the worker to stop, so the engine is free again when
the caller gives up its queue slot.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .progress import CancelToken

_END = object()


@dataclass
class Outcome:
    """What the worker left behind: the engine's result, or the error it raised."""

    result: object = None
    error: BaseException | None = None
    streamed: int = 0  #: chunks handed over before the result


def live_chunks(generate: Callable[[], object], cancel: CancelToken, plan, outcome: Outcome) -> Iterator[np.ndarray]:
    """Yield the raw audio chunks ``generate()`` streams; its result (or error) lands in ``outcome``.

    ``cancel`` is anything with a ``cancel()`` method (the job's token).
    An error is raised here after the chunks that came before it. A generation
    that streams nothing (a remote engine) just sets ``outcome.result``.
    """
    from .synthesis import streaming

    chunks: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            with streaming(chunks.put, plan):
                outcome.result = generate()
        except BaseException as exc:  # handed to the consumer, who re-raises it
            outcome.error = exc
        finally:
            chunks.put(_END)

    # The worker sees the caller's context variables (e.g. a UI framework's progress tracking).
    context = contextvars.copy_context()
    worker = threading.Thread(target=context.run, args=(work,), name="studio-live", daemon=True)
    worker.start()
    try:
        while (item := chunks.get()) is not _END:
            outcome.streamed += 1
            yield item
    finally:
        if worker.is_alive():
            cancel.cancel()  # the consumer left mid-way: stop generating
        worker.join()
    if outcome.error is not None:
        raise outcome.error
