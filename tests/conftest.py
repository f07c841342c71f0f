"""Shared fixtures: an isolated studio home and tiny random-weight checkpoints.

The checkpoints are built once per test session with qwen-tts' own classes and
loaded through the real ``Qwen3TTSModel.from_pretrained``: their audio is noise,
so tests check shapes, lengths, files, timings and errors, never quality.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Never touch the checkout's voices/ or models/ folders, nor the network.
os.environ["STUDIO_HOME"] = tempfile.mkdtemp(prefix="studio-home-")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.pop("STUDIO_MODEL", None)
os.environ.pop("STUDIO_REMOTE_URL", None)  # a developer's remote engine must not take over the tests
os.environ.pop("STUDIO_REMOTE_KEY", None)


@pytest.fixture
def studio_home(tmp_path, monkeypatch) -> Path:
    """A fresh, empty studio home for one test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("STUDIO_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def checkpoints_root(tmp_path_factory) -> Path:
    """The folder holding the session's tiny checkpoints."""
    return tmp_path_factory.mktemp("checkpoints")


def _build(root: Path, kind: str) -> Path:
    from studio.random_checkpoint import build_random_checkpoint

    target = root / f"tiny-{kind}"
    if not (target / "model.safetensors").exists():
        build_random_checkpoint(target, kind, "tiny", seed=0)
    return target


@pytest.fixture(scope="session")
def tiny_base(checkpoints_root) -> Path:
    """A tiny Base (voice clone) checkpoint."""
    return _build(checkpoints_root, "base")


@pytest.fixture(scope="session")
def tiny_custom(checkpoints_root) -> Path:
    """A tiny CustomVoice checkpoint that takes instructions (1.7B config)."""
    return _build(checkpoints_root, "custom_voice")


@pytest.fixture(scope="session")
def tiny_asr(checkpoints_root) -> Path:
    """A tiny random-weight Whisper in faster-whisper's layout (its transcripts are noise)."""
    from studio.random_recogniser import build_random_recogniser

    return build_random_recogniser(checkpoints_root / "asr")


@pytest.fixture(scope="session")
def tiny_design(checkpoints_root) -> Path:
    """A tiny VoiceDesign checkpoint."""
    return _build(checkpoints_root, "voice_design")


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models gain nothing from threads, and on a busy machine their synchronisation dominates.

    Modules that time or compare tiny-model runs use it: ``pytest.mark.usefixtures("one_thread")``.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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


@pytest.fixture
def reference_wav(tmp_path) -> Path:
    """A 3 s, 44.1 kHz stereo reference file (exercises resampling and down-mixing)."""
    path = tmp_path / "reference.wav"
    mono = voiced_clip(3.0, 44_100)
    sf.write(path, np.stack([mono, mono * 0.8], axis=1), 44_100)
    return path


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


@pytest.fixture(scope="session")
def video(tmp_path_factory) -> Path:
    """Two seconds of test picture with a 440 Hz tone, made offline by ffmpeg (imageio-ffmpeg's binary)."""
    import imageio_ffmpeg

    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x64:rate=10:duration=2",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=2",
            "-shortest",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
        timeout=120,
    )
    return path
