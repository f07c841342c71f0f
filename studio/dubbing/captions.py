"""Subtitles from the assembled track: SRT, WebVTT and Remotion caption JSON.

Line cues take their times from the audio itself: the first and last sound
of each line's fitted clip in the track (5 ms frames), so they match what is
heard. Sentence cues split a line at its sentence ends (``split_text``); the
boundaries are *estimated*: placed in proportion to each sentence's expected
speaking time (CJK characters, Latin letters and pauses weighted as the
generator's length budget weighs them), then snapped to the middle of the
nearest real pause (a stretch of silence of at least 0.12 s) within 0.5 s,
when there is one. There is no recogniser behind them, so Remotion's
``confidence`` is ``null``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np

from ..text import parse_pins, split_text
from ..text.pauses import strip_pauses
from .project import Project
from .scripts import format_timestamp
from .timeline import Track

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_WORDISH = re.compile(r"[A-Za-z0-9\u00c0-\u024f\u0400-\u04ff]")
_PAUSE = re.compile(r"[,.;:!?，。；：！？、…—]")
_SNAP_S = 0.5
_MIN_PAUSE_S = 0.12
_FRAME_S = 0.01
_SILENCE_DB = -40.0


@dataclass(frozen=True)
class Cue:
    """One caption."""

    start_s: float
    end_s: float
    text: str
    line_id: str = ""


def caption_text(text: str) -> str:
    """What a caption shows: the line without pinned-reading annotations or speaker tags."""
    text = strip_pauses(text)
    try:
        return parse_pins(text).text.strip()
    except Exception:  # a bad pin is reported when the line is generated; the caption shows it as written
        return text.strip()


def line_cues(project: Project, track: Track) -> list[Cue]:
    """One cue per line that has audio, from its first to its last sound."""
    cues = []
    for p in track.placements:
        if p.line_id in track.clips and p.voiced_end_s > p.voiced_start_s:
            text = caption_text(project.lines[p.index].text)
            cues.append(Cue(p.voiced_start_s, p.voiced_end_s, text, p.line_id))
    return cues


def speaking_weight(text: str) -> float:
    """Expected speaking time of ``text`` in arbitrary units (CJK 0.5, Latin 0.15, pause 0.6 each)."""
    return 0.5 * len(_CJK.findall(text)) + 0.15 * len(_WORDISH.findall(text)) + 0.6 * len(_PAUSE.findall(text))


def pauses(samples: np.ndarray, sr: int) -> list[tuple[float, float]]:
    """Silent stretches (start, end) in seconds inside ``samples``, at least 0.12 s long."""
    hop = max(1, int(sr * _FRAME_S))
    frames = len(samples) // hop
    if frames == 0:
        return []
    power = np.mean(samples[: frames * hop].reshape(frames, hop).astype(np.float64) ** 2, axis=1)
    db = 10 * np.log10(power + 1e-12)
    silent = db <= db.max() + _SILENCE_DB
    found, start = [], None
    for i, quiet in enumerate([*silent, False]):
        if quiet and start is None:
            start = i
        elif not quiet and start is not None:
            if start > 0 and i < frames and (i - start) * _FRAME_S >= _MIN_PAUSE_S:
                found.append((start * hop / sr, i * hop / sr))
            start = None
    return found


def sentence_cues(project: Project, track: Track) -> list[Cue]:
    """Cues per sentence inside each line (see the module docstring for how boundaries are found)."""
    cues = []
    for line_cue in line_cues(project, track):
        p = next(p for p in track.placements if p.line_id == line_cue.line_id)
        sentences = [s.text for s in split_text(line_cue.text, max_chars=60, min_chars=1)] or [line_cue.text]
        if len(sentences) == 1:
            cues.append(line_cue)
            continue
        gaps = [(p.start_s + a, p.start_s + b) for a, b in pauses(track.clips[p.line_id], track.sr)]
        weights = np.array([max(speaking_weight(s), 0.1) for s in sentences])
        span = line_cue.end_s - line_cue.start_s
        estimates = line_cue.start_s + span * np.cumsum(weights)[:-1] / weights.sum()
        edges = [(line_cue.start_s, line_cue.start_s)]
        for guess in estimates:
            near = [g for g in gaps if abs((g[0] + g[1]) / 2 - guess) <= _SNAP_S and g[0] >= edges[-1][1]]
            edge = min(near, key=lambda g: abs((g[0] + g[1]) / 2 - guess)) if near else (guess, guess)
            edges.append((max(edge[0], edges[-1][1]), max(edge[1], edges[-1][1])))
        edges.append((line_cue.end_s, line_cue.end_s))
        for i, text in enumerate(sentences):
            cues.append(Cue(edges[i][1], edges[i + 1][0], text, line_cue.line_id))
    return cues


def to_srt(cues: list[Cue]) -> str:
    """SubRip text."""
    blocks = [
        f"{i}\n{format_timestamp(c.start_s)} --> {format_timestamp(c.end_s)}\n{c.text}"
        for i, c in enumerate(cues, start=1)
    ]
    return "\n\n".join(blocks) + "\n"


def to_vtt(cues: list[Cue]) -> str:
    """WebVTT text."""
    blocks = ["WEBVTT"] + [
        f"{format_timestamp(c.start_s, '.')} --> {format_timestamp(c.end_s, '.')}\n{c.text}" for c in cues
    ]
    return "\n\n".join(blocks) + "\n"


def to_remotion(cues: list[Cue]) -> list[dict]:
    """Remotion's ``Caption[]``: ``{text, startMs, endMs, timestampMs, confidence}`` (timestamp = middle)."""
    return [
        {
            "text": c.text,
            "startMs": round(c.start_s * 1000),
            "endMs": round(c.end_s * 1000),
            "timestampMs": round((c.start_s + c.end_s) * 500),
            "confidence": None,
        }
        for c in cues
    ]


def remotion_json(cues: list[Cue]) -> str:
    """:func:`to_remotion` as JSON text."""
    return json.dumps(to_remotion(cues), ensure_ascii=False, indent=2) + "\n"
