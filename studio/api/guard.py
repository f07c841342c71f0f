"""The request guard in front of every route: Host header, API key, body size (see :mod:`studio.api.server`)."""

from __future__ import annotations

import hmac
import ipaddress
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
