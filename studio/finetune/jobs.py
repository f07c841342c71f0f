"""Training jobs in the background, for the HTTP API and the UI: start, status, cancel, resume.

One training runs at a time (it takes the whole device). A job's state is its
request and the run folder ``OUT/training``; :meth:`TrainingJobs.resume`
starts the same request again, and :func:`~studio.finetune.job.run_finetune`
picks up where the cancelled (or crashed) run stopped. Data folders and output
folders are the caller's to confine: the HTTP API only hands in folders it
made itself (:func:`dataset_dir`, :func:`output_dir`).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Cancelled, ConflictError, NotFoundError, StudioError
from ..progress import CancelToken
from .job import FinetuneRequest, run_finetune

EPOCHS_FILE = "epochs.json"
_STEP = re.compile(r"epoch (\d+)/(\d+)\s+step (\d+)/(\d+)\s+loss ([\d.]+)\s+ETA ([\d:]+)")
_ID = re.compile(r"^[0-9a-f]{12}$")


def _seconds(clock: str) -> int:
    total = 0
    for part in clock.split(":"):
        total = total * 60 + int(part)
    return total


@dataclass
class TrainingJob:
    """One training job and where it stands."""

    id: str
    request: FinetuneRequest
    state: str = "queued"  #: queued | running | done | failed | cancelled
    fraction: float = 0.0
    message: str = ""
    step: int = 0
    steps: int = 0
    epoch: int = 0
    epochs: int = 0
    loss: float | None = None
    eta_s: int | None = None
    error: dict | None = None
    speaker: str = ""
    started: float = field(default_factory=time.time)
    cancel: CancelToken = field(default_factory=CancelToken)
    thread: threading.Thread | None = None

    def progress(self, fraction: float | None, message) -> None:
        """The job's :data:`~studio.progress.ProgressFn`: keeps step, epoch, loss and ETA."""
        text = str(message)
        self.message = text
        if fraction is not None:
            self.fraction = float(fraction)
        match = _STEP.search(text)
        if match:
            self.epoch, self.epochs, self.step, self.steps = (int(match.group(i)) for i in range(1, 5))
            self.loss, self.eta_s = float(match.group(5)), _seconds(match.group(6))

    def report(self) -> list[dict]:
        """The per-epoch records so far (loss, accuracies, evaluation, A/B files)."""
        path = Path(self.request.out) / "training" / EPOCHS_FILE
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []

    def snapshot(self, lang: str = "en") -> dict:
        """What a status request answers."""
        return {
            "id": self.id,
            "name": self.request.name,
            "state": self.state,
            "fraction": round(self.fraction, 4),
            "message": self.message,
            "step": self.step,
            "steps": self.steps,
            "epoch": self.epoch,
            "epochs": self.epochs or self.request.options.epochs,
            "loss": self.loss,
            "eta_s": self.eta_s,
            "report": self.report(),
            "speaker": self.speaker,
            "error": self.error,
        }


class TrainingJobs:
    """The training jobs of one server or UI; one runs at a time."""

    def __init__(self, library=None, runner=run_finetune) -> None:
        self.library = library
        self._runner = runner
        self._jobs: dict[str, TrainingJob] = {}
        self._lock = threading.Lock()

    def _busy(self) -> TrainingJob | None:
        return next((j for j in self._jobs.values() if j.state in ("queued", "running")), None)

    def start(self, request: FinetuneRequest) -> TrainingJob:
        """Start ``request`` in the background; :class:`BusyError` while another training runs."""
        with self._lock:
            running = self._busy()
            if running is not None:
                raise ConflictError(
                    zh=f"已有一个训练任务（{running.request.name}）在进行，请等它结束或取消它。",
                    en=f"A training job ({running.request.name}) is already running; wait for it or cancel it.",
                )
            job = TrainingJob(uuid.uuid4().hex[:12], request)
            self._jobs[job.id] = job
            self._launch(job)
            return job

    def _launch(self, job: TrainingJob) -> None:
        job.state, job.error = "running", None
        job.cancel.reset()
        job.thread = threading.Thread(target=self._run, args=(job,), name=f"finetune-{job.id}", daemon=True)
        job.thread.start()

    def _run(self, job: TrainingJob) -> None:
        try:
            result = self._runner(job.request, job.progress, job.cancel, library=self.library)
        except Cancelled:
            job.state = "cancelled"
        except StudioError as exc:
            job.state, job.error = "failed", {"code": exc.code, "zh": exc.message("zh"), "en": exc.message("en")}
        except Exception as exc:
            job.state = "failed"
            job.error = {"code": "internal", "zh": f"训练出错：{exc}", "en": f"Training failed: {exc}"}
        else:
            job.state, job.fraction, job.speaker = "done", 1.0, result.speaker

    def get(self, job_id: str) -> TrainingJob:
        """The job ``job_id``, or :class:`NotFoundError`."""
        job = self._jobs.get(job_id) if _ID.match(job_id or "") else None
        if job is None:
            raise NotFoundError(zh=f"没有训练任务 {job_id}。", en=f"No training job {job_id}.")
        return job

    def cancel(self, job_id: str) -> TrainingJob:
        """Ask the job to stop after its current step (its state is kept for a resume)."""
        job = self.get(job_id)
        job.cancel.cancel()
        return job

    def resume(self, job_id: str) -> TrainingJob:
        """Start a cancelled or failed job again from its last saved step."""
        with self._lock:
            job = self.get(job_id)
            if job.state not in ("cancelled", "failed"):
                raise ConflictError(
                    zh=f"训练任务 {job_id} 现在是“{job.state}”，只有取消或失败的任务可以继续。",
                    en=f"Training job {job_id} is {job.state}; only a cancelled or failed job can be resumed.",
                )
            running = self._busy()
            if running is not None:
                raise ConflictError(
                    zh=f"已有一个训练任务（{running.request.name}）在进行。",
                    en=f"A training job ({running.request.name}) is already running.",
                )
            self._launch(job)
            return job

    def wait(self, job_id: str, timeout: float | None = None) -> TrainingJob:
        """Block until the job's thread ends (tests, the CLI)."""
        job = self.get(job_id)
        if job.thread is not None:
            job.thread.join(timeout)
        return job

    def close(self) -> None:
        """Cancel a running job (its state is saved at the next step)."""
        for job in self._jobs.values():
            job.cancel.cancel()
