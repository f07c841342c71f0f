"""The desktop launcher: data folder checks, log file, one running instance, free port, first-run help.

``app.py`` calls :func:`serve`. What the UI shows about starting (the logs
folder button, the first-run screen) lives in :mod:`studio.startup`, which
both launchers and the UI import; the UI never imports a launcher.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import os
import signal
import socket
import sys
import time
import webbrowser
from pathlib import Path

from . import atomic, config
from .errors import InputError, ResourceError, StudioError
from .paths import models_dir, studio_home
from .startup import (  # noqa: F401  (shared with the UI and the Space launcher; re-exported for callers)
    LOG_FILE,
    check_data_dir,
    first_run_markdown,
    logs_dir,
    needs_first_run,
    open_folder,
    open_logs_folder,
    report_fatal,
    setup_logging,
    use_model_folder,
)

log = logging.getLogger(__name__)

DEFAULT_PORT = 7860
#: How many ports after the preferred one are tried before giving up.
PORT_TRIES = 20
INSTANCE_FILE = "instance.json"
#: Start-up of a first instance may take this long before a second launch stops waiting for it.
STARTUP_WAIT_S = 120.0


# --- one running instance ------------------------------------------------------------------------


def _instance_file() -> Path:
    return studio_home() / INSTANCE_FILE


def _answers(url: str, timeout: float = 3.0) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def running_instance() -> str | None:
    """The URL of a studio already serving this data folder, or None (a stale record is removed)."""
    path = _instance_file()
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        pid, url = int(record["pid"]), str(record["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    import psutil

    if pid != os.getpid() and psutil.pid_exists(pid) and _answers(url):
        return url
    with contextlib.suppress(OSError):
        path.unlink()
    return None


def record_instance(url: str) -> None:
    """Write this process's URL as the running instance of the data folder."""
    path = _instance_file()
    atomic.write_text(path, json.dumps({"pid": os.getpid(), "url": url, "started": time.time()}))


def forget_instance() -> None:
    """Remove the running-instance record if it is this process's."""
    path = _instance_file()
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def _instance_guard():
    """A lock held from "is one running?" until the new instance is recorded (two quick double-clicks)."""
    from filelock import FileLock

    return FileLock(str(studio_home() / "instance.lock"), timeout=STARTUP_WAIT_S)


# --- ports ---------------------------------------------------------------------------------------


def port_is_free(host: str, port: int) -> bool:
    """Whether ``port`` can be bound on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if not sys.platform.startswith("win"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(host: str, preferred: int = DEFAULT_PORT, tries: int = PORT_TRIES) -> int:
    """``preferred`` if free, else the next free port; :class:`ResourceError` when all ``tries`` are taken."""
    for port in range(preferred, min(preferred + tries, 65536)):
        if port_is_free(host, port):
            if port != preferred:
                log.warning("port %d is in use; using %d", preferred, port)
            return port
    last = min(preferred + tries, 65536) - 1
    raise ResourceError(
        zh=f"端口 {preferred}–{last} 都被其他程序占用了。请关闭占用端口的程序，或用 --port 指定另一个端口。",
        en=f"Ports {preferred}-{last} are all in use by other programs. Close them or choose another port with --port.",
        port=preferred,
    )


# --- the launcher --------------------------------------------------------------------------------


def serve(
    host: str = "127.0.0.1",
    port: int | None = None,
    open_browser: bool = True,
    share: bool = False,
    new_instance: bool = False,
) -> int:
    """Start the desktop studio (or focus the one already running); return the exit code."""
    try:
        home = check_data_dir()
        setup_logging(home)
        guard = _instance_guard()
        with guard:
            if not new_instance:
                url = running_instance()
                if url:
                    print(f"Qwen Voice Studio is already running: {url}")
                    log.info("already running at %s; opening it", url)
                    if open_browser:
                        webbrowser.open(url)
                    return 0
            key = required_key(host, share)
            demo = _launch(host, choose_port(host, port or DEFAULT_PORT), open_browser, share, key)
            record_instance(demo.local_url)
    except StudioError as exc:
        report_fatal(exc)
        return 2
    log.info("serving %s (data folder %s)", demo.local_url, home)
    _stop_on_terminate()
    try:
        demo.block_thread()
    finally:
        forget_instance()
    return 0


def _stop_on_terminate() -> None:
    """Treat SIGTERM (a logout, ``kill``) like Ctrl+C, so the server closes and the instance record goes."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError, AttributeError):  # not the main thread, or no SIGTERM here
        signal.signal(signal.SIGTERM, interrupt)


def required_key(host: str, share: bool) -> str | None:
    """The access key the UI needs: None on loopback; beyond it (or with a public link) ``STUDIO_API_KEY``.

    Raises :class:`InputError` when the UI would be reachable from other machines without a key.
    """
    from .api.server import is_loopback

    if is_loopback(host) and not share:
        return None
    key = config.api_key()
    if len(key) < 8:
        raise InputError(
            zh=f"拒绝在 {host} 上开放界面{'（公开链接）' if share else ''}：其他机器能访问它，必须先设置访问密钥："
            "把环境变量 STUDIO_API_KEY 设为至少 8 个字符的密码（登录时用户名任意，密码就是它）。",
            en=f"Refusing to open the UI on {host}{' (public link)' if share else ''}: other machines could reach it, so "
            "an access key is required: set the STUDIO_API_KEY environment variable to a password of at least 8 "
            "characters (log in with any user name and that password).",
            host=host,
        )
    return key


def _launch(host: str, port: int, open_browser: bool, share: bool, key: str | None = None):
    import hmac

    from .api import serve_in_thread
    from .paths import outputs_dir, voices_dir
    from .settings import Settings
    from .ui.app import build_app

    demo = build_app(serve_api=serve_in_thread)
    demo.launch(
        server_name=host,
        server_port=port,
        inbrowser=open_browser,
        share=share,
        max_file_size="200mb",
        # Only the studio's own messages reach a client; other exceptions' text (paths, errno) stays in the log.
        show_error=False,
        # Only generated outputs may be served by path; people's voices, models, logs and settings never.
        allowed_paths=[str(outputs_dir())],
        blocked_paths=[str(voices_dir()), str(models_dir()), str(logs_dir()), str(Settings.path())],
        auth=(lambda _user, password: hmac.compare_digest(password.encode(), key.encode())) if key else None,
        prevent_thread_lock=True,
        quiet=False,
    )
    return demo
