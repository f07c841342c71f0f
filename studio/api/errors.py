"""The one place that turns a :class:`~studio.errors.StudioError` into an HTTP answer.

Each route family answers errors in the shape its clients parse:

============  =====================================================  ==================================
family        paths                                                  body
============  =====================================================  ==================================
gpt_sovits    ``/tts``, ``/set_*``, ``/control`` (api_v2)            ``{"message": ..., "Exception": ...}``
sovits_v1     ``/``, ``/change_refer`` (api.py v1)                   ``{"code": <status>, "message": ...}``
openai        ``/v1/...``, ``/audio/...``                            ``{"error": {"message", "type", "code", "param"}}``
native        ``/api/...`` and everything else                       ``err.to_dict(lang)``
============  =====================================================  ==================================

The status is always ``err.http_status``: 400 for bad input (malformed JSON and
wrong types included), 401 without a valid key, 403 for refused actions, 404
for an unknown voice, speaker or model, 409 for a model of the wrong kind, 413
for a body over the limit, 503 (with ``Retry-After``) when the queue is full.
Messages are in Chinese when the request's ``Accept-Language`` starts with
``zh``, else in the server's language.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..errors import BusyError, InputError, NotFoundError, StudioError

log = logging.getLogger(__name__)

_V2_PATHS = ("/tts", "/set_refer_audio", "/set_gpt_weights", "/set_sovits_weights", "/control")
_V1_PATHS = ("/", "/change_refer")
_OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 404: "invalid_request_error"}


class ApiError(StudioError):
    """An HTTP-level problem (key, size, host, method, route) with its own status and code."""

    def __init__(self, status: int, code: str, zh: str, en: str, **details: object) -> None:
        super().__init__(zh=zh, en=en, **details)
        self.http_status = status
        self.code = code


def unauthorized() -> ApiError:
    """The error for a missing or wrong API key."""
    return ApiError(
        401,
        "invalid_api_key",
        zh="API 密钥缺失或不正确。请在请求头中加上 Authorization: Bearer <密钥>。",
        en="Missing or wrong API key. Send the header Authorization: Bearer <key>.",
    )


def flavour_for(path: str) -> str:
    """Which error shape the route at ``path`` answers in."""
    if path.startswith(("/v1/", "/audio/")):
        return "openai"
    if path.startswith("/api/"):
        return "native"
    if any(path == p or path.startswith(p + "/") for p in _V2_PATHS):
        return "gpt_sovits"
    if path in _V1_PATHS:
        return "sovits_v1"
    return "native"


def request_language(headers: Any, default: str) -> str:
    """'zh' when the client's Accept-Language prefers Chinese, else ``default``."""
    accept = (headers.get("accept-language") or "").strip().lower()
    if accept:
        return "zh" if accept.startswith("zh") else "en"
    return default


def error_body(err: StudioError, flavour: str, lang: str) -> dict:
    """The JSON body of ``err`` in the shape of ``flavour``."""
    message = err.message(lang)
    if flavour == "gpt_sovits":
        return {"message": message, "Exception": f"{err.code}: {err.en}"}
    if flavour == "sovits_v1":
        return {"code": err.http_status, "message": message}
    if flavour == "openai":
        kind = _OPENAI_TYPES.get(err.http_status, "server_error" if err.http_status >= 500 else "invalid_request_error")
        param = err.details.get("param")
        return {"error": {"message": message, "type": kind, "code": err.code, "param": param}}
    return err.to_dict(lang)


def error_response(err: StudioError, path: str, lang: str) -> JSONResponse:
    """``err`` as a JSON response for the route at ``path`` (adds Retry-After when busy)."""
    headers = {}
    if isinstance(err, BusyError) or err.http_status == 503:
        headers["Retry-After"] = str(err.details.get("retry_after", 5))
    if err.http_status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(error_body(err, flavour_for(path), lang), status_code=err.http_status, headers=headers)


