"""Re-dub jobs: a video becomes a dubbing project in the background, owned by the project, not by a browser tab.

One :class:`RedubRegistry` per process (:func:`registry`) holds every job, so
the Dubbing tab's "Re-dub a video" panel and the HTTP API see the same job: a
page reopened after the browser closed finds its project's job with its
progress, and Stop (or ``POST /api/dubbing/redub/<id>/cancel``) cancels it.
Jobs run one at a time on one worker thread; the work is
:func:`studio.redub.create_project`, whose stages are cached in ``redub/``.

The job owns its input and options (:mod:`studio.redub_job_file`): the video is
placed in ``redub/input`` and ``redub/job.json`` records the options; the
record goes when the run is done or refused (an :class:`InputError`, which also
removes what the job wrote). A cancelled run keeps it, marked stopped; a crash
leaves it as it was, and :meth:`RedubRegistry.resume` starts the run again from
its cached stages.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import BusyError, Cancelled, ConflictError, InputError, StudioError
from .progress import CancelToken, Status, progress_text
from .redub_job_file import (
    RedubOptions,
    busy_elsewhere,
    holding_lock,
    lock_is_free,
    place_video,
    read_job,
    remove_job,
    write_job,
)

log = logging.getLogger(__name__)

FINAL = ("done", "failed", "cancelled")
KEEP_FINISHED = 50  #: finished jobs kept for status queries (their projects stay)
MAX_ACTIVE = 4  #: queued or running jobs at once; more are refused as busy

#: ``hold(folder)``: a context manager the run works inside (e.g. one keeping dubbing jobs off the project).
Hold = Callable[[Path], contextlib.AbstractContextManager]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class RedubJob:
    """One video being turned into the project in ``folder``."""

    id: str
    folder: Path
    video: Path
    options: RedubOptions
    levels: int = 0  #: folders the job created (removed again when the run is refused)
    owner: str = ""
    resumed: bool = False  #: started again from a record a crash or a Stop left
    status: str = "queued"  #: queued | running | done | failed | cancelled
    progress: float = 0.0
    message: Status | str = ""
    lines: int = 0
    created: bool = False  #: the project was written (False: an existing one was kept)
    background: bool = False  #: voice and background were separated
    cloned: str | None = None  #: the voice cloned from the video
    error: StudioError | None = None
    started: str = ""
    finished: str = ""
    cancel: CancelToken = field(default_factory=CancelToken)
    library: Any = None
    embedder: Callable | None = None
    endpoint: str | None = None
    hold: Hold | None = None

    @property
    def project(self) -> str:
        """The project's folder name."""
        return self.folder.name

    def report(self, fraction: float | None, message: Status | str) -> None:
        """The run's progress callback."""
        if fraction is not None:
            self.progress = max(self.progress, min(1.0, float(fraction)))
        self.message = message

    def snapshot(self, lang: str = "en") -> dict:
        """The job's state as plain data, worded in ``lang``."""
        return {
            "id": self.id,
            "project": self.project,
            "status": self.status,
            "progress": round(self.progress, 3),
            "message": progress_text(self.message, lang),
            "lines": self.lines,
            "created": self.created,
            "background": self.background or self.options.keep_background,
            "cloned": self.cloned,
            "resumed": self.resumed,
            "error": self.error.to_dict(lang) if self.error is not None else None,
        }


