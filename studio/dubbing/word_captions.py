"""Word-level captions of the assembled track: karaoke ASS, word SRT/WebVTT and Remotion JSON.

Each line's fitted clip (as it sits in the track) is transcribed with word
timestamps and the times are carried onto the line's *intended* text
(:mod:`studio.wordtimes`): the captions show what was written, timed by what
is heard. Chinese is timed per character, Latin scripts per word. Needs the
recogniser (see :mod:`.listening`); without it only line and sentence captions
are written.
"""

from __future__ import annotations

from collections.abc import Callable

from ..wordtimes import TimedWord, timed_words
from .captions import Cue
from .project import Project
from .timeline import Track
from .voicing import spoken_text

KINDS = ("words.srt", "words.vtt", "words.json", "karaoke.ass")


def line_words(project: Project, track: Track, transcribe: Callable) -> list[tuple[str, list[TimedWord]]]:
    """(line id, its words timed on the track) for each line with audio, in track order."""
    found = []
    for p in sorted(track.placements, key=lambda p: p.start_s):
        clip = track.clips.get(p.line_id)
        if clip is None or not len(clip):
            continue
        text = spoken_text(project.lines[p.index])
        transcript = transcribe(clip, track.sr, text)
        words = timed_words(text, transcript, len(clip) / track.sr)
        found.append((p.line_id, [TimedWord(w.text, p.start_s + w.start, p.start_s + w.end) for w in words]))
    return found


def word_cues(timed: list[tuple[str, list[TimedWord]]]) -> list[Cue]:
    """One cue per word (captions tools call this word-level SRT); empty words are left out."""
    return [
        Cue(round(w.start, 3), round(max(w.end, w.start + 0.001), 3), w.text.strip(), line_id)
        for line_id, words in timed
        for w in words
        if w.text.strip()
    ]


def remotion_words(timed: list[tuple[str, list[TimedWord]]]) -> list[dict]:
    """Remotion ``Caption[]`` per word; a word after a space starts with that space (as Remotion expects)."""
    items = []
    for _, words in timed:
        spaced = False
        for w in words:
            text = w.text.rstrip()
            if text.strip():
                items.append(
                    {
                        "text": (" " if spaced else "") + text.strip(),
                        "startMs": round(w.start * 1000),
                        "endMs": round(max(w.end, w.start) * 1000),
                        "timestampMs": round((w.start + w.end) * 500),
                        "confidence": None,
                    }
                )
            spaced = w.text != w.text.rstrip() or not text.strip()
    return items


def _ass_time(seconds: float) -> str:
    cs = max(0, round(seconds * 100))
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def _ass_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("{", "(").replace("}", ")").replace("\n", "\\N")


_ASS_HEADER = """[Script Info]
ScriptType: v4.00+
PlayResX: 1920
PlayResY: 1080
WrapStyle: 0
ScaledBorderAndShadow: yes

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, \
Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, \
MarginV, Encoding
Style: Default,Noto Sans CJK SC,64,&H0000FFFF,&H00FFFFFF,&H00000000,&H80000000,0,0,0,0,100,100,0,0,1,3,1,2,60,60,60,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
"""


def to_ass(timed: list[tuple[str, list[TimedWord]]]) -> str:
    """Karaoke ASS: one event per line, each word preceded by ``{\\kN}`` (its length in centiseconds).

    A word lasts from its start to the next word's start, so the highlight moves without gaps; the
    event starts at the first word and ends at the last word's end.
    """
    events = []
    for _, words in timed:
        words = [w for w in words if w.text.strip()]
        if not words:
            continue
        start, end = words[0].start, max(words[-1].end, words[-1].start)
        parts, at = [], round(start * 100)
        for k, w in enumerate(words):
            stop = round((words[k + 1].start if k + 1 < len(words) else end) * 100)
            parts.append(f"{{\\k{max(0, stop - at)}}}{_ass_text(w.text)}")
            at = max(at, stop)
        events.append(f"Dialogue: 0,{_ass_time(start)},{_ass_time(end)},Default,,0,0,0,,{''.join(parts).rstrip()}")
    return _ASS_HEADER + "\n".join(events) + "\n"
