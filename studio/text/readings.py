"""Per-character readings of Chinese text: pypinyin in context, our rules, pins.

A reading comes from, in rising priority:

1. ``pypinyin``: pypinyin's phrase dictionary, cut by its own forward maximum
   matching segmenter, or its single-character dictionary for characters left
   on their own (exactly what ``pypinyin.lazy_pinyin`` returns);
2. ``rule``: a context rule of :mod:`studio.text.rules` where pypinyin is
   known to be wrong;
3. ``dictionary`` / ``pinned``: a reading fixed by a pronunciation-dictionary
   rule or written inline by the user (``行(háng)``).

Traditional characters are looked up through their simplified form (phrases
are simplified in pypinyin); a traditional character that has a single
reading of its own keeps it, and ``char`` always shows the original.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pypinyin.constants import PHRASES_DICT, RE_HANS
from pypinyin.seg.simpleseg import seg

from studio.text.pins import PinnedText, parse_pins
from studio.text.rules import rules_by_char
from studio.text.syllables import char_readings, marks_to_tone3, tone3_to_marks
from studio.text.variants import to_simplified

Source = Literal["pypinyin", "rule", "pinned", "dictionary"]
_RULES = rules_by_char()


@dataclass
class CharReading:
    """The reading chosen for one Chinese character.

    ``index`` is the character's position in the text without pin
    annotations; ``pinyin`` has tone marks ("háng"), ``tone3`` a tone digit
    ("hang2", 5 = neutral); ``candidates`` lists every reading the dictionary
    knows (tone3, most common first); ``note`` explains a rule's choice.
    """

    index: int
    char: str
    pinyin: str
    tone3: str
    is_polyphone: bool
    candidates: list[str] = field(default_factory=list)
    source: Source = "pypinyin"
    note: str = ""


def analyze(text: str, *, use_rules: bool = True) -> list[CharReading]:
    """Readings of every Chinese character in ``text`` (which may contain inline pins).

    Indices refer to ``text`` with its pin annotations removed. Raises
    :class:`~studio.errors.TextError` for an invalid pin.
    """
    return analyze_pinned(parse_pins(text), use_rules=use_rules)


def analyze_pinned(pinned: PinnedText, *, use_rules: bool = True) -> list[CharReading]:
    """Readings of every Chinese character of an already parsed :class:`PinnedText`."""
    text = pinned.text
    lookup = to_simplified(text)
    base, in_phrase = _pypinyin_readings(lookup)
    out: list[CharReading] = []
    for index, tone3 in base.items():
        char = text[index]
        known = char_readings(char) or char_readings(lookup[index])
        source: Source = "pypinyin"
        note = ""
        if use_rules and lookup[index] in _RULES:
            for rule in _RULES[lookup[index]]:
                if rule.single and in_phrase[index]:
                    continue
                if rule.matches(lookup, index):
                    if rule.reading != tone3:
                        tone3, source, note = rule.reading, "rule", rule.note
                    break
        own = char_readings(char)
        if char != lookup[index] and len(own) == 1:
            tone3, source, note = own[0], "pypinyin", ""
        if index in pinned.pins:
            tone3 = pinned.pins[index]
            source = "dictionary" if pinned.sources.get(index) == "dictionary" else "pinned"
            note = ""
        candidates = list(dict.fromkeys((*known, tone3)))
        out.append(CharReading(index, char, tone3_to_marks(tone3), tone3, len(known) > 1, candidates, source, note))
    return out


def _pypinyin_readings(lookup: str) -> tuple[dict[int, str], list[bool]]:
    """pypinyin's readings by index, and whether each character sat inside a dictionary phrase."""
    base: dict[int, str] = {}
    in_phrase = [False] * len(lookup)
    pos = 0
    for token in seg(lookup):
        phrase = PHRASES_DICT.get(token) if len(token) > 1 else None
        if phrase:
            for k, syllables in enumerate(phrase):
                base[pos + k] = marks_to_tone3(syllables[0])
                in_phrase[pos + k] = True
        elif RE_HANS.match(token):
            for k, char in enumerate(token):
                readings = char_readings(char)
                if readings:
                    base[pos + k] = readings[0]
        pos += len(token)
    return base, in_phrase
