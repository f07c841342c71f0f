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

import hmac
import ipaddress
import threading
import time
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import InputError
from .errors import ApiError, error_response, request_language, unauthorized

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Reachable without the key: a liveness probe and the API's own documentation.
OPEN_PATHS = ("/api/health", "/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and "localhost"."""
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_name(header: str) -> str:
    """The host of a Host header, without the port ("[::1]:9880" -> "::1")."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Guard:
    """ASGI middleware: Host check, API key, body size limit; errors in each route family's shape."""

    def __init__(
        self,
        app: ASGIApp,
        api_key: str | None = None,
        max_body_bytes: int = 25 * 1024 * 1024,
        allowed_hosts: list[str] | None = None,
        lang: str = "en",
    ) -> None:
        self.app = app
        self.api_key = api_key
        self.max_body_bytes = max_body_bytes
        self.allowed_hosts = {h.lower().strip("[]") for h in allowed_hosts} if allowed_hosts else None
        self.lang = lang

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope.get("path", "/")
        lang = request_language(headers, self.lang)

        async def refuse(err: ApiError | InputError) -> None:
            await error_response(err, path, lang)(scope, receive, send)

        if self.allowed_hosts is not None and _host_name(headers.get("host", "")) not in self.allowed_hosts:
            await refuse(
                ApiError(
                    400,
                    "bad_host",
                    zh="Host 请求头不被允许。本地服务器只接受 127.0.0.1 或 localhost。",
                    en="The Host header is not allowed. This local server only answers to 127.0.0.1 or localhost.",
                )
            )
            return
        if self.api_key and path not in OPEN_PATHS and not self._authorised(headers, scope):
            await refuse(unauthorized())
            return
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            await refuse(self._too_large())
            return
        if not length and "transfer-encoding" in headers:
            receive = await self._buffered(receive)
            if receive is None:
                await refuse(self._too_large())
                return
        await self.app(scope, receive, send)

    def _authorised(self, headers: dict[str, str], scope: Scope) -> bool:
        assert self.api_key is not None
        auth = headers.get("authorization", "")
        offered = auth[7:].strip() if auth[:7].lower() == "bearer " else headers.get("x-api-key", "")
        if not offered:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            offered = (query.get("api_key") or [""])[0]
        return hmac.compare_digest(offered.encode(), self.api_key.encode())

    def _too_large(self) -> ApiError:
        mb = self.max_body_bytes / (1024 * 1024)
        return ApiError(
            413,
            "request_too_large",
            zh=f"请求体太大，最多 {mb:.0f} MB。",
            en=f"The request body is too large; the limit is {mb:.0f} MB.",
        )

    async def _buffered(self, receive: Receive) -> Receive | None:
        """Read a chunked body up to the limit; a receive that replays it, or None when too large."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body_bytes:
                return None
            if not message.get("more_body", False):
                break
        replay: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replayed() -> Message:
            return replay.pop() if replay else await receive()

        return replayed


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
