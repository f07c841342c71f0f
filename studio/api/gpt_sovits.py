"""GPT-SoVITS compatible routes: api_v2 (``/tts`` and friends) and api.py v1 (``/``, ``/change_refer``).

Clients written for GPT-SoVITS (xiaozhi-esp32-server, digital-human apps)
work unchanged; what differs:

- ``ref_audio_path`` / ``refer_wav_path`` name a saved voice, one of its
  aliases (the exact string an old config sends, e.g.
  ``E:\\alearn\\GPT-SoVITS\\纳西妲\\0.wav``; see ``voices alias``), or a file
  inside the voice library or the upload folder; anything else is refused
  (400). ``"name.wav"`` also finds the voice ``name``.
- A saved voice's stored transcript is what its clip says, so it is always
  used; a ``prompt_text`` that differs from it (spaces, case and punctuation
  aside) is ignored and the response carries
  ``X-Prompt-Text-Mismatch: stored-transcript-used``. With no stored
  transcript, ``prompt_text`` is used; with neither, the clone uses the
  speaker embedding alone (x-vector mode).
- Sampling knobs (``top_k``, ``top_p``, ``temperature``, ``repetition_penalty``,
  ``sample_steps``, batching) are range-checked but not applied: their values
  are tuned for GPT-SoVITS' own model, and Qwen3-TTS keeps its
  generation_config. ``/api/clone`` sets Qwen's sampling. ``seed`` is honoured.
- ``speed_factor`` / ``speed`` time-stretch the audio (pitch kept);
  ``fragment_interval`` is the silence between split segments.
- Audio is 24 kHz mono. ``/set_gpt_weights`` and ``/set_sovits_weights``
  answer success and change nothing; ``/control`` is refused (403).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from .context import Job, context, parse_language
from .errors import ApiError
from .streaming import speech_response, split_gpt_sovits, split_punctuation

router = APIRouter(tags=["GPT-SoVITS compatible"])

MediaType = Literal["wav", "raw", "ogg", "aac"]
SplitMethod = Literal["cut0", "cut1", "cut2", "cut3", "cut4", "cut5"]


class TtsRequest(BaseModel):
    """api_v2 ``/tts`` fields and defaults (unknown fields such as ``return_fragment`` extras are ignored)."""

    model_config = ConfigDict(extra="ignore")

    text: str = Field(description="text to speak")
    text_lang: str = Field(description="auto, auto_yue, en, zh, ja, yue, ko, all_zh, all_ja, all_yue, all_ko")
    ref_audio_path: str | None = Field(None, max_length=1024, description="a saved voice's name, or a file in it")
    aux_ref_audio_paths: list[str] | None = Field(None, max_length=16, description="checked, not used")
    prompt_text: str | None = Field("", max_length=2000, description="reference transcript; empty: the stored one")
    prompt_lang: str | None = Field(None, max_length=32, description="accepted, not needed")
    top_k: int = Field(15, ge=0, le=1000)
    top_p: float = Field(1.0, ge=0.0, le=1.0)
    temperature: float = Field(1.0, ge=0.0, le=5.0)
    text_split_method: SplitMethod = "cut5"
    batch_size: int = Field(1, ge=1, le=1000)
    batch_threshold: float = Field(0.75, ge=0.0, le=1.0)
    split_bucket: bool = True
    speed_factor: float = Field(1.0, ge=0.25, le=4.0)
    fragment_interval: float = Field(0.3, ge=0.0, le=5.0)
    seed: int = Field(-1, ge=-1, le=2**32 - 1)
    media_type: MediaType = "wav"
    streaming_mode: bool | Annotated[int, Field(ge=0, le=3)] = False
    return_fragment: bool = False
    parallel_infer: bool = True
    repetition_penalty: float = Field(1.35, ge=0.0, le=10.0)
    sample_steps: int = Field(32, ge=1, le=1000)
    super_sampling: bool = False
    overlap_length: int = Field(2, ge=0, le=1000)
    min_chunk_length: int = Field(16, ge=0, le=10000)


class V1Request(BaseModel):
    """api.py v1 fields and defaults."""

    model_config = ConfigDict(extra="ignore")

    refer_wav_path: str | None = Field(None, max_length=1024)
    prompt_text: str | None = Field(None, max_length=2000)
    prompt_language: str | None = Field(None, max_length=32)
    text: str | None = None
    text_language: str | None = Field(None, max_length=32)
    cut_punc: str | None = Field(None, max_length=64)
    top_k: int = Field(15, ge=0, le=1000)
    top_p: float = Field(1.0, ge=0.0, le=1.0)
    temperature: float = Field(1.0, ge=0.0, le=5.0)
    speed: float = Field(1.0, ge=0.25, le=4.0)
    inp_refs: list[str] = Field(default_factory=list, max_length=16)
    sample_steps: int = Field(32, ge=1, le=1000)
    if_sr: bool = False


class ChangeReferRequest(BaseModel):
    """api.py v1 ``/change_refer``."""

    refer_wav_path: str = Field(max_length=1024)
    prompt_text: str | None = Field(None, max_length=2000)
    prompt_language: str | None = Field(None, max_length=32)


# -- api_v2 ------------------------------------------------------------------------------------------


async def _tts(request: Request, req: TtsRequest) -> Response:
    ctx = context(request)

    def build() -> Job:
        text = ctx.check_text(req.text)
        language = parse_language(req.text_lang)
        for path in req.aux_ref_audio_paths or []:
            if path.strip():
                ctx.safe_file(path)  # not used by Qwen3-TTS, but never a way to probe the disk
        return Job(
            kind="clone",
            segments=split_gpt_sovits(text, req.text_split_method),
            language=language,
            seed=req.seed,
            speed=req.speed_factor,
            pause_s=req.fragment_interval,
            reference=ctx.reference(req.ref_audio_path, req.prompt_text),
        )

    job = await run_in_threadpool(build)
    streaming = bool(req.streaming_mode) or req.return_fragment
    return await speech_response(ctx, job, req.media_type, "stream" if streaming else "file")


@router.get("/tts", summary="api_v2 text to speech (query parameters)")
async def tts_get(request: Request, params: Annotated[TtsRequest, Query()]) -> Response:
    """Speak ``text`` with the reference voice; the audio's type is ``audio/<media_type>``."""
    return await _tts(request, params)


