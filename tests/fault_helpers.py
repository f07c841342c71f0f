"""Helpers for tests/test_faults.py: child processes to kill mid-way, RSS and temp-file counts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Names the studio gives what it puts in the system temp folder (API uploads, UI exports, Space sessions).
TEMP_PREFIXES = ("studio-api-uploads-", "take-", "voice-export-", "qwen-voice-studio-")

#: Saves voices ``v000``, ``v001``, ... through the real CLI entry point, one line of output per saved voice.
SAVE_VOICES = """
import sys
import studio.cli
audio = sys.argv[1]
for i in range(1000):
    code = studio.cli.main(["voices", "add", f"v{i:03d}", "--audio", audio, "--transcript", "测试。", "--consent"])
    print(f"SAVED {i} {code}", flush=True)
"""

#: Downloads a registry model from the endpoint in argv[2], slowed per chunk so it can be killed mid-file.
DOWNLOAD = """
import sys, time
from studio import checkpoints
from studio.registry import get_spec

def progress(fraction, message):
    if fraction is not None:
        print(f"FRACTION {fraction:.4f}", flush=True)
        time.sleep(0.03)

checkpoints.download(get_spec(sys.argv[1]), endpoint=sys.argv[2], progress=progress)
print("DONE", flush=True)
"""


def child_env(home: Path) -> dict[str, str]:
    """The environment of a child studio process using ``home``."""
    env = {**os.environ, "STUDIO_HOME": str(home), "STUDIO_LANG": "en", "PYTHONPATH": str(ROOT)}
    env.pop("STUDIO_MODEL", None)
    return env


def start(args: list[str], home: Path) -> subprocess.Popen:
    """Start ``python *args`` in the checkout with ``STUDIO_HOME=home``; stdout piped, stderr merged."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=child_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def kill_when(proc: subprocess.Popen, ready: Callable[[list[str]], bool], timeout: float = 120.0) -> list[str]:
    """Read ``proc``'s output until ``ready(lines)`` (or a poll says so), then SIGKILL it; return the lines.

    Fails (AssertionError with the output) if the process ends or ``timeout`` passes first.
    """
    lines: list[str] = []
    done = threading.Event()

    def pump() -> None:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
        done.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        while not ready(list(lines)):
            if done.is_set() or proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the child ended or stalled before the kill point:\n" + "\n".join(lines[-40:]))
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, lines[-20:])
    return lines


def studio_temp_entries() -> set[str]:
    """The studio's entries in the system temp folder."""
    root = Path(tempfile.gettempdir())
    return {p.name for p in root.iterdir() if p.name.startswith(TEMP_PREFIXES)}


def rss_bytes() -> int:
    """This process's resident set size."""
    import psutil

    return psutil.Process().memory_info().rss
