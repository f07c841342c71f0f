"""``/api/dubbing/redub``: a dubbing project from an uploaded video, made by a background re-dub job.

``POST /api/dubbing/redub`` (multipart: the video, the project name, language,
voice or a voice cloned from the video, speakers) answers 202 with a job;
``GET /api/dubbing/redub/{id}`` reports its progress; ``POST
/api/dubbing/redub/{id}/cancel`` stops it (a later job on the same project
resumes after the stages already done). The job is the engine's
(:mod:`studio.redub_jobs`), owned by the project: the uploaded video is moved
into the project's work folder and the options recorded there, so the
Dubbing tab sees the same job and a run a crash interrupted can be resumed.
When it is done the project is an ordinary one: edit it and run
``POST /api/dubbing/jobs``. Requests may name a registry recogniser only, never a server folder.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ...errors import ConflictError, InputError, NotFoundError
from ...redub_jobs import RedubJob, registry
from ...registry import ASR_MODELS
from ..context import context
from ..errors import request_language
from .projects import _holding, project_path

router = APIRouter(prefix="/api/dubbing", tags=["Dubbing"])


def _answer(job: RedubJob, lang: str) -> dict:
    """The job's status as the API answers it."""
    data = job.snapshot(lang)
    keys = ("id", "project", "status", "progress", "message", "lines", "background", "cloned", "error")
    return {
        **{k: data[k] for k in keys},
        "url": f"/api/dubbing/redub/{job.id}",
        "project_url": f"/api/dubbing/projects/{job.project}" if job.status == "done" else None,
    }


def _job(job_id: str) -> RedubJob:
    job = registry().get(job_id)
    if job is None:
        raise NotFoundError(zh=f"没有编号为 {job_id} 的识别任务。", en=f"No re-dub job {job_id}.")
    return job


def _job_args(ctx) -> dict:
    """What a job of this server runs with: its library, the Base model's speaker embedder, its project lock."""
    from ...settings import Settings

    manager = getattr(ctx.engine, "manager", None)

    def embedder():
        from ...speakers import base_model_embedder

        return base_model_embedder(manager=manager)

    return {
        "library": ctx.library(),
        "embedder": embedder,
        "endpoint": Settings.load().endpoint or None,
        "hold": lambda path: _holding(ctx, path),
        "owner": "api",
    }


def resume_interrupted(ctx, limit: int = 200) -> list[RedubJob]:
    """Start again the re-dubs a crash interrupted in the server's projects (a Stop stays stopped).

    Called when the server starts; a job keeps the id its client polled. Looks at ``limit`` projects at most.
    """
    from ...redub_job_file import JOB_FILE, work_dir

    root = Path(ctx.projects_root)
    if not root.is_dir():
        return []
    resumed = []
    for folder in sorted(root.iterdir())[:limit]:
        if (work_dir(folder) / JOB_FILE).is_file():
            job = registry().resume(folder, stopped=False, **_job_args(ctx))
            if job is not None:
                resumed.append(job)
    return resumed


def _check_clone(voice: str | None, clone_voice: str | None, consent: bool) -> None:
    """The CLI's refusals, worded for the form's fields."""
    if not (clone_voice or "").strip():
        return
    if (voice or "").strip():
        raise InputError(
            zh="voice 和 clone_voice 只能填一个：用已有的声音，或从视频克隆。",
            en="Send either voice or clone_voice, not both: dub with an existing voice, or clone one from the video.",
            param="clone_voice",
        )
    if consent is not True:
        raise InputError(
            zh="从视频克隆声音前必须确认授权：只能克隆你自己的声音，或已获得声音主人明确同意的声音。确认后发送 consent=true。",
            en="Cloning a voice from the video needs consent: only clone your own voice, or a voice whose owner has "
            "explicitly agreed. Confirm it by sending consent=true.",
            param="consent",
        )


