"""OpenAI compatible speech: ``POST /v1/audio/speech`` and the voice and model lists clients read.

``voice`` is a saved voice (cloned with the Base model) or a preset speaker
(CustomVoice; ``instructions`` styles it on the 1.7B model and are ignored for
saved voices). ``model`` may name a studio model id of the right kind;
anything else ("tts-1", "gpt-4o-mini-tts") means the server's model. The text
language is detected by the model. ``speed`` time-stretches the audio (pitch
kept). The answer is streamed sentence by sentence for wav, pcm, mp3 and aac;
``stream_format: "sse"`` sends ``speech.audio.delta`` events instead.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..registry import MODELS, SPEAKERS
from .app import Job, context
from .streaming import segments, speech_response

router = APIRouter(tags=["OpenAI compatible"])

#: OpenAI's limit on ``input``.
MAX_INPUT_CHARS = 4096
#: The model id that means "whatever fits the voice".
AUTO_MODEL = "qwen3-tts"


class SpeechRequest(BaseModel):
    """``/v1/audio/speech`` body (unknown fields are ignored)."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(AUTO_MODEL, max_length=200)
    input: str = Field(max_length=MAX_INPUT_CHARS)
    voice: str = Field(min_length=1, max_length=200, description="a saved voice or a preset speaker")
    instructions: str | None = Field(None, max_length=4096)
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    stream_format: Literal["audio", "sse"] = "audio"


@router.post("/v1/audio/speech", summary="OpenAI text to speech")
@router.post("/audio/speech", include_in_schema=False)
async def speech(request: Request, body: SpeechRequest) -> Response:
    """Speak ``input`` with ``voice``; pcm is raw 24 kHz 16-bit little-endian mono."""
    ctx = context(request)

    def build() -> Job:
        text = ctx.check_text(body.input, MAX_INPUT_CHARS)
        parts = segments(text)
        if ctx.saved_voice(body.voice) is not None:
            return Job(
                kind="clone",
                segments=parts,
                model=ctx.model_for("base", body.model, strict=False),
                speed=body.speed,
                reference=ctx.reference(body.voice),
            )
        speaker = ctx.speaker(body.voice)
        if speaker is None:
            raise ctx.unknown_voice(body.voice)
        return Job(
            kind="custom",
            segments=parts,
            model=ctx.model_for("custom_voice", body.model, strict=False),
            speed=body.speed,
            speaker=speaker,
            instruct=(body.instructions or "").strip(),
        )

    job = await run_in_threadpool(build)
    mode = "sse" if body.stream_format == "sse" else "stream"
    return await speech_response(ctx, job, body.response_format, mode)


def _voices(request: Request) -> dict:
    saved = [
        {"id": v.name, "name": v.name, "type": "saved", "language": v.language} for v in context(request).saved_voices()
    ]
    presets = [{"id": n, "name": n, "type": "preset", "language": lang} for n, lang, _ in SPEAKERS]
    return {"voices": saved + presets}


def _models() -> dict:
    ids = [AUTO_MODEL, *(s.id for s in MODELS)]
    return {
        "models": [{"id": i} for i in ids],
        "object": "list",
        "data": [{"id": i, "object": "model", "owned_by": "qwen-voice-studio"} for i in ids],
    }


@router.get("/v1/audio/voices", summary="voices, in Open WebUI's shape")
async def voices_v1(request: Request) -> dict:
    """``{"voices": [{"id", "name", "type", "language"}]}``: saved voices first, then presets."""
    return await run_in_threadpool(_voices, request)


@router.get("/audio/voices", summary="voices, in Open WebUI's shape")
async def voices(request: Request) -> dict:
    """The same list as ``/v1/audio/voices``, for base URLs without ``/v1``."""
    return await run_in_threadpool(_voices, request)


@router.get("/v1/audio/models", summary="models, in Open WebUI's and OpenAI's shapes")
@router.get("/audio/models", summary="models, in Open WebUI's and OpenAI's shapes")
@router.get("/v1/models", summary="models, in Open WebUI's and OpenAI's shapes")
async def models() -> dict:
    """``{"models": [{"id"}], "data": [{"id", "object": "model"}]}``."""
    return _models()
