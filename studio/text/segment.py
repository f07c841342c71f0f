"""Split long text into sentence segments for synthesis, with character offsets.

Sentences end at Chinese and English terminal punctuation (。！？；… and
``. `` followed by a space) or a line break, closing quotes included. A
sentence longer than ``max_chars`` is cut at the last comma-like mark that
fits (，,、：:), or else at ``max_chars``. Pieces shorter than ``min_chars``
are merged with a neighbour when the result still fits.

A cut never falls inside a pinned reading ``X(pin)``, a number (``1,234.5``,
``10:30``, ``2024-03-05``, ``50%``), a Latin word (``e.g.``) or a
pronunciation-dictionary term; a single such span longer than ``max_chars``
is kept whole. Everything is regular-expression scans and bisection, so
100,000 characters split in a few tens of milliseconds.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from studio.errors import InputError
from studio.text.dictionary import PronunciationDictionary
from studio.text.pauses import PAUSE_TAG
from studio.text.pins import pin_spans

DEFAULT_MAX_CHARS = 120
Span = tuple[int, int]
DEFAULT_MIN_CHARS = 10

# A full stop ends a sentence before whitespace, except after a one-letter token (e.g., U.S., J.).
_STRONG = re.compile(r"[。！？!?；;…]+[”’」』）)】》\"']*|(?<![\s.][A-Za-z])\.(?=\s|$)[”’」』）)】》\"']*|\n+")
_WEAK = re.compile(r"[，,、：:—–]+[”’」』）)】》\"']*")
_ATOMS = re.compile(
    r"[¥￥$€£]?[-−]?\d(?:[\d,.:：/\-]*\d)?[%‰℃]?"  # numbers, dates, times, money
    r"|[A-Za-z][A-Za-z0-9'\-]*(?:\.[A-Za-z0-9]+)*"  # Latin words, v1.2
)


@dataclass(frozen=True)
class Segment:
    """One piece of the source text: ``text == source[start:end]``."""

    text: str
    start: int
    end: int


def split_text(
    text: str,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    min_chars: int = DEFAULT_MIN_CHARS,
    dictionary: PronunciationDictionary | None = None,
    terms: Iterable[str] = (),
) -> list[Segment]:
    """Split ``text`` into segments of at most ``max_chars`` characters (see the module docstring).

    ``dictionary`` (all its words) and ``terms`` are kept whole. Whitespace
    between segments belongs to none of them.
    """
    if max_chars < 1 or min_chars < 0:
        raise InputError(
            zh=f"分段长度无效：最长 {max_chars}、最短 {min_chars} 个字符；最长至少为 1。",
            en=f"Invalid segment lengths: max {max_chars}, min {min_chars} characters; max must be at least 1.",
        )
    protected = _protected_spans(text, dictionary, terms)
    starts = [s for s, _ in protected]

    def inside(pos: int) -> Span | None:
        k = bisect_right(starts, pos - 1) - 1
        if k >= 0 and protected[k][0] < pos < protected[k][1]:
            return protected[k]
        return None

    pieces: list[Span] = []
    last = 0
    for match in _STRONG.finditer(text):
        if inside(match.end()) is None:
            pieces.extend(_cut_long(text, last, match.end(), max_chars, inside))
            last = match.end()
    pieces.extend(_cut_long(text, last, len(text), max_chars, inside))
    return [Segment(text[a:b], a, b) for a, b in _merge_short(pieces, max_chars, min_chars)]


def _protected_spans(text: str, dictionary: PronunciationDictionary | None, terms: Iterable[str]) -> list[Span]:
    spans = pin_spans(text)
    spans += [m.span() for m in _ATOMS.finditer(text) if m.end() - m.start() > 1]
    spans += [m.span() for m in PAUSE_TAG.finditer(text)]
    words = {t for t in terms if t}
    if dictionary is not None:
        words.update(rule.word for rule in dictionary.rules)
    if words:
        alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        spans += [m.span() for m in re.finditer(alternation, text)]
    spans.sort()
    merged: list[Span] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _cut_long(text: str, start: int, end: int, max_chars: int, inside: Callable[[int], Span | None]) -> list[Span]:
    """Trimmed pieces of ``text[start:end]``, each at most ``max_chars`` unless a protected span forbids."""
    out = []
    start, end = _trim(text, start, end)
    while end - start > max_chars:
        limit = start + max_chars
        cut = None
        for match in _WEAK.finditer(text, start, limit):
            if match.end() <= limit and inside(match.end()) is None:
                cut = match.end()
        if cut is None:
            cut = limit
            span = inside(cut)
            if span is not None:
                cut = span[0] if span[0] > start else span[1]
        piece = _trim(text, start, cut)
        if piece[1] > piece[0]:
            out.append(piece)
        start, end = _trim(text, cut, end)
    if end > start:
        out.append((start, end))
    return out


def _merge_short(pieces: list[Span], max_chars: int, min_chars: int) -> list[Span]:
    merged: list[Span] = []
    for start, end in pieces:
        if merged:
            prev_start, prev_end = merged[-1]
            short = (prev_end - prev_start) < min_chars or (end - start) < min_chars
            if short and end - prev_start <= max_chars:
                merged[-1] = (prev_start, end)
                continue
        merged.append((start, end))
    return merged
