"""Helpers shared by the dubbing HTTP tests (tests/test_api_jobs.py, tests/test_api_dubbing_edit.py)."""

from __future__ import annotations

import io
import time

import httpx
import numpy as np
import soundfile as sf

from studio.audio import MODEL_SR

FINAL = ("done", "failed", "cancelled")
#: Project settings that keep the tiny models quick: a few steps, raw wav.
QUICK = {"max_new_tokens": 8, "loudness": None, "seed": 5, "format": "wav"}
SRT = """1
00:00:00,500 --> 00:00:01,100
Good morning.

2
00:00:01,500 --> 00:00:02,100
我是小明。

3
00:00:02,500 --> 00:00:03,100
See you soon.
"""


def finished(status: dict) -> bool:
    """Whether a job status says the job has ended."""
    return status["status"] in FINAL


def poll(url: str, job_url: str, until=finished, what: str = "the end of the job", limit_s: float = 600.0) -> dict:
    """GET the job until ``until(status)``; fails if the job ends (or the safety limit passes) before that."""
    deadline = time.monotonic() + limit_s
    while True:
        r = httpx.get(url + job_url, timeout=30)
        assert r.status_code == 200, r.text
        status = r.json()
        if until(status):
            return status
        assert status["status"] not in FINAL, f"the job ended before {what}: {status}"
        assert time.monotonic() < deadline, f"still waiting for {what}: {status}"
        time.sleep(0.05)


def wav(r: httpx.Response) -> np.ndarray:
    """The samples of a 200 answer holding a 24 kHz wav."""
    assert r.status_code == 200, r.text
    samples, sr = sf.read(io.BytesIO(r.content), dtype="float32")
    assert sr == MODEL_SR
    return samples
