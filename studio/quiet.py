"""The one place where known, harmless warnings raised inside libraries are silenced.

Each filter names one message from one library module, so any other warning
still shows. Our own code never triggers these; they come from library code
we cannot change.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings

#: (message regex, category) of library warnings that are known and harmless.
KNOWN_LIBRARY_WARNINGS: tuple[tuple[str, type[Warning]], ...] = (
    # Gradio's queue route (gradio/routes.py, queue_join) reads starlette.status.HTTP_422_UNPROCESSABLE_ENTITY
    # on every UI event; Starlette renamed it HTTP_422_UNPROCESSABLE_CONTENT. Starlette attributes the
    # warning two frames up (inside FastAPI's routing), so it cannot be matched by module; the message is exact.
    (r"'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated", UserWarning),
    # Gradio's queue (gradio/queueing.py) uses two pandas options that pandas 3 deprecates (Pandas4Warning).
    (r"'future\.no_silent_downcasting' is deprecated", Warning),
    (r"The copy keyword is deprecated and will be removed", Warning),
)


def quiet_library_warnings() -> None:
    """Install the filters of :data:`KNOWN_LIBRARY_WARNINGS` (idempotent: ``filterwarnings`` drops duplicates)."""
    for message, category in KNOWN_LIBRARY_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)


#: (logger, message start) of library log records that are known and harmless.
KNOWN_LIBRARY_LOGS: tuple[tuple[str, str], ...] = (
    # transformers' generate() says this on every call when the model's config has no pad token (qwen-tts').
    ("transformers.generation.utils", "Setting `pad_token_id` to `eos_token_id`"),
)


class _DropKnown(logging.Filter):
    def __init__(self, start: str) -> None:
        super().__init__()
        self.start = start

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.start)


def quiet_library_logs() -> None:
    """Drop the records of :data:`KNOWN_LIBRARY_LOGS` (idempotent)."""
    for name, start in KNOWN_LIBRARY_LOGS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropKnown) and f.start == start for f in logger.filters):
            logger.addFilter(_DropKnown(start))


@contextlib.contextmanager
def _stderr_fd_silenced():
    """Point file descriptor 2 at the null device (a child process's messages included), then restore it."""
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def import_qwen_tts():
    """``import qwen_tts`` without its import-time chatter, which says nothing about the studio's use of it.

    Its 25 Hz tokenizer prints a flash-attn banner (the studio reports its attention in ``doctor``), and
    the ``sox`` module it imports runs ``sox -h`` in a shell (``sox: not found``) and logs "SoX could not
    be found!" (the studio never calls SoX). Errors still raise.
    """
    quiet_library_logs()
    if "sox" not in sys.modules:
        logging.getLogger("sox").setLevel(logging.ERROR)
        with contextlib.suppress(Exception), _stderr_fd_silenced():
            import sox  # noqa: F401
    with contextlib.redirect_stdout(io.StringIO()):
        import qwen_tts
    return qwen_tts
