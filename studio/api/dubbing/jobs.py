"""Dubbing jobs: generation runs of projects, in the background, one at a time.

A job runs :func:`studio.dubbing.runner.run_project` on a single worker thread,
one job at a time, then assembles the track and writes the outputs (line files,
track, captions, zip) into ``<project>/outputs``. Each line's generation waits
for its turn in the same queue (:class:`~studio.api.app.Gate`) as the speech
endpoints, so a job and a ``/tts`` request never use the model at the same
time, and speech requests get in between a job's lines.

Cancelling sets the job's :class:`~studio.progress.CancelToken`: the model
stops at its next step, or the runner before the next line. Every finished
take is already saved with ``project.json``, so the project stays consistent
and the next job resumes it, reusing the finished lines. Jobs are kept in
memory (the last :data:`KEEP_FINISHED` finished ones); a project's files stay on disk.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ...errors import BusyError, Cancelled, ConflictError, InputError, NotFoundError, StudioError
from ...progress import CancelToken, Status, progress_text
from ..errors import ApiError
from .projects import _outputs_folder, open_project

if TYPE_CHECKING:
    from ...dubbing.project import Project
    from ...dubbing.runner import LineResult
    from ..app import ApiContext

log = logging.getLogger(__name__)

#: Finished jobs kept for status queries; older ones are forgotten (their files stay).
KEEP_FINISHED = 50
FINAL = ("done", "failed", "cancelled")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- jobs ------------------------------------------------------------------------------------------


@dataclass
class _LineState:
    number: int
    id: str
    scene: str
    speaker: str
    text: str
    status: str = "pending"  #: pending | running | generated | reused | locked | failed | cancelled
    seconds: float | None = None
    message_zh: str = ""
    message_en: str = ""


@dataclass
class DubJob:
    """One generation run of a project, as the registry tracks it."""

    id: str
    project: str  #: the project's folder name
    folder: Path
    force: bool = False
    lines_spec: str | None = None  #: 1-based line numbers ("1,3-5"); None: every line
    build: bool = True  #: assemble the track and write the outputs afterwards
    status: str = "queued"  #: queued | running | done | failed | cancelled
    progress: float = 0.0
    message: object = ""  #: a Status (or a plain string)
    current: int | None = None  #: 0-based index of the line being generated
    lines: list[_LineState] = field(default_factory=list)
    error: StudioError | None = None
    created: str = field(default_factory=_now)
    started: str | None = None
    finished: str | None = None
    outputs: list[str] = field(default_factory=list)
    track: dict[str, Any] | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url(self) -> str:
        return f"/api/dubbing/jobs/{self.id}"

    def finish(self, status: str) -> None:
        with self.lock:
            self.status = status
            self.finished = _now()
            self.current = None
            if status == "done":
                self.progress = 1.0
            for line in self.lines:  # the line a cancel or a crash interrupted (its take was never saved)
                if line.status == "running":
                    line.status = "cancelled" if status == "cancelled" else "failed"

    def on_progress(self, fraction: float | None, message: str) -> None:
        with self.lock:
            if fraction is not None:
                self.progress = max(self.progress, min(float(fraction), 0.99))
            self.message = message  # a Status: worded in each reader's language by to_dict

    def on_line(self, result: LineResult) -> None:
        with self.lock:
            state = next((s for s in self.lines if s.number == result.index + 1), None)
            if state is None:
                return
            state.status = result.status
            if result.status == "running":
                self.current = result.index
                return
            state.seconds = round(result.seconds, 4) if result.status != "failed" else None
            state.message_zh, state.message_en = result.message_zh, result.message_en
            if self.current == result.index:
                self.current = None

    def to_dict(self, lang: str) -> dict:
        """The job's status as the API answers it, messages in ``lang``."""
        with self.lock:
            lines = [
                {
                    "number": s.number,
                    "id": s.id,
                    "scene": s.scene,
                    "speaker": s.speaker,
                    "status": s.status,
                    "seconds": s.seconds,
                    "message": (s.message_zh if lang.startswith("zh") else s.message_en) or None,
                }
                for s in self.lines
            ]
            current = next((s for s in self.lines if self.current is not None and s.number == self.current + 1), None)
            counts: dict[str, int] = {}
            for s in self.lines:
                counts[s.status] = counts.get(s.status, 0) + 1
            base = f"/api/dubbing/projects/{quote(self.project)}/outputs/"
            return {
                "id": self.id,
                "project": self.project,
                "status": self.status,
                "progress": round(self.progress, 4),
                "message": progress_text(self.message, "en"),
                "progress_text": progress_text(self.message, lang),
                "current_line": None
                if current is None
                else {"number": current.number, "id": current.id, "scene": current.scene, "text": current.text},
                "lines": lines,
                "counts": counts,
                "errors": [
                    {"number": x["number"], "id": x["id"], "message": x["message"]}
                    for x in lines
                    if x["status"] == "failed"
                ],
                "error": self.error.to_dict(lang) if self.error is not None else None,
                "force": self.force,
                "selected_lines": self.lines_spec,
                "created": self.created,
                "started": self.started,
                "finished": self.finished,
                "outputs": [{"file": f, "url": base + quote(f)} for f in self.outputs],
                "track": None
                if self.track is None
                else {
                    "seconds": self.track["seconds"],
                    "mode": self.track["mode"],
                    "flagged": [
                        {
                            "number": f["number"],
                            "status": f["status"],
                            "suggestion": f["zh" if lang.startswith("zh") else "en"],
                        }
                        for f in self.track["flagged"]
                    ],
                },
                "url": self.url,
            }


