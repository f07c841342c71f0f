"""Traditional characters: map them to simplified ones for pronunciation lookup.

pypinyin reads most traditional characters one by one, but its phrase
dictionary is simplified, so ``銀行`` would lose the phrase reading ``yín háng``.
A small bundled table (``data/traditional.txt``) maps common traditional
characters to simplified ones, one character for one character, so offsets
never move; the display text always keeps what the user wrote.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_TABLE = Path(__file__).with_name("data") / "traditional.txt"


@lru_cache(maxsize=1)
def traditional_map() -> dict[str, str]:
    """The traditional -> simplified character table."""
    table: dict[str, str] = {}
    for line in _TABLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        for pair in line.split():
            table[pair[0]] = pair[1]
    return table


def to_simplified(text: str) -> str:
    """Replace known traditional characters by simplified ones; same length as ``text``."""
    table = traditional_map()
    if not any(c in table for c in text):
        return text
    return "".join(table.get(c, c) for c in text)