class RedubRegistry:
    """Re-dub jobs: queued in order, run one at a time on a worker thread, kept for status queries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, RedubJob] = {}
        self._queue: queue.Queue[RedubJob] = queue.Queue()
        self._thread: threading.Thread | None = None

    def get(self, job_id: str) -> RedubJob | None:
        """The job ``job_id``, or None when unknown (or forgotten)."""
        with self._lock:
            return self._jobs.get(job_id)

    def active_for(self, folder: Path) -> RedubJob | None:
        """The queued or running job of the project in ``folder``, if any."""
        folder = _key(folder)
        with self._lock:
            return next((j for j in self._jobs.values() if j.folder == folder and j.status not in FINAL), None)

    def latest_for(self, folder: Path) -> RedubJob | None:
        """The project's active job, else its most recent finished one, else None."""
        folder = _key(folder)
        with self._lock:
            mine = [j for j in self._jobs.values() if j.folder == folder]
        active = [j for j in mine if j.status not in FINAL]
        return (active or mine or [None])[-1]

    def submit(
        self,
        folder: Path,
        video: Path,
        options: RedubOptions,
        *,
        name: str | None = None,
        take: str = "copy",
        library: Any = None,
        embedder: Callable | None = None,
        endpoint: str | None = None,
        hold: Hold | None = None,
        owner: str = "",
    ) -> RedubJob:
        """Queue a job making the project in ``folder`` from ``video`` (placed in its work folder as ``name``).

        ``take``: copy, link or move the video. ``embedder`` returns the speaker embedder when
        ``options.speakers`` (default: the studio's Base model). Refused before anything is written:
        bad options (:class:`InputError`), a missing video, a job already on the project (:class:`ConflictError`).
        """
        from .redub_job_file import safe_video_name

        folder, video = _key(folder), Path(video)
        options = options.checked()
        if not video.is_file():
            raise InputError(zh=f"找不到视频文件 {video.name}。", en=f"The video {video.name} was not found.")
        with self._lock:
            self._refuse(folder)
            if not lock_is_free(folder):
                raise busy_elsewhere(folder)
            job = RedubJob(uuid.uuid4().hex[:12], folder, video, options, _missing_levels(folder), owner)
            self._jobs[job.id] = job  # holds the project while the video is placed (outside the lock: a copy)
        try:
            job.video = place_video(folder, video, safe_video_name(name or video.name), take)
            write_job(folder, job.id, job.video, options, job.levels, stopped=job.cancel.cancelled)
        except OSError as exc:
            _remove_created(folder, job.levels)
            with self._lock:
                del self._jobs[job.id]
            raise StudioError(
                zh=f"无法把视频放进项目文件夹：{exc.strerror or exc}",
                en=f"Could not place the video in the project folder: {exc.strerror or exc}",
            ) from exc
        with self._lock:
            self._queue_job(job, library, embedder, endpoint, hold)
        return job

    def resume(
        self,
        folder: Path,
        *,
        stopped: bool = True,
        library: Any = None,
        embedder: Callable | None = None,
        endpoint: str | None = None,
        hold: Hold | None = None,
        owner: str = "",
    ) -> RedubJob | None:
        """Start again the run whose record is left in ``folder`` (a crash; with ``stopped``, a Stop too); None if none."""
        folder = _key(folder)
        with self._lock:
            left = read_job(folder)
            if left is None or (left["stopped"] and not stopped) or not lock_is_free(folder):
                return None
            if self._active(folder) is not None:
                return None
            job = RedubJob(left["job"], folder, left["video"], left["options"], left["levels"], owner, resumed=True)
            if job.id in self._jobs:
                job.id = uuid.uuid4().hex[:12]
            with contextlib.suppress(OSError):
                write_job(folder, job.id, job.video, job.options, job.levels)
            self._queue_job(job, library, embedder, endpoint, hold)
        return job

    def cancel(self, job: RedubJob) -> RedubJob:
        """Ask ``job`` to stop: a queued job never starts, a running one stops at its next step (its stages kept)."""
        with self._lock:
            if job.status not in FINAL:
                job.cancel.cancel()
                if job.status == "queued":
                    _stopped(job)
        return job

    def close(self, owner: str, wait_s: float = 30.0) -> None:
        """Cancel ``owner``'s jobs; wait up to ``wait_s`` for a running one of them to stop."""
        import time

        with self._lock:
            mine = [j for j in self._jobs.values() if j.owner == owner and j.status not in FINAL]
        for job in mine:
            self.cancel(job)
        deadline = time.monotonic() + wait_s
        while any(j.status not in FINAL for j in mine) and time.monotonic() < deadline:
            time.sleep(0.05)

    # -- running -----------------------------------------------------------------------------------

    def _active(self, folder: Path) -> RedubJob | None:
        return next((j for j in self._jobs.values() if j.folder == folder and j.status not in FINAL), None)

    def _refuse(self, folder: Path) -> None:
        running = self._active(folder)
        if running is not None:
            raise ConflictError(
                zh=f"项目 “{folder.name}” 已有正在进行的视频识别任务（{running.id}，{running.status}）。等它结束或停止它。",
                en=f"Project '{folder.name}' has a re-dub in progress already ({running.id}, {running.status}). "
                "Wait for it to end, or stop it.",
                job=running.id,
            )
        if sum(j.status not in FINAL for j in self._jobs.values()) >= MAX_ACTIVE:
            raise BusyError(zh="识别任务太多，请稍后再试。", en="Too many re-dub jobs queued; try again shortly.")

    def _queue_job(self, job: RedubJob, library, embedder, endpoint, hold) -> None:
        job.library, job.embedder, job.endpoint, job.hold = library, embedder, endpoint, hold
        self._jobs[job.id] = job
        finished = [j for j in self._jobs.values() if j.status in FINAL]
        for old in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[old.id]
        self._queue.put(job)
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="studio-redub-jobs", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            with self._lock:
                if job.status != "queued":
                    continue  # cancelled while waiting
                job.status, job.started = "running", _now()
            try:
                with job.hold(job.folder) if job.hold is not None else contextlib.nullcontext():
                    _run(job)
            except Cancelled:
                _stopped(job)
            except InputError as exc:  # refused: the run's writes and its record go
                remove_job(job.folder)
                _remove_created(job.folder, job.levels)
                _finish(job, "failed", exc)
            except StudioError as exc:  # the record stays: the run can be resumed once the cause is fixed
                _finish(job, "failed", exc)
            except Exception as exc:  # a bug must not kill the worker: the job fails, the log has it
                log.exception("re-dub job %s failed", job.id)
                error = StudioError(
                    zh=f"识别视频时出错（{type(exc).__name__}），详情见日志。",
                    en=f"Re-dubbing failed ({type(exc).__name__}); see the log.",
                )
                _finish(job, "failed", error)
            finally:
                job.library = job.embedder = job.hold = None


