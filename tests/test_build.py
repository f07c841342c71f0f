"""The frozen Linux desktop build: built by PyInstaller from build/, then run as a user runs it.

The build is cached and, when missing, built in the background while the rest of the suite
runs (``tests/frozen_build.py``); these tests run last.
"""

import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests import frozen_build
from tests.cli_commands import command_paths
from tests.helpers import free_port, read_generated_speech

desktop_build = frozen_build.desktop_build

pytestmark = pytest.mark.slow
#: The frozen app must answer HTTP within this long (a cold start on a loaded 2-core machine takes ~10-20 s).
START_LIMIT_S = 120


@pytest.fixture(scope="session")
def frozen_app() -> Path:
    """The built app folder for the current cache key (built if missing), with fresh studio sources."""
    return frozen_build.ready()


def _run(app_dir: Path, *args: str, home: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    started = time.monotonic()
    out = subprocess.run(
        [str(desktop_build.executable(app_dir)), *args],
        env={**os.environ, "STUDIO_HOME": str(home), "STUDIO_LANG": "en", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=home,
    )
    print(f"frozen `{' '.join(args[:1])}`: {time.monotonic() - started:.1f} s")
    return out


def test_frozen_help_names_the_ui_options_and_the_commands(frozen_app, tmp_path):
    out = _run(frozen_app, "--help", home=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "--no-browser" in out.stdout and "doctor" in out.stdout and "clone" in out.stdout


def test_frozen_build_runs_every_command(frozen_app, tmp_path):
    # Each command and sub-command of `python -m studio` (listed from its table) through the frozen program.
    failed = []
    for path in command_paths():
        out = _run(frozen_app, *path, "--help", home=tmp_path, timeout=120)
        if out.returncode != 0 or f" {' '.join(path)} [-h]" not in out.stdout:
            failed.append(f"{' '.join(path)}: exit {out.returncode}: {out.stderr[-500:]}")
    assert not failed, "\n".join(failed)


def test_frozen_doctor_imports_torch_and_qwen_tts(frozen_app, tmp_path):
    out = _run(frozen_app, "doctor", home=tmp_path)
    rows = {line.split()[1]: line for line in out.stdout.splitlines() if line[:3] in ("ok ", "BAD")}
    assert rows["torch"].startswith("ok ") and rows["qwen-tts"].startswith("ok "), out.stdout + out.stderr
    assert str(tmp_path) in rows["data"]


def test_frozen_data_goes_to_the_user_data_folder_not_the_app_folder(frozen_app, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "STUDIO_HOME"}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    out = subprocess.run(
        [str(desktop_build.executable(frozen_app)), "models", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    paths = [row["path"] for row in json.loads(out.stdout)]
    assert all(p.startswith(str(tmp_path / "xdg" / "QwenVoiceStudio")) for p in paths)
    assert not any(p.startswith(str(frozen_app)) for p in paths)


def test_frozen_clone_with_a_test_checkpoint(frozen_app, tmp_path, tiny_base, reference_wav):
    out_wav = tmp_path / "take.wav"
    out = _run(
        frozen_app,
        "clone",
        "--text",
        "你好，世界。",
        "--voice-audio",
        str(reference_wav),
        "--voice-text",
        "参考文字。",
        "--model",
        str(tiny_base),
        "--seed",
        "3",
        "--out",
        str(out_wav),
        home=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    read_generated_speech(out_wav)


def test_frozen_app_serves_the_ui_and_a_second_launch_finds_it(frozen_app, tmp_path):
    gui = desktop_build.executable(frozen_app, desktop_build.APP_NAME)
    env = {**os.environ, "STUDIO_HOME": str(tmp_path)}
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(gui), "--no-browser", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = None
        while time.monotonic() - started < START_LIMIT_S and proc.poll() is None:
            try:
                url = json.loads((tmp_path / "instance.json").read_text(encoding="utf-8"))["url"]
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except (OSError, ValueError, KeyError, httpx.HTTPError):
                time.sleep(0.3)
        else:
            proc.kill()
            pytest.fail(f"the frozen app did not answer within {START_LIMIT_S} s:\n{proc.stdout.read()}")
        print(f"frozen app answered HTTP after {time.monotonic() - started:.1f} s")
        assert "Qwen Voice Studio" in httpx.get(url, timeout=10).text
        second = subprocess.run(
            [str(gui), "--no-browser"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 0 and f"already running: {url}" in second.stdout
        assert (tmp_path / "logs" / "studio.log").is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
