"""Space mode: the rules the UI follows when it runs as a Hugging Face Space (many visitors, one process).

Space mode is on with ``python app.py --space`` or when the ``SPACE_ID``
variable (set by Spaces) is present. Then each visitor's voices, uploads and
outputs live in a private folder keyed by their Gradio session
(:class:`SessionStorage`), swept after :attr:`SpaceLimits.session_ttl_s`;
text length is limited (:func:`check_text`); local-only actions are refused
(:func:`check_operator_only`); GPU work is wrapped with ZeroGPU's
``spaces.GPU`` when that package is present (:func:`gpu`).

The Space launcher (:mod:`studio.space`) installs this on the built app; the
UI asks it, and never imports the launcher.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import config
from .errors import InputError, TextError

log = logging.getLogger(__name__)

#: Set by ``--space`` so every module (and the UI) can ask :func:`enabled`.
FLAG_ENV = config.SPACE_ENV
SPACE_PORT = 7860


def is_space(flag: bool = False) -> bool:
    """Whether to run in Space mode: the ``--space`` flag, ``STUDIO_SPACE=1`` or a Space's ``SPACE_ID``."""
    return flag or config.space_mode()


def enabled() -> bool:
    """Whether this process runs in Space mode (for the UI: hide local-only buttons, use session storage)."""
    return is_space()


@dataclass(frozen=True)
class SpaceLimits:
    """What one visitor may ask of a shared Space (each overridable by the variable in brackets)."""

    max_text_chars: int = 500  #: [STUDIO_SPACE_MAX_TEXT] characters of text per generation
    queue_size: int = 16  #: [STUDIO_SPACE_QUEUE] requests waiting; more are told the queue is full
    max_file_size: str = "20mb"  #: largest upload
    session_ttl_s: int = 3 * 3600  #: [STUDIO_SPACE_TTL] a session folder unused this long is removed
    sweep_every_s: int = 600  #: how often old session folders and Gradio's temp files are cleaned
    gpu_seconds: int = 120  #: [STUDIO_SPACE_GPU_SECONDS] ZeroGPU time asked for one generation

    @classmethod
    def from_env(cls) -> SpaceLimits:
        """The limits, with environment overrides applied."""
        return cls(
            max_text_chars=config.integer("STUDIO_SPACE_MAX_TEXT", cls.max_text_chars),
            queue_size=config.integer("STUDIO_SPACE_QUEUE", cls.queue_size),
            session_ttl_s=config.integer("STUDIO_SPACE_TTL", cls.session_ttl_s),
            gpu_seconds=config.integer("STUDIO_SPACE_GPU_SECONDS", cls.gpu_seconds),
        )


def check_text(text: str | None, limits: SpaceLimits | None = None) -> str:
    """Refuse text longer than the Space allows (a no-op outside Space mode); return it."""
    limits = limits or SpaceLimits.from_env()
    text = text or ""
    if enabled() and len(text) > limits.max_text_chars:
        raise TextError(
            zh=f"在线演示每次最多 {limits.max_text_chars} 个字符（现在 {len(text)} 个）。请缩短文本，"
            "或者下载桌面版在自己的电脑上生成长文本。",
            en=f"The online demo takes at most {limits.max_text_chars} characters at a time (this is {len(text)}). "
            "Shorten the text, or use the desktop app for long texts.",
        )
    return text


def check_operator_only(allowed: bool = False) -> None:
    """Refuse, in Space mode, what only the machine's owner may do (name server folders, change settings)."""
    if enabled() and not allowed:
        raise InputError(
            zh="在线演示不能选择服务器上的文件夹，也不能更改它的模型和设置。请从列表里选择模型，或使用桌面版。",
            en="The online demo cannot use folders on its server or change its models and settings. "
            "Pick a model from the list, or use the desktop app.",
        )


# --- ZeroGPU -------------------------------------------------------------------------------------


@functools.cache
def _spaces_module():
    if not is_space():
        return None
    try:
        import spaces  # Hugging Face's ZeroGPU helper; present on Spaces only
    except ImportError:
        return None
    return spaces


def zero_gpu_available() -> bool:
    """Whether the ``spaces`` package (ZeroGPU) is importable in Space mode."""
    return _spaces_module() is not None


