"""The desktop build the frozen-app tests run, cached and built in the background.

A fresh PyInstaller build takes ~4-6 min on 2 cores. When the session collects
``tests/test_build.py`` and no build for the current cache key exists,
``start_in_background`` starts it at once, at idle CPU priority, so it fills the
gaps the other tests leave; those tests run last and ``ready`` waits for it.
The built folder is cached under ``build/work/test-cache/<key>``, where the key
hashes the spec, build.py, app.py, requirements.txt, the installed versions of
the bundled packages and the set of modules the studio imports
(``build.cache_key``). The studio's own sources are bundled as plain files and
refreshed from the checkout, so an ordinary code change reuses the cached build.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from filelock import FileLock, Timeout

from tests.helpers import ROOT


def _load_build_script():
    """build/build.py as a module (loaded by path: ``build`` is also the name of a PyPA package)."""
    spec = importlib.util.spec_from_file_location("studio_build_script", ROOT / "build" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


desktop_build = _load_build_script()
CACHE = ROOT / "build" / "work" / "test-cache"
WORK = ROOT / "build" / "work" / "test-work"
#: Held while this process builds, so two test runs at once build once.
_lock = FileLock(str(CACHE / "build.lock"), timeout=1800)
_background: dict[str, object] = {}


def _app_dir(key: str) -> Path:
    return CACHE / key / desktop_build.APP_NAME


def _idle_priority() -> None:
    """Run the build only on CPU time the tests leave (their timings stay as without it)."""
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    else:
        os.nice(19)


def _clear_stale() -> None:
    for stale in CACHE.iterdir():
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)


def start_in_background() -> bool:
    """Start building if no build for the current key exists and no other run is building; say if it started."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = desktop_build.cache_key()
    try:
        _lock.acquire(timeout=0)
    except Timeout:
        return False  # another run is building: ``ready`` waits for its lock
    if desktop_build.executable(_app_dir(key)).exists():
        _lock.release()
        return False
    _clear_stale()
    cmd, env = desktop_build.pyinstaller_command(CACHE / f"{key}.building", WORK)
    log = open(CACHE / f"{key}.log", "w", encoding="utf-8")  # noqa: SIM115 -- closed in ``_end_background``
    process = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_idle_priority,
        start_new_session=True,  # so ``stop`` ends PyInstaller's own child processes too
    )
    _background.update(key=key, process=process, log=log, started=time.monotonic())
    return True


def _end_background(keep: bool) -> None:
    """Wait for the background build and cache it (``keep``), or kill it and drop it; release the lock either way."""
    key, process, log = _background["key"], _background["process"], _background["log"]
    staging = CACHE / f"{key}.building"
    try:
        if not keep:
            os.killpg(process.pid, signal.SIGKILL)
        code = process.wait()
        log.close()
        if not keep:
            shutil.rmtree(staging, ignore_errors=True)
        elif code != 0:
            tail = (CACHE / f"{key}.log").read_text(encoding="utf-8", errors="replace")[-4000:]
            raise RuntimeError(f"PyInstaller failed (exit {code}):\n{tail}")
        else:
            _install(key, staging, _background["started"])
    finally:
        _background.clear()
        _lock.release()


def _install(key: str, staging: Path, started: float) -> None:
    app_dir = _app_dir(key)
    app_dir.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging / desktop_build.APP_NAME, app_dir)
    shutil.rmtree(staging, ignore_errors=True)
    size = desktop_build.folder_bytes(app_dir) / 1e6
    print(f"\nPyInstaller build: {time.monotonic() - started:.0f} s, {size:.0f} MB")


def ready() -> Path:
    """The built app folder for the current cache key (built now if missing), with fresh studio sources."""
    if _background:
        _end_background(keep=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    key = desktop_build.cache_key()
    with _lock:
        if not desktop_build.executable(_app_dir(key)).exists():
            _clear_stale()
            started = time.monotonic()
            desktop_build.run_pyinstaller(CACHE / f"{key}.building", WORK)
            _install(key, CACHE / f"{key}.building", started)
        desktop_build.refresh_sources(_app_dir(key))
    return _app_dir(key)


def stop() -> None:
    """End a background build the session no longer waits for (tests stopped early); nothing is cached."""
    if _background:
        _end_background(keep=False)
