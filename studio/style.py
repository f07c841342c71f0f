"""Emotion/style presets and sampling presets, and the instruction sent to instruct-capable models."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import InputError, NotFoundError
from .paths import PRESETS_DIR
from .synthesis import Sampling

MAX_INSTRUCTION_CHARS = 500


@dataclass(frozen=True)
class Emotion:
    """One emotion or style preset."""

    id: str
    zh: str
    en: str
    instruct_zh: str
    instruct_en: str


def _load(name: str, path: Path | None = None) -> dict:
    path = path or PRESETS_DIR / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            zh=f"预设文件 {path.name} 无法读取：{exc}", en=f"The preset file {path.name} cannot be read: {exc}"
        ) from exc


@cache
def emotions() -> tuple[Emotion, ...]:
    """The emotion presets from presets/emotions.json."""
    return tuple(Emotion(**{k: p[k] for k in Emotion.__dataclass_fields__}) for p in _load("emotions.json")["presets"])


@cache
def _degrees() -> dict[str, list[str]]:
    return _load("emotions.json")["degrees"]


def get_emotion(emotion_id: str) -> Emotion:
    """Look up a preset by id or by its Chinese or English name."""
    wanted = emotion_id.strip().lower()
    for emotion in emotions():
        if wanted in (emotion.id, emotion.zh, emotion.en.lower()):
            return emotion
    names = ", ".join(e.id for e in emotions())
    raise NotFoundError(
        zh=f"没有名为 “{emotion_id}” 的情绪预设。可选：{names}。",
        en=f"No emotion preset called '{emotion_id}'. Choose one of {names}.",
    )


def compose_instruction(
    emotion: str | None = None, intensity: float = 0.5, free_text: str = "", lang: str = "zh"
) -> str:
    """The instruction for an instruct-capable model: preset at ``intensity`` (0-1), then free text.

    Intensity picks the degree word: below 1/3 "slightly", above 2/3 "very",
    plain in between. The language of the template follows ``lang``.
    """
    if not 0.0 <= intensity <= 1.0:
        raise InputError(
            zh=f"强度必须在 0 到 1 之间（收到 {intensity}）。",
            en=f"Intensity must be between 0 and 1 (got {intensity}).",
        )
    parts = []
    if emotion:
        preset = get_emotion(emotion)
        key = "zh" if lang == "zh" else "en"
        degree = _degrees()[key][min(int(intensity * 3), 2)]
        parts.append((preset.instruct_zh if key == "zh" else preset.instruct_en).format(degree=degree))
    free_text = (free_text or "").strip()
    if free_text:
        parts.append(free_text)
    instruction = ("，" if lang == "zh" else ". ").join(parts)
    if len(instruction) > MAX_INSTRUCTION_CHARS:
        raise InputError(
            zh=f"指令太长（{len(instruction)} 字），最多 {MAX_INSTRUCTION_CHARS} 字。",
            en=f"The instruction is too long ({len(instruction)} characters); the limit is {MAX_INSTRUCTION_CHARS}.",
        )
    return instruction


@cache
def sampling_presets() -> dict[str, dict]:
    """Sampling presets by id, from presets/sampling.json."""
    return {p["id"]: p for p in _load("sampling.json")["presets"]}


def sampling_preset(preset_id: str) -> Sampling:
    """The :class:`Sampling` of a preset."""
    presets = sampling_presets()
    if preset_id not in presets:
        raise NotFoundError(
            zh=f"没有名为 “{preset_id}” 的采样预设。可选：{', '.join(presets)}。",
            en=f"No sampling preset called '{preset_id}'. Choose one of {', '.join(presets)}.",
        )
    fields = Sampling.__dataclass_fields__
    return Sampling(**{k: v for k, v in presets[preset_id].items() if k in fields})
