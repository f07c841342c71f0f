"""``/api/dubbing/redub``: a dubbing project from an uploaded video, transcribed in the background.

``POST /api/dubbing/redub`` (multipart: the video, the project name, language,
voice) answers 202 with a job; ``GET /api/dubbing/redub/{id}`` reports its
progress; ``POST /api/dubbing/redub/{id}/cancel`` stops it (a later job on the
same project resumes after the sentences already heard). When it is done the
project is an ordinary one: edit it and run ``POST /api/dubbing/jobs``.
Requests may name a registry recogniser only, never a server folder.
"""

from __future__ import annotations

import re
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ...errors import BusyError, ConflictError, InputError, NotFoundError, StudioError
from ...progress import CancelToken
from ...registry import ASR_MODELS
from ..context import context
from ..errors import request_language
from .projects import project_path

router = APIRouter(prefix="/api/dubbing", tags=["Dubbing"])
MAX_JOBS = 32  #: jobs kept (finished ones are dropped oldest first)
FINAL = ("done", "failed", "cancelled")


@dataclass
class RedubJob:
    """One video being turned into a project."""

    id: str
    project: str
    video: Path
    status: str = "queued"  #: queued | running | done | failed | cancelled
    progress: float = 0.0
    message: str = ""
    lines: int = 0
    background: bool = False  #: separate voice and background (then mux with mix=background)
    error: StudioError | None = None
    cancel: CancelToken = field(default_factory=CancelToken)

    def to_dict(self, lang: str) -> dict:
        """The job's status as the API answers it."""
        return {
            "id": self.id,
            "project": self.project,
            "status": self.status,
            "progress": round(self.progress, 3),
            "message": self.message,
            "lines": self.lines,
            "background": self.background,
            "error": self.error.to_dict(lang) if self.error is not None else None,
            "url": f"/api/dubbing/redub/{self.id}",
            "project_url": f"/api/dubbing/projects/{self.project}" if self.status == "done" else None,
        }


class RedubJobs:
    """Runs re-dub jobs one at a time on a worker thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._run = threading.Lock()  #: one transcription at a time (the recogniser is shared)
        self._jobs: dict[str, RedubJob] = {}

    def submit(self, ctx, job: RedubJob, language: str | None, voice: str | None, model: str | None, vad: bool) -> None:
        """Queue ``job``; 409 when the project exists or has a re-dub in progress, 503 when the queue is full."""
        with self._lock:
            if any(j.project == job.project and j.status not in FINAL for j in self._jobs.values()):
                raise ConflictError(
                    zh=f"项目 “{job.project}” 已有正在进行的视频识别任务。",
                    en=f"Project '{job.project}' has a re-dub in progress already.",
                )
            if sum(j.status not in FINAL for j in self._jobs.values()) >= 4:
                raise BusyError(zh="识别任务太多，请稍后再试。", en="Too many re-dub jobs queued; try again shortly.")
            finished = [j.id for j in self._jobs.values() if j.status in FINAL]
            for old in finished[: max(0, len(self._jobs) - MAX_JOBS + 1)]:
                del self._jobs[old]
            self._jobs[job.id] = job
        worker = threading.Thread(target=self._work, args=(ctx, job, language, voice, model, vad), daemon=True)
        worker.start()

    def _work(self, ctx, job: RedubJob, language: str | None, voice: str | None, model: str | None, vad: bool) -> None:
        from ...redub import create_project
        from ...settings import Settings
        from .projects import _holding

        def report(fraction: float | None, message: str) -> None:
            if fraction is not None:
                job.progress = max(job.progress, min(1.0, fraction))
            job.message = message

        try:
            with self._run:
                job.cancel.check()
                job.status = "running"
                folder = project_path(ctx, job.project)
                with _holding(ctx, folder):
                    result = create_project(
                        job.video,
                        folder,
                        language=language,
                        voice=voice,
                        model=model,
                        vad=vad,
                        endpoint=Settings.load().endpoint or None,
                        progress=report,
                        cancel=job.cancel,
                        keep_background=job.background,
                    )
            job.lines, job.progress, job.status = len(result.project.lines), 1.0, "done"
        except StudioError as exc:
            job.error, job.status = exc, "cancelled" if exc.code == "cancelled" else "failed"
        except Exception:  # never let a worker die silently; the client gets a fixed message
            job.error = StudioError(
                zh="识别视频时出错（详情见服务器日志）。", en="Re-dubbing failed (see the server log)."
            )
            job.status = "failed"
            import logging

            logging.getLogger(__name__).exception("re-dub job %s failed", job.id)
        finally:
            shutil.rmtree(job.video.parent, ignore_errors=True)

    def get(self, job_id: str) -> RedubJob:
        """The job ``job_id``; 404 when unknown."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(zh=f"没有编号为 {job_id} 的识别任务。", en=f"No re-dub job {job_id}.")
        return job


