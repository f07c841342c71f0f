"""Assemble one track from the lines' takes.

Timed mode (every line has a start and end, e.g. from SRT cues): each line is
fitted into its slot with :func:`~studio.timing.fit_to_duration` (to the
sample), silence fills the rest, and no two lines ever overlap. A line whose
slot needs a stretch outside ``1/max_stretch .. max_stretch`` is flagged with
a suggested fix; with ``allow_overlap`` a line too long for its slot first
runs into the silence before the next cue. A line that cannot be squeezed in
even at the hardest stretch is cut at the slot's end (with a fade) and flagged.

Scene mode (no times): lines follow each other with ``gap_s`` of silence; a
line with a target ``duration`` is fitted to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..export import fade_edges
from ..silence import around_silences, exact_silences, held_seconds
from ..timing import achievable_range, fit_to_duration, trim_edges
from .project import Project, line_label

#: Frame and threshold of :func:`voiced_bounds` (relative to the clip's loudest frame).
_BOUND_FRAME_S = 0.005
_BOUND_DB = -45.0


@dataclass
class Placement:
    """Where one line sits in the track and how it was fitted."""

    line_id: str
    index: int
    scene: str
    start_s: float  #: slot start in the track
    end_s: float  #: slot end in the track (the fitted clip ends here)
    natural_s: float  #: length of the take as generated (0 when the line has no audio)
    stretch: float  #: slot length / natural length, as needed (1.0 when not fitted)
    status: str  #: ok | overlap | stretch | cut | short | missing
    voiced_start_s: float = 0.0  #: first and last sound in the track (for captions)
    voiced_end_s: float = 0.0
    suggestion_zh: str = ""
    suggestion_en: str = ""

    @property
    def flagged(self) -> bool:
        """Whether the line needed more than the allowed stretch (or was cut, or has no audio)."""
        return self.status in ("stretch", "cut", "short", "missing")

    def suggestion(self, lang: str = "zh") -> str:
        """The suggested fix in ``lang``."""
        return self.suggestion_zh if lang.startswith("zh") else self.suggestion_en


@dataclass
class Track:
    """The assembled voice-over."""

    samples: np.ndarray
    sr: int
    mode: str  #: timed | scene
    placements: list[Placement]
    clips: dict[str, np.ndarray]  #: each line's fitted audio, by line id

    @property
    def seconds(self) -> float:
        """Total length."""
        return len(self.samples) / self.sr

    @property
    def flagged(self) -> list[Placement]:
        """Lines over (or far under) their slot."""
        return [p for p in self.placements if p.flagged]


def voiced_bounds(samples: np.ndarray, sr: int) -> tuple[float, float]:
    """(first, last) second of sound in ``samples``, to 5 ms; (0, 0) for silence."""
    hop = max(1, int(sr * _BOUND_FRAME_S))
    frames = len(samples) // hop
    if frames == 0 or not np.any(samples):
        return 0.0, 0.0
    power = np.mean(samples[: frames * hop].reshape(frames, hop).astype(np.float64) ** 2, axis=1)
    db = 10 * np.log10(power + 1e-12)
    loud = np.flatnonzero(db > db.max() + _BOUND_DB)
    return float(loud[0] * hop / sr), float(min(len(samples), (loud[-1] + 1) * hop) / sr)


def mode_of(project: Project) -> str:
    """'timed' when every line has a slot, 'scene' when none has; a mix is refused naming a line."""
    timed = [line.timed for line in project.lines]
    if all(timed) and timed:
        return "timed"
    if not any(timed):
        return "scene"
    i = timed.index(False)
    zh, en = line_label(i, project.lines[i])
    raise InputError(
        zh=f"{zh}没有开始和结束时间，而其他台词有。请给所有台词都填时间（字幕模式），或全部清空（场景模式）。",
        en=f"{en} has no start and end time while other lines do. Time every line (subtitle mode) or none (scene mode).",
    )


def check_slots(project: Project) -> None:
    """Refuse slots that overlap or go backwards, naming both lines."""
    for i in range(1, len(project.lines)):
        before, line = project.lines[i - 1], project.lines[i]
        if line.start < before.end - 1e-6:
            zh, en = line_label(i, line)
            pzh, pen = line_label(i - 1, before)
            raise InputError(
                zh=f"{zh}（{line.start:.3f} 秒开始）与{pzh}（{before.end:.3f} 秒结束）重叠或顺序颠倒。",
                en=f"{en} (starts at {line.start:.3f} s) overlaps or comes before {pen} (ends at {before.end:.3f} s).",
            )


def assemble(project: Project, audio: dict[str, np.ndarray], sr: int) -> Track:
    """Place every line's take (``audio`` by line id, natural length) on one track."""
    mode = mode_of(project)
    if mode == "timed":
        check_slots(project)
        return _assemble_timed(project, audio, sr)
    return _assemble_scenes(project, audio, sr)


