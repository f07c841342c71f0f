"""Inline pause tags: ``[停顿 0.5]``, ``[pause 0.5s]``, ``<break time="500ms"/>``.

One parser for every text the studio speaks. A tag stands for exact silence
of its length in the output; it is never sent to the model. Values are in
seconds unless written in ms (``500ms``, ``500毫秒``); ``秒`` and ``s`` also
mean seconds. Each pause is at most :data:`MAX_PAUSE_S`, a text holds at most
:data:`MAX_PAUSES` of them. After :func:`~studio.text.prepare.prepare_text`
every tag is written in one canonical spelling (:func:`pause_tag`), which this
parser reads back, so preparing twice gives the same result.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from studio.errors import TextError

#: The longest single pause, in seconds.
MAX_PAUSE_S = 10.0
#: The most pause tags one text may hold.
MAX_PAUSES = 200

_NUMBER = r"(\d{1,6}(?:\.\d{1,6})?|\.\d{1,6})"
_UNIT = r"(ms|毫秒|s|sec|秒)?"
PAUSE_TAG = re.compile(
    r"[\[【]\s*(?:停顿|停頓|暂停|pause|break)\s*[:：]?\s*" + _NUMBER + r"\s*" + _UNIT + r"\s*[\]】]"
    r"|<break\s+time\s*=\s*[\"']\s*" + _NUMBER + r"\s*" + _UNIT + r"\s*[\"']\s*/?>",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Pause:
    """One tag: ``text[start:end]`` in the text it was found in, ``seconds`` of silence."""

    start: int
    end: int
    seconds: float


def pause_tag(seconds: float) -> str:
    """The canonical spelling of a pause of ``seconds`` (read back by :func:`find_pauses`)."""
    return f"[pause {seconds:g}s]"


def _seconds(number: str, unit: str | None) -> float:
    value = float(number)
    return value / 1000.0 if (unit or "").lower() in ("ms", "毫秒") else value


def find_pauses(text: str) -> list[Pause]:
    """Every pause tag in ``text``, in order; :class:`TextError` for a pause too long or too many of them."""
    found = []
    for match in PAUSE_TAG.finditer(text):
        number = match.group(1) or match.group(3)
        unit = match.group(2) if match.group(1) else match.group(4)
        seconds = _seconds(number, unit)
        if not (math.isfinite(seconds) and 0 < seconds <= MAX_PAUSE_S):
            raise TextError(
                zh=f"第 {match.start() + 1} 个字符处的停顿“{match.group(0)}”无效：停顿须大于 0 且最长 {MAX_PAUSE_S:g} 秒。",
                en=f"The pause '{match.group(0)}' at character {match.start() + 1} is invalid: a pause must be "
                f"longer than 0 and at most {MAX_PAUSE_S:g} s.",
            )
        found.append(Pause(match.start(), match.end(), seconds))
        if len(found) > MAX_PAUSES:
            raise TextError(
                zh=f"停顿标记太多：一段文本最多 {MAX_PAUSES} 个。",
                en=f"Too many pause tags: a text may hold at most {MAX_PAUSES}.",
            )
    return found


def split_pauses(text: str) -> list[tuple[str, float]]:
    """``text`` as (piece, pause after it in seconds) pairs; the pieces hold no tags (the first may be '')."""
    pieces: list[tuple[str, float]] = []
    last = 0
    for pause in find_pauses(text):
        pieces.append((text[last : pause.start], pause.seconds))
        last = pause.end
    pieces.append((text[last:], 0.0))
    return pieces


def total_pause(text: str) -> float:
    """The seconds of silence the tags in ``text`` add."""
    return sum(p.seconds for p in find_pauses(text))


def strip_pauses(text: str) -> str:
    """``text`` without its pause tags (for captions and for anything that must not see them)."""
    return PAUSE_TAG.sub("", text)
