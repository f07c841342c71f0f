"""Shared fixtures: an isolated studio home and tiny random-weight checkpoints.

The checkpoints are built once per test session with qwen-tts' own classes and
loaded through the real ``Qwen3TTSModel.from_pretrained``: their audio is noise,
so tests check shapes, lengths, files, timings and errors, never quality.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # ``import tests.helpers`` under plain ``pytest``

from tests.helpers import voiced_clip

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


@pytest.fixture
def reference_wav(tmp_path) -> Path:
    """A 3 s, 44.1 kHz stereo reference file (exercises resampling and down-mixing)."""
    path = tmp_path / "reference.wav"
    mono = voiced_clip(3.0, 44_100)
    sf.write(path, np.stack([mono, mono * 0.8], axis=1), 44_100)
    return path


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


def _is_build_test(item: pytest.Item) -> bool:
    return item.path.name == "test_build.py"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the frozen-app tests last, so their build can go on in the background meanwhile."""
    items.sort(key=_is_build_test)  # stable: every other test keeps its place


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the desktop build now when frozen-app tests are to run and no build is cached."""
    if not session.config.option.collectonly and any(_is_build_test(item) for item in session.items):
        from tests import frozen_build

        frozen_build.start_in_background()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """End a background build the session stopped before waiting for."""
    if "tests.frozen_build" in sys.modules:
        sys.modules["tests.frozen_build"].stop()
