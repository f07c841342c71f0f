"""One dubbing job's state: its lines, progress, warnings, outcome, and its cancel token.

Kept by :class:`studio.dubbing.jobs.JobRegistry`; shown by the Dubbing tab and the HTTP API.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import StudioError
from ..progress import CancelToken, Status, progress_text
from .listening import check_report

FINAL = ("done", "failed", "cancelled")


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class LineState:
    """One line of a job, as the job reports it."""

    number: int
    id: str
    scene: str
    speaker: str
    text: str
    status: str = "pending"  #: pending | running | generated | reused | locked | failed | cancelled
    seconds: float | None = None
    message_zh: str = ""
    message_en: str = ""
    check: dict | None = None  #: what the recogniser heard in the chosen take (:mod:`.listening`)


@dataclass
class DubJob:
    """One generation run of a project."""

    id: str
    project: str  #: the project's folder name
    folder: Path
    force: bool = False
    only: list[str] | None = None  #: line ids to make; None: every line
    lines_spec: str | None = None  #: the 1-based line numbers asked for ("1,3-5"), for showing
    build: bool = True  #: assemble the track and write the outputs afterwards
    owner: str = ""  #: who started it (an API server closing cancels its own jobs only)
    status: str = "queued"  #: queued | running | done | failed | cancelled
    progress: float = 0.0
    message: Status | str = ""  #: worded in each reader's language (:func:`~studio.progress.progress_text`)
    current: int | None = None  #: 0-based index of the line being generated
    lines: list[LineState] = field(default_factory=list)
    warnings: list[tuple[int, str, str]] = field(default_factory=list)  #: (number, zh, en) found before generating
    error: StudioError | None = None
    created: str = field(default_factory=now)
    started: str | None = None
    finished: str | None = None
    outputs: list[str] = field(default_factory=list)  #: file names in ``<project>/outputs``
    track: dict[str, Any] | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    engine: Any = field(default=None, repr=False)
    library: Any = field(default=None, repr=False)
    turn: Any = field(default=None, repr=False)  #: see :data:`studio.dubbing.jobs.Turn`

    def finish(self, status: str) -> None:
        """End the job with ``status``; the line a cancel or a crash interrupted is marked so."""
        with self.lock:
            self.status = status
            self.finished = now()
            self.current = None
            if status == "done":
                self.progress = 1.0
            for line in self.lines:
                if line.status == "running":
                    line.status = "cancelled" if status == "cancelled" else "failed"

    def on_progress(self, fraction: float | None, message: Status | str) -> None:
        """The runner's progress callback."""
        with self.lock:
            if fraction is not None:
                self.progress = max(self.progress, min(float(fraction), 0.99))
            self.message = message

    def on_line(self, result) -> None:
        """The runner's per-line callback."""
        with self.lock:
            if result.status == "flagged":
                self.warnings.append((result.index + 1, result.message_zh, result.message_en))
                return
            state = next((s for s in self.lines if s.number == result.index + 1), None)
            if state is None:
                return
            state.status = result.status
            if result.status == "running":
                self.current = result.index
                return
            state.seconds = round(result.seconds, 4) if result.status != "failed" else None
            state.message_zh, state.message_en = result.message_zh, result.message_en
            state.check = getattr(result, "check", None)
            if self.current == result.index:
                self.current = None

    def describe(self) -> tuple[str, str]:
        """The job in words, as (zh, en): "the dubbing job of project 'x' (line 3/8)"."""
        with self.lock:
            step = next(
                (k for k, s in enumerate(self.lines) if self.current is not None and s.number == self.current + 1), None
            )
            total = len(self.lines)
        where_zh = f"（第 {step + 1}/{total} 行）" if step is not None else ""
        where_en = f" (line {step + 1}/{total})" if step is not None else ""
        return f"项目 “{self.project}” 的配音任务{where_zh}", f"the dubbing job of project '{self.project}'{where_en}"

    def to_dict(self, lang: str) -> dict:
        """The job's state as plain values, messages in ``lang``."""
        zh = lang.startswith("zh")
        with self.lock:
            lines = [
                {
                    "number": s.number,
                    "id": s.id,
                    "scene": s.scene,
                    "speaker": s.speaker,
                    "status": s.status,
                    "seconds": s.seconds,
                    "message": (s.message_zh if zh else s.message_en) or None,
                    "check": check_report(s.check, lang),
                }
                for s in self.lines
            ]
            current = next((s for s in self.lines if self.current is not None and s.number == self.current + 1), None)
            counts: dict[str, int] = {}
            for s in self.lines:
                counts[s.status] = counts.get(s.status, 0) + 1
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
                "heard_wrong": [x["number"] for x in lines if x["check"] is not None and not x["check"]["ok"]],
                "warnings": [{"number": n, "message": z if zh else e} for n, z, e in self.warnings],
                "error": self.error.to_dict(lang) if self.error is not None else None,
                "force": self.force,
                "selected_lines": self.lines_spec,
                "created": self.created,
                "started": self.started,
                "finished": self.finished,
                "outputs": list(self.outputs),
                "track": None
                if self.track is None
                else {
                    "seconds": self.track["seconds"],
                    "mode": self.track["mode"],
                    "missing": self.track["missing"],
                    "flagged": [
                        {"number": f["number"], "status": f["status"], "suggestion": f["zh" if zh else "en"]}
                        for f in self.track["flagged"]
                    ],
                },
            }