def _limits(max_stretch: float) -> tuple[float, float]:
    if not 1.0 <= max_stretch <= 2.0:
        raise InputError(
            zh=f"允许的伸缩倍数必须在 1 到 2 之间（收到 {max_stretch}）。",
            en=f"The allowed stretch must be between 1 and 2 (got {max_stretch}).",
        )
    return 1 / max_stretch, max_stretch


def _fit(samples: np.ndarray, sr: int, target_s: float) -> tuple[np.ndarray, bool]:
    """Fit to ``target_s`` exactly: beyond the hardest squeeze cut with a fade, beyond the longest
    stretch pad with silence. Written pauses (exact silence) keep their length: only the speech is
    fitted, to the target minus the pauses. Returns (audio, was_cut)."""
    gaps = exact_silences(samples, sr)
    held = sum(b - a for a, b in gaps) / sr
    if gaps and target_s - held > 0.05:
        cut: list[bool] = []

        def fit(speech: np.ndarray) -> np.ndarray:
            fitted, was_cut = _fit_speech(speech, sr, target_s - held)
            cut.append(was_cut)
            return fitted

        out = around_silences(samples, sr, fit, gaps)
        target_n = max(1, round(target_s * sr))
        return np.pad(out, (0, max(0, target_n - len(out))))[:target_n], bool(cut and cut[0])
    return _fit_speech(samples, sr, target_s)


def _fit_speech(samples: np.ndarray, sr: int, target_s: float) -> tuple[np.ndarray, bool]:
    target_n = max(1, round(target_s * sr))
    low, high = achievable_range(trim_edges(samples, sr), sr, len(samples) / sr)
    if target_s < low:
        squeezed, _ = fit_to_duration(samples, sr, low)
        return fade_edges(squeezed[:target_n], sr, ms=30.0), True
    fitted, _ = fit_to_duration(samples, sr, min(target_s, high))
    return np.pad(fitted, (0, max(0, target_n - len(fitted))))[:target_n], False


def _suggest(kind: str, natural_s: float, slot_s: float, room_s: float, lo: float, hi: float) -> tuple[str, str]:
    if kind == "long":
        excess = natural_s * lo - slot_s
        percent = round(100 * excess / max(natural_s * lo, 1e-9))
        zh = f"比时间段长 {excess:.2f} 秒：把文本删短约 {percent}%，或把时间段加宽 {excess:.2f} 秒"
        en = f"{excess:.2f} s longer than its slot: shorten the text by about {percent}%, or widen the slot by {excess:.2f} s"
        if room_s > 0.05:
            zh += f"，或允许延伸到后面 {room_s:.2f} 秒的空白"
            en += f", or allow overlap into the following {room_s:.2f} s gap"
        return zh + "。", en + "."
    missing = slot_s - natural_s * hi
    return (
        f"比时间段短 {missing:.2f} 秒：增加一些文字，或把时间段缩短 {missing:.2f} 秒。",
        f"{missing:.2f} s shorter than its slot: add some words, or narrow the slot by {missing:.2f} s.",
    )


