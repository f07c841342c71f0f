"""OpenAI compatible speech: ``POST /v1/audio/speech`` and the voice and model lists clients read.

``voice`` is a saved voice (cloned with the Base model) or a preset speaker
(CustomVoice; ``instructions`` styles it on the 1.7B model and are ignored for
saved voices). ``model`` may name a studio model id of the right kind;
anything else ("tts-1", "gpt-4o-mini-tts") means the server's model. The text
language is detected by the model. ``speed`` time-stretches the audio (pitch
kept). The answer is streamed while it is generated, in chunks of codec frames
(``stream_chunk_frames``, the studio's extra), for wav, pcm, mp3 and aac;
``stream_format: "sse"`` sends ``speech.audio.delta`` events instead.

vLLM-Omni's extras are accepted too, so one studio can be another's remote
engine (:mod:`studio.remote`): ``task_type`` (CustomVoice, VoiceDesign, Base;
inferred when absent), ``language``, ``ref_audio`` (a base64 data URI or plain
base64; URLs and server paths are refused), ``ref_text``,
``x_vector_only_mode``, ``max_new_tokens`` and ``seed``. With
``max_new_tokens`` the cap holds for the whole input, so the input is
generated in one piece (the engine still splits a long text itself), as
vLLM-Omni does.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..accel.chunks import MAX_CHUNK_FRAMES, chunk_plan
from ..engine import Delivery, check_seed
from ..errors import InputError, RemoteEngineError
from ..registry import MODELS, SPEAKERS
from ..remote import HOP_HEADER
from ..synthesis import MAX_STEPS, Sampling
from .context import ApiContext, Job, Reference, context, parse_language
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
    voice: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="a saved voice or a preset speaker (not needed for Base with ref_audio, nor for VoiceDesign)",
    )
    instructions: str | None = Field(None, max_length=4096)
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    stream_format: Literal["audio", "sse"] = "audio"
    # vLLM-Omni's extras
    task_type: Literal["CustomVoice", "VoiceDesign", "Base"] | None = Field(
        None, description="inferred when absent: Base with ref_audio/ref_text or a saved voice, else CustomVoice"
    )
    language: str | None = Field(None, max_length=40, description="Auto, Chinese, English, ... or a language code")
    ref_audio: str | None = Field(None, description="Base: the reference clip as a base64 data URI (no URLs)")
    ref_text: str | None = Field(None, max_length=4096, description="Base: what the reference clip says")
    x_vector_only_mode: bool | None = Field(None, description="Base: use only the speaker embedding")
    max_new_tokens: int | None = Field(None, ge=1, description="cap on model steps (12.5 a second of audio)")
    seed: int | None = Field(None, description="seed for a reproducible result (-1 or absent = random)")
    # the studio's extra
    stream_chunk_frames: int | None = Field(
        None, ge=1, le=MAX_CHUNK_FRAMES, description="streamed chunk size in codec frames (12.5 a second)"
    )


@router.post("/v1/audio/speech", summary="OpenAI text to speech")
@router.post("/audio/speech", include_in_schema=False)
async def speech(request: Request, body: SpeechRequest) -> Response:
    """Speak ``input`` with ``voice``; pcm is raw 24 kHz 16-bit little-endian mono."""
    ctx = context(request)
    if request.headers.get(HOP_HEADER) and getattr(ctx.engine, "remote", None) is not None:
        raise RemoteEngineError(
            zh="这个工作室本身也在使用远程引擎，不能再转发另一个工作室的请求（会形成循环）。"
            "请把对方的远程引擎指向本地生成的工作室或 vLLM-Omni。",
            en="This studio uses a remote engine itself, so it does not forward another studio's requests "
            "(that could loop). Point the other studio at a studio that generates locally, or at vLLM-Omni.",
        )

    def build() -> Job:
        job = _job(ctx, body)
        job.language = parse_language(body.language)
        job.seed = check_seed(body.seed)
        if body.stream_chunk_frames is not None:
            job.chunk_plan = chunk_plan(size=body.stream_chunk_frames)
        if body.max_new_tokens is not None:
            job.sampling = Sampling(max_new_tokens=min(body.max_new_tokens, MAX_STEPS))
        if request.headers.get(HOP_HEADER):
            # Another studio's engine fits, levels and marks the audio itself: send it raw, never twice.
            job.delivery = Delivery(loudness=None, watermark=False)
        return job

    job = await run_in_threadpool(build)
    mode = "sse" if body.stream_format == "sse" else "stream"
    return await speech_response(ctx, job, body.response_format, mode)


def _job(ctx: ApiContext, body: SpeechRequest) -> Job:
    """The job of a request: its task type (given or inferred), voice or reference, and segments."""
    text = ctx.check_text(body.input, MAX_INPUT_CHARS)
    parts = [text] if body.max_new_tokens is not None else segments(text)
    voice = (body.voice or "").strip()
    task = body.task_type
    if task is None:
        if body.ref_audio or body.ref_text or (voice and ctx.saved_voice(voice) is not None):
            task = "Base"
        elif voice:
            task = "CustomVoice"
        else:
            raise InputError(
                zh="请给出 voice（已保存的声音或预设音色），或 task_type 与 ref_audio / instructions。",
                en="Give a voice (a saved voice or a preset speaker), or a task_type with ref_audio or instructions.",
                param="voice",
            )
    if task == "Base":
        return Job(
            kind="clone",
            segments=parts,
            model=ctx.model_for("base", body.model, strict=False),
            speed=body.speed,
            reference=_base_reference(ctx, body, voice),
        )
    if task == "VoiceDesign":
        description = (body.instructions or "").strip()
        if not description:
            raise InputError(
                zh="VoiceDesign 需要在 instructions 里描述声音。",
                en="VoiceDesign needs the voice described in instructions.",
                param="instructions",
            )
        return Job(
            kind="design",
            segments=parts,
            model=ctx.model_for("voice_design", body.model, strict=False),
            speed=body.speed,
            description=description,
        )
    speaker = ctx.speaker(voice or "Vivian")  # vLLM-Omni's default speaker
    if speaker is None:
        raise ctx.unknown_voice(voice)
    return Job(
        kind="custom",
        segments=parts,
        model=ctx.model_for("custom_voice", body.model, strict=False),
        speed=body.speed,
        speaker=speaker,
        instruct=(body.instructions or "").strip(),
    )


def _base_reference(ctx: ApiContext, body: SpeechRequest, voice: str) -> Reference:
    """A Base request's reference: ``ref_audio`` decoded, else the saved voice; the transcript from ``ref_text``."""
    if body.ref_audio:
        ref = Reference(audio=ctx.audio_from_base64(body.ref_audio, "ref_audio"), transcript="", label="ref_audio")
    elif voice and ctx.saved_voice(voice) is not None:
        ref = ctx.reference(voice)
    else:
        raise InputError(
            zh="Base（声音克隆）需要 ref_audio（base64 数据 URI），或已保存声音的名字作为 voice。",
            en="Base (voice clone) needs ref_audio (a base64 data URI), or a saved voice's name as voice.",
            param="ref_audio",
        )
    if body.ref_text and body.ref_text.strip():
        ref.transcript = body.ref_text.strip()
    if body.x_vector_only_mode:
        ref.transcript = ""
    elif not ref.transcript and body.ref_audio:
        raise InputError(
            zh="请在 ref_text 里给出参考音频的文字内容，或设置 x_vector_only_mode: true。",
            en="Give the reference clip's transcript in ref_text, or set x_vector_only_mode: true.",
            param="ref_text",
        )
    return ref


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
