"""Fill a reference clip's transcript with a local speech recogniser, when one is on disk. Never downloads.

Uses the studio's recogniser (:mod:`studio.recogniser`, faster-whisper) with a model
already on this machine: the folder named by ``STUDIO_ASR_MODEL``, one downloaded
on the Models tab (``python -m studio download whisper-small``), or a
``*faster-whisper*`` snapshot in the Hugging Face cache. Without one,
:func:`status` says what is missing and the user types the transcript.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from . import config
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
    from .recogniser import is_model_folder

    return is_model_folder(folder)


def find_local_model(cache: Path | None = None) -> Path | None:
    """A model on disk: ``STUDIO_ASR_MODEL``, a downloaded registry one, else the largest cached snapshot."""
    named = config.asr_model()
    if named:
        return Path(named) if _is_model(Path(named)) else None
    from .recogniser import find_local

    downloaded = find_local()
    if downloaded is not None:
        return downloaded
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
            zh="已安装 faster-whisper，但本机没有它的模型（这里不会自动下载）。在“模型”页下载 whisper-small，"
            "或设置 STUDIO_ASR_MODEL 指向模型文件夹，或手动输入文字。",
            en="faster-whisper is installed but no model is on this machine (none is downloaded here). Download "
            "whisper-small on the Models tab, point STUDIO_ASR_MODEL at a model folder, or type the transcript.",
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
    from . import recogniser

    return recogniser.get(state.model).transcribe(Path(path), language, word_timestamps=False).text


def take_checker(language: str | None = None):
    """A ``check(samples, sr, text) -> TakeCheck`` (:func:`studio.takecheck.checker`) with the local recogniser.

    Asked for by one generation (``--check-take``, the UI's checkbox, ``check_take`` over HTTP): the folder
    is found now, so a missing recogniser is refused before anything is generated; the model itself is
    loaded on the first check. ``language`` is the generation's (Auto, Chinese, zh...): one the recogniser
    lacks is left to its detection.
    """
    state = status()
    if not state.available:
        get = "python -m studio download whisper-small"
        if importlib.util.find_spec("faster_whisper") is None:
            raise NotFoundError(
                zh=f"听一遍检查需要本地语音识别（faster-whisper），但没有安装。请先 pip install faster-whisper，再运行 {get}。",
                en="Checking a take by ear needs the local speech recogniser (faster-whisper), which is not "
                f"installed. Run pip install faster-whisper, then {get}.",
            )
        raise NotFoundError(
            zh=f"听一遍检查需要本地语音识别模型，本机没有（这里不会自动下载）。请运行 {get}（或在“模型”页下载），"
            "或设置 STUDIO_ASR_MODEL 指向模型文件夹。",
            en="Checking a take by ear needs a local speech recogniser model, and none is on this machine (none is "
            f"downloaded here). Run {get} (or download it on the Models tab), or point STUDIO_ASR_MODEL at a "
            "model folder.",
        )
    from .errors import StudioError
    from .recogniser import language_code
    from .takecheck import checker

    try:
        code = language_code(language)
    except StudioError:
        code = None
    return checker(state.model, code)
