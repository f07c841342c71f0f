"""The one place where known, harmless warnings raised inside libraries are silenced.

Each filter names one message from one library module, so any other warning
still shows. Our own code never triggers these; they come from library code
we cannot change.
"""

from __future__ import annotations

import warnings

#: (message regex, category) of library warnings that are known and harmless.
KNOWN_LIBRARY_WARNINGS: tuple[tuple[str, type[Warning]], ...] = (
    # Gradio's queue route (gradio/routes.py, queue_join) reads starlette.status.HTTP_422_UNPROCESSABLE_ENTITY
    # on every UI event; Starlette renamed it HTTP_422_UNPROCESSABLE_CONTENT. Starlette attributes the
    # warning two frames up (inside FastAPI's routing), so it cannot be matched by module; the message is exact.
    (r"'HTTP_422_UNPROCESSABLE_ENTITY' is deprecated", UserWarning),
)


def quiet_library_warnings() -> None:
    """Install the filters of :data:`KNOWN_LIBRARY_WARNINGS` (idempotent: ``filterwarnings`` drops duplicates)."""
    for message, category in KNOWN_LIBRARY_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)