@router.post("/tts", summary="api_v2 text to speech (JSON body)")
async def tts_post(request: Request, body: TtsRequest) -> Response:
    """Speak ``text`` with the reference voice; the audio's type is ``audio/<media_type>``."""
    return await _tts(request, body)


@router.get("/set_refer_audio", summary="api_v2: set the default reference")
async def set_refer_audio(
    request: Request, refer_audio_path: Annotated[str, Query(max_length=1024)] = ""
) -> JSONResponse:
    """Remember a saved voice (or allowed file) for requests that name no ``ref_audio_path``."""
    ctx = context(request)
    await run_in_threadpool(ctx.set_default_reference, refer_audio_path)
    return JSONResponse({"message": "success"})


@router.get("/set_gpt_weights", summary="api_v2: accepted, changes nothing")
async def set_gpt_weights(weights_path: Annotated[str, Query(max_length=1024)] = "") -> JSONResponse:
    """Answer success without touching any file: the studio chooses its Qwen3-TTS model itself."""
    return JSONResponse({"message": "success", "note": "ignored: Qwen Voice Studio has no GPT weights"})


@router.get("/set_sovits_weights", summary="api_v2: accepted, changes nothing")
async def set_sovits_weights(weights_path: Annotated[str, Query(max_length=1024)] = "") -> JSONResponse:
    """Answer success without touching any file: the studio chooses its Qwen3-TTS model itself."""
    return JSONResponse({"message": "success", "note": "ignored: Qwen Voice Studio has no SoVITS weights"})


@router.get("/control", summary="api_v2/v1: refused", operation_id="control_get")
@router.post("/control", summary="api_v2/v1: refused", operation_id="control_post")
async def control() -> JSONResponse:
    """Restarting or stopping the server over HTTP is not offered."""
    raise ApiError(
        403,
        "forbidden",
        zh="不支持通过 HTTP 重启或关闭服务器。请在运行服务器的终端里操作。",
        en="Restarting or stopping the server over HTTP is not offered. Do it where the server runs.",
    )


# -- api.py v1 ---------------------------------------------------------------------------------------


async def _v1(request: Request, req: V1Request) -> Response:
    ctx = context(request)

    def build() -> Job:
        text = ctx.check_text(req.text)
        language = parse_language(req.text_language)
        for path in req.inp_refs:
            if path.strip():
                ctx.safe_file(path)
        return Job(
            kind="clone",
            segments=split_punctuation(text, req.cut_punc),
            language=language,
            speed=req.speed,
            reference=ctx.reference(req.refer_wav_path, req.prompt_text),
        )

    job = await run_in_threadpool(build)
    return await speech_response(ctx, job, "wav")


@router.get("/", summary="api.py v1 text to speech (query parameters)")
async def v1_get(request: Request, params: Annotated[V1Request, Query()]) -> Response:
    """Speak ``text``; without any parameter, a short description of the server (for availability checks)."""
    if not request.query_params:
        return JSONResponse({"name": "Qwen Voice Studio", "docs": "/docs", "status": "ok"})
    return await _v1(request, params)


@router.post("/", summary="api.py v1 text to speech (JSON body)")
async def v1_post(request: Request, body: V1Request) -> Response:
    """Speak ``text`` with ``refer_wav_path`` (or the default set by /change_refer)."""
    return await _v1(request, body)


async def _change_refer(request: Request, req: ChangeReferRequest) -> JSONResponse:
    ctx = context(request)
    await run_in_threadpool(ctx.set_default_reference, req.refer_wav_path, req.prompt_text or "")
    return JSONResponse({"code": 0, "message": "Success"})


@router.get("/change_refer", summary="api.py v1: set the default reference")
async def change_refer_get(request: Request, params: Annotated[ChangeReferRequest, Query()]) -> JSONResponse:
    """Remember a reference (and its transcript) for requests that name none."""
    return await _change_refer(request, params)


@router.post("/change_refer", summary="api.py v1: set the default reference")
async def change_refer_post(request: Request, body: ChangeReferRequest) -> JSONResponse:
    """Remember a reference (and its transcript) for requests that name none."""
    return await _change_refer(request, body)
