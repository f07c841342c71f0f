"""Re-dub jobs (:mod:`studio.redub_jobs`): in the background, one per project, cancelled, resumed after a crash.

The tiny random Whisper's words are noise: the tests check states, files and the work each run does.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from studio import recogniser, redub
from studio.dubbing.project import Project
from studio.errors import Cancelled, ConflictError, InputError
from studio.progress import CancelToken
from studio.redub_job_file import JOB_FILE, RedubOptions, place_video, read_job, write_job
from studio.redub_jobs import FINAL, RedubRegistry


class CancelAfter(CancelToken):
    """Cancels at the n-th check (one check per recognised sentence)."""

    def __init__(self, n):
        super().__init__()
        self.left = n

    def check(self):
        self.left -= 1
        if self.left <= 0:
            self.cancel()
        super().check()


def wait(job, limit_s=300.0):
    """The job once it has ended (the limit only keeps a broken run from hanging the suite)."""
    deadline = time.monotonic() + limit_s
    while job.status not in FINAL:
        assert time.monotonic() < deadline, job.snapshot()
        time.sleep(0.02)
    return job


@pytest.fixture
def gate(monkeypatch):
    """Transcription waits until the test opens the gate (``gate.set()``); ``gate.started`` says it is waiting."""
    opened, started = threading.Event(), threading.Event()
    original = recogniser.Recogniser.transcribe

    def gated(self, audio, *args, **kwargs):
        started.set()
        assert opened.wait(120), "the test never opened the gate"
        kwargs["cancel"].check()
        return original(self, audio, *args, **kwargs)

    monkeypatch.setattr(recogniser.Recogniser, "transcribe", gated)
    opened.started = started
    yield opened
    opened.set()


def counted_embedder(made):
    """What the Dubbing tab passes (the engine's Base model encoder, built only when asked), counted in ``made``."""
    import numpy as np

    def embedder():
        made.append(True)
        return lambda samples: np.ones(16, dtype=np.float32)

    return embedder


def options(tiny_asr, **more):
    return RedubOptions(language="zh", asr_model=str(tiny_asr), vad=False, **more)


def test_a_job_runs_in_the_background_and_a_second_one_on_the_project_is_refused(tmp_path, video, tiny_asr, gate):
    jobs = RedubRegistry()
    folder = tmp_path / "dubbing" / "talk"
    made = []
    job = jobs.submit(folder, video, options(tiny_asr), embedder=counted_embedder(made))
    assert gate.started.wait(120)
    assert job.status == "running" and jobs.active_for(folder) is job  # submit returned while the job works
    record = json.loads((folder / "redub" / JOB_FILE).read_text(encoding="utf-8"))
    assert record["options"]["language"] == "zh" and record["video"] == video.name
    assert (folder / "redub" / "input" / video.name).stat().st_size == video.stat().st_size
    with pytest.raises(ConflictError, match="talk") as refused:
        jobs.submit(folder, video, options(tiny_asr))
    assert refused.value.details["job"] == job.id
    gate.set()
    wait(job)
    status = job.snapshot("en")
    assert status["status"] == "done" and status["progress"] == 1.0 and status["created"], status
    project = Project.load(folder)
    assert status["lines"] == len(project.lines) > 0 and all(line.timed for line in project.lines)
    assert not (folder / "redub" / JOB_FILE).exists() and jobs.latest_for(folder) is job
    assert jobs.active_for(folder) is None and not made  # no speakers asked: no model loaded for them


def test_a_cancelled_job_is_resumed_and_finishes(tmp_path, video, tiny_asr, gate):
    jobs = RedubRegistry()
    folder = tmp_path / "stopped"
    job = jobs.submit(folder, video, options(tiny_asr))
    assert gate.started.wait(120)
    jobs.cancel(job)
    gate.set()
    assert wait(job).status == "cancelled"
    left = read_job(folder)
    assert left is not None and left["stopped"] and not (folder / "project.json").exists()
    assert jobs.resume(folder, stopped=False) is None  # what a page does by itself: a Stop is not undone
    again = jobs.resume(folder)
    assert again is not None and again.resumed and again.options.language == "zh"
    assert wait(again).status == "done", again.snapshot()
    assert Project.load(folder).lines and read_job(folder) is None


def test_a_run_a_crash_interrupted_is_resumed_from_its_cached_stages(tmp_path, video, tiny_asr, monkeypatch):
    folder = tmp_path / "crashed"
    # What a crash leaves: the job's record and video, and the sentences heard before it.
    copy = place_video(folder, video, "talk.mp4", "copy")
    with pytest.raises(Cancelled):
        redub.create_project(copy, folder, "zh", model=str(tiny_asr), vad=False, cancel=CancelAfter(2))
    kept = json.loads((folder / "redub" / "transcript.partial.json").read_text(encoding="utf-8"))
    heard_before = kept["transcript"]["segments"][-1]["end"]
    write_job(folder, "0123456789ab", copy, options(tiny_asr), levels=1)

    heard = []
    original = recogniser.Recogniser.transcribe

    def spy(self, audio, *args, **kwargs):
        heard.append(len(audio) / recogniser.SAMPLE_RATE)
        return original(self, audio, *args, **kwargs)

    monkeypatch.setattr(recogniser.Recogniser, "transcribe", spy)
    jobs = RedubRegistry()  # a new process: no job in memory
    job = jobs.resume(folder, stopped=False)
    assert job is not None and job.resumed
    assert wait(job).status == "done", job.snapshot()
    assert heard and heard[0] == pytest.approx(job_duration(folder) - heard_before, abs=0.01)
    assert Project.load(folder).name == "talk" and read_job(folder) is None
    assert jobs.resume(folder) is None  # nothing left


def job_duration(folder):
    return json.loads((folder / "redub" / "transcript.json").read_text(encoding="utf-8"))["transcript"]["duration"]


def test_refusals_write_nothing_and_a_refused_run_removes_what_it_wrote(tmp_path, video, tiny_asr):
    jobs = RedubRegistry()
    folder = tmp_path / "new" / "project"
    with pytest.raises(InputError, match="--consent"):
        jobs.submit(folder, video, options(tiny_asr, clone_voice="me"))
    with pytest.raises(InputError, match="either"):
        jobs.submit(folder, video, options(tiny_asr, clone_voice="me", consent=True, voice="design:calm"))
    with pytest.raises(InputError, match="Klingon"):
        jobs.submit(folder, video, RedubOptions(language="Klingon"))
    assert not (tmp_path / "new").exists()
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"not a video" * 100)
    job = wait(jobs.submit(folder, corrupt, options(tiny_asr)))
    assert job.status == "failed" and "cannot be read" in job.error.message("en")
    assert not (tmp_path / "new").exists()  # the folders the job made went with the refusal


