"""Build ``studio/text/data/homophones.json``: one unambiguous character per toned syllable.

Run ``python -m studio.text.build_homophones`` after upgrading pypinyin and
commit the result. For each tone3 syllable the chosen character

* has exactly one reading in pypinyin's single-character dictionary
  (``pypinyin.pinyin_dict``), and it is that syllable;
* is a level-1 GB2312 character (the 3,755 most common simplified
  characters), so the TTS model surely knows it; level 2 holds radicals
  (刂, 艹) and rare words (锕, 毪) a model may well misread.

Among those it prefers characters whose reading never changes in pypinyin's
phrase dictionary (no neutral tone or tone sandhi there), then characters
used in more dictionary phrases. Syllables with no such character are listed
under ``"none"``; :mod:`studio.text.homophones` keeps the original character
for them.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pypinyin
from pypinyin.phrases_dict import phrases_dict
from pypinyin.pinyin_dict import pinyin_dict

from studio.text.syllables import marks_to_tone3, valid_syllables

OUTPUT = Path(__file__).with_name("data") / "homophones.json"


def gb2312_level(char: str) -> int:
    """1 for the most common GB2312 characters, 2 for the rest of GB2312, 3 outside it."""
    try:
        encoded = char.encode("gb2312")
    except UnicodeEncodeError:
        return 3
    if len(encoded) != 2:
        return 3
    return 1 if encoded[0] < 0xD8 else 2


def build() -> dict:
    """Compute the table (see the module docstring for the choice)."""
    uses: Counter[str] = Counter()
    changed: Counter[str] = Counter()
    for word, syllables in phrases_dict.items():
        for char, readings in zip(word, syllables, strict=False):
            uses[char] += 1
            value = pinyin_dict.get(ord(char), "")
            if readings[0] not in value.split(","):
                changed[char] += 1
    candidates: dict[str, list[str]] = {}
    for codepoint, value in pinyin_dict.items():
        if "," in value:
            continue
        char = chr(codepoint)
        if gb2312_level(char) == 1:
            candidates.setdefault(marks_to_tone3(value), []).append(char)
    table: dict[str, str] = {}
    for syllable, chars in candidates.items():
        table[syllable] = min(chars, key=lambda c: (changed[c] > 0, -uses[c], c))
    return {
        "generated_by": "python -m studio.text.build_homophones",
        "pypinyin": pypinyin.__version__,
        "homophones": dict(sorted(table.items())),
        "none": sorted(valid_syllables() - table.keys()),
    }


def main() -> None:
    """Write the table to ``data/homophones.json``."""
    data = build()
    OUTPUT.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{OUTPUT}: {len(data['homophones'])} syllables, {len(data['none'])} without an unambiguous character")


if __name__ == "__main__":
    main()
