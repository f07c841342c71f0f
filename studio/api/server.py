"""Serving the API: the request guard (host, key, body size) and uvicorn.

The server binds 127.0.0.1 by default and refuses any other interface without
an API key. With a key, every route but ``/api/health`` and the docs needs
``Authorization: Bearer <key>`` (``X-API-Key: <key>`` and ``?api_key=<key>``
work too, for GPT-SoVITS clients that cannot send headers). On loopback the
Host header must be a loopback name, so a web page cannot reach the studio
through DNS rebinding. Bodies over the limit are refused with 413. Inside the
guard, :mod:`studio.api.screen` refuses cross-origin changes and malformed input.
"""

from __future__ import annotations

import threading
import time

from ..errors import InputError
from .guard import LOOPBACK_HOSTS, OPEN_PATHS, Guard, is_loopback  # noqa: F401  (re-exported)


def check_bind(host: str, api_key: str | None) -> None:
    """Refuse to listen beyond this machine without an API key."""
    if not is_loopback(host) and not api_key:
        raise InputError(
            zh=f"拒绝在 {host} 上监听：其他机器能访问这个地址，必须设置 API 密钥（--api-key 或环境变量 STUDIO_API_KEY）。",
            en=f"Refusing to listen on {host}: other machines can reach it, so an API key is required "
            "(--api-key or the STUDIO_API_KEY environment variable).",
        )


def make_server(
    engine=None,
    host: str = "127.0.0.1",
    port: int = 9880,
    api_key: str | None = None,
    *,
    log_level: str = "info",
    **api_options,
):
    """A configured ``uvicorn.Server`` for :func:`~studio.api.app.create_api` (not started).

    Refuses a non-loopback ``host`` without ``api_key``. ``api_options`` go to
    ``create_api`` (models, voices_root, max_queue, max_text_chars,
    max_body_bytes, cors_origins, lang).
    """
    import uvicorn

    from ..engine import Engine
    from .app import create_api

    check_bind(host, api_key)
    if is_loopback(host):
        api_options.setdefault("allowed_hosts", [*LOOPBACK_HOSTS, host])
    app = create_api(engine or Engine(), api_key=api_key, **api_options)
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, access_log=False, timeout_graceful_shutdown=5
    )
    return uvicorn.Server(config)


def run_server(host: str = "127.0.0.1", port: int = 9880, api_key: str | None = None, **options) -> None:
    """Serve the API until interrupted (see :func:`make_server` for the options)."""
    make_server(host=host, port=port, api_key=api_key, **options).run()


class BackgroundServer:
    """The API served from a thread (for the UI's API switch and for tests)."""

    def __init__(self, server) -> None:
        self.server = server
        self.thread = threading.Thread(target=server.run, name="studio-api", daemon=True)

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:9880``."""
        config = self.server.config
        host = f"[{config.host}]" if ":" in config.host else config.host
        return f"http://{host}:{config.port}"

    def start(self, timeout: float = 30.0) -> BackgroundServer:
        """Start serving; return once the port accepts connections."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API server did not start on {self.url}")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout)


def serve_in_thread(engine=None, host: str = "127.0.0.1", port: int = 9880, api_key: str | None = None, **options):
    """Start the API in a background thread; returns a :class:`BackgroundServer` (call ``stop()``)."""
    return BackgroundServer(make_server(engine, host, port, api_key, log_level="warning", **options)).start()