def _registry(request: Request) -> RedubJobs:
    ctx = context(request)
    jobs = getattr(ctx, "redub_jobs", None)
    if jobs is None:
        jobs = ctx.redub_jobs = RedubJobs()
    return jobs


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
) -> JSONResponse:
    """Upload a video; its speech becomes the project ``name`` with one timed line per sentence. 202 with the job;
    poll ``GET /api/dubbing/redub/{id}``. 409 when the project exists already."""
    from ...dubbing.project import PROJECT_FILE, parse_voice
    from ...recogniser import language_code

    ctx = context(request)
    lang = request_language(request.headers, ctx.lang)
    original = Path((file.filename or "video.mp4").replace("\\", "/")).name
    project = (name or "").strip() or re.sub(r"[^\w .\-]", "_", Path(original).stem)[:80].strip(" .") or "video"

    def prepare() -> JSONResponse:
        language_code(language)
        if voice:
            parse_voice(voice)
        if asr_model and asr_model.strip() not in {s.id for s in ASR_MODELS}:
            ids = ", ".join(s.id for s in ASR_MODELS)
            raise InputError(
                zh=f"这里不能用识别模型 “{asr_model}”。可选：{ids}。",
                en=f"The recogniser '{asr_model}' cannot be used here. Choose one of {ids}.",
                param="asr_model",
            )
        folder = project_path(ctx, project)
        if (folder / PROJECT_FILE).is_file():
            raise ConflictError(
                zh=f"项目 “{folder.name}” 已经存在。换一个名字，或先删除它。",
                en=f"Project '{folder.name}' exists already. Choose another name or delete it first.",
                param="name",
            )
        suffix = Path(original).suffix.lower()
        suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ".mp4"
        area = ctx.upload_dir / f"redub-{uuid.uuid4().hex}"
        area.mkdir(parents=True)
        video = area / f"video{suffix}"
        with video.open("wb") as out:
            shutil.copyfileobj(file.file, out, 1 << 20)
        job = RedubJob(id=uuid.uuid4().hex[:12], project=folder.name, video=video, background=keep_background)
        try:
            _registry(request).submit(ctx, job, language, voice, (asr_model or "").strip() or None, vad)
        except StudioError:
            shutil.rmtree(area, ignore_errors=True)
            raise
        return JSONResponse(job.to_dict(lang), status_code=202, headers={"Location": job.to_dict(lang)["url"]})

    return await run_in_threadpool(prepare)


@router.get("/redub/{job_id}", summary="a re-dub job's status")
async def redub_status(request: Request, job_id: str) -> dict:
    """Status, progress (0-1), the number of lines once done, or the error."""
    lang = request_language(request.headers, context(request).lang)
    return _registry(request).get(job_id).to_dict(lang)


@router.post("/redub/{job_id}/cancel", summary="cancel a re-dub job", status_code=202)
async def redub_cancel(request: Request, job_id: str) -> dict:
    """Ask the job to stop; the sentences heard so far are kept for the next job on the same project."""
    job = _registry(request).get(job_id)
    job.cancel.cancel()
    return job.to_dict(request_language(request.headers, context(request).lang))
