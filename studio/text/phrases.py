"""Word readings: pypinyin's phrase dictionary without cross-boundary matches, and our own corrections.

pypinyin cuts text by forward maximum matching over its phrase dictionary,
which only holds words containing a polyphone; so in 文本分类 it matches
本分 (fèn) across the boundary of 文本|分类. Here a character takes a phrase
reading only when *every* dictionary word that covers it agrees on that
reading (本分 says fèn, 分类 says fēn: no phrase reading, the context model
decides). :func:`phrase_readings` returns those unambiguous readings.

``data/phrase_corrections.tsv`` lists words whose reading pypinyin's data
gets wrong or lacks (简朴 jiǎnpǔ, not piáo; 朝鲜 Cháoxiǎn), each with the
source that settles it; :func:`correction_readings` finds them in a text.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pypinyin.constants import PHRASES_DICT

from studio.text.syllables import marks_to_tone3

CORRECTIONS_PATH = Path(__file__).with_name("data") / "phrase_corrections.tsv"
#: The longest word looked up (pypinyin's longest phrase has 10 characters).
MAX_WORD = 10


@lru_cache(maxsize=1)
def corrections() -> dict[str, tuple[str, ...]]:
    """Our phrase corrections: word -> one tone3 reading per character."""
    out: dict[str, tuple[str, ...]] = {}
    for number, line in enumerate(CORRECTIONS_PATH.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        word, readings, source = ([*line.split("\t"), "", ""])[:3]
        syllables = tuple(readings.split())
        if len(syllables) != len(word) or not source.strip():
            raise ValueError(f"{CORRECTIONS_PATH.name}:{number}: needs word, one reading per character, source")
        out[word] = syllables
    return out


def _word_reading(word: str, offset: int) -> str | None:
    fixed = corrections().get(word)
    if fixed is not None:
        return fixed[offset]
    entry = PHRASES_DICT.get(word)
    return marks_to_tone3(entry[offset][0]) if entry else None


def phrase_readings(text: str) -> dict[int, str]:
    """Index -> reading for characters covered by dictionary words that all agree on their reading."""
    seen: dict[int, set[str]] = {}
    fixed = corrections()
    for start in range(len(text)):
        for end in range(start + 2, min(len(text), start + MAX_WORD) + 1):
            word = text[start:end]
            if word not in PHRASES_DICT and word not in fixed:
                continue
            for offset in range(len(word)):
                reading = _word_reading(word, offset)
                if reading:
                    seen.setdefault(start + offset, set()).add(reading)
    return {i: next(iter(r)) for i, r in seen.items() if len(r) == 1}


def correction_readings(text: str) -> dict[int, str]:
    """Index -> reading for every character inside a word of our corrections file (longest word wins)."""
    fixed = corrections()
    if not fixed:
        return {}
    longest = max(len(w) for w in fixed)
    out: dict[int, str] = {}
    for start in range(len(text)):
        for end in range(min(len(text), start + longest), start + 1, -1):
            readings = fixed.get(text[start:end])
            if readings is not None:
                for k, reading in enumerate(readings):
                    out.setdefault(start + k, reading)
                break
    return out
