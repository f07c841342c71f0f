"""The studio's own API: ``/api/clone``, ``/api/custom``, ``/api/design`` (JSON in, audio out),
``/api/uploads`` (a reference clip for later requests), ``/api/voices`` (aliases under
``/api/voices/{name}/aliases``, see :mod:`.voice_aliases`), ``/api/models``, ``/api/health``. The text tools are :mod:`.text_routes`.

Unknown fields are errors here (a typo should not pass silently). Errors are
``{"error": <code>, "message": ...}`` with the status of the studio error.
Responses carry ``X-Seed``, ``X-Model`` and ``X-Segments`` headers; with an
exact length (``duration`` or ``ratio``) also ``X-Natural-Seconds``,
``X-Target-Seconds``, ``X-Final-Seconds`` and ``X-Stretch``; with ``check_take`` (the take heard by the
local speech recogniser) ``X-Take-CER``, ``X-Take-Score``, ``X-Take-OK``, ``X-Take-Flags`` and
``X-Take-Heard`` (what was heard, UTF-8 percent-encoded).
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..accel.chunks import MAX_CHUNK_FRAMES, ChunkPlan, chunk_plan
from ..audio import check_reference, load_audio, to_wav_bytes
from ..engine import Delivery
from ..errors import InputError, NotFoundError
from ..reference import detect_speech, no_speech_error
from ..registry import SPEAKERS
from ..synthesis import Sampling
from .context import UPLOAD_TTL_S, ApiContext, Job, Reference, context, parse_language
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
    stream: bool = Field(False, description="send the audio while it is generated, in chunks of codec frames")
    chunk_frames: int | None = Field(
        None, ge=1, le=MAX_CHUNK_FRAMES, description="streamed chunk size in codec frames (12.5 a second; default 12)"
    )
    first_chunk_frames: int | None = Field(
        None, ge=1, le=MAX_CHUNK_FRAMES, description="the first streamed chunk's size (default 4: audio starts sooner)"
    )
    split: Literal["sentences", "none"] = Field("sentences", description="speak long text sentence by sentence")
    pause: float = Field(0.0, ge=0.0, le=5.0, description="seconds of silence between segments")
    temperature: float | None = Field(None, gt=0.0, le=2.0)
    top_k: int | None = Field(None, ge=1, le=1000)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    repetition_penalty: float | None = Field(None, ge=1.0, le=2.0)
    duration: float | None = Field(
        None,
        gt=0.0,
        le=600.0,
        description="exact length in seconds (0.3-600): the audio lasts this to the sample (edge silence, pauses, "
        "then a pitch-kept time-stretch); the text is spoken in one piece",
    )
    ratio: float | None = Field(None, ge=0.5, le=2.0, description="or a length as a ratio of the natural one (0.5-2)")
    takes: int = Field(1, ge=1, le=8, description="with a duration: generate this many takes, keep the closest")
    intensity: float | None = Field(None, ge=0.0, le=1.0, description="of the emotion (0-1; default 0.5, clone 1.0)")
    check_take: bool = Field(
        False,
        description="hear the take with the local speech recogniser (404 when none is on the server): headers "
        "X-Take-CER, X-Take-Score, X-Take-OK, X-Take-Flags, X-Take-Heard (UTF-8, percent-encoded); with takes, "
        "the take heard best is kept; the text is spoken in one piece and the answer is sent whole",
    )

    def delivery(self) -> Delivery | None:
        """The engine's exact-length control for ``duration`` / ``ratio`` / ``takes`` (None: natural length)."""
        if self.duration is None and self.ratio is None:
            if self.check_take:  # best-of-N ranks by the check
                return Delivery(takes=self.takes)
            if self.takes != 1:
                raise InputError(
                    zh="takes 只在指定 duration（目标时长）时有用。",
                    en="takes only applies with a target duration.",
                    param="takes",
                )
            return None
        if abs(self.speed - 1.0) > 1e-9:
            raise InputError(
                zh="speed 不能和 duration/ratio 一起用：目标时长已经决定了语速。",
                en="speed cannot be combined with duration or ratio: the target length sets the pace.",
                param="speed",
            )
        delivery = Delivery(duration=self.duration, ratio=self.ratio, takes=self.takes)
        delivery.check()
        return delivery

    def chunk_plan(self) -> ChunkPlan | None:
        """The request's streamed chunk sizes (None: the server's)."""
        if self.chunk_frames is None and self.first_chunk_frames is None:
            return None
        return chunk_plan(self.first_chunk_frames, self.chunk_frames)

    def job(self, ctx: ApiContext, kind: str, **fields) -> Job:
        """The :class:`Job` for this request (text, language, model and delivery checked)."""
        text = ctx.check_text(self.text)
        sampling = Sampling(
            temperature=self.temperature, top_k=self.top_k, top_p=self.top_p, repetition_penalty=self.repetition_penalty
        )
        delivery = self.delivery()
        whole = delivery is not None or self.split == "none"  # an exact length (or a check) is for the whole text
        language = parse_language(self.language)
        if self.check_take and delivery is not None:  # the recogniser's folder is found now, loaded on first use
            from ..asr import take_checker

            delivery.checker = take_checker(language)
        return Job(
            kind=kind,
            segments=[text] if whole else segments(text),
            language=language,
            model=ctx.model_for(
                {"clone": "base", "custom": "custom_voice"}.get(kind, "voice_design"), self.model, True
            ),
            seed=self.seed,
            sampling=sampling,
            speed=self.speed,
            pause_s=self.pause,
            delivery=delivery,
            intensity=self.intensity,
            chunk_plan=self.chunk_plan(),
            **fields,
        )


