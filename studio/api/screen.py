"""ASGI middleware that screens every request before a route sees it.

Two checks, each in one place for every route of the API:

- **Cross-origin state changes.** A web page on another site can make the
  browser send a plain form (``POST`` multipart or urlencoded) to the studio
  without any CORS preflight. ``POST``, ``PUT``, ``PATCH`` and ``DELETE``
  requests whose ``Origin`` (or, without one, ``Referer``) names another host
  than the request's own ``Host`` are refused with 403, unless that origin was
  allowed with ``--cors-origin``. Requests without either header (curl, SDKs,
  xiaozhi and other non-browser clients) are served as before. ``GET`` routes
  are not screened: GPT-SoVITS clients use ``GET /tts`` and ``GET /set_*``.
- **Characters no input may hold.** A NUL or a lone UTF-16 surrogate in the
  path, the query string or anywhere in a JSON body (sent as JSON or with no
  content type, which FastAPI also reads as JSON), and JSON nested deeper than
  :data:`studio.limits.MAX_DEPTH`, are refused with 400 naming the field
  (:func:`studio.limits.check_tree`).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import InputError, StudioError
from ..limits import bad_char, check_tree
from .errors import ApiError, error_response, request_language

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def _origin_of(value: str) -> str | None:
    """``scheme://host[:port]`` of an Origin or Referer header, lower-case; None when it names no host."""
    parts = urlsplit(value.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def foreign_origin(headers: dict[str, str], allowed: set[str]) -> str | None:
    """The origin of a browser request from another site (not ``Host``, not in ``allowed``), else None."""
    claimed = headers.get("origin") or headers.get("referer")
    if not claimed:
        return None
    origin = _origin_of(claimed)
    host = headers.get("host", "").strip().lower()
    if origin is not None and (origin in allowed or urlsplit(origin).netloc == host):
        return None
    return claimed.strip()[:100]


def cross_origin_error(origin: str) -> ApiError:
    """The 403 for a state change sent by a page of another site."""
    return ApiError(
        403,
        "cross_origin",
        zh=f"拒绝来自其他网站（{origin}）的修改请求：网页不能替你操作本工作室。"
        "如需让某个网页调用接口，请用 --cors-origin 允许它。",
        en=f"Refused a change sent from another site ({origin}): web pages may not act on the studio for you. "
        "To let a web app call the API, allow its origin with --cors-origin.",
    )


def _query_error(query: bytes) -> InputError | None:
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="utf-8"):
        for text in (key, value):
            found = bad_char(text)
            if found is not None:
                return InputError(
                    zh=f"查询参数 {key[:40]!r} 含有不允许的字符 {found}（空字符或不成对的代理字符）。",
                    en=f"The query parameter {key[:40]!r} holds a character that is not allowed, {found} "
                    "(a NUL or an unpaired surrogate).",
                    param=key[:40],
                )
    return None


def _body_error(body: bytes) -> StudioError | None:
    try:
        data = json.loads(body)
    except RecursionError:
        return InputError(
            zh="请求体的 JSON 嵌套太深。请把列表和对象展平。",
            en="The request body's JSON is nested too deeply. Flatten its lists and objects.",
            param="body",
        )
    except ValueError:
        return None  # malformed JSON: the route's own validation answers it
    try:
        check_tree(data, "body", ("请求体", "request body"))
    except InputError as exc:
        return exc
    return None


class Screen:
    """ASGI middleware: cross-origin state changes (403) and NUL/surrogates/deep JSON (400); see the module."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str] | None = None, lang: str = "en") -> None:
        self.app = app
        self.allowed = {o for o in (_origin_of(v) for v in allowed_origins or []) if o}
        self.lang = lang

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope.get("path", "/")
        err: StudioError | None = None
        if scope.get("method", "GET") in STATE_CHANGING:
            origin = foreign_origin(headers, self.allowed)
            if origin is not None:
                err = cross_origin_error(origin)
        err = err or _query_error(scope.get("query_string", b"")) or _path_error(path)
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        json_body = kind in ("", "application/json") or kind.endswith("+json")  # FastAPI reads JSON without a type too
        if err is None and json_body and scope.get("method") in STATE_CHANGING:
            body, receive = await _read_body(receive)
            err = _body_error(body)
        if err is not None:
            await error_response(err, path, request_language(headers, self.lang))(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _path_error(path: str) -> InputError | None:
    found = bad_char(path)
    if found is None:
        return None
    return InputError(
        zh=f"请求路径含有不允许的字符 {found}（空字符或不成对的代理字符）。",
        en=f"The request path holds a character that is not allowed, {found} (a NUL or an unpaired surrogate).",
        param="path",
    )


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (the Guard outside has bounded its size) and a receive that replays it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replay: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return replay.pop() if replay else await receive()

    return body, replayed
