"""Language names as the peers' APIs spell them (GPT-SoVITS codes, api.py's Chinese labels) -> the model's names."""

from __future__ import annotations

from ..errors import InputError, NotFoundError
from ..registry import LANGUAGES, normalize_language

#: Language spellings of the peers' APIs (GPT-SoVITS codes and api.py's Chinese labels) -> the model's names.
_LANGUAGE_ALIASES = {
    "Auto": ("auto", "auto_yue", "audo", "多语种混合", "多语种混合(粤语)", "mixed"),
    "Chinese": (
        "zh",
        "all_zh",
        "zh-cn",
        "zh_cn",
        "zh-hans",
        "中英混合",
        "yue",
        "all_yue",
        "粤语",
        "粤英混合",
        "cantonese",
    ),
    "English": ("en", "en-us", "en-gb", "英文"),
    "Japanese": ("ja", "all_ja", "jp", "日文", "日英混合"),
    "Korean": ("ko", "all_ko", "kr", "韩文", "韩英混合"),
    "German": ("de",),
    "French": ("fr",),
    "Russian": ("ru",),
    "Portuguese": ("pt", "pt-br"),
    "Spanish": ("es",),
    "Italian": ("it",),
}
_ALIASES = {alias: name for name, aliases in _LANGUAGE_ALIASES.items() for alias in aliases}


def parse_language(value: str | None) -> str:
    """The model's language name for a studio name, a GPT-SoVITS code or an api.py label; 400 if unknown."""
    if value is None or not str(value).strip():
        return "Auto"
    key = str(value).strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return normalize_language(key)
    except NotFoundError:
        codes = ", ".join(sorted({a for a in _ALIASES if a.isascii()}))
        raise InputError(
            zh=f"不支持的语言：{value}。可选：{'、'.join(LANGUAGES)}，或 GPT-SoVITS 的代码（{codes}）。",
            en=f"Unsupported language: {value}. Choose one of {', '.join(LANGUAGES)}, or a GPT-SoVITS code ({codes}).",
            param="language",
        ) from None
