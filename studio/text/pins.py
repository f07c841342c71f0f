"""Inline pinned readings (``行(háng)``, ``行(hang2)``, ``行（hang2）``) and span edits.

A pin is one Chinese character followed directly by a parenthesised pinyin
syllable in lower case with a tone digit (1-4, 5 = neutral tone) or a tone
mark. Parentheses that do not look like pinyin (``(AI)``, ``(mp4)``) are plain
text; to keep something that does look like pinyin as plain text, put a space
before the parenthesis.

Later steps (dictionary aliases, number normalisation, stripping emoji) edit
the text; :func:`apply_edits` applies such edits and keeps every pin on its
character.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field

from studio.errors import TextError
from studio.text.syllables import SyllableError, char_readings, normalize_syllable, tone3_to_marks

_MARKS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_LETTERS = f"a-zü:{_MARKS}"
_HAN = re.compile(r"[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_PIN = re.compile(
    r"(?P<char>[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f])"
    rf"[(（]\s*(?P<syl>[{_LETTERS}]*[aeiouüv{_MARKS}][{_LETTERS}]*[0-9]?)\s*[)）]"
)


@dataclass
class PinnedText:
    """Text without pin annotations, plus the pins attached to its characters.

    ``pins`` maps a character index in ``text`` to a tone3 reading; ``sources``
    says where each pin came from: "pinned" (written inline by the user) or
    "dictionary" (a pronunciation-dictionary rule). ``origin`` maps every index
    of ``text`` (and ``len(text)``) to its offset in the text first parsed, so
    spans can be shown in what the user wrote; characters inserted by an edit
    map to the start of the span they replaced.
    """

    text: str
    pins: dict[int, str] = field(default_factory=dict)
    sources: dict[int, str] = field(default_factory=dict)
    origin: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.origin:
            self.origin = list(range(len(self.text) + 1))

    def render(self) -> str:
        """The text with every pin written inline again as ``X(tone3)``."""
        parts: list[str] = []
        last = 0
        for index in sorted(self.pins):
            parts.append(self.text[last : index + 1])
            parts.append(f"({self.pins[index]})")
            last = index + 1
        parts.append(self.text[last:])
        return "".join(parts)


def _has_tone(raw: str) -> bool:
    return raw[-1].isdigit() or any(c in _MARKS for c in raw)


def parse_pins(text: str, *, source: str = "pinned") -> PinnedText:
    """Strip inline pins from ``text``; return the clean text and the pins.

    Raises :class:`TextError` for a pin whose syllable is not valid pinyin,
    naming its character position in ``text`` (``details["position"]`` is the
    0-based index of the pinned character).
    """
    pins: dict[int, str] = {}
    parts: list[str] = []
    origin: list[int] = []
    last = 0
    removed = 0
    for match in _PIN.finditer(text):
        raw = match.group("syl")
        if not _has_tone(raw):
            continue
        char, pos = match.group("char"), match.start()
        try:
            tone3 = normalize_syllable(raw)
        except SyllableError as exc:
            raise TextError(
                zh=(
                    f"第 {pos + 1} 个字符“{char}”的注音“{raw}”无效：{exc.zh}。"
                    f"请写成 {char}(háng) 或 {char}(hang2) 这样的带调拼音，轻声写 5；"
                    "如果括号里不是注音，请在括号前加一个空格。"
                ),
                en=(
                    f"The reading '{raw}' of '{char}' at character {pos + 1} (index {pos}) is not valid: {exc}. "
                    f"Write a toned syllable such as {char}(háng) or {char}(hang2), 5 for the neutral tone; "
                    "if the parentheses are not a reading, put a space before them."
                ),
                position=pos,
                syllable=raw,
            ) from exc
        parts.append(text[last : pos + 1])
        origin.extend(range(last, pos + 1))
        pins[pos - removed] = tone3
        removed += match.end() - pos - 1
        last = match.end()
    parts.append(text[last:])
    origin.extend(range(last, len(text) + 1))
    return PinnedText("".join(parts), pins, dict.fromkeys(pins, source), origin)


def toneless_pins(text: str) -> list[tuple[int, str]]:
    """``X(letters)`` spans that look like a pin without a tone (left as text): (index in ``text``, letters)."""
    out = []
    for match in _PIN.finditer(text):
        raw = match.group("syl")
        if not _has_tone(raw):
            try:
                normalize_syllable(raw)
            except SyllableError as exc:
                if "no tone" not in str(exc):
                    continue
            out.append((match.start(), raw))
    return out


def unexpected_pins(pinned: PinnedText) -> list[tuple[int, str, tuple[str, ...]]]:
    """Pins whose reading is not one the dictionary lists for the character: (index, tone3, known readings)."""
    out = []
    for index, tone3 in sorted(pinned.pins.items()):
        known = char_readings(pinned.text[index])
        if known and tone3 not in known:
            out.append((index, tone3, known))
    return out


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` by ``new``; ``pins`` are readings inside ``new`` (relative index -> tone3).

    An edit that keeps the text (``new == text[start:end]``) only adds pins; it
    may cover characters the user pinned, whose pins win.
    """

    start: int
    end: int
    new: str
    pins: dict[int, str] = field(default_factory=dict)
    source: str = "dictionary"


