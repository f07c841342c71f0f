"""The model manager: resolves, downloads, loads and unloads checkpoints.

One model is resident at a time by default; switching unloads the previous
one and frees its memory. Every load, unload and generation goes through
:attr:`ModelManager.lock`, so the UI, the CLI and the HTTP API never run two
generations on one model at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import adapters, checkpoints, config
from .checkpoints import CheckpointInfo
from .device import Capabilities, Placement, choose_placement, probe
from .errors import CheckpointError, ModelMismatchError, ResourceError
from .paths import models_dir
from .progress import Activity, CancelToken, ProgressFn, Status, current_activity, no_progress
from .registry import DEFAULT_MODEL, MODELS, TOKENIZER, ModelSpec, get_spec
from .settings import Settings

KIND_NAMES = {
    "base": ("Base（声音克隆）", "Base (voice clone)"),
    "custom_voice": ("CustomVoice（预设音色）", "CustomVoice (preset speakers)"),
    "voice_design": ("VoiceDesign（声音设计）", "VoiceDesign (voice design)"),
}


@dataclass
class LoadedModel:
    """A model in memory."""

    key: str  #: registry id or folder path
    info: CheckpointInfo
    tts: object  #: qwen_tts.Qwen3TTSModel
    placement: Placement
    load_seconds: float


@dataclass
class ModelStatus:
    """One row of the Models table."""

    id: str
    repo_id: str
    kind: str
    size: str
    downloaded: bool
    path: str
    disk_mb: float
    loaded: bool


def waiting_for(holder: Activity | None) -> Status:
    """What a request waiting for the model is told (worded by :func:`~studio.progress.progress_text`)."""
    return Status("waiting", busy=holder() if holder is not None else ("另一个生成任务", "another generation"))


def _is_path(value: str) -> bool:
    return os.sep in value or "/" in value or value.startswith(".") or Path(value).expanduser().is_dir()


class ModelManager:
    """Owns the resident model. Thread-safe; use :attr:`lock` around generation."""

    def __init__(self, settings: Settings | None = None, capabilities: Capabilities | None = None) -> None:
        self.settings = settings or Settings.load()
        self._caps = capabilities
        self.lock = threading.RLock()
        self.loaded: LoadedModel | None = None
        self._holder: Activity | None = None  #: what the thread holding :attr:`lock` in :meth:`turn` works for

    @contextlib.contextmanager
    def turn(self, progress: ProgressFn = no_progress, cancel: CancelToken | None = None):
        """Hold the model for one generation. While another holds it, say every half second what it is
        busy with (``progress``) and wait; ``cancel`` stops the wait."""
        if not self.lock.acquire(blocking=False):
            while True:
                if cancel is not None:
                    cancel.check()
                progress(None, waiting_for(self._holder))
                if self.lock.acquire(timeout=0.5):
                    break
        previous, self._holder = self._holder, current_activity() or self._holder
        try:
            yield
        finally:
            self._holder = previous
            self.lock.release()

    @property
    def capabilities(self) -> Capabilities:
        """The machine's capabilities (probed once, lazily: it imports torch)."""
        if self._caps is None:
            self._caps = probe()
        return self._caps

    def placement(self) -> Placement:
        """The device, dtype and attention the next load will use."""
        return choose_placement(self.capabilities, self.settings.device, self.settings.dtype)

    def default_model(self, kind: str) -> str:
        """``STUDIO_MODEL`` when it fits ``kind``, else the registry default for ``kind``."""
        env = config.model()
        if env:
            try:
                if self._kind_of(env) == kind:
                    return env
            except Exception:  # a broken STUDIO_MODEL surfaces when it is actually used
                return env
        return DEFAULT_MODEL[kind]

    def _kind_of(self, model: str) -> str:
        if _is_path(model):
            return self.resolve(model).kind
        return get_spec(model).kind

    def resolve(
        self, model: str, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
    ) -> CheckpointInfo:
        """Find ``model`` (registry id or folder) on disk, downloading a registry model if needed."""
        if _is_path(model):
            if adapters.is_adapter(model):  # an unmerged LoRA adapter: its base, merged with it at load
                scratch = models_dir() / ".adapter-views"
                return adapters.resolve_adapter(model, lambda ref: self.resolve(ref, progress, cancel), scratch)
            return checkpoints.validate_checkpoint(model)
        spec = get_spec(model)
        if spec.kind == "asr":
            raise ModelMismatchError(
                zh=f"{spec.id} 是语音识别模型，不能生成语音；请选择一个 Base、CustomVoice 或 VoiceDesign 模型。",
                en=f"{spec.id} is a speech recogniser and cannot speak; choose a Base, CustomVoice or VoiceDesign model.",
            )
        if spec.kind == "separator":
            raise ModelMismatchError(
                zh=f"{spec.id} 是人声/伴奏分离模型，不能生成语音；请选择一个 Base、CustomVoice 或 VoiceDesign 模型。",
                en=f"{spec.id} separates voice from music and cannot speak; choose a Base, CustomVoice or VoiceDesign model.",
            )
        if spec.kind == "tokenizer":
            raise ModelMismatchError(
                zh="12Hz 分词器不能单独生成语音，请选择一个 Base、CustomVoice 或 VoiceDesign 模型。",
                en="The 12 Hz tokenizer cannot speak on its own; choose a Base, CustomVoice or VoiceDesign model.",
            )
        override = self.settings.local_models.get(spec.id)
        if override:
            return checkpoints.validate_checkpoint(override)
        folder = checkpoints.locate(spec)
        if folder is None:
            progress(0.0, Status("downloading", model=spec.id))
            folder = checkpoints.download(spec, self.settings.endpoint or None, progress, cancel)
        return checkpoints.validate_checkpoint(folder)

    def get(
        self, model: str, kind: str, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
    ) -> LoadedModel:
        """Return the loaded ``model``, loading it (and unloading another) if needed.

        Raises :class:`ModelMismatchError` when the checkpoint is not of ``kind``.
        """
        with self.lock:
            if self.loaded is not None and self.loaded.key == model:
                self.check_kind(self.loaded.info, kind)
                return self.loaded
            info = self.resolve(model, progress, cancel)
            self.check_kind(info, kind)
            self.unload()
            progress(None, Status("loading", model=info.path.name))
            self.loaded = self._load(model, info)
            progress(None, Status("generating", model=info.path.name))
            return self.loaded

    @staticmethod
    def check_kind(info: CheckpointInfo, kind: str) -> None:
        if info.kind != kind:
            have, want = KIND_NAMES[info.kind], KIND_NAMES[kind]
            raise ModelMismatchError(
                zh=f"所选模型是 {have[0]}，这个功能需要 {want[0]} 模型。请换一个模型。",
                en=f"The selected model is {have[1]}; this needs a {want[1]} model. Choose another model.",
            )

    def _load(self, key: str, info: CheckpointInfo) -> LoadedModel:
        import torch

        from .backend import qwen_tts

        placement = self.placement()
        started = time.perf_counter()
        try:
            tts = qwen_tts().Qwen3TTSModel.from_pretrained(
                str(info.load_from or info.path),
                device_map=placement.device,
                dtype=getattr(torch, placement.dtype),
                attn_implementation=placement.attention,
            )
            if info.adapter is not None:
                adapters.merge_adapter(tts, adapters.read_adapter(info.adapter))
            if placement.device == "cpu":
                from .mapped_weights import release_model_pages

                release_model_pages(tts)  # pages only the load itself read (dtype conversion)
        except torch.OutOfMemoryError as exc:
            self._free_memory()
            raise out_of_memory_error() from exc
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise CheckpointError(
                zh=f"无法加载模型 {info.path}：{type(exc).__name__}: {str(exc)[:200]}。文件可能损坏或不完整，请重新下载。",
                en=f"Could not load the checkpoint {info.path}: {type(exc).__name__}: {str(exc)[:200]}. "
                "Files may be damaged or incomplete; download it again.",
            ) from exc
        return LoadedModel(key, info, tts, placement, time.perf_counter() - started)

    def unload(self) -> None:
        """Drop the resident model and return its memory."""
        with self.lock:
            if self.loaded is None:
                return
            self.loaded = None
            self._free_memory()

    @staticmethod
    def _free_memory() -> None:
        gc.collect()
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            torch.mps.empty_cache()
        if sys.platform.startswith("linux"):
            # glibc keeps the freed model's memory arenas; hand them back (2.8 GB -> 0.66 GB after a 0.6B unload)
            with contextlib.suppress(OSError, AttributeError):
                ctypes.CDLL("libc.so.6").malloc_trim(0)

    def statuses(self) -> list[ModelStatus]:
        """Every official checkpoint with its state on disk and in memory."""
        rows = []
        for spec in (*MODELS, TOKENIZER):
            override = self.settings.local_models.get(spec.id)
            folder = Path(override) if override else checkpoints.locate(spec)
            rows.append(
                ModelStatus(
                    id=spec.id,
                    repo_id=spec.repo_id,
                    kind=spec.kind,
                    size=spec.size,
                    downloaded=folder is not None and folder.exists(),
                    path=str(folder or checkpoints.local_dir(spec)),
                    disk_mb=round(checkpoints.disk_bytes(folder) / 1e6, 1) if folder else 0.0,
                    loaded=self.loaded is not None and self.loaded.key == spec.id,
                )
            )
        return rows

    def memory_report(self) -> dict[str, float]:
        """Process RSS and (on CUDA) allocated GPU memory, in MB."""
        import psutil

        report = {"rss_mb": psutil.Process().memory_info().rss / 1e6}
        if self.loaded is not None and self.loaded.placement.device.startswith("cuda"):
            import torch

            report["cuda_allocated_mb"] = torch.cuda.memory_allocated() / 1e6
        return report


def out_of_memory_error() -> ResourceError:
    """The error shown when the device runs out of memory."""
    return ResourceError(
        zh="显存/内存不足。可以：换用 0.6B 模型；在“模型”页把设备改为 CPU；或者把文本分成更短的几段。",
        en="Out of memory. Try the 0.6B model, switch the device to CPU on the Models tab, or use shorter text.",
    )


def spec_for(model: str) -> ModelSpec | None:
    """The registry entry for ``model``, or None for a folder path."""
    return None if _is_path(model) else get_spec(model)