def _run(job: RedubJob) -> None:
    from .redub import create_project

    o = job.options
    speakers = None
    if o.speakers:
        speakers = job.embedder
        if speakers is None:
            from .speakers import base_model_embedder

            speakers = base_model_embedder
    with holding_lock(job.folder):
        result = create_project(
            job.video,
            job.folder,
            language=o.language,
            voice=o.voice,
            model=o.asr_model,
            vad=o.vad,
            endpoint=job.endpoint,
            progress=job.report,
            cancel=job.cancel,
            separator_model=o.separator_model,
            keep_background=o.keep_background,
            clone_voice=o.clone_voice,
            consent=o.consent,
            library=job.library,
            speakers=speakers,
        )
    remove_job(job.folder)
    job.lines, job.created = len(result.project.lines), result.created
    job.background = result.separation is not None
    job.cloned = result.cloned.name if result.cloned is not None else None
    job.progress = 1.0
    _finish(job, "done")


def _finish(job: RedubJob, status: str, error: StudioError | None = None) -> None:
    job.error, job.finished, job.status = error, _now(), status


def _stopped(job: RedubJob) -> None:
    """Cancelled: the record stays, marked stopped (a restart does not resume it by itself)."""
    with contextlib.suppress(OSError):
        if read_job(job.folder) is not None:
            write_job(job.folder, job.id, job.video, job.options, job.levels, stopped=True)
    _finish(job, "cancelled")


def _key(folder: Path) -> Path:
    return Path(folder).expanduser().resolve()


def _missing_levels(folder: Path) -> int:
    """How many folders, ``folder`` included, do not exist yet."""
    levels, path = 0, folder
    while not path.exists() and path.parent != path:
        levels, path = levels + 1, path.parent
    return levels


def _remove_created(folder: Path, levels: int) -> None:
    """Remove the outermost of the ``levels`` folders the job created (and so everything it wrote there)."""
    if levels <= 0:
        shutil.rmtree(folder / "redub" / "input", ignore_errors=True)
        return
    created = folder
    for _ in range(levels - 1):
        created = created.parent
    shutil.rmtree(created, ignore_errors=True)


_registry: RedubRegistry | None = None
_registry_guard = threading.Lock()


def registry() -> RedubRegistry:
    """The process's one re-dub registry (created on first use)."""
    global _registry
    with _registry_guard:
        if _registry is None:
            _registry = RedubRegistry()
        return _registry
