"""What the launchers and the UI share about starting the studio: the data folder check, the log file, a
fatal start error, the "Open logs folder" button and the first-run guide.

The desktop launcher (:mod:`studio.desktop`) and the Space launcher (:mod:`studio.space`) call these before
building the UI; the UI (:mod:`studio.ui.app`) shows the logs button and the first-run screen. Neither
side imports the other.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import subprocess
import sys
from pathlib import Path

from . import config
from .errors import StorageError, StudioError
from .paths import is_frozen, models_dir, studio_home

log = logging.getLogger(__name__)

LOG_FILE = "studio.log"


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
