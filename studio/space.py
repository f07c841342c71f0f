"""Running as a Hugging Face Space: many visitors, one process, nobody sees anyone else's files.

Space mode is on with ``python app.py --space`` or when the ``SPACE_ID``
variable (set by Spaces) is present. It then

- keeps each visitor's voices, uploads and outputs in a private folder keyed
  by their Gradio session (:class:`SessionStorage`), removed when the tab is
  closed and swept after :attr:`SpaceLimits.session_ttl_s` otherwise;
- limits text length (:func:`check_text`), queue size and upload size;
- serves no folder of the data directory (``allowed_paths`` is empty) and
  lets Gradio delete its temporary files (``delete_cache``);
- wraps GPU work with ZeroGPU's ``spaces.GPU`` when that package is present
  (:func:`gpu`), and runs on the CPU otherwise.

Local use is untouched: one persistent library in the data folder.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from . import config
from .space_mode import (  # noqa: F401  (the Space-mode rules the UI uses, re-exported for callers)
    FLAG_ENV,
    SPACE_PORT,
    SessionStorage,
    SpaceLimits,
    _session_hash,
    _spaces_module,
    check_operator_only,
    check_text,
    enabled,
    gpu,
    is_space,
    sessions_root,
    start_sweeper,
    storage,
    zero_gpu_available,
)

log = logging.getLogger(__name__)


def install(demo, limits: SpaceLimits | None = None, store: SessionStorage | None = None) -> SessionStorage:
    """Apply Space behaviour to a built Blocks app: cleanup on tab close, cache deletion, queue size."""
    import gradio as gr

    limits = limits or SpaceLimits.from_env()
    store = store or storage()

    def end_session(request: gr.Request) -> None:
        store.forget(request)
        forget_files = getattr(demo, "forget_session", None)  # the visitor's uploads and outputs in Gradio's cache
        if forget_files is not None:
            forget_files(getattr(request, "session_hash", None))

    # Gradio passes the request only to a parameter whose annotation resolves to gr.Request. This module
    # imports gradio lazily and postpones annotations, so the string "gr.Request" would not resolve: the
    # handler would get no argument and fail, leaving the visitor's folder behind until the sweep.
    end_session.__annotations__["request"] = gr.Request
    demo.unload(end_session)
    demo.delete_cache = (limits.sweep_every_s, limits.session_ttl_s)
    demo.queue(max_size=limits.queue_size)
    store.root.mkdir(parents=True, exist_ok=True)
    store.sweep(limits.session_ttl_s)
    start_sweeper(store, limits)
    return store


def launch_kwargs(host: str | None = None, port: int | None = None, limits: SpaceLimits | None = None) -> dict:
    """``demo.launch`` arguments for a Space: all interfaces, no served data folder, small uploads."""
    limits = limits or SpaceLimits.from_env()
    return {
        "server_name": host or os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
        "server_port": port or int(os.environ.get("GRADIO_SERVER_PORT", SPACE_PORT)),
        "max_file_size": limits.max_file_size,
        "allowed_paths": [],
        "show_error": False,  # the studio's own messages only; other exceptions' text stays in the log
        "share": False,
    }


def prepare_environment() -> Path:
    """Point the data folder away from the shared app folder: ``/data`` (persistent storage) or a temp folder."""
    config.choose(FLAG_ENV, "1")  # for this process: the UI asks space_mode.enabled()
    if not config.home():
        persistent = Path("/data")
        base = persistent if persistent.is_dir() and os.access(persistent, os.W_OK) else Path(tempfile.gettempdir())
        config.choose("STUDIO_HOME", str(base / "qwen-voice-studio"))
    home = Path(config.home())
    home.mkdir(parents=True, exist_ok=True)
    return home


def serve(host: str | None = None, port: int | None = None) -> int:
    """Build the app in Space mode and serve it until stopped; return the exit code."""
    from .errors import StudioError
    from .startup import check_data_dir, report_fatal, setup_logging

    try:
        home = check_data_dir(prepare_environment())
    except StudioError as exc:
        report_fatal(exc)
        return 2
    setup_logging(home)
    from .ui.app import build_app

    demo = build_app()
    install(demo)
    log.info("Space mode: data %s, sessions %s, ZeroGPU %s", home, storage().root, zero_gpu_available())
    demo.launch(**launch_kwargs(host, port))
    return 0
