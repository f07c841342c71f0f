"""The studio's own API: ``/api/clone``, ``/api/custom``, ``/api/design`` (JSON in, audio out),
``/api/uploads`` (a reference clip for later requests), ``/api/voices``, ``/api/models``, ``/api/health``.

Unknown fields are errors here (a typo should not pass silently). Errors are
``{"error": <code>, "message": ...}`` with the status of the studio error.
Responses carry ``X-Seed``, ``X-Model`` and ``X-Segments`` headers.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..audio import check_reference, load_audio, to_wav_bytes
from ..errors import InputError
from ..reference import detect_speech, no_speech_error
from ..registry import SPEAKERS
from ..synthesis import Sampling
from .app import UPLOAD_TTL_S, ApiContext, Job, Reference, context, parse_language
from .streaming import segments, speech_response

router = APIRouter(prefix="/api", tags=["Studio"])

Format = Literal["wav", "pcm", "flac", "ogg", "opus", "mp3", "aac"]


class _Speech(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="what to say")
    language: str = Field("Auto", max_length=32, description="Auto, Chinese, English, ... or a code (zh, en)")
    model: str | None = Field(None, max_length=64, description="a registry id; default: the server's model")
    seed: int | None = Field(None, ge=-1, le=2**32 - 1, description="-1 or none: random (reported in X-Seed)")
    format: Format = "wav"
    speed: float = Field(1.0, ge=0.25, le=4.0, description="time-stretch, pitch kept")
    stream: bool = Field(False, description="send each sentence's audio as soon as it is ready")
    split: Literal["sentences", "none"] = Field("sentences", description="speak long text sentence by sentence")
    pause: float = Field(0.0, ge=0.0, le=5.0, description="seconds of silence between segments")
    temperature: float | None = Field(None, gt=0.0, le=2.0)
    top_k: int | None = Field(None, ge=1, le=1000)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    repetition_penalty: float | None = Field(None, ge=1.0, le=2.0)

    def job(self, ctx: ApiContext, kind: str, **fields) -> Job:
        """The :class:`Job` for this request (text, language and model checked)."""
        text = ctx.check_text(self.text)
        sampling = Sampling(
            temperature=self.temperature, top_k=self.top_k, top_p=self.top_p, repetition_penalty=self.repetition_penalty
        )
        return Job(
            kind=kind,
            segments=segments(text) if self.split == "sentences" else [text],
            language=parse_language(self.language),
            model=ctx.model_for(
                {"clone": "base", "custom": "custom_voice"}.get(kind, "voice_design"), self.model, True
            ),
            seed=self.seed,
            sampling=sampling,
            speed=self.speed,
            pause_s=self.pause,
            **fields,
        )


class CloneRequest(_Speech):
    """Clone a voice: a saved ``voice``, an allowed ``ref_audio_path``, or a clip in ``ref_audio_base64``."""

    voice: str | None = Field(None, max_length=200, description="a saved voice's name")
    clip_tag: str | None = Field(None, max_length=32, description="which of the voice's clips (default neutral)")
    ref_audio_path: str | None = Field(None, max_length=1024, description="a file from /api/uploads or the library")
    ref_audio_base64: str | None = Field(None, description="a reference clip file (wav, mp3, flac, ogg), base64")
    transcript: str | None = Field(None, max_length=2000, description="what the reference says; default: stored")
    x_vector_only: bool = Field(False, description="clone from the speaker embedding alone")


class CustomRequest(_Speech):
    """Speak with a preset speaker."""

    speaker: str = Field(max_length=64)
    instruct: str = Field("", max_length=2000, description="style instruction (1.7B CustomVoice)")


class DesignRequest(_Speech):
    """Speak in a voice described in words."""

    description: str = Field(max_length=2000)


def _response_mode(req: _Speech) -> str:
    return "stream" if req.stream else "file"


def _reference(ctx: ApiContext, req: CloneRequest) -> Reference:
    given = [x for x in (req.voice, req.ref_audio_path, req.ref_audio_base64) if x]
    if len(given) != 1:
        raise InputError(
            zh="请只给出一个参考：voice、ref_audio_path 或 ref_audio_base64。",
            en="Give exactly one reference: voice, ref_audio_path or ref_audio_base64.",
            param="voice",
        )
    if req.ref_audio_base64:
        ref = Reference(audio=_decode_upload(ctx, req.ref_audio_base64), transcript="", label="upload")
    elif req.voice:
        if ctx.saved_voice(req.voice) is None:
            raise ctx.unknown_voice(req.voice)
        ref = ctx.reference(req.voice, None, req.clip_tag)
    else:
        ref = ctx.reference(req.ref_audio_path)
    if req.transcript is not None and req.transcript.strip():
        ref.transcript = req.transcript.strip()
    if req.x_vector_only:
        ref.transcript = ""
    return ref


def _decode_upload(ctx: ApiContext, data: str):
    try:
        raw = base64.b64decode(data.split(",", 1)[-1] if data.startswith("data:") else data, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(
            zh="ref_audio_base64 不是有效的 base64。",
            en="ref_audio_base64 is not valid base64.",
            param="ref_audio_base64",
        ) from None
    path = ctx.upload_dir / f"tmp-{uuid.uuid4().hex}"
    try:
        path.write_bytes(raw)
        return load_audio(path)
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


@router.post("/clone", summary="clone a voice")
async def clone(request: Request, body: CloneRequest) -> Response:
    """Speak ``text`` in a saved voice or a given reference clip (Base model)."""
    ctx = context(request)
    job = await run_in_threadpool(lambda: body.job(ctx, "clone", reference=_reference(ctx, body)))
    return await speech_response(ctx, job, body.format, _response_mode(body))


@router.post("/custom", summary="speak with a preset speaker")
async def custom(request: Request, body: CustomRequest) -> Response:
    """Speak ``text`` with a preset speaker (CustomVoice model), optionally styled by ``instruct``."""
    ctx = context(request)

    def build() -> Job:
        speaker = ctx.speaker(body.speaker)
        if speaker is None:
            raise ctx.unknown_voice(body.speaker)
        return body.job(ctx, "custom", speaker=speaker, instruct=body.instruct.strip())

    job = await run_in_threadpool(build)
    return await speech_response(ctx, job, body.format, _response_mode(body))


@router.post("/design", summary="speak in a described voice")
async def design(request: Request, body: DesignRequest) -> Response:
    """Speak ``text`` in a voice described in words (VoiceDesign model)."""
    ctx = context(request)
    job = await run_in_threadpool(lambda: body.job(ctx, "design", description=body.description))
    return await speech_response(ctx, job, body.format, _response_mode(body))


@router.post("/uploads", summary="upload a reference clip")
async def upload(request: Request, file: Annotated[UploadFile, File(description="wav, mp3, flac or ogg")]) -> dict:
    """Store a reference clip for an hour; its ``ref_audio_path`` works in /tts, / and /api/clone."""
    ctx = context(request)
    data = await file.read()

    def store() -> dict:
        ctx.purge_uploads()
        tmp = ctx.upload_dir / f"tmp-{uuid.uuid4().hex}"
        try:
            tmp.write_bytes(data)
            audio = load_audio(tmp)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        check_reference(audio)
        if not detect_speech(audio):  # noise, music, a test tone: nothing a voice can be cloned from
            raise no_speech_error()
        name = f"{uuid.uuid4().hex}.wav"
        (ctx.upload_dir / name).write_bytes(to_wav_bytes(audio.samples, audio.sr))
        return {"ref_audio_path": name, "seconds": round(audio.seconds, 3), "expires_in_s": int(UPLOAD_TTL_S)}

    return await run_in_threadpool(store)


@router.get("/voices", summary="saved voices and preset speakers")
async def voices(request: Request) -> dict:
    """Saved voices (name, language, transcript, tags, clip tags) and the preset speakers."""
    ctx = context(request)

    def listing() -> dict:
        saved = [
            {
                "name": v.name,
                "language": v.language,
                "transcript": v.transcript,
                "tags": list(v.tags),
                "clips": [c.tag for c in v.clips],
            }
            for v in ctx.saved_voices()
        ]
        speakers = [{"name": n, "language": lang, "description": d} for n, lang, d in SPEAKERS]
        return {"voices": saved, "speakers": speakers}

    return await run_in_threadpool(listing)


@router.get("/models", summary="checkpoints and the server's choices")
async def models(request: Request) -> dict:
    """Every official checkpoint with its state, the models the server uses per kind, and the loaded one."""
    ctx = context(request)
    manager = ctx.engine.manager

    def listing() -> dict:
        from dataclasses import asdict

        rows = [asdict(s) for s in manager.statuses()]
        defaults = {k: ctx.models.get(k) or manager.default_model(k) for k in ("base", "custom_voice", "voice_design")}
        loaded = manager.loaded.info.label if manager.loaded is not None else None
        return {"models": rows, "defaults": defaults, "loaded": loaded}

    return await run_in_threadpool(listing)


@router.get("/health", summary="liveness, queue and loaded model (no key needed)")
async def health(request: Request) -> dict:
    """``{"status": "ok", "queue": {...}, "loaded": ...}``."""
    ctx = context(request)
    loaded = ctx.engine.manager.loaded
    return {
        "status": "ok",
        "queue": {"pending": ctx.gate.pending, "max_waiting": ctx.gate.max_waiting},
        "loaded": loaded.info.label if loaded is not None else None,
    }