def gpu(fn: Callable | None = None, *, seconds: int | None = None) -> Callable:
    """Decorate a function that uses the GPU: ``spaces.GPU`` on a ZeroGPU Space, unchanged elsewhere.

    Usable bare (``@gpu``) or with a time budget (``@gpu(seconds=60)``).
    """

    def wrap(func: Callable) -> Callable:
        spaces = _spaces_module()
        if spaces is None:
            return func
        return spaces.GPU(duration=seconds or SpaceLimits.from_env().gpu_seconds)(func)

    return wrap(fn) if fn is not None else wrap


# --- per-session storage -------------------------------------------------------------------------


def sessions_root() -> Path:
    """Where session folders live: ``STUDIO_SESSIONS_DIR`` or a folder in the system's temp directory."""
    env = config.sessions_dir()
    return Path(env) if env else Path(tempfile.gettempdir()) / "qwen-voice-studio-sessions"


def _session_hash(request: Any) -> str:
    value = request if isinstance(request, str) else getattr(request, "session_hash", None)
    if not value:
        raise InputError(
            zh="无法识别你的会话，请刷新页面后重试。", en="Your session could not be identified; reload the page."
        )
    return str(value)


class SessionStorage:
    """One private folder per visitor session: ``<root>/<hash of the session>/{voices,uploads,outputs}``.

    Folder names are a hash of Gradio's session id, so a visitor cannot name,
    list or reach another visitor's folder; the folders are outside every path
    Gradio serves, so files only leave through the visitor's own requests.
    """

    PARTS = ("voices", "uploads", "outputs")
    STAMP = ".last-used"

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else sessions_root()
        self._guard = threading.Lock()

    def key(self, request: Any) -> str:
        """The folder name of a session (``gr.Request`` or its ``session_hash``)."""
        return hashlib.sha256(_session_hash(request).encode()).hexdigest()[:32]

    def folder(self, request: Any) -> Path:
        """The session's folder, created on first use; marks it as used now."""
        folder = self.root / self.key(request)
        with self._guard:
            for part in self.PARTS:
                (folder / part).mkdir(parents=True, exist_ok=True)
            (folder / self.STAMP).touch()
        return folder

    def voices(self, request: Any):
        """The session's private voice library (:class:`studio.voices.VoiceLibrary`)."""
        from .voices import VoiceLibrary

        return VoiceLibrary(self.folder(request) / "voices")

    def uploads(self, request: Any) -> Path:
        """Where to keep the session's uploads."""
        return self.folder(request) / "uploads"

    def outputs(self, request: Any) -> Path:
        """Where to write the session's generated files."""
        return self.folder(request) / "outputs"

    def forget(self, request: Any) -> bool:
        """Delete a session's folder (on ``demo.unload``); return whether there was one."""
        folder = self.root / self.key(request)
        with self._guard:
            if not folder.exists():
                return False
            shutil.rmtree(folder, ignore_errors=True)
        log.info("removed session folder %s", folder.name)
        return True

    def sweep(self, max_age_s: float) -> int:
        """Remove session folders unused for ``max_age_s`` seconds; return how many."""
        removed, now = 0, time.time()
        if not self.root.is_dir():
            return 0
        for folder in self.root.iterdir():
            stamp = folder / self.STAMP
            with contextlib.suppress(OSError):
                last = stamp.stat().st_mtime if stamp.exists() else folder.stat().st_mtime
                if folder.is_dir() and now - last > max_age_s:
                    with self._guard:
                        shutil.rmtree(folder, ignore_errors=True)
                    removed += 1
        return removed


def start_sweeper(storage: SessionStorage, limits: SpaceLimits) -> threading.Thread:
    """A daemon thread that sweeps old session folders every ``limits.sweep_every_s``."""

    def loop() -> None:
        while True:
            time.sleep(limits.sweep_every_s)
            with contextlib.suppress(Exception):
                if storage.sweep(limits.session_ttl_s):
                    log.info("swept old session folders")

    thread = threading.Thread(target=loop, name="session-sweeper", daemon=True)
    thread.start()
    return thread


#: The process's session storage (created by :func:`install`).
_STORAGE: SessionStorage | None = None


def storage() -> SessionStorage:
    """The session storage of this Space process."""
    global _STORAGE
    if _STORAGE is None:
        _STORAGE = SessionStorage()
    return _STORAGE
