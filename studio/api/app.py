"""The FastAPI app: one :class:`ApiContext` over the engine, and the routers that adapt it.

Routers (``gpt_sovits``, ``openai``, ``native``) turn a request into a
:class:`Job` through the context (text checks, language names, voice and path
resolution) and hand it to :func:`~studio.api.streaming.speech_response`.
Requests are served one by one, first come first served, by :class:`Gate`;
generation itself goes through the engine (and its lock, shared with the UI).
Dubbing jobs (:mod:`studio.api.dubbing`) take their turn in the same gate, line
by line, so a job and a speech request never use the model at the same time.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from ..engine import MAX_TEXT_CHARS, Engine
from .context import DEFAULT_MAX_QUEUE, UPLOAD_TTL_S, ApiContext, Gate, Job, Reference, context, parse_language
from .errors import install_error_handlers

__all__ = [
    "DEFAULT_MAX_QUEUE",
    "UPLOAD_TTL_S",
    "ApiContext",
    "Gate",
    "Job",
    "Reference",
    "context",
    "create_api",
    "parse_language",
]

DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024


def create_api(
    engine: Engine,
    *,
    api_key: str | None = None,
    models: dict[str, str] | None = None,
    voices_root: str | Path | None = None,
    max_queue: int = DEFAULT_MAX_QUEUE,
    max_text_chars: int = MAX_TEXT_CHARS,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    cors_origins: list[str] | None = None,
    allowed_hosts: list[str] | None = None,
    lang: str = "en",
    projects_root: str | Path | None = None,
) -> FastAPI:
    """The studio's HTTP API over ``engine``.

    ``api_key`` requires ``Authorization: Bearer <key>`` on every route but
    ``/api/health`` and the docs. ``models`` maps a kind (base, custom_voice,
    voice_design) to the model used when a request names none. ``allowed_hosts``
    (e.g. the loopback names) refuses other Host headers, which stops DNS
    rebinding. CORS stays closed unless ``cors_origins`` lists origins; changes (POST, PUT, PATCH, DELETE)
    sent by a browser page of any other origin are refused (:mod:`studio.api.screen`).
    ``projects_root`` holds the dubbing projects (default: ``outputs/dubbing``).
    """
    from fastapi.middleware.cors import CORSMiddleware

    from . import dubbing, finetune, gpt_sovits, native, openai, text_routes, voice_aliases
    from .dubbing import redub as dubbing_redub
    from .guard import Guard
    from .screen import Screen

    ctx = ApiContext(
        engine,
        models=models,
        voices_root=voices_root,
        max_queue=max_queue,
        max_text_chars=max_text_chars,
        lang=lang,
        projects_root=projects_root,
    )
    ctx.jobs = dubbing.JobRegistry(ctx)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        dubbing_redub.resume_interrupted(ctx)
        try:
            yield
        finally:
            ctx.close()

    app = FastAPI(
        title="Qwen Voice Studio API",
        version="0.1.0",
        description="GPT-SoVITS (api_v2 and api.py) and OpenAI compatible speech, and the studio's own API: "
        "speech with exact length and emotion, readings and the pronunciation dictionary, dubbing projects "
        "and jobs (status polling, cancel, downloads).",
        lifespan=lifespan,
        openapi_tags=[
            {"name": "Studio", "description": "speech: clone, preset speakers, designed voices; voices and models"},
            {"name": "Text", "description": "readings of polyphones, pins, the pronunciation dictionary"},
            {"name": "Dubbing", "description": "projects from scripts, generation jobs, outputs"},
        ],
    )
    app.state.studio = ctx
    install_error_handlers(app, lang)
    app.include_router(native.router)
    app.include_router(text_routes.text_router)
    app.include_router(voice_aliases.router)
    app.include_router(dubbing.router)
    app.include_router(dubbing_redub.router)
    app.include_router(openai.router)
    app.include_router(gpt_sovits.router)
    app.include_router(finetune.router)
    app.add_middleware(Screen, allowed_origins=cors_origins, lang=lang)  # inside the Guard: bodies are bounded
    app.add_middleware(
        Guard, api_key=api_key or None, max_body_bytes=max_body_bytes, allowed_hosts=allowed_hosts, lang=lang
    )
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return app
