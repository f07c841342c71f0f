"""The Dubbing tab's view of a project's job: status text, the poll that refreshes it, Stop.

The job itself lives in the dubbing layer (:mod:`studio.dubbing.jobs`), owned
by the project: closing the browser leaves it running, and any page that opens
the project (or the HTTP API) sees and stops the same job.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..dubbing.jobs import DubJob, registry
from ..dubbing.lock import describe_marker, running_elsewhere
from .common import escape_md
from .i18n import t


def _wall(job: DubJob) -> float:
    if not job.started or not job.finished:
        return 0.0
    return (datetime.fromisoformat(job.finished) - datetime.fromisoformat(job.started)).total_seconds()


def job_text(job: DubJob, lang: str) -> str:
    """The job's state in a few lines of Markdown, in ``lang``."""
    zh, en = job.describe()
    name = escape_md(zh if lang == "zh" else en)
    data = job.to_dict(lang)
    if job.status == "queued":
        text = t("dub_job_queued", lang, job=name)
    elif job.status == "running":
        stopping = job.cancel.cancelled
        text = (
            t("dub_job_stopping", lang, job=name)
            if stopping
            else t(
                "dub_job_running", lang, job=name, percent=100 * job.progress, message=escape_md(data["progress_text"])
            )
        )
    elif job.status == "cancelled":
        text = t("dub_job_cancelled", lang, job=name)
    elif job.status == "failed":
        error = job.error.message(lang) if job.error is not None else ""
        text = t("dub_job_failed", lang, job=name, error=escape_md(error))
    else:
        counts = data["counts"]
        text = t(
            "dub_run_done",
            lang,
            generated=counts.get("generated", 0),
            reused=counts.get("reused", 0),
            locked=counts.get("locked", 0),
            failed=counts.get("failed", 0),
            wall=_wall(job),
        )
    notes = [e["message"] for e in data["errors"] if e["message"]] + [w["message"] for w in data["warnings"]]
    if data["track"] is not None:
        notes += [f"#{f['number']}: {f['suggestion']}" for f in data["track"]["flagged"]]
    return text + "".join(f"\n- {escape_md(n)}" for n in notes)


def project_status(folder: Path, lang: str) -> tuple[str, tuple]:
    """The status text of the project in ``folder`` and a key that changes whenever a line finishes."""
    job = registry().latest_for(folder)
    if job is not None:
        data = job.to_dict(lang)
        done = sum(n for s, n in data["counts"].items() if s not in ("pending", "running"))
        return job_text(job, lang), (job.id, job.status, done)
    other = running_elsewhere(folder)
    if other is not None:
        zh, en = describe_marker(other)
        return t("dub_job_elsewhere", lang, where=zh if lang == "zh" else en), ("elsewhere", other.get("line"))
    return "", ()


def stop_project(folder: Path, lang: str) -> str:
    """Stop the project's job (whoever started it: this page, another page, the HTTP API)."""
    jobs = registry()
    job = jobs.active_for(folder)
    if job is not None:
        jobs.cancel(job)
        return job_text(job, lang)
    other = running_elsewhere(folder)
    if other is not None:
        zh, en = describe_marker(other)
        return t("dub_job_elsewhere", lang, where=zh if lang == "zh" else en)
    return t("dub_no_job", lang)