def apply_edits(pinned: PinnedText, edits: Iterable[Edit]) -> tuple[PinnedText, list[Edit]]:
    """Apply non-overlapping edits to ``pinned``, moving its pins along.

    An edit that overlaps an earlier one, or replaces text that holds a pinned
    character, is skipped (a pin the user wrote wins). Returns the new text and
    the edits that were applied, in order.
    """
    text = pinned.text
    pinned_at = sorted(pinned.pins)
    pins: dict[int, str] = {}
    sources: dict[int, str] = {}
    origin: list[int] = []
    applied: list[Edit] = []
    parts: list[str] = []
    last = shift = 0

    def keep(start: int, end: int) -> None:
        parts.append(text[start:end])
        origin.extend(pinned.origin[start:end])
        for k in range(bisect_left(pinned_at, start), bisect_left(pinned_at, end)):
            old = pinned_at[k]
            pins[old + shift] = pinned.pins[old]
            sources[old + shift] = pinned.sources.get(old, "pinned")

    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        j = bisect_left(pinned_at, edit.start)
        covers_pin = j < len(pinned_at) and pinned_at[j] < edit.end
        same_text = edit.new == text[edit.start : edit.end]
        if edit.start < last or (covers_pin and not same_text):
            continue
        keep(last, edit.start)
        if same_text:
            keep(edit.start, edit.end)
        else:
            parts.append(edit.new)
            origin.extend([pinned.origin[edit.start]] * len(edit.new))
        base = edit.start + shift
        for rel, tone3 in edit.pins.items():
            if base + rel not in pins:
                pins[base + rel] = tone3
                sources[base + rel] = edit.source
        shift += len(edit.new) - (edit.end - edit.start)
        last = edit.end
        applied.append(edit)
    keep(last, len(text))
    origin.append(pinned.origin[len(text)])
    return PinnedText("".join(parts), pins, sources, origin), applied


def pin_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every ``X(letters)`` that is or looks like a pin, character included."""
    return [m.span() for m in _PIN.finditer(text)]


def set_pin(text: str, position: int, reading: str | None) -> str:
    """``text`` with the character at ``position`` pinned to ``reading`` (tone marks or digits).

    An existing pin on that character is replaced; ``reading`` None or empty
    removes it. For the readings editor: a click picks a character, a choice
    pins it.
    """
    if not 0 <= position < len(text):
        raise TextError(
            zh=f"位置 {position} 超出文本范围（共 {len(text)} 个字符）。",
            en=f"Position {position} is outside the text ({len(text)} characters).",
        )
    if not _HAN.fullmatch(text[position]):
        raise TextError(
            zh=f"第 {position + 1} 个字符“{text[position]}”不是汉字，不能标注读音。",
            en=f"Character {position + 1} ('{text[position]}') is not a Chinese character; only those take a reading.",
        )
    end = position + 1
    match = _PIN.match(text, position)
    if match is not None:
        end = match.end()
    char = text[position]
    if not reading:
        return text[:position] + char + text[end:]
    try:
        syllable = normalize_syllable(reading.strip())
    except SyllableError as exc:
        raise TextError(zh=f"读音“{reading}”无效：{exc.zh}", en=f"Invalid reading '{reading}': {exc}") from exc
    return f"{text[:position]}{char}({tone3_to_marks(syllable)}){text[end:]}"