def _emotion(name: str | None) -> str | None:
    """The preset id for ``name`` (id, Chinese or English name); 404 listing the presets when unknown."""
    from ..style import get_emotion

    if name is None or not name.strip():
        return None
    try:
        return get_emotion(name).id
    except NotFoundError as exc:
        raise NotFoundError(zh=exc.zh, en=exc.en, param="emotion") from None


class CloneRequest(_Speech):
    """Clone a voice: a saved ``voice``, an allowed ``ref_audio_path``, or a clip in ``ref_audio_base64``."""

    voice: str | None = Field(None, max_length=200, description="a saved voice's name")
    clip_tag: str | None = Field(None, max_length=32, description="which of the voice's clips (default neutral)")
    ref_audio_path: str | None = Field(None, max_length=1024, description="a file from /api/uploads or the library")
    ref_audio_base64: str | None = Field(None, description="a reference clip file (wav, mp3, flac, ogg), base64")
    transcript: str | None = Field(None, max_length=2000, description="what the reference says; default: stored")
    x_vector_only: bool = Field(False, description="clone from the speaker embedding alone")
    emotion: str | None = Field(
        None,
        max_length=32,
        description="with voice: use the voice's clip tagged with this emotion (Base models take no instruction); "
        "same as clip_tag",
    )


class CustomRequest(_Speech):
    """Speak with a preset speaker."""

    speaker: str = Field(max_length=64)
    instruct: str = Field("", max_length=2000, description="style instruction (1.7B CustomVoice)")
    emotion: str | None = Field(None, max_length=32, description="an emotion preset (1.7B CustomVoice), e.g. happy")


class DesignRequest(_Speech):
    """Speak in a voice described in words."""

    description: str = Field(max_length=2000)
    emotion: str | None = Field(None, max_length=32, description="an emotion preset, e.g. calm")


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
        ref = Reference(
            audio=ctx.audio_from_base64(req.ref_audio_base64, "ref_audio_base64"), transcript="", label="upload"
        )
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


_AUDIO_RESPONSES: dict = {
    200: {
        "description": "the audio (``format``); headers X-Seed, X-Model, X-Segments, and with duration/ratio "
        "X-Natural-Seconds, X-Target-Seconds, X-Final-Seconds, X-Stretch",
        "content": {"audio/wav": {}, "audio/mpeg": {}, "audio/flac": {}, "audio/ogg": {}},
    }
}


