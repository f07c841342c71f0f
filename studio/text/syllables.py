"""Pinyin syllables: the valid set, tone conversion and per-character readings.

Everything here is derived from pypinyin's own single-character dictionary
(``pypinyin.pinyin_dict``), so a syllable is "valid" exactly when pypinyin
knows at least one character with that reading. The canonical form used all
over ``studio.text`` is *tone3*: letters, ``v`` for ü, then the tone digit
1-4, or 5 for the neutral tone (``hang2``, ``lv4``, ``le5``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin.constants import RE_HANS
from pypinyin.contrib.tone_convert import to_tone, to_tone3
from pypinyin.pinyin_dict import pinyin_dict

_MARKED_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_SYLLABLE_CHARS = re.compile(rf"^[a-zü{_MARKED_VOWELS}]+[0-9]?$")


class SyllableError(ValueError):
    """A string that is not a valid pinyin syllable; the reason in English (message) and Chinese (``zh``)."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.zh = zh


@lru_cache(maxsize=4096)
def marks_to_tone3(pinyin: str) -> str:
    """Convert a tone-marked syllable (``háng``, ``le``) to tone3 (``hang2``, ``le5``)."""
    return to_tone3(pinyin, neutral_tone_with_five=True)


@lru_cache(maxsize=4096)
def tone3_to_marks(tone3: str) -> str:
    """Convert a tone3 syllable (``hang2``, ``lv4``, ``le5``) to tone marks (``háng``, ``lǜ``, ``le``)."""
    return to_tone(tone3)


@lru_cache(maxsize=1)
def valid_syllables() -> frozenset[str]:
    """Every toned syllable (tone3) that some character has in pypinyin's dictionary."""
    return frozenset(marks_to_tone3(r) for value in pinyin_dict.values() for r in value.split(","))


def normalize_syllable(raw: str) -> str:
    """Return the tone3 form of a user-written syllable, or raise :class:`SyllableError`.

    Accepts tone digits (``hang2``, ``lv4``, ``lü4``), tone marks (``háng``,
    ``lǜ``) and the bare neutral tone (``le`` = ``le5``). Upper case is folded.
    """
    text = raw.strip().lower().replace("u:", "v")
    if not _SYLLABLE_CHARS.match(text):
        raise SyllableError(f"'{raw}' contains characters that are not pinyin letters", f"“{raw}”含有拼音以外的字符")
    if text[-1].isdigit():
        if text[-1] not in "12345":
            raise SyllableError(
                f"tone '{text[-1]}' in '{raw}' must be 1-4, or 5 for the neutral tone",
                f"“{raw}”的声调“{text[-1]}”无效，声调只能是 1–4，轻声写 5",
            )
        if any(c in _MARKED_VOWELS for c in text):
            raise SyllableError(f"'{raw}' mixes a tone mark with a tone digit", f"“{raw}”同时用了声调符号和声调数字")
        tone3 = text.replace("ü", "v")
    else:
        tone3 = marks_to_tone3(text).replace("ü", "v")
        if not tone3[-1].isdigit():
            tone3 += "5"
    if tone3 not in valid_syllables():
        if tone3.endswith("5") and any(tone3[:-1] + t in valid_syllables() for t in "1234"):
            raise SyllableError(
                f"'{raw}' has no tone: add 1-4 (e.g. {tone3[:-1]}2) or a tone mark",
                f"“{raw}”没有声调，请加上 1–4（例如 {tone3[:-1]}2）或声调符号",
            )
        raise SyllableError(
            f"'{raw}' is not a Mandarin syllable known to the pinyin dictionary", f"“{raw}”不是普通话拼音音节"
        )
    return tone3


def is_hanzi(char: str) -> bool:
    """True for a character pypinyin treats as Chinese (has, or may have, a reading)."""
    return bool(RE_HANS.match(char))


@lru_cache(maxsize=8192)
def char_readings(char: str) -> tuple[str, ...]:
    """All readings (tone3) pypinyin's single-character dictionary lists for ``char``, most common first."""
    value = pinyin_dict.get(ord(char))
    if not value:
        return ()
    return tuple(dict.fromkeys(marks_to_tone3(r) for r in value.split(",")))
