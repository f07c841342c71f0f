"""The voice-clone prompt cache: ``prompts/<model>.pt`` in a voice folder (:class:`PromptMixin`)."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import atomic
from ..errors import InputError
from .records import Clip, Voice
from .store import _storage_error

log = logging.getLogger(__name__)

PROMPT_FORMAT = "qwen-voice-studio/prompt"
PROMPT_VERSION = 1
#: Prompt entries written by qwen-tts' ``VoiceClonePromptItem`` (``dataclasses.asdict``).
PROMPT_REQUIRED = ("ref_spk_embedding", "x_vector_only_mode", "icl_mode")
MAX_PROMPT_ENTRIES = 32
MAX_PROMPT_NUMEL = 10_000_000
_MODEL_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _model_file(model_key: str) -> str:
    file = model_key.replace("/", "--") if isinstance(model_key, str) else ""
    if not _MODEL_KEY.match(file) or ".." in file:
        raise InputError(
            zh=f"模型标识无效：{model_key!r}。只能用字母、数字和 . _ - /。",
            en=f"Invalid model key {model_key!r}: use letters, digits and . _ - / only.",
        )
    return file


def _check_prompt(tensors: object) -> dict[str, Any]:
    """Validate a voice-clone prompt; ``ValueError`` says what is wrong."""
    import torch

    if not isinstance(tensors, Mapping) or not tensors or len(tensors) > MAX_PROMPT_ENTRIES:
        raise ValueError("a prompt is a non-empty dict of at most 32 entries")
    out: dict[str, Any] = {}
    for key, value in tensors.items():
        if not isinstance(key, str) or not key or len(key) > 64:
            raise ValueError(f"bad prompt key {key!r}")
        if isinstance(value, torch.Tensor):
            if value.ndim > 4 or value.numel() > MAX_PROMPT_NUMEL or value.is_complex():
                raise ValueError(f"'{key}' has an unsupported shape or type")
            if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                raise ValueError(f"'{key}' holds NaN or infinity")
            value = value.detach().cpu().contiguous()
        elif not (value is None or isinstance(value, (bool, str, int, float))):
            raise ValueError(f"'{key}' has unsupported type {type(value).__name__}")
        out[key] = value
    missing = [k for k in PROMPT_REQUIRED if k not in out]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    emb = out["ref_spk_embedding"]
    if not isinstance(emb, torch.Tensor) or not emb.is_floating_point() or emb.ndim != 1 or emb.numel() == 0:
        raise ValueError("'ref_spk_embedding' must be a 1-D float tensor")
    if not isinstance(out["x_vector_only_mode"], bool) or not isinstance(out["icl_mode"], bool):
        raise ValueError("'x_vector_only_mode' and 'icl_mode' must be booleans")
    code = out.get("ref_code")
    if code is not None and (
        not isinstance(code, torch.Tensor) or code.is_floating_point() or code.ndim not in (1, 2) or code.numel() == 0
    ):
        raise ValueError("'ref_code' must be a 1-D or 2-D integer tensor")
    text = out.get("ref_text")
    if text is not None and not isinstance(text, str):
        raise ValueError("'ref_text' must be a string")
    if out["icl_mode"] and (code is None or not text):
        raise ValueError("an ICL prompt needs 'ref_code' and 'ref_text'")
    return out


class PromptMixin:
    """The prompt cache of :class:`~studio.voices.VoiceLibrary` (uses its locking and storage helpers)."""

    def _prompt_file(self, voice: Voice, model_key: str, clip: Clip) -> Path:
        model = _model_file(model_key)
        stem = "" if clip == voice.clip() else "@" + Path(clip.file).stem
        return voice.path / "prompts" / f"{model}{stem}.pt"

    @staticmethod
    def _fingerprint(voice: Voice, clip: Clip) -> str:
        digest = hashlib.sha256((voice.path / clip.file).read_bytes())
        digest.update(b"\x00" + clip.transcript.encode("utf-8"))
        return digest.hexdigest()

    def save_prompt(self, name: str, model_key: str, tensors: Mapping[str, Any], *, tag: str | None = None) -> Path:
        """Cache a voice-clone prompt built by ``model_key`` from the clip tagged ``tag``.

        ``tensors`` is ``dataclasses.asdict(VoiceClonePromptItem)``: ``ref_spk_embedding``
        (1-D float), ``x_vector_only_mode``/``icl_mode`` (bool), ``ref_code``
        (1-D/2-D int or None), ``ref_text`` (str or None).
        """
        import torch

        try:
            entries = _check_prompt(tensors)
        except ValueError as exc:
            raise InputError(zh=f"声音提示无效：{exc}。", en=f"Invalid voice-clone prompt: {exc}.") from exc
        with self._locked():
            voice = self._find(name)
            clip = voice.clip(tag)
            path = self._prompt_file(voice, model_key, clip)
            payload = {
                "format": PROMPT_FORMAT,
                "version": PROMPT_VERSION,
                "model_key": model_key,
                "clip": clip.file,
                "fingerprint": self._fingerprint(voice, clip),
                "tensors": entries,
            }
            try:
                with atomic.replacing(path) as tmp:
                    torch.save(payload, tmp)
            except OSError as exc:
                raise _storage_error(exc, path) from exc
        return path

    def load_prompt(self, name: str, model_key: str, *, tag: str | None = None) -> dict[str, Any] | None:
        """The cached prompt for ``model_key`` and the clip tagged ``tag``, or None.

        A file that is unreadable, malformed, made for another model or clip, or
        older than the clip's audio or transcript is deleted and reported as None.
        """
        import torch

        voice = self._find(name)
        clip = voice.clip(tag)
        path = self._prompt_file(voice, model_key, clip)
        if not path.is_file():
            return None
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(payload, dict) or payload.get("format") != PROMPT_FORMAT:
                raise ValueError("not a prompt file")
            if payload.get("version") != PROMPT_VERSION or payload.get("model_key") != model_key:
                raise ValueError("other version or model")
            if payload.get("clip") != clip.file or payload.get("fingerprint") != self._fingerprint(voice, clip):
                raise ValueError("stale: the clip or its transcript changed")
            return _check_prompt(payload.get("tensors"))
        except Exception as exc:  # any unreadable cache file is a cache miss
            log.info("discarding cached prompt %s: %s", path, exc)
            with self._locked():
                path.unlink(missing_ok=True)
            return None