def _clone_job(ctx: ApiContext, body: CloneRequest) -> Job:
    tags = {t.strip() for t in (body.clip_tag, body.emotion) if t and t.strip()}
    if len(tags) > 1:
        raise InputError(
            zh="clip_tag 和 emotion 指的是同一件事（用哪段片段），请只给一个。",
            en="clip_tag and emotion both choose the voice's clip; give one.",
            param="emotion",
        )
    tag = tags.pop() if tags else None
    if body.emotion and body.emotion.strip() and not body.voice:
        raise InputError(
            zh="emotion 选的是已保存声音的情绪片段，需要同时给出 voice。",
            en="emotion picks one of a saved voice's clips: give voice too.",
            param="emotion",
        )
    if body.intensity is not None:  # blending needs the saved voice itself, not just a clip
        if not body.voice or not tag:
            raise InputError(
                zh="克隆时 intensity 需要 voice（已保存的声音）和它的情绪片段（emotion 或 clip_tag）。",
                en="For cloning, intensity needs voice (a saved voice) and one of its emotion clips (emotion or clip_tag).",
                param="intensity",
            )
        if ctx.saved_voice(body.voice) is None:
            raise ctx.unknown_voice(body.voice)
        if body.ref_audio_path or body.ref_audio_base64:
            raise InputError(
                zh="请只给出一个参考：voice、ref_audio_path 或 ref_audio_base64。",
                en="Give exactly one reference: voice, ref_audio_path or ref_audio_base64.",
                param="voice",
            )
        ctx.library().clip_path(body.voice, tag)  # 404 naming the voice's tags
        return body.job(ctx, "clone", voice=body.voice, clip=tag, x_vector_only=body.x_vector_only)
    body = body.model_copy(update={"clip_tag": tag})
    return body.job(ctx, "clone", reference=_reference(ctx, body))


@router.post("/clone", summary="clone a voice", responses=_AUDIO_RESPONSES)
async def clone(request: Request, body: CloneRequest) -> Response:
    """Speak ``text`` in a saved voice or a given reference clip (Base model).

    ``duration`` (or ``ratio``) makes the audio last exactly that long; ``emotion``
    picks the voice's clip tagged with it, and ``intensity`` blends its timbre
    with the neutral clip's (0 = neutral timbre, emotional delivery; 1 = all emotional).
    """
    ctx = context(request)
    job = await run_in_threadpool(_clone_job, ctx, body)
    return await speech_response(ctx, job, body.format, _response_mode(body))


@router.post("/custom", summary="speak with a preset speaker", responses=_AUDIO_RESPONSES)
async def custom(request: Request, body: CustomRequest) -> Response:
    """Speak ``text`` with a preset speaker (CustomVoice model), optionally styled by ``emotion`` at
    ``intensity`` and ``instruct`` (1.7B only); ``duration`` or ``ratio`` sets an exact length."""
    ctx = context(request)

    def build() -> Job:
        speaker = ctx.speaker(body.speaker)
        if speaker is None:
            raise ctx.unknown_voice(body.speaker)
        emotion = _emotion(body.emotion)
        return body.job(ctx, "custom", speaker=speaker, instruct=body.instruct.strip(), emotion=emotion)

    job = await run_in_threadpool(build)
    return await speech_response(ctx, job, body.format, _response_mode(body))


@router.post("/design", summary="speak in a described voice", responses=_AUDIO_RESPONSES)
async def design(request: Request, body: DesignRequest) -> Response:
    """Speak ``text`` in a voice described in words (VoiceDesign model), optionally with an ``emotion`` at
    ``intensity``; ``duration`` or ``ratio`` sets an exact length."""
    ctx = context(request)
    job = await run_in_threadpool(
        lambda: body.job(ctx, "design", description=body.description, emotion=_emotion(body.emotion))
    )
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
                "aliases": list(v.aliases),
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
    """``{"status": "ok", "queue": {...}, "loaded": ..., "dubbing_jobs": {"queued": n, "running": n}}``."""
    ctx = context(request)
    loaded = ctx.engine.manager.loaded
    jobs = [j.status for j in ctx.jobs.list()] if ctx.jobs is not None else []
    return {
        "status": "ok",
        "queue": {"pending": ctx.gate.pending, "max_waiting": ctx.gate.max_waiting},
        "loaded": loaded.info.label if loaded is not None else None,
        "dubbing_jobs": {"queued": jobs.count("queued"), "running": jobs.count("running")},
    }


# -- text: readings, pins, normalisation, the pronunciation dictionary (no model) ------------------------
