"""Aliases of saved voices over HTTP: ``/api/voices/{name}/aliases``.

An alias is an exact string a client sends as ``ref_audio_path`` /
``refer_wav_path`` (a path on the machine its old GPT-SoVITS server ran on);
a voice answering to it makes that client's config work unchanged.

* ``GET`` lists the voice's aliases;
* ``POST {"alias": "E:\\\\GPT-SoVITS\\\\纳西妲\\\\0.wav"}`` adds one (201; 400 if another voice holds it);
* ``DELETE ?alias=...`` removes one (404 if the voice has no such alias).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..voice_aliases import MAX_ALIAS_CHARS
from .app import context

router = APIRouter(prefix="/api", tags=["Studio"])


class AliasRequest(BaseModel):
    """An alias to add."""

    model_config = ConfigDict(extra="forbid")

    alias: str = Field(min_length=1, max_length=MAX_ALIAS_CHARS, description="the exact string a client sends")


def _answer(voice) -> dict:
    return {"voice": voice.name, "aliases": list(voice.aliases)}


@router.get("/voices/{name}/aliases", summary="a saved voice's aliases")
async def list_aliases(request: Request, name: str) -> dict:
    """The exact strings (old reference paths) the voice answers to."""
    lib = context(request).library()
    return await run_in_threadpool(lambda: _answer(lib.get(name)))


@router.post("/voices/{name}/aliases", summary="add an alias to a saved voice", status_code=201)
async def add_alias(request: Request, name: str, body: AliasRequest) -> JSONResponse:
    """Let the voice answer to ``alias`` (unique across the library)."""
    lib = context(request).library()
    voice = await run_in_threadpool(lib.add_alias, name, body.alias)
    return JSONResponse(_answer(voice), status_code=201)


@router.delete("/voices/{name}/aliases", summary="remove an alias from a saved voice")
async def remove_alias(
    request: Request, name: str, alias: Annotated[str, Query(min_length=1, max_length=MAX_ALIAS_CHARS)]
) -> dict:
    """Stop the voice answering to ``alias``."""
    lib = context(request).library()
    return await run_in_threadpool(lambda: _answer(lib.remove_alias(name, alias)))