class _Models:
    """The engine's model manager, with the server's models as the defaults (as the speech routes use them)."""

    def __init__(self, ctx: ApiContext) -> None:
        self._ctx = ctx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx.engine.manager, name)

    def default_model(self, kind: str) -> str:
        return self._ctx.models.get(kind) or self._ctx.engine.manager.default_model(kind)


class _QueuedEngine:
    """The engine as a dubbing job sees it: every generation first waits for its turn in the API's queue."""

    def __init__(self, ctx: ApiContext, cancel: CancelToken) -> None:
        self._ctx = ctx
        self._cancel = cancel
        self.manager = _Models(ctx)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx.engine, name)

    def _turn(self, method: str, *args: Any, **kwargs: Any) -> Any:
        gate = self._ctx.gate
        ticket = gate.admit(bounded=False)  # the job was accepted already; its lines always queue
        try:
            gate.wait(ticket, self._cancel)
            return getattr(self._ctx.engine, method)(*args, **kwargs)
        finally:
            gate.done(ticket)

    def clone(self, *args: Any, **kwargs: Any) -> Any:
        return self._turn("clone", *args, **kwargs)

    def custom(self, *args: Any, **kwargs: Any) -> Any:
        return self._turn("custom", *args, **kwargs)

    def design(self, *args: Any, **kwargs: Any) -> Any:
        return self._turn("design", *args, **kwargs)


def _line_numbers(spec: str | list[int] | None) -> str | None:
    if spec is None:
        return None
    if isinstance(spec, list):
        return ",".join(str(n) for n in spec)
    return spec.strip() or None


