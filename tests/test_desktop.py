"""The desktop launcher: data folder, logs, one instance, ports, first-run screen, bad input."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from studio import desktop
from studio.errors import CheckpointError, ModelMismatchError, ResourceError, StorageError
from tests.helpers import ROOT, free_port


def test_unwritable_data_folder_gets_a_bilingual_message(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError) as info:
        desktop.check_data_dir(blocker / "home")
    assert "数据文件夹无法写入" in info.value.zh and "not writable" in info.value.en
    assert "STUDIO_HOME" in info.value.zh and str(blocker / "home") in info.value.en


def test_app_py_with_an_unwritable_data_folder_exits_with_the_message(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {**os.environ, "STUDIO_HOME": str(blocker / "home")}
    out = subprocess.run(
        [sys.executable, "app.py", "--no-browser", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert "数据文件夹无法写入" in out.stderr and "not writable" in out.stderr


def test_busy_port_moves_to_the_next_free_one():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert not desktop.port_is_free("127.0.0.1", port)
        chosen = desktop.choose_port("127.0.0.1", port, tries=50)
        assert chosen != port and desktop.port_is_free("127.0.0.1", chosen)
        with pytest.raises(ResourceError) as info:
            desktop.choose_port("127.0.0.1", port, tries=1)
    assert "--port" in info.value.en and "端口" in info.value.zh


def test_logs_go_to_the_data_folder_and_the_button_names_it(studio_home):
    path = desktop.setup_logging()
    import logging

    logging.getLogger("studio.test").warning("hello log")
    assert path == studio_home / "logs" / "studio.log"
    assert "hello log" in path.read_text(encoding="utf-8")
    assert str(studio_home / "logs") in desktop.open_logs_folder("en")
    assert "日志文件夹" in desktop.open_logs_folder("zh")


def test_stale_instance_record_is_ignored_and_removed(studio_home):
    record = studio_home / desktop.INSTANCE_FILE
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record.write_text(json.dumps({"pid": dead.pid, "url": f"http://127.0.0.1:{free_port()}/"}), encoding="utf-8")
    assert desktop.running_instance() is None and not record.exists()
    record.write_text("{broken", encoding="utf-8")
    assert desktop.running_instance() is None


def test_first_run_screen_then_an_existing_folder(studio_home, tiny_base, tiny_custom, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))
    assert desktop.needs_first_run()
    zh, en = desktop.first_run_markdown("zh"), desktop.first_run_markdown("en")
    assert "2.5 GB" in zh and "hf-mirror.com" in zh and str(studio_home / "models") in zh
    assert "2.5 GB" in en and "resumes" in en and "local model folder" in en
    with pytest.raises(ModelMismatchError):
        desktop.use_model_folder(tiny_custom, "0.6b-base")
    assert desktop.needs_first_run()
    assert desktop.use_model_folder(tiny_base, "0.6b-base") == Path(tiny_base)
    assert not desktop.needs_first_run()


def test_a_folder_from_a_different_model_is_refused(studio_home, tmp_path):
    other = tmp_path / "whisper"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"model_type": "whisper"}), encoding="utf-8")
    with pytest.raises(CheckpointError):
        desktop.use_model_folder(other)
    assert not (studio_home / "settings.json").exists()


def _wait_for_instance(home: Path, proc: subprocess.Popen, limit: float = 90.0) -> str:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if proc.poll() is not None:
            pytest.fail(f"the studio exited early:\n{proc.stdout.read()}")
        try:
            url = json.loads((home / desktop.INSTANCE_FILE).read_text(encoding="utf-8"))["url"]
            if httpx.get(url, timeout=1).status_code == 200:
                print(f"desktop app answered HTTP after {time.monotonic() - started:.1f} s")
                return url
        except (OSError, ValueError, KeyError, httpx.HTTPError):
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"the studio did not answer within {limit} s:\n{proc.stdout.read()}")


@pytest.mark.slow
def test_busy_port_then_a_second_launch_finds_the_running_app(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "STUDIO_HOME": str(home)}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        first = subprocess.Popen(
            [sys.executable, "app.py", "--no-browser", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            url = _wait_for_instance(home, first)
            assert f":{port}/" not in url  # moved past the port somebody else holds
            second = subprocess.run(
                [sys.executable, "app.py", "--no-browser", "--port", str(port)],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert second.returncode == 0 and f"already running: {url}" in second.stdout
            assert "serving" in (home / "logs" / "studio.log").read_text(encoding="utf-8")
        finally:
            first.terminate()
            first.wait(timeout=30)
    assert not (home / desktop.INSTANCE_FILE).exists()  # a clean exit removes its record
