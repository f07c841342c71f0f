"""The desktop launcher: data folder checks, log file, one running instance, free port, first-run help.

``app.py`` calls :func:`serve`. Everything here is also usable from the UI:
:func:`open_logs_folder` behind an "Open logs folder" button and
:func:`first_run_markdown` / :func:`needs_first_run` for the first-run screen.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import os
import signal
import socket
import subprocess
import sys
import time
import webbrowser
from pathlib import Path

from . import atomic, config
from .errors import InputError, ResourceError, StorageError, StudioError
from .paths import is_frozen, models_dir, studio_home

log = logging.getLogger(__name__)

DEFAULT_PORT = 7860
#: How many ports after the preferred one are tried before giving up.
PORT_TRIES = 20
LOG_FILE = "studio.log"
INSTANCE_FILE = "instance.json"
#: Start-up of a first instance may take this long before a second launch stops waiting for it.
STARTUP_WAIT_S = 120.0


def logs_dir() -> Path:
    """The folder holding the log files."""
    return studio_home() / "logs"


def check_data_dir(home: Path | None = None) -> Path:
    """Create the data folder if needed and prove it is writable; raise :class:`StorageError` if not."""
    home = home or studio_home()
    probe = home / f".write-test-{os.getpid()}"
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise StorageError(
            zh=f"数据文件夹无法写入：{home}（{exc.strerror or exc}）。请检查该文件夹的权限和剩余空间，"
            "或者设置环境变量 STUDIO_HOME 指向一个可写的文件夹后重新启动。",
            en=f"The data folder is not writable: {home} ({exc.strerror or exc}). Check its permissions and free "
            "space, or set the STUDIO_HOME environment variable to a writable folder and start again.",
            path=str(home),
        ) from exc
    return home


def setup_logging(home: Path | None = None) -> Path:
    """Send the studio's log (and, in a windowed build, stdout/stderr) to ``<data>/logs/studio.log``."""
    folder = (home or studio_home()) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILE
    root = logging.getLogger()
    if not any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(min(root.level or logging.INFO, logging.INFO))
    if sys.stdout is None or sys.stderr is None:  # windowed build: no console to print to
        stream = open(path.with_name("console.log"), "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        sys.stdout = sys.stdout or stream
        sys.stderr = sys.stderr or stream
    previous = sys.excepthook

    def log_uncaught(kind, value, traceback):
        logging.getLogger("studio").critical("uncaught exception", exc_info=(kind, value, traceback))
        previous(kind, value, traceback)

    sys.excepthook = log_uncaught
    return path


def open_folder(path: Path) -> bool:
    """Show ``path`` in the system's file manager; False when there is none (a server, a container)."""
    try:
        if sys.platform.startswith("win"):
            os.startfile(str(path))  # type: ignore[attr-defined]
        else:
            opener = "open" if sys.platform == "darwin" else "xdg-open"
            subprocess.Popen([opener, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return False
    return True


def open_logs_folder(lang: str = "zh") -> str:
    """The "Open logs folder" button: open the folder and return a line (with its path) to show."""
    folder = logs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    opened = open_folder(folder)
    if lang == "zh":
        return f"日志文件夹：`{folder}`" + ("" if opened else "（无法自动打开，请手动前往）")
    return f"Logs folder: `{folder}`" + ("" if opened else " (could not open it here; open it by hand)")


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


# --- first run -----------------------------------------------------------------------------------


def needs_first_run() -> bool:
    """True while no usable checkpoint is known: not downloaded, not in the HF cache, no local folder set."""
    from . import checkpoints
    from .registry import MODELS
    from .settings import Settings

    if config.model() or Settings.load().local_models:
        return False
    return all(checkpoints.locate(spec) is None for spec in MODELS)


def first_run_markdown(lang: str = "zh", model_id: str = "0.6b-base") -> str:
    """The first-run screen: what will be downloaded, how big, where to, the mirror and local-folder options."""
    import shutil

    from .registry import get_spec
    from .settings import Settings

    spec = get_spec(model_id)
    target = models_dir()
    probe = next((p for p in (target, *target.parents) if p.exists()), Path.home())
    free_gb = shutil.disk_usage(probe).free / 1e9
    endpoint = Settings.load().endpoint or os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    if lang == "zh":
        return (
            "### 第一次使用：需要下载模型\n"
            f"生成语音前需要下载 **{spec.id}**（{spec.repo_id}），约 **{spec.download_gb:.1f} GB**，"
            f"运行时约需 {spec.memory_gb:.0f} GB 内存/显存。\n\n"
            f"- 保存位置：`{target / spec.id}`（剩余 {free_gb:.0f} GB；升级应用不会删除它）\n"
            f"- 下载来源：`{endpoint}`。在中国大陆可在“模型”页把镜像设为 `https://hf-mirror.com`\n"
            "- 下载可以中断，下次会从断点继续，每个文件下载后都会校验\n"
            "- 已经有模型文件夹？在“模型”页填入“本地模型文件夹”，无需下载"
        )
    return (
        "### First run: a model download is needed\n"
        f"Before generating, the studio downloads **{spec.id}** ({spec.repo_id}), about "
        f"**{spec.download_gb:.1f} GB**; it needs about {spec.memory_gb:.0f} GB of memory to run.\n\n"
        f"- Saved to: `{target / spec.id}` ({free_gb:.0f} GB free; app updates never delete it)\n"
        f"- Downloaded from: `{endpoint}`. In mainland China set the mirror to `https://hf-mirror.com` on the "
        "Models tab\n"
        "- An interrupted download resumes where it stopped; every file is checked after download\n"
        "- Already have a checkpoint folder? Enter it as the local model folder on the Models tab: no download"
    )


def use_model_folder(path: str | Path, model_id: str = "0.6b-base") -> Path:
    """Point the studio at an existing checkpoint folder for ``model_id`` (checked: right model, right kind)."""
    from .checkpoints import validate_checkpoint
    from .models import ModelManager
    from .registry import get_spec
    from .settings import Settings

    info = validate_checkpoint(str(path).strip())
    ModelManager.check_kind(info, get_spec(model_id).kind)
    settings = Settings.load()
    settings.local_models[model_id] = str(info.path.resolve())
    settings.save()
    return info.path


# --- the launcher --------------------------------------------------------------------------------


def report_fatal(error: StudioError) -> None:
    """Tell the user why the studio cannot start: log, stderr, and a message box in a windowed Windows build."""
    text = f"{error.zh}\n\n{error.en}"
    log.error("cannot start: %s", error.en)
    if sys.stderr is not None:
        print(text, file=sys.stderr)
    if is_frozen() and sys.platform.startswith("win"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.windll.user32.MessageBoxW(None, text, "Qwen Voice Studio", 0x10)  # type: ignore[attr-defined]


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

    from .paths import outputs_dir, voices_dir
    from .settings import Settings
    from .ui.app import build_app

    demo = build_app()
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
