"""Fill a reference clip's transcript with a local speech recogniser, when one is on disk. Never downloads.

Uses faster-whisper (an optional package: ``pip install faster-whisper``) with a
CTranslate2 Whisper model already on this machine: the folder named by
``STUDIO_ASR_MODEL``, or a ``*faster-whisper*`` snapshot in the Hugging Face cache.
Without both, :func:`status` says what is missing and the user types the transcript.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import NotFoundError


@dataclass(frozen=True)
class AsrStatus:
    """Whether automatic transcripts are available, and why not."""

    model: Path | None
    zh: str
    en: str

    @property
    def available(self) -> bool:
        return self.model is not None

    def message(self, lang: str = "zh") -> str:
        """The explanation in ``lang``."""
        return self.zh if lang == "zh" else self.en


def _is_model(folder: Path) -> bool:
    return (folder / "model.bin").is_file() and (folder / "config.json").is_file()


def find_local_model(cache: Path | None = None) -> Path | None:
    """A faster-whisper model folder on disk: ``STUDIO_ASR_MODEL``, else the largest cached snapshot."""
    named = os.environ.get("STUDIO_ASR_MODEL", "").strip()
    if named:
        return Path(named) if _is_model(Path(named)) else None
    if cache is None:
        from huggingface_hub.constants import HF_HUB_CACHE

        cache = Path(HF_HUB_CACHE)
    found = [
        snapshot
        for repo in sorted(cache.glob("models--*faster-whisper*"))
        for snapshot in sorted((repo / "snapshots").glob("*"))
        if _is_model(snapshot)
    ]
    return max(found, key=lambda p: (p / "model.bin").stat().st_size) if found else None


def status(cache: Path | None = None) -> AsrStatus:
    """What :func:`transcribe` would use, or why it cannot run."""
    if importlib.util.find_spec("faster_whisper") is None:
        return AsrStatus(
            None,
            zh="未安装本地语音识别（faster-whisper）：请逐字输入录音内容。",
            en="No local speech recogniser (faster-whisper) is installed: type what the recording says.",
        )
    model = find_local_model(cache)
    if model is None:
        return AsrStatus(
            None,
            zh="已安装 faster-whisper，但本机没有它的模型（不会自动下载）。设置 STUDIO_ASR_MODEL 指向模型文件夹，或手动输入文字。",
            en="faster-whisper is installed but no model is on this machine (none is downloaded). Point "
            "STUDIO_ASR_MODEL at a model folder, or type the transcript.",
        )
    return AsrStatus(
        model,
        zh=f"可以用本地模型 {model.name} 自动识别文字，请核对后再保存。",
        en=f"The local model {model.name} can fill the transcript; check it before saving.",
    )


def transcribe(path: str | Path, language: str | None = None) -> str:
    """The words spoken in ``path``, by the local model (offline only)."""
    state = status()
    if not state.available:
        raise NotFoundError(zh=state.zh, en=state.en)
    from faster_whisper import WhisperModel

    model = WhisperModel(str(state.model), device="cpu", compute_type="int8", local_files_only=True)
    segments, _ = model.transcribe(str(path), language=language, vad_filter=True)
    return "".join(segment.text for segment in segments).strip()