class JobRegistry:
    """Dubbing jobs: queued in order, run one at a time on a worker thread, kept for status queries."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()
        self._jobs: dict[str, DubJob] = {}
        self._queue: queue.Queue[DubJob | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._held: dict[Path, int] = {}  #: projects a request is changing (edit, delete, mux): no job starts
        self._changes: dict[Path, threading.Lock] = {}  #: one change at a time per project

    def active_for(self, folder: Path) -> DubJob | None:
        """The queued or running job of the project in ``folder``, if any."""
        with self._lock:
            return self._active(folder)

    def _active(self, folder: Path) -> DubJob | None:
        return next((j for j in self._jobs.values() if j.folder == folder and j.status not in FINAL), None)

    @contextlib.contextmanager
    def hold(self, folder: Path) -> Iterator[None]:
        """Change the project in ``folder``: 409 while a job is queued or runs on it; no job starts until done.

        Changes of one project wait for each other (each reads, changes and saves ``project.json``).
        """
        with self._lock:
            running = self._active(folder)
            if running is not None:
                raise ConflictError(
                    zh=f"项目 “{folder.name}” 有正在进行的任务 {running.id}（{running.status}）。等它结束或取消它，再修改项目。",
                    en=f"Project '{folder.name}' has a job in progress: {running.id} ({running.status}). Wait for "
                    "it to end, or cancel it, before changing the project.",
                    job=running.id,
                )
            self._held[folder] = self._held.get(folder, 0) + 1
            change = self._changes.setdefault(folder, threading.Lock())
        try:
            with change:
                yield
        finally:
            with self._lock:
                self._held[folder] -= 1
                if not self._held[folder]:
                    del self._held[folder], self._changes[folder]

    def submit(self, name: str, spec: str | list[int] | None, force: bool, build: bool) -> DubJob:
        """Queue a job for the project ``name`` (404 if missing, 409 if it has one already, 400 for bad lines)."""
        from ...dubbing.cli import parse_line_numbers

        project = open_project(self.ctx, name)
        assert project.folder is not None
        numbers = _line_numbers(spec)
        only = None
        if numbers is not None:
            only = {project.lines[i].id for i in parse_line_numbers(numbers, len(project.lines))}
        with self._lock:
            if self._closed:
                raise BusyError(zh="服务器正在关闭。", en="The server is shutting down.", retry_after=5)
            if project.folder in self._held:
                raise ConflictError(
                    zh=f"项目 “{project.folder.name}” 正在被另一个请求修改（编辑、删除或合成视频）。稍后再试。",
                    en=f"Project '{project.folder.name}' is being changed by another request (an edit, a delete or "
                    "a mux). Try again in a moment.",
                )
            running = self._active(project.folder)
            if running is not None:
                raise ConflictError(
                    zh=f"项目 “{project.folder.name}” 已有任务 {running.id}（{running.status}）。等它结束或取消它。",
                    en=f"Project '{project.folder.name}' has a job already: {running.id} ({running.status}). "
                    "Wait for it to end, or cancel it.",
                    job=running.id,
                )
            job = DubJob(
                id=uuid.uuid4().hex[:12],
                project=project.folder.name,
                folder=project.folder,
                force=force,
                lines_spec=numbers,
                build=build,
            )
            self._set_lines(job, project, only)
            self._jobs[job.id] = job
            self._prune()
            self._queue.put(job)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="studio-dubbing-jobs", daemon=True)
                self._thread.start()
        return job

    def get(self, job_id: str) -> DubJob:
        """The job ``job_id``; 404 when unknown (or forgotten)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(
                zh=f"没有编号为 “{job_id[:40]}” 的配音任务。", en=f"No dubbing job '{job_id[:40]}'.", param="id"
            )
        return job

    def list(self) -> list[DubJob]:
        """Every job kept, oldest first."""
        with self._lock:
            return list(self._jobs.values())

    def cancel(self, job_id: str) -> DubJob:
        """Ask ``job_id`` to stop: a queued job never starts, a running one stops at the model's next step."""
        job = self.get(job_id)
        with self._lock:
            if job.status in FINAL:
                return job
            job.cancel.cancel()
            if job.status == "queued":
                job.finish("cancelled")
        return job

    def close(self) -> None:
        """Cancel every job and stop the worker (waits a little for a running one to stop)."""
        with self._lock:
            self._closed = True
            for job in self._jobs.values():
                if job.status not in FINAL:
                    job.cancel.cancel()
                    if job.status == "queued":
                        job.finish("cancelled")
            thread = self._thread
        self._queue.put(None)
        if thread is not None:
            thread.join(timeout=30)

    # -- running -----------------------------------------------------------------------------------

    def _prune(self) -> None:
        finished = [j for j in self._jobs.values() if j.status in FINAL]
        for job in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.id]

    @staticmethod
    def _set_lines(job: DubJob, project: Project, only: set[str] | None = None) -> None:
        with job.lock:
            job.lines = [
                _LineState(i + 1, line.id, line.scene, line.speaker, line.text)
                for i, line in enumerate(project.lines)
                if only is None or line.id in only
            ]

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job.status != "queued":
                    continue  # cancelled while waiting
                job.status, job.started = "running", _now()
            try:
                self._run(job)
            except Cancelled:
                job.finish("cancelled")
            except StudioError as exc:
                job.error = exc
                job.finish("failed")
            except Exception as exc:  # a bug must not kill the worker: the job fails, the log has it
                log.exception("dubbing job %s failed", job.id)
                job.error = ApiError(
                    500,
                    "internal_error",
                    zh=f"服务器内部错误（{type(exc).__name__}）。请查看服务器日志。",
                    en=f"Internal server error ({type(exc).__name__}). See the server log.",
                )
                job.finish("failed")

    def _run(self, job: DubJob) -> None:
        from ...dubbing.cli import parse_line_numbers
        from ...dubbing.outputs import write_outputs
        from ...dubbing.project import Project
        from ...dubbing.runner import load_takes, run_project, take_rate
        from ...dubbing.timeline import assemble

        project = Project.load(job.folder)
        only = None
        if job.lines_spec is not None:
            only = [project.lines[i].id for i in parse_line_numbers(job.lines_spec, len(project.lines))]
        self._set_lines(job, project, set(only) if only is not None else None)
        report = run_project(
            project,
            _QueuedEngine(self.ctx, job.cancel),
            self.ctx.library(),
            only=only,
            force=job.force,
            progress=job.on_progress,
            cancel=job.cancel,
            on_line=job.on_line,
        )
        job.cancel.check()
        if not job.build:
            job.finish("done")
            return
        audio = load_takes(project)
        if not audio:
            zh = "；".join(r.message("zh") for r in report.failed) or "没有任何台词可以生成。"
            en = "; ".join(r.message("en") for r in report.failed) or "no line could be generated."
            raise InputError(zh=f"没有生成任何音频：{zh}", en=f"No audio was generated: {en}")
        job.on_progress(None, Status("writing"))
        track = assemble(project, audio, take_rate(project))
        outputs = write_outputs(project, track, _outputs_folder(project), project.settings.format)
        written = [*outputs.files, outputs.zip]
        with job.lock:
            job.outputs = sorted(p.name for p in written if p is not None)
            job.track = {
                "seconds": round(track.seconds, 4),
                "mode": track.mode,
                "flagged": [
                    {
                        "number": p.index + 1,
                        "status": p.status,
                        "zh": p.suggestion("zh"),
                        "en": p.suggestion("en"),
                    }
                    for p in track.flagged
                ],
            }
        job.finish("done")
