"""Emotion/style presets and sampling presets, and the instruction sent to instruct-capable models."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from . import atomic
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


#: Sampling fields a preset may set, with their allowed ranges.
SAMPLING_RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0.01, 2.0),
    "top_k": (1, 200),
    "top_p": (0.01, 1.0),
    "repetition_penalty": (1.0, 3.0),
    "subtalker_temperature": (0.01, 2.0),
    "subtalker_top_k": (1, 200),
    "subtalker_top_p": (0.01, 1.0),
    "max_new_tokens": (16, 8192),
}


def check_sampling(values: dict) -> Sampling:
    """A :class:`Sampling` from user values (None or missing = the model's default); refuses out-of-range values."""
    clean = {}
    for key, value in values.items():
        if value is None or value == "":
            continue
        if key not in SAMPLING_RANGES:
            raise InputError(
                zh=f"未知的采样参数 {key}。可用：{', '.join(SAMPLING_RANGES)}。",
                en=f"Unknown sampling setting {key}. Known: {', '.join(SAMPLING_RANGES)}.",
            )
        low, high = SAMPLING_RANGES[key]
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not low <= number <= high:  # NaN fails too
            raise InputError(
                zh=f"{key} 必须在 {low} 到 {high} 之间（收到 {value}）。",
                en=f"{key} must be between {low} and {high} (got {value}).",
            )
        clean[key] = int(number) if key in ("top_k", "subtalker_top_k", "max_new_tokens") else number
    return Sampling(**clean)


def save_sampling_preset(preset_id: str, values: dict, zh: str = "", en: str = "", path: Path | None = None) -> None:
    """Add or replace the sampling preset ``preset_id`` in presets/sampling.json (atomic write)."""
    import re
    from dataclasses import asdict

    preset_id = (preset_id or "").strip()
    if not re.fullmatch(r"[\w\-]{1,40}", preset_id):
        raise InputError(
            zh="预设名称只能用字母、数字、汉字、下划线和连字符，最多 40 个字符。",
            en="A preset name may use letters, digits, Chinese characters, _ and -, up to 40 characters.",
        )
    sampling = {k: v for k, v in asdict(check_sampling(values)).items() if v is not None and k in SAMPLING_RANGES}
    path = path or PRESETS_DIR / "sampling.json"
    data = _load("sampling.json", path)
    presets = [p for p in data["presets"] if p["id"] != preset_id]
    presets.append({"id": preset_id, "zh": zh or preset_id, "en": en or preset_id, **sampling})
    data["presets"] = presets
    try:
        atomic.write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    except OSError as exc:
        raise InputError(zh=f"无法保存预设：{exc}", en=f"Cannot save the preset: {exc}") from exc
    sampling_presets.cache_clear()
