"""Dubbing jobs: a project's generation run in the background, owned by the project, not by a browser tab.

One :class:`JobRegistry` per process (:func:`registry`) holds every job, so the
Dubbing tab, the HTTP API and anything else in the process see the same job:
a page reopened after the browser closed finds its project's job running with
its progress, and Stop (or ``DELETE /api/dubbing/jobs/<id>``) cancels it
through the job's one :class:`~studio.progress.CancelToken`.

Jobs run one at a time on one worker thread: :func:`~studio.dubbing.runner.run_project`,
then (``build``) :func:`~studio.dubbing.outputs.build_outputs` into ``<project>/outputs``.
Each line's generation waits for the model's turn like any other request, and
says meanwhile what holds the model. Other processes see the run through the
project's lock and marker (:mod:`.lock`): a second run is refused naming the
first, and a run a crash interrupted is resumed by :meth:`JobRegistry.resume`.
Cancelling stops at the model's next step; every finished take is saved, so
the next job reuses it. The last :data:`KEEP_FINISHED` finished jobs are kept.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import Cancelled, ConflictError, StudioError
from ..progress import CancelToken, Status, doing
from .job import FINAL, DubJob, LineState, now
from .project import Project

log = logging.getLogger(__name__)

__all__ = ["FINAL", "DubJob", "JobRegistry", "LineState", "Turn", "registry"]

#: Finished jobs kept for status queries; older ones are forgotten (their files stay).
KEEP_FINISHED = 50

#: ``turn(cancel)``: a context manager a job's line enters around each generation (e.g. a server's queue).
Turn = Callable[[CancelToken], contextlib.AbstractContextManager]


class _TurnEngine:
    """The engine as a job sees it: each generation first enters the job's ``turn`` (when it has one)."""

    def __init__(self, engine: Any, turn: Turn | None, cancel: CancelToken) -> None:
        self._engine, self._turn, self._cancel = engine, turn, cancel
        self.manager = engine.manager

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._turn(self._cancel) if self._turn is not None else contextlib.nullcontext():
            return getattr(self._engine, method)(*args, **kwargs)

    def clone(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("clone", *args, **kwargs)

    def custom(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("custom", *args, **kwargs)

    def design(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("design", *args, **kwargs)


class JobRegistry:
    """Dubbing jobs: queued in order, run one at a time on a worker thread, kept for status queries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, DubJob] = {}
        self._queue: queue.Queue[DubJob | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._held: dict[Path, int] = {}  #: projects being changed (edit, delete, mux): no job starts
        self._changes: dict[Path, threading.Lock] = {}  #: one change at a time per project

    def active_for(self, folder: Path) -> DubJob | None:
        """The queued or running job of the project in ``folder``, if any."""
        with self._lock:
            return self._active(Path(folder))

    def latest_for(self, folder: Path) -> DubJob | None:
        """The project's active job, else its most recent finished one, else None."""
        with self._lock:
            mine = [j for j in self._jobs.values() if j.folder == Path(folder)]
        active = [j for j in mine if j.status not in FINAL]
        return (active or mine or [None])[-1]

    def _active(self, folder: Path) -> DubJob | None:
        return next((j for j in self._jobs.values() if j.folder == folder and j.status not in FINAL), None)

    def _refuse_if_active(self, folder: Path, doing_zh: str, doing_en: str) -> None:
        running = self._active(folder)
        if running is not None:
            zh, en = running.describe()
            raise ConflictError(
                zh=f"{zh}正在进行（{running.id}，{running.status}）。等它结束或停止它，再{doing_zh}。",
                en=f"{en[0].upper()}{en[1:]} is in progress ({running.id}, {running.status}). Wait for it to end, "
                f"or stop it, before {doing_en}.",
                job=running.id,
            )

    @contextlib.contextmanager
    def hold(self, folder: Path) -> Iterator[None]:
        """Change the project in ``folder``: refused while a job is queued or runs on it; no job starts until done.

        Changes of one project wait for each other (each reads, changes and saves ``project.json``).
        """
        folder = Path(folder)
        with self._lock:
            self._refuse_if_active(folder, "修改项目", "changing the project")
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

    def submit(
        self,
        project: Project,
        engine: Any,
        library: Any = None,
        *,
        only: list[str] | None = None,
        lines_spec: str | None = None,
        force: bool = False,
        build: bool = True,
        turn: Turn | None = None,
        owner: str = "",
    ) -> DubJob:
        """Queue a job for the saved ``project`` (:class:`ConflictError` if it has one already, or is being changed)."""
        assert project.folder is not None
        folder = project.folder
        with self._lock:
            if folder in self._held:
                raise ConflictError(
                    zh=f"项目 “{folder.name}” 正在被修改（编辑、删除或合成视频）。稍后再试。",
                    en=f"Project '{folder.name}' is being changed (an edit, a delete or a mux). Try again in a moment.",
                )
            self._refuse_if_active(folder, "开始新的任务", "starting another")
            job = DubJob(
                id=uuid.uuid4().hex[:12],
                project=folder.name,
                folder=folder,
                force=force,
                only=list(only) if only is not None else None,
                lines_spec=lines_spec,
                build=build,
                owner=owner,
                engine=engine,
                library=library,
                turn=turn,
            )
            _set_lines(job, project)
            self._jobs[job.id] = job
            self._prune()
            self._queue.put(job)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="studio-dubbing-jobs", daemon=True)
                self._thread.start()
        return job

    def resume(self, folder: Path, engine: Any, library: Any = None, owner: str = "") -> DubJob | None:
        """Start again the run a crash interrupted in ``folder`` (its lines still to make), if there is one."""
        from .lock import interrupted

        data = interrupted(Path(folder))
        if data is None or self.active_for(folder) is not None:
            return None
        project = Project.load(Path(folder))
        known = {line.id for line in project.lines}
        only = [i for i in data["pending"] if i in known]
        return self.submit(project, engine, library, only=only, force=bool(data.get("force")), owner=owner)

    def get(self, job_id: str) -> DubJob | None:
        """The job ``job_id``, or None when unknown (or forgotten)."""
        with self._lock:
            return self._jobs.get(job_id)

    def list(self) -> list[DubJob]:
        """Every job kept, oldest first."""
        with self._lock:
            return list(self._jobs.values())

    def cancel(self, job: DubJob) -> DubJob:
        """Ask ``job`` to stop: a queued job never starts, a running one stops at the model's next step."""
        with self._lock:
            if job.status not in FINAL:
                job.cancel.cancel()
                if job.status == "queued":
                    job.finish("cancelled")
        return job

    def close(self, owner: str, wait_s: float = 30.0) -> None:
        """Cancel ``owner``'s jobs; wait up to ``wait_s`` for a running one of them to stop."""
        with self._lock:
            mine = [j for j in self._jobs.values() if j.owner == owner and j.status not in FINAL]
        for job in mine:
            self.cancel(job)
        for job in mine:
            with contextlib.suppress(Exception):
                _wait_final(job, wait_s)

    # -- running -----------------------------------------------------------------------------------

    def _prune(self) -> None:
        finished = [j for j in self._jobs.values() if j.status in FINAL]
        for job in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.id]

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job.status != "queued":
                    continue  # cancelled while waiting
                job.status, job.started = "running", now()
            try:
                with doing(job.describe):
                    _run(job)
            except Cancelled:
                job.finish("cancelled")
            except StudioError as exc:
                job.error = exc
                job.finish("failed")
            except Exception as exc:  # a bug must not kill the worker: the job fails, the log has it
                log.exception("dubbing job %s failed", job.id)
                job.error = StudioError(
                    zh=f"内部错误（{type(exc).__name__}），请查看日志。",
                    en=f"Internal error ({type(exc).__name__}); see the log.",
                )
                job.finish("failed")
            finally:
                job.engine = job.library = job.turn = None


def _wait_final(job: DubJob, wait_s: float) -> None:
    import time

    deadline = time.monotonic() + wait_s
    while job.status not in FINAL and time.monotonic() < deadline:
        time.sleep(0.05)


def _set_lines(job: DubJob, project: Project) -> None:
    wanted = set(job.only) if job.only is not None else None
    with job.lock:
        job.lines = [
            LineState(i + 1, line.id, line.scene, line.speaker, line.text)
            for i, line in enumerate(project.lines)
            if wanted is None or line.id in wanted
        ]


def _run(job: DubJob) -> None:
    from .runner import run_project
    from .service import build, output_files, track_summary

    project = Project.load(job.folder)
    _set_lines(job, project)
    report = run_project(
        project,
        _TurnEngine(job.engine, job.turn, job.cancel),
        job.library,
        only=job.only,
        force=job.force,
        progress=job.on_progress,
        cancel=job.cancel,
        on_line=job.on_line,
        job=job.id,
    )
    job.cancel.check()
    if not job.build:
        job.finish("done")
        return
    job.on_progress(None, Status("writing"))
    built = build(project, report)
    with job.lock:
        job.outputs = sorted(p.name for p in output_files(built))
        job.track = track_summary(built)
    job.finish("done")


_registry: JobRegistry | None = None
_registry_guard = threading.Lock()


def registry() -> JobRegistry:
    """The process's one job registry (created on first use)."""
    global _registry
    with _registry_guard:
        if _registry is None:
            _registry = JobRegistry()
        return _registry