def _assemble_timed(project: Project, audio: dict[str, np.ndarray], sr: int) -> Track:
    lo, hi = _limits(project.settings.max_stretch)
    lines = project.lines
    total_n = round(lines[-1].end * sr)
    placements, clips = [], {}
    for i, line in enumerate(lines):
        next_start = lines[i + 1].start if i + 1 < len(lines) else None
        room = (next_start - line.end) if next_start is not None else 0.0
        slot_s = line.end - line.start
        samples = audio.get(line.id)
        if samples is None or len(samples) == 0:
            placements.append(_missing(i, line, line.start, line.end))
            continue
        natural_s = len(samples) / sr
        held = held_seconds(samples, sr)  # written pauses are not stretched
        stretch = (slot_s - held) / max(natural_s - held, 1e-3)
        status, end_s = "ok", line.end
        zh = en = ""
        if stretch < lo:
            wanted = natural_s * lo
            if project.settings.allow_overlap and room > 0:
                end_s = line.start + min(wanted, slot_s + room)
                status = "overlap"
            if (end_s - line.start) < wanted - 1e-6:
                status = "stretch"
                zh, en = _suggest("long", natural_s, end_s - line.start, 0.0 if end_s > line.end else room, lo, hi)
        elif stretch > hi:
            status = "short"
            zh, en = _suggest("short", natural_s, slot_s, room, lo, hi)
        fitted, cut = _fit(samples, sr, end_s - line.start)
        if cut:
            status = "cut"
        start_n = round(line.start * sr)
        fitted = fitted[: round(end_s * sr) - start_n]
        total_n = max(total_n, start_n + len(fitted))
        clips[line.id] = fitted
        placements.append(
            Placement(line.id, i, line.scene, line.start, end_s, natural_s, stretch, status, 0.0, 0.0, zh, en)
        )
    return _mix(project, placements, clips, sr, total_n, "timed")


def _missing(i: int, line, start_s: float, end_s: float) -> Placement:
    zh, en = "没有生成的音频：请先生成这一行。", "No audio generated: generate this line first."
    return Placement(line.id, i, line.scene, start_s, end_s, 0.0, 1.0, "missing", start_s, start_s, zh, en)


def _assemble_scenes(project: Project, audio: dict[str, np.ndarray], sr: int) -> Track:
    gap_s = project.settings.gap_s
    if not 0 <= gap_s <= 60:
        raise InputError(
            zh=f"台词间隔必须在 0 到 60 秒之间（收到 {gap_s}）。",
            en=f"The gap between lines must be between 0 and 60 s (got {gap_s}).",
        )
    lo, hi = _limits(project.settings.max_stretch)
    cursor_n = 0
    placements, clips = [], {}
    for i, line in enumerate(project.lines):
        samples = audio.get(line.id)
        start_s = cursor_n / sr
        if samples is None or len(samples) == 0:
            placements.append(_missing(i, line, start_s, start_s))
            continue
        natural_s = len(samples) / sr
        status, stretch, zh, en = "ok", 1.0, "", ""
        if line.duration is not None:
            held = held_seconds(samples, sr)
            stretch = (line.duration - held) / max(natural_s - held, 1e-3)
            if stretch < lo:
                status = "stretch"
                zh, en = _suggest("long", natural_s, line.duration, 0.0, lo, hi)
            elif stretch > hi:
                status = "short"
                zh, en = _suggest("short", natural_s, line.duration, 0.0, lo, hi)
            samples, cut = _fit(samples, sr, line.duration)
            status = "cut" if cut else status
        clips[line.id] = samples
        end_n = cursor_n + len(samples)
        placements.append(
            Placement(line.id, i, line.scene, start_s, end_n / sr, natural_s, stretch, status, 0.0, 0.0, zh, en)
        )
        cursor_n = end_n + round(gap_s * sr)
    total_n = max((round(p.end_s * sr) for p in placements), default=0)
    return _mix(project, placements, clips, sr, total_n, "scene")


def _mix(project, placements: list[Placement], clips: dict, sr: int, total_n: int, mode: str) -> Track:
    track = np.zeros(total_n, dtype=np.float32)
    for p in placements:
        clip = clips.get(p.line_id)
        if clip is None:
            continue
        start_n = round(p.start_s * sr)
        track[start_n : start_n + len(clip)] = clip
        first, last = voiced_bounds(clip, sr)
        p.voiced_start_s, p.voiced_end_s = p.start_s + first, p.start_s + last
    return Track(track, sr, mode, placements, clips)
