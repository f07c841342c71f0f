"""Word and character times of the intended text, from a recogniser's word timestamps.

The recogniser's words are split into units (characters) with an even share of
their word's time, aligned to the intended text's units (:func:`studio.takecheck.align`,
homophones of the intended reading matching), and each intended unit takes the
time of the heard unit it is paired with. Units the recogniser missed or misheard
share the time between their timed neighbours evenly (the clip's start and end
bound the first and last). Times never go backwards.

The result is in the *intended* text: captions show what was meant to be said,
timed by what was heard. Chinese is timed per character, Latin scripts per word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .takecheck import Unit, align, prepared_units, same_sound, transcript_units

_LATIN = re.compile(r"[0-9a-z\u00c0-\u024f\u0400-\u04ff]")


@dataclass(frozen=True)
class TimedWord:
    """One caption word: the text shown (with its trailing punctuation) and its times in seconds."""

    text: str
    start: float
    end: float


def unit_times(intended: list[Unit], heard: list[Unit], duration: float) -> list[tuple[float, float]]:
    """(start, end) for each intended unit: matched ones from the heard times, the others interpolated."""
    times: list[tuple[float, float] | None] = [None] * len(intended)
    for a, b in align(intended, heard):
        if a is not None and b is not None and same_sound(intended[a], heard[b].char):
            times[a] = (heard[b].start, heard[b].end)
    if not any(times):  # nothing matched: misheard substitutions still carry usable times
        for a, b in align(intended, heard):
            if a is not None and b is not None:
                times[a] = (heard[b].start, heard[b].end)
    out: list[tuple[float, float]] = []
    k = 0
    floor = 0.0
    while k < len(intended):
        if times[k] is not None:
            start = min(max(times[k][0], floor), duration)
            end = min(max(times[k][1], start), duration)
            out.append((start, end))
            floor = end
            k += 1
            continue
        gap_end = next((j for j in range(k, len(intended)) if times[j] is not None), len(intended))
        right = times[gap_end][0] if gap_end < len(intended) else duration
        right = min(max(right, floor), duration)
        step = (right - floor) / (gap_end - k)
        for n in range(gap_end - k):
            out.append((floor + n * step, floor + (n + 1) * step))
        floor = right
        k = gap_end
    return [(round(s, 3), round(e, 3)) for s, e in out]


def words_of(display_text: str, intended: list[Unit], times: list[tuple[float, float]]) -> list[TimedWord]:
    """Group timed units into caption words: one per CJK character, one per run of Latin letters/digits.

    Each word's text runs from its first character up to the next word's first character in
    ``display_text`` (so punctuation and spaces stay with the word before them); pause tags are left out.
    """
    from .text.pauses import PAUSE_TAG

    groups: list[list[int]] = []
    for k, unit in enumerate(intended):
        joined = (
            groups
            and _LATIN.match(unit.char)
            and _LATIN.match(intended[groups[-1][-1]].char)
            and unit.position == intended[groups[-1][-1]].position + 1
        )
        if joined:
            groups[-1].append(k)
        else:
            groups.append([k])
    words = []
    for g, group in enumerate(groups):
        first = intended[group[0]].position
        stop = intended[groups[g + 1][0]].position if g + 1 < len(groups) else len(display_text)
        text = PAUSE_TAG.sub("", display_text[first:stop])
        text = text if g + 1 < len(groups) else text.rstrip()
        words.append(TimedWord(text, times[group[0]][0], times[group[-1]][1]))
    return words


def timed_words(text: str, transcript, duration: float | None = None) -> list[TimedWord]:
    """The words of ``text`` (as the model was given it) timed by ``transcript`` of its audio."""
    display, intended = prepared_units(text)
    duration = transcript.duration if duration is None else duration
    times = unit_times(intended, transcript_units(transcript), duration)
    return words_of(display, intended, times)