def test_a_tampered_record_is_not_resumed(tmp_path, video, tiny_asr):
    folder = tmp_path / "tampered"
    copy = place_video(folder, video, "talk.mp4", "copy")
    write_job(folder, "0123456789ab", copy, options(tiny_asr), levels=1)
    path = folder / "redub" / JOB_FILE
    good = json.loads(path.read_text(encoding="utf-8"))
    for bad in (
        {**good, "video": "../../etc/passwd"},
        {**good, "levels": 10_000},
        {**good, "options": {**good["options"], "clone_voice": "x", "consent": False}},
        {**good, "options": {**good["options"], "language": "x" * 10_000}},
    ):
        path.write_text(json.dumps(bad), encoding="utf-8")
        assert read_job(folder) is None and RedubRegistry().resume(folder) is None


def test_speakers_are_labelled_with_the_embedder_the_caller_gives(tmp_path, video, tiny_asr):
    made = []
    embedder = counted_embedder(made)
    jobs = RedubRegistry()
    job = wait(jobs.submit(tmp_path / "cast", video, options(tiny_asr, speakers=True), embedder=embedder))
    assert job.status == "done" and made == [True], job.snapshot()
    lines = Project.load(tmp_path / "cast").lines
    assert lines and all(line.speaker == "S1" for line in lines)