def validation_error(exc: RequestValidationError) -> InputError:
    """A bilingual :class:`InputError` describing what pydantic refused (first problems first)."""
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return InputError(
            zh="请求体不是有效的 JSON。请检查引号、逗号和括号。",
            en="The request body is not valid JSON. Check quotes, commas and brackets.",
            param="body",
        )
    zh_parts, en_parts, first = [], [], None
    for p in problems[:5]:
        loc = [str(x) for x in p.get("loc", ()) if x not in ("body", "query")]
        field = ".".join(loc) or "body"
        first = first or field
        en_parts.append(f"{field}: {p.get('msg', 'invalid')}")
        zh_parts.append(f"{field}：{_zh_problem(p)}")
    return InputError(
        zh=f"请求参数无效：{'；'.join(zh_parts)}", en=f"Invalid request: {'; '.join(en_parts)}", param=first or "body"
    )


#: pydantic's error types in Chinese (its own messages are English only); {name} takes the error's ctx.
_ZH_PROBLEMS = {
    "missing": "缺少此项",
    "string_type": "应为文本",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "extra_forbidden": "不接受此项",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
    "string_too_long": "太长（最多 {max_length} 个字符）",
    "string_too_short": "太短（至少 {min_length} 个字符）",
    "too_long": "太多（最多 {max_length} 项）",
    "too_short": "太少（至少 {min_length} 项）",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
}


def _zh_problem(problem: dict) -> str:
    """One pydantic problem in Chinese ("值无效" for a type not listed)."""
    template = _ZH_PROBLEMS.get(problem.get("type", ""), "值无效")
    try:
        return template.format(**(problem.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return template.split("：")[0].split("（")[0]


def _bad_character(exc: BaseException) -> bool:
    """Whether ``exc`` is Python refusing a NUL in a path or a lone surrogate in text."""
    if isinstance(exc, UnicodeEncodeError):
        return "surrogate" in str(exc)
    return (
        isinstance(exc, ValueError) and "null" in str(exc).lower() and ("byte" in str(exc) or "character" in str(exc))
    )


def bad_character_error() -> InputError:
    """The 400 for a request holding a NUL or an unpaired surrogate."""
    return InputError(
        zh="请求里含有不允许的字符（空字符或不成对的代理字符）。请删除它后重试。",
        en="The request holds a character that is not allowed (a NUL or an unpaired surrogate). Remove it and retry.",
    )


def install_error_handlers(app: FastAPI, default_lang: str) -> None:
    """Route every error raised while serving ``app`` through :func:`error_response`."""

    def lang_of(request: Request) -> str:
        return request_language(request.headers, default_lang)

    @app.exception_handler(StudioError)
    async def studio_error(request: Request, exc: StudioError) -> JSONResponse:
        return error_response(exc, request.url.path, lang_of(request))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_error(exc), request.url.path, lang_of(request))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        path = request.url.path
        if exc.status_code == 404:
            err: StudioError = NotFoundError(zh=f"没有这个接口：{path}。", en=f"No such endpoint: {path}.")
        elif exc.status_code == 405:
            err = ApiError(
                405,
                "method_not_allowed",
                zh=f"{path} 不支持 {request.method}。",
                en=f"{path} does not take {request.method}.",
            )
        else:
            err = ApiError(exc.status_code, "http_error", zh=str(exc.detail), en=str(exc.detail))
        return error_response(err, path, lang_of(request))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        if _bad_character(exc):  # a NUL or lone surrogate the screen could not see (a form field): the client's fault
            return error_response(bad_character_error(), request.url.path, lang_of(request))
        log.exception("unexpected error while serving %s", request.url.path)
        err = ApiError(
            500,
            "internal_error",
            zh=f"服务器内部错误（{type(exc).__name__}）。请查看服务器日志。",
            en=f"Internal server error ({type(exc).__name__}). See the server log.",
        )
        return error_response(err, request.url.path, lang_of(request))
