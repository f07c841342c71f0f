"""Exact duration: fit generated speech to a target length, pitch preserved.

Order of work, least audible first: trim edge silence, shorten or lengthen
long pauses between phrases, then a pitch-preserving PSOLA time-stretch
(Praat's overlap-add, chosen by measurement: see bench/stretch_methods.py),
and finally pad or cut a few samples of the trailing silence so the result
lasts the target to the sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .errors import InputError

MIN_TARGET_S = 0.3
MAX_TARGET_S = 600.0
#: Allowed stretch factors (final length / natural length).
MIN_STRETCH, MAX_STRETCH = 0.5, 2.0
#: Outside this range the result starts to sound unnatural; the user is warned.
NATURAL_STRETCH = (0.75, 1.33)
_FRAME_S = 0.01
_SILENCE_DB = -40.0  # relative to the clip's loudest frame
_KEEP_PAUSE_S = 0.12  # a pause is never shortened below this


@dataclass(frozen=True)
class FitReport:
    """How a clip was fitted to its target."""

    natural_s: float  #: length as generated
    target_s: float
    final_s: float
    stretch: float  #: factor applied by the time-stretch (1.0 = none)
    trimmed_s: float  #: edge silence removed
    pause_change_s: float  #: change made to pauses between phrases (negative = shortened)
    warning: str = ""  #: set when the stretch is outside the natural range

    def as_dict(self) -> dict:
        """Plain values for tables and JSON."""
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def resolve_target(natural_s: float, seconds: float | None = None, ratio: float | None = None) -> float | None:
    """The target length in seconds from an absolute ``seconds`` or a ``ratio`` of the natural length."""
    if seconds is None and ratio is None:
        return None
    if seconds is not None and ratio is not None:
        raise InputError(zh="目标时长和时长比例只能填一个。", en="Give either a target duration or a ratio, not both.")
    if ratio is not None:
        if not np.isfinite(ratio) or ratio <= 0:
            raise InputError(
                zh=f"时长比例必须是正数（收到 {ratio}）。", en=f"The duration ratio must be positive (got {ratio})."
            )
        if not MIN_STRETCH <= ratio <= MAX_STRETCH:
            raise InputError(
                zh=f"时长比例 {ratio} 超出允许范围 {MIN_STRETCH}-{MAX_STRETCH}。",
                en=f"The duration ratio {ratio} is outside the allowed range {MIN_STRETCH}-{MAX_STRETCH}.",
            )
        seconds = natural_s * ratio
    if not np.isfinite(seconds) or not MIN_TARGET_S <= seconds <= MAX_TARGET_S:
        raise InputError(
            zh=f"目标时长 {seconds} 秒无效：必须在 {MIN_TARGET_S} 秒到 {MAX_TARGET_S / 60:.0f} 分钟之间。",
            en=f"Target duration {seconds} s is invalid: it must be between {MIN_TARGET_S} s and {MAX_TARGET_S / 60:.0f} minutes.",
        )
    return float(seconds)


def _frame_levels(samples: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
    hop = max(1, int(sr * _FRAME_S))
    frames = len(samples) // hop
    if frames == 0:
        return np.array([-120.0]), hop
    power = np.mean(samples[: frames * hop].reshape(frames, hop) ** 2, axis=1)
    db = 10 * np.log10(power + 1e-12)
    return db - db.max(), hop


def trim_edges(samples: np.ndarray, sr: int, pad_s: float = 0.03) -> np.ndarray:
    """Remove leading and trailing silence, keeping ``pad_s`` around the speech."""
    levels, hop = _frame_levels(samples, sr)
    voiced = np.flatnonzero(levels > _SILENCE_DB)
    if voiced.size == 0:
        return samples
    pad = int(pad_s * sr)
    start = max(0, voiced[0] * hop - pad)
    end = min(len(samples), (voiced[-1] + 1) * hop + pad)
    return samples[start:end]


def _pauses(samples: np.ndarray, sr: int, min_pause_s: float = 0.2) -> list[tuple[int, int]]:
    """Internal silent stretches (start, end) in samples, at least ``min_pause_s`` long."""
    levels, hop = _frame_levels(samples, sr)
    silent = levels <= _SILENCE_DB
    pauses, start = [], None
    for i, quiet in enumerate(silent):
        if quiet and start is None:
            start = i
        elif not quiet and start is not None:
            if start > 0 and (i - start) * _FRAME_S >= min_pause_s:
                pauses.append((start * hop, i * hop))
            start = None
    return pauses


def adjust_pauses(samples: np.ndarray, sr: int, change_s: float) -> tuple[np.ndarray, float]:
    """Shorten (negative) or lengthen (positive) pauses between phrases by up to ``change_s`` in total.

    Each pause keeps at least 0.12 s and grows by at most half its length, so
    phrasing stays natural. Returns the new samples and the change achieved.
    """
    pauses = _pauses(samples, sr)
    if not pauses or change_s == 0:
        return samples, 0.0
    keep = int(_KEEP_PAUSE_S * sr)
    room = [(e - s - keep) if change_s < 0 else (e - s) // 2 for s, e in pauses]
    total_room = sum(max(r, 0) for r in room)
    wanted = min(int(abs(change_s) * sr), total_room)
    if wanted <= 0:
        return samples, 0.0
    pieces, cursor, done = [], 0, 0
    for (start, end), r in zip(pauses, room, strict=True):
        share = round(wanted * max(r, 0) / total_room) if total_room else 0
        share = min(share, wanted - done)
        middle = (start + end) // 2
        pieces.append(samples[cursor:middle])
        if change_s < 0:
            cursor = middle + share
        else:
            pieces.append(np.zeros(share, dtype=samples.dtype))
            cursor = middle
        done += share
    pieces.append(samples[cursor:])
    achieved = done / sr
    return np.concatenate(pieces), (-achieved if change_s < 0 else achieved)


def time_stretch(samples: np.ndarray, sr: int, factor: float) -> np.ndarray:
    """Make ``samples`` ``factor`` times longer, keeping pitch (Praat PSOLA overlap-add)."""
    if abs(factor - 1.0) < 1e-4:
        return samples
    import parselmouth

    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=sr)
    # Praat "Lengthen (overlap-add)": pitch range 75-600 Hz covers adult and child voices.
    stretched = parselmouth.praat.call(sound, "Lengthen (overlap-add)", 75, 600, float(factor))
    return stretched.values[0].astype(np.float32)


def achievable_range(trimmed: np.ndarray, sr: int, natural_s: float, adjust_pause: bool = True) -> tuple[float, float]:
    """Shortest and longest lengths (s) an edge-trimmed clip can be fitted to within the stretch limits.

    The longest also gives back the trimmed edge silence, stretched like the rest,
    so any ratio up to ``MAX_STRETCH`` of the natural length is reachable.
    """
    core = len(trimmed) / sr
    shrink = grow = 0.0
    if adjust_pause:
        pauses = _pauses(trimmed, sr)
        shrink = sum(max(e - s - int(_KEEP_PAUSE_S * sr), 0) for s, e in pauses) / sr
        grow = sum((e - s) // 2 for s, e in pauses) / sr
    return MIN_STRETCH * (core - shrink), MAX_STRETCH * (natural_s + grow)


def fit_to_duration(
    samples: np.ndarray, sr: int, target_s: float, adjust_pause: bool = True
) -> tuple[np.ndarray, FitReport]:
    """Fit ``samples`` to last exactly ``target_s`` seconds (to the sample).

    Raises :class:`InputError` naming the achievable range when the target
    needs more stretch than allowed.
    """
    natural_s = len(samples) / sr
    target_n = round(target_s * sr)
    trimmed = trim_edges(samples, sr)
    trimmed_s = natural_s - len(trimmed) / sr
    low, high = achievable_range(trimmed, sr, natural_s, adjust_pause)
    if not low <= target_s <= high:
        raise InputError(
            zh=f"无法把 {natural_s:.2f} 秒的语音调整到 {target_s:.2f} 秒：可调范围是 {low:.2f}-{high:.2f} 秒。"
            "请改目标时长，或修改文本长度。",
            en=f"Cannot fit {natural_s:.2f} s of speech into {target_s:.2f} s: the achievable range is "
            f"{low:.2f}-{high:.2f} s. Change the target or the text.",
        )
    core_s = len(trimmed) / sr
    work, pause_change = trimmed, 0.0
    if adjust_pause:
        work, pause_change = adjust_pauses(work, sr, target_s - core_s)
    factor = min(target_n / max(len(work), 1), MAX_STRETCH)  # beyond it, trailing silence makes up the rest
    stretched = time_stretch(work, sr, factor) if abs(factor - 1) > 0.002 else work
    if len(stretched) < target_n:
        stretched = np.concatenate([stretched, np.zeros(target_n - len(stretched), dtype=np.float32)])
    final = stretched[:target_n].astype(np.float32)
    warning = ""
    if not NATURAL_STRETCH[0] <= factor <= NATURAL_STRETCH[1]:
        warning = f"stretch {factor:.2f} is outside {NATURAL_STRETCH[0]}-{NATURAL_STRETCH[1]}: may sound unnatural"
    report = FitReport(
        natural_s=natural_s,
        target_s=target_s,
        final_s=len(final) / sr,
        stretch=factor,
        trimmed_s=trimmed_s,
        pause_change_s=pause_change,
        warning=warning,
    )
    return final, report


# -- before generating: what a text can possibly last -------------------------------------------------

#: Speaking-rate bounds no reading gets past: 10 syllables a second is faster than any newsreader, and the
#: slow side matches the generation cap (studio.synthesis.max_steps_for): 0.5 s a syllable, 0.6 s a pause.
_FASTEST_SYLLABLES_S = 10.0
_SLOWEST_SYLLABLE_S, _SLOWEST_PAUSE_S, _MARGIN_S = 0.5, 0.6, 2.0  # a letter: 0.5 / 3 >= the cap's 0.15 s
_LETTERS_PER_SYLLABLE = 3.0
_SYLLABIC = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_LETTERS = re.compile(r"[A-Za-z0-9\u00c0-\u024f\u0400-\u04ff]")
_PAUSES = re.compile(r"[,.;:!?，。；：！？、…—\n]")
_SENTENCE_ENDS = re.compile(r"[.!?。！？…\n]+")


def text_length_range(text: str) -> tuple[float, float]:
    """Shortest and longest (s) any take of ``text`` can be fitted to, estimated from the text alone.

    Generous on both sides, so only targets that can never be met are caught: the
    fastest reading (10 syllables a second, 3 letters a syllable) squeezed by
    ``MIN_STRETCH``, and the longest take the generation cap allows (a margin per
    sentence, the cap's per-syllable and per-pause budget) with its pauses
    lengthened by half, stretched by ``MAX_STRETCH``.
    """
    syllabic, letters = len(_SYLLABIC.findall(text)), len(_LETTERS.findall(text))
    sentences = max(1, len([s for s in _SENTENCE_ENDS.split(text) if s.strip()]))
    shortest = MIN_STRETCH * (syllabic + letters / _LETTERS_PER_SYLLABLE) / _FASTEST_SYLLABLES_S
    longest = _MARGIN_S * sentences + _SLOWEST_SYLLABLE_S * (syllabic + letters / _LETTERS_PER_SYLLABLE)
    longest += _SLOWEST_PAUSE_S * len(_PAUSES.findall(text))
    return shortest, MAX_STRETCH * 1.5 * longest


def check_target_reachable(text: str, target_s: float | None) -> None:
    """Refuse at once a target length ``text`` can never be fitted to (the exact check follows generation)."""
    if target_s is None:
        return
    low, high = text_length_range(text)
    if low <= target_s <= high:
        return
    preview = text if len(text) <= 24 else text[:23] + "…"
    raise InputError(
        zh=f"“{preview}”无法在 {target_s:.2f} 秒内读完：这段文字可调到的时长约为 {low:.2f}-{high:.0f} 秒"
        f"（语速上限与 {MIN_STRETCH}-{MAX_STRETCH} 倍伸缩）。请改目标时长，或修改文本长度。",
        en=f"'{preview}' cannot be read in {target_s:.2f} s: this text can be fitted to about {low:.2f}-{high:.0f} s "
        f"(speaking-rate limits and a {MIN_STRETCH}-{MAX_STRETCH}x stretch). Change the target or the text.",
        param="duration",
    )