@router.post("/redub", summary="create a project from a video's speech (background job)", status_code=202)
async def start_redub(
    request: Request,
    file: Annotated[UploadFile, File(description="the video (mp4, mov, mkv, ...); up to the server's body limit")],
    name: Annotated[str | None, Form(description="project name (default: the video's name)")] = None,
    language: Annotated[
        str | None, Form(max_length=32, description="zh, en, Chinese, 中文, ... (default: detect)")
    ] = None,
    voice: Annotated[str | None, Form(max_length=300, description="default voice (as the CLI's --voice)")] = None,
    asr_model: Annotated[
        str | None, Form(description="registry recogniser: whisper-small, whisper-medium, ...")
    ] = None,
    vad: Annotated[bool, Form(description="skip music and silence before transcribing (voice detection)")] = True,
    keep_background: Annotated[
        bool,
        Form(
            description="also separate the voice from the music and effects (the server's separator), so the "
            "project's video can be muxed with mix=background"
        ),
    ] = False,
    clone_voice: Annotated[
        str | None,
        Form(
            max_length=200,
            description="save the cleanest 3-10 s of the video's voice as a voice of this name and make it the "
            "project's default voice (as the CLI's --clone-from-video --voice-name; needs consent, not with voice)",
        ),
    ] = None,
    consent: Annotated[
        bool, Form(description="with clone_voice: the voice in the video is yours, or its owner agreed to cloning")
    ] = False,
    speakers: Annotated[
        bool, Form(description="tell the speakers apart (S1, S2, ...) with the server's Base model speaker encoder")
    ] = False,
) -> JSONResponse:
    """Upload a video; its speech becomes the project ``name`` with one timed line per sentence. 202 with the job;
    poll ``GET /api/dubbing/redub/{id}``. 409 when the project exists already or has a re-dub in progress."""
    from ...dubbing.project import PROJECT_FILE
    from ...redub_job_file import RedubOptions, safe_video_name

    ctx = context(request)
    lang = request_language(request.headers, ctx.lang)
    original = Path((file.filename or "video.mp4").replace("\\", "/")).name
    project = (name or "").strip() or re.sub(r"[^\w .\-]", "_", Path(original).stem)[:80].strip(" .") or "video"

    def prepare() -> JSONResponse:
        if asr_model and asr_model.strip() not in {s.id for s in ASR_MODELS}:
            ids = ", ".join(s.id for s in ASR_MODELS)
            raise InputError(
                zh=f"这里不能用识别模型 “{asr_model}”。可选：{ids}。",
                en=f"The recogniser '{asr_model}' cannot be used here. Choose one of {ids}.",
                param="asr_model",
            )
        _check_clone(voice, clone_voice, consent)
        options = RedubOptions(
            language=language,
            voice=voice,
            asr_model=(asr_model or "").strip() or None,
            vad=vad,
            keep_background=keep_background,
            clone_voice=(clone_voice or "").strip() or None,
            consent=consent,
            speakers=speakers,
        ).checked()
        folder = project_path(ctx, project)
        if (folder / PROJECT_FILE).is_file():
            raise ConflictError(
                zh=f"项目 “{folder.name}” 已经存在。换一个名字，或先删除它。",
                en=f"Project '{folder.name}' exists already. Choose another name or delete it first.",
                param="name",
            )
        area = ctx.upload_dir / f"redub-{uuid.uuid4().hex}"
        area.mkdir(parents=True)
        try:
            video = area / safe_video_name(original)
            with video.open("wb") as out:
                shutil.copyfileobj(file.file, out, 1 << 20)
            job = registry().submit(
                folder, video, options, name=safe_video_name(folder.name + video.suffix), take="move", **_job_args(ctx)
            )
        finally:
            shutil.rmtree(area, ignore_errors=True)
        answer = _answer(job, lang)
        return JSONResponse(answer, status_code=202, headers={"Location": answer["url"]})

    return await run_in_threadpool(prepare)


@router.get("/redub/{job_id}", summary="a re-dub job's status")
async def redub_status(request: Request, job_id: str) -> dict:
    """Status, progress (0-1), the number of lines once done, or the error."""
    lang = request_language(request.headers, context(request).lang)
    return _answer(_job(job_id), lang)


@router.post("/redub/{job_id}/cancel", summary="cancel a re-dub job", status_code=202)
async def redub_cancel(request: Request, job_id: str) -> dict:
    """Ask the job to stop; the stages done so far are kept for the next job on the same project."""
    job = registry().cancel(_job(job_id))
    return _answer(job, request_language(request.headers, context(request).lang))
