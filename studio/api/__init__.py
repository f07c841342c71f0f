"""The studio's HTTP API: GPT-SoVITS (api_v2, api.py) and OpenAI compatible routes, and its own.

``create_api(engine)`` builds the FastAPI app; ``run_server`` serves it with
uvicorn; ``serve_in_thread`` serves it in the background (the UI's API switch).
These names are imported on first use (PEP 562), so ``import studio.api.cli``
(``python -m studio --help``) does not import FastAPI.
"""

from __future__ import annotations

import importlib

__all__ = ["BackgroundServer", "create_api", "make_server", "run_server", "serve_in_thread"]

_HOME = {
    "create_api": ".app",
    "BackgroundServer": ".server",
    "make_server": ".server",
    "run_server": ".server",
    "serve_in_thread": ".server",
}


def __getattr__(name: str):
    """Import ``name`` from its module the first time it is asked for."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
