"""Aliases of saved voices over HTTP: ``/api/voices/{name}/aliases``.

An alias is an exact string a client sends as ``ref_audio_path`` /
``refer_wav_path`` (a path on the machine its old GPT-SoVITS server ran on);
a voice answering to it makes that client's config work unchanged.

* ``GET`` lists the voice's aliases;
* ``POST {"alias": "E:\\\\GPT-SoVITS\\\\纳西妲\\\\0.wav"}`` adds one (201; 400 if another voice holds it);
* ``DELETE ?alias=...`` removes one (404 if the voice has no such alias);
* ``POST /api/voices/import-gsv`` (multipart: ``config`` a client's YAML or .py config, ``audio`` its
  reference clip, ``consent``; or ``voice`` an existing voice) makes a voice answer to the config's path.
  The server never opens a path the config names: the clip comes with the request.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..errors import InputError
from ..voice_aliases import MAX_ALIAS_CHARS
from .context import context

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


_CONFIG_SUFFIXES = (".yaml", ".yml", ".py")
_AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a")


@router.post("/voices/import-gsv", summary="import a GPT-SoVITS client config's reference voice", status_code=201)
async def import_gsv(
    request: Request,
    config: Annotated[UploadFile, File(description="the client's config: .yaml/.yml or .py (read as data)")],
    audio: Annotated[UploadFile | None, File(description="the reference clip the config names")] = None,
    block: Annotated[str | None, Form(max_length=200)] = None,
    name: Annotated[str | None, Form(max_length=200)] = None,
    voice: Annotated[str | None, Form(max_length=200, description="an existing voice to answer instead")] = None,
    consent: Annotated[bool, Form()] = False,
) -> JSONResponse:
    """Create a voice from ``audio`` (or alias ``voice``) answering to the path the config sends."""
    from ..gsv_config import import_gsv_config

    lib = context(request).library()
    config_suffix = Path(config.filename or "").suffix.lower()
    audio_suffix = Path(audio.filename or "").suffix.lower() if audio is not None else ""
    if config_suffix not in _CONFIG_SUFFIXES or (audio is not None and audio_suffix not in _AUDIO_SUFFIXES):
        raise InputError(
            zh="配置应为 .yaml、.yml 或 .py 文件，参考音频应为 wav、mp3、flac、ogg 或 m4a 文件。",
            en="The config must be a .yaml, .yml or .py file and the reference audio a wav, mp3, flac, ogg or m4a file.",
            param="audio" if config_suffix in _CONFIG_SUFFIXES else "config",
        )
    config_data = await config.read()
    audio_data = await audio.read() if audio is not None else None

    def run() -> dict:
        with tempfile.TemporaryDirectory() as tmp:
            config_path = Path(tmp) / f"config{config_suffix}"
            config_path.write_bytes(config_data)
            clip = None
            if audio_data is not None:
                clip = Path(tmp) / f"reference{audio_suffix}"
                clip.write_bytes(audio_data)
            done = import_gsv_config(
                lib, config_path, block=block, audio=clip, name=name, voice=voice, consent=consent, search_local=False
            )
        return {"voice": done.voice, "alias": done.alias, "created": done.created}

    return JSONResponse(await run_in_threadpool(run), status_code=201)
