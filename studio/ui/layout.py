"""The studio's style sheet and the widths of wide tables' columns, so a table fits a laptop screen.

Gradio sizes a Dataframe's columns from ``column_widths`` (pixels, or a percentage of the table's
viewport) and otherwise from their content, which lets a long text column push the rest off screen
and squeezes short headers one letter per line. :func:`column_widths` sizes each column for its
longest header in either language (or its widest content), and gives the one wrapping column the
rest of a reference viewport as a percentage, so the table fits any window at least that wide.
"""

from __future__ import annotations

import math
import unicodedata

from .i18n_tables import COLUMN_STRINGS

#: Class of the tables sized by :func:`column_widths` (their text in the interface font, headers on one line).
FITTED_TABLE = "studio-fitted-table"
#: The table's width at 1280 px wide windows and up (the page's maximum content width less its padding).
REFERENCE_VIEWPORT_PX = 1200
#: Estimated advance of one character of the table font (13 px sans-serif): Latin letters and digits, CJK.
_LATIN_PX, _WIDE_PX = 7.2, 13.2
#: A cell's padding, border and the header's sort/menu gap.
_CELL_PX = 26
_MIN_PX = 40

# The cells' own rules are scoped by generated classes (more specific than these): hence !important.
STUDIO_CSS = f"""
.{FITTED_TABLE} :is(th, .body-cell), .{FITTED_TABLE} :is(th, .body-cell) * {{
    font-family: var(--font) !important;
    font-size: 13px !important;
}}
.{FITTED_TABLE} th .header {{ white-space: nowrap !important; }}
.{FITTED_TABLE} .body-cell * {{ overflow-wrap: anywhere; }}
"""


def text_px(text: str) -> float:
    """Estimated width in pixels of ``text`` in the table font (wide East Asian characters count double)."""
    return sum(_WIDE_PX if unicodedata.east_asian_width(c) in "WF" else _LATIN_PX for c in text)


def column_widths(keys: tuple[str, ...], wrap: str, content_chars: dict[str, int] | None = None) -> list[str]:
    """``column_widths`` for a Dataframe with the header ``keys``: pixels for each, a percentage for ``wrap``.

    Each column is as wide as its longest header in Chinese and English (or ``content_chars[key]``
    Latin characters, when wider); the ``wrap`` column takes what is left of
    :data:`REFERENCE_VIEWPORT_PX` and its text wraps.
    """
    content_chars = content_chars or {}
    widths: dict[str, int] = {}
    for key in keys:
        if key == wrap:
            continue
        header = max(text_px(s) for s in COLUMN_STRINGS[key])
        content = content_chars.get(key, 0) * _LATIN_PX
        widths[key] = max(_MIN_PX, math.ceil(max(header, content) + _CELL_PX))
    rest = REFERENCE_VIEWPORT_PX - sum(widths.values())
    if rest < 200:
        raise ValueError(f"the columns {keys} leave {rest} px for {wrap!r}: shorten a header")
    percent = math.floor(rest * 1000 / REFERENCE_VIEWPORT_PX) / 10
    return [f"{percent}%" if key == wrap else f"{widths[key]}px" for key in keys]
