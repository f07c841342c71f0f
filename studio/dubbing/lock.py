"""One run per project, across processes: a lock file and a marker of the run in the project folder.

``.lock`` is an OS file lock (:mod:`filelock`): the system drops it when the
process holding it ends, even by a crash. ``.job.json`` says what the run is
doing (process, lines still to make, the line in progress) and is deleted
when the run ends in any way the process survives (done, failed, cancelled).
So a marker whose lock is free was left by a process that died mid-run: the
run was *interrupted*, and :func:`interrupted` tells what is left to make so
it can be resumed. A second process that finds the lock held is refused with
a message naming the run that holds it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from ..errors import BusyError, InputError
from .project import Project, write_text_atomic

LOCK_FILE = ".lock"
MARKER_FILE = ".job.json"
_MAX_MARKER_BYTES = 1_000_000


class RunMarker:
    """The marker of the run holding the project's lock; updated as lines finish."""

    def __init__(self, folder: Path, job: str = "", force: bool = False) -> None:
        self.path = folder / MARKER_FILE
        self.data: dict = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "job": job,
            "force": force,
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "pending": [],
            "total": 0,
            "line": None,
        }
        self.written = False

    def start(self, pending: list[str]) -> None:
        """The run will make the lines ``pending`` (ids), in this order."""
        self.data["pending"], self.data["total"] = list(pending), len(pending)
        self._write()

    def at(self, number: int, line_number: int) -> None:
        """The run starts its ``number``-th line (1-based), which is line ``line_number`` of the project."""
        self.data["line"] = {"step": number, "number": line_number}
        self._write()

    def finished(self, line_id: str) -> None:
        """Line ``line_id`` is done (made, reused or failed): a resumed run skips it."""
        with contextlib.suppress(ValueError):
            self.data["pending"].remove(line_id)
        self._write()

    def _write(self) -> None:
        self.written = True
        with contextlib.suppress(OSError):  # the marker only informs; a full disk must not stop the run
            write_text_atomic(self.path, json.dumps(self.data, ensure_ascii=False))


def read_marker(folder: Path) -> dict | None:
    """The marker in ``folder`` (see the module docstring), or None when there is none or it is unreadable."""
    path = folder / MARKER_FILE
    try:
        if path.is_symlink() or path.stat().st_size > _MAX_MARKER_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("pending"), list):
        return None
    data["pending"] = [str(x) for x in data["pending"] if isinstance(x, str)]
    return data


def describe_marker(data: dict) -> tuple[str, str]:
    """A run's marker in words, as (zh, en): its process and the line it is on."""
    line, total = data.get("line") or {}, data.get("total") or 0
    where_zh = f"，第 {line.get('step')}/{total} 行" if line else ""
    where_en = f", line {line.get('step')}/{total}" if line else ""
    pid = data.get("pid", "?")
    return f"进程 {pid}{where_zh}", f"process {pid}{where_en}"


def busy_error(data: dict | None) -> BusyError:
    """The refusal of a second run while the run of marker ``data`` (None: unknown) holds the project."""
    zh, en = describe_marker(data) if data else ("", "")
    return BusyError(
        zh=f"这个项目正在另一个窗口或命令里生成{f'（{zh}）' if zh else ''}，请等它结束，或先停止它。",
        en=f"This project is being generated in another window or command{f' ({en})' if en else ''}; "
        "wait for it to finish, or stop it first.",
    )


def _file_lock(folder: Path):
    from filelock import FileLock

    return FileLock(str(folder / LOCK_FILE), timeout=0)


def lock_is_free(folder: Path) -> bool:
    """Whether no process (this one included) holds the project's lock now."""
    return file_lock_is_free(folder / LOCK_FILE)


def file_lock_is_free(path: Path) -> bool:
    """Whether no process (this one included) holds the file lock at ``path`` now (a missing file: free)."""
    from filelock import FileLock, Timeout

    if not path.exists():
        return True
    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return False
    lock.release()
    return True


def interrupted(folder: Path) -> dict | None:
    """The marker of a run that a crash interrupted (its lock is free), with the lines it left; else None."""
    data = read_marker(folder)
    if data is None or not lock_is_free(folder):
        return None
    return data


def running_elsewhere(folder: Path) -> dict | None:
    """The marker of a run that holds the project's lock now (in any process), or None."""
    data = read_marker(folder)
    if data is None or lock_is_free(folder):
        return None
    return data


@contextlib.contextmanager
def project_lock(project: Project, job: str = "", force: bool = False) -> Iterator[RunMarker]:
    """Hold the project folder's lock for a run; a second run meanwhile gets :class:`BusyError`.

    Yields the run's :class:`RunMarker`; the marker is removed when the run ends
    (normally or by an exception), and only a crash leaves it behind.
    """
    from filelock import Timeout

    if project.folder is None:
        raise InputError(zh="请先保存项目（指定文件夹）再生成。", en="Save the project to a folder before generating.")
    project.folder.mkdir(parents=True, exist_ok=True)
    lock = _file_lock(project.folder)
    try:
        lock.acquire()
    except Timeout as exc:
        raise busy_error(read_marker(project.folder)) from exc
    marker = RunMarker(project.folder, job, force)
    try:
        yield marker
    finally:
        if marker.written:  # a hold that made nothing (an edit) leaves an interrupted run's marker alone
            with contextlib.suppress(OSError):
                marker.path.unlink(missing_ok=True)
        lock.release()
