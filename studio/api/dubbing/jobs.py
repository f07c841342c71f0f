"""Dubbing jobs over HTTP: the process's one job registry (:mod:`studio.dubbing.jobs`), seen by the API.

The jobs are the dubbing layer's: one registry per process, so a job the
Dubbing tab started is listed, polled and cancelled here too (for projects
under the server's projects folder), and the other way round. What is the
API's own: the server's default models, each line's turn in the server's
queue (:class:`~studio.api.app.Gate`, so speech requests get in between a
job's lines), 404 for unknown jobs, and the download URLs in a job's status.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ...dubbing.jobs import FINAL, DubJob, registry
from ...dubbing.service import line_spec, select_lines
from ...errors import BusyError, NotFoundError
from ...progress import CancelToken
from .projects import open_project

if TYPE_CHECKING:
    from ..context import ApiContext

log = logging.getLogger(__name__)

__all__ = ["FINAL", "JobRegistry", "job_json"]


def job_json(job: DubJob, lang: str) -> dict:
    """The job's status as the API answers it: the dubbing layer's, with URLs."""
    data = job.to_dict(lang)
    base = f"/api/dubbing/projects/{quote(job.project)}/outputs/"
    data["outputs"] = [{"file": f, "url": base + quote(f)} for f in data["outputs"]]
    data["url"] = f"/api/dubbing/jobs/{job.id}"
    return data


class _Models:
    """The engine's model manager, with the server's models as the defaults (as the speech routes use them)."""

    def __init__(self, ctx: ApiContext) -> None:
        self._ctx = ctx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx.engine.manager, name)

    def default_model(self, kind: str) -> str:
        return self._ctx.models.get(kind) or self._ctx.engine.manager.default_model(kind)


class _ServerEngine:
    """The engine as a job started over HTTP sees it: the server's models are the defaults."""

    def __init__(self, ctx: ApiContext) -> None:
        self._ctx = ctx
        self.manager = _Models(ctx)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx.engine, name)


class JobRegistry:
    """The API's view of the process's dubbing jobs: those of projects under its projects folder."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx
        self._shared = registry()
        self._owner = f"api-{id(self):x}"
        self._closed = False

    def _mine(self, job: DubJob) -> bool:
        root = self.ctx.projects_root.resolve()
        return job.folder.resolve().parent == root

    def _turn(self, cancel: CancelToken):
        """A line's turn in the server's queue (the job was accepted already: its lines always queue)."""

        @contextlib.contextmanager
        def turn() -> Iterator[None]:
            gate = self.ctx.gate
            ticket = gate.admit(bounded=False)
            try:
                gate.wait(ticket, cancel)
                yield
            finally:
                gate.done(ticket)

        return turn()

    def active_for(self, folder: Path) -> DubJob | None:
        """The queued or running job of the project in ``folder``, if any (whoever started it)."""
        return self._shared.active_for(folder)

    def hold(self, folder: Path):
        """Change the project in ``folder``: 409 while a job is queued or runs on it; no job starts until done."""
        return self._shared.hold(folder)

    def submit(self, name: str, spec: str | list[int] | None, force: bool, build: bool) -> DubJob:
        """Queue a job for the project ``name`` (404 if missing, 409 if it has one already, 400 for bad lines)."""
        if self._closed:
            raise BusyError(zh="服务器正在关闭。", en="The server is shutting down.", retry_after=5)
        project = open_project(self.ctx, name)
        numbers = line_spec(spec)
        only = select_lines(project, numbers)
        return self._shared.submit(
            project,
            _ServerEngine(self.ctx),
            self.ctx.library(),
            only=only,
            lines_spec=numbers,
            force=force,
            build=build,
            turn=self._turn,
            owner=self._owner,
        )

    def get(self, job_id: str) -> DubJob:
        """The job ``job_id``; 404 when unknown (or forgotten)."""
        job = self._shared.get(job_id)
        if job is None or not self._mine(job):
            raise NotFoundError(
                zh=f"没有编号为 “{job_id[:40]}” 的配音任务。", en=f"No dubbing job '{job_id[:40]}'.", param="id"
            )
        return job

    def list(self) -> list[DubJob]:
        """Every job kept, oldest first."""
        return [j for j in self._shared.list() if self._mine(j)]

    def cancel(self, job_id: str) -> DubJob:
        """Ask ``job_id`` to stop: a queued job never starts, a running one stops at the model's next step."""
        return self._shared.cancel(self.get(job_id))

    def close(self) -> None:
        """Refuse new jobs; cancel the jobs this server started (waits a little for a running one to stop)."""
        self._closed = True
        self._shared.close(self._owner)
