"""Enforce pinned readings by swapping the character for an unambiguous homophone.

Qwen3-TTS reads inline pinyin unreliably ("ning4" comes out as 宁四), so a
pinned character goes to the model as another character that can only be
read the wanted way: 行(háng) becomes 航, 长(cháng) becomes 肠. The table
``data/homophones.json`` is built by ``python -m studio.text.build_homophones``
from pypinyin's single-character dictionary; every character in it has that
one reading and no other.

Fallback: where no common character has the syllable as its only reading
(e.g. hao3, le4, zhao2, neutral tones), the original character is kept and
reported in :attr:`Substitution.kept`, so the UI can say the pin may not be
honoured. A character whose only reading already is the pinned one is kept
silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from studio.text.pins import PinnedText, parse_pins
from studio.text.syllables import char_readings

_DATA = Path(__file__).with_name("data") / "homophones.json"


@lru_cache(maxsize=1)
def homophone_table() -> dict[str, str]:
    """tone3 syllable -> a common character whose only reading is that syllable."""
    return json.loads(_DATA.read_text(encoding="utf-8"))["homophones"]


def homophone_for(tone3: str) -> str | None:
    """The unambiguous character for ``tone3`` (e.g. "hang2" -> "航"), or None if there is none."""
    return homophone_table().get(tone3)


@dataclass
class Substitution:
    """Result of :func:`substitute_pinned`.

    ``replaced`` lists (index, original char, new char, tone3); ``kept`` lists
    (index, char, tone3) for pins that could not be enforced.
    """

    text: str
    replaced: list[tuple[int, str, str, str]] = field(default_factory=list)
    kept: list[tuple[int, str, str]] = field(default_factory=list)


def substitute_pinned(pinned: PinnedText) -> Substitution:
    """Replace each pinned character of ``pinned.text`` by its unambiguous homophone (same length)."""
    chars = list(pinned.text)
    result = Substitution(pinned.text)
    for index, tone3 in sorted(pinned.pins.items()):
        char = chars[index]
        if char_readings(char) == (tone3,):
            continue
        new = homophone_for(tone3)
        if new is None:
            result.kept.append((index, char, tone3))
            continue
        chars[index] = new
        result.replaced.append((index, char, new, tone3))
    result.text = "".join(chars)
    return result


def substitute(text_with_pins: str) -> str:
    """Text with inline pins -> text for the model, each pinned character swapped for its homophone.

    ``"他在银行(hang2)工作"`` -> ``"他在银航工作"``. Pins with no unambiguous
    homophone keep their character (see the module docstring); use
    :func:`substitute_pinned` to learn which.
    """
    return substitute_pinned(parse_pins(text_with_pins)).text
