"""Helpers shared by the tests: the checkout's root, a speech-like clip, a free port, the app as a user runs it.

Import them from here (``from tests.helpers import voiced_clip``), never from ``conftest`` (pytest loads
conftest itself; importing it again as a module would run its setup twice).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def voiced_clip(seconds: float = 3.0, sr: int = 24_000, seed: int = 0) -> np.ndarray:
    """A voiced, speech-shaped test clip (harmonics with a syllable envelope and a little noise)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    wave = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 4 * t)) * (t > 0.2) * (t < seconds - 0.2)
    clip = 0.3 * wave * envelope / np.max(np.abs(wave)) + 0.003 * rng.standard_normal(t.size)
    return clip.astype(np.float32)


CODEC_FRAME_SAMPLES = 1920  # one 12.5 Hz codec frame at 24 kHz


def read_generated_speech(path) -> np.ndarray:
    """The audio the studio wrote at ``path``, after checking it is what a generation produces.

    A random-weight model may sample its end-of-speech code at any step, and where that happens differs between
    CPUs (AMD, Intel AMX) even with a fixed seed, so the length is only held to at least one codec frame.
    """
    import soundfile as sf

    data, sr = sf.read(path)
    assert sr == 24_000, f"{path}: {sr} Hz, expected 24000"
    assert data.ndim == 1, f"{path}: {data.shape}, expected mono"
    assert len(data) >= CODEC_FRAME_SAMPLES, f"{path}: {len(data)} samples, less than one codec frame"
    assert np.isfinite(data).all() and np.abs(data).max() > 0, f"{path}: silent or not finite"
    return data


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(home: Path, *args: str, env: dict | None = None, timeout: float = 90.0):
    """Run ``python app.py --no-browser --port N *args`` with ``STUDIO_HOME=home`` as a user would; yield its URL.

    Fails the test with the app's output if it does not answer HTTP within ``timeout`` seconds.
    """
    import httpx

    port = free_port()
    full_env = {**os.environ, "STUDIO_HOME": str(home), **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--no-browser", "--port", str(port), *args],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        started = time.monotonic()
        while True:
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() - started > timeout or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"the app did not answer within {timeout:.0f} s:\n{proc.stdout.read()}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
