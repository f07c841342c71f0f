"""Exact silences (written pauses) kept out of stretching and polishing.

A pause tag (:mod:`studio.text.pauses`) becomes a run of exact zeros in the
audio. Model output never holds such a run, so the runs can be found again in a
saved take. Fitting to a duration stretches only the speech between them: the
target given to the stretch is the target minus the pauses, and each pause
comes back at its place, its length unchanged, still exact silence.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Runs of exact zeros at least this long are written pauses (or the studio's own gaps between segments).
MIN_HELD_S = 0.05

Gaps = list[tuple[int, int]]


def exact_silences(samples: np.ndarray, sr: int, min_s: float = MIN_HELD_S) -> Gaps:
    """(start, end) sample ranges of ``samples`` that are exactly zero for at least ``min_s``."""
    zero = np.concatenate(([False], np.asarray(samples).reshape(-1) == 0.0, [False]))
    edges = np.flatnonzero(zero[1:] != zero[:-1])
    starts, ends = edges[0::2], edges[1::2]
    keep = (ends - starts) >= max(1, round(min_s * sr))
    return [(int(a), int(b)) for a, b in zip(starts[keep], ends[keep], strict=True)]


def held_seconds(samples: np.ndarray, sr: int) -> float:
    """How many seconds of ``samples`` are written pauses (exact silence)."""
    return sum(b - a for a, b in exact_silences(samples, sr)) / sr


def around_silences(
    samples: np.ndarray, sr: int, process: Callable[[np.ndarray], np.ndarray], gaps: Gaps | None = None
) -> np.ndarray:
    """Apply ``process`` to the speech only (the silences cut out), then put each silence back in place.

    Speech boundaries move in proportion when ``process`` changes the length.
    """
    samples = np.asarray(samples).reshape(-1)
    gaps = exact_silences(samples, sr) if gaps is None else gaps
    if not gaps:
        return process(samples)
    pieces, at, cursor = [], [], 0
    for a, b in gaps:
        pieces.append(samples[cursor:a])
        cursor = b
        at.append(sum(len(p) for p in pieces))
    pieces.append(samples[cursor:])
    speech = np.concatenate(pieces)
    if speech.size == 0:
        return samples
    out = np.asarray(process(speech)).reshape(-1)
    scale = len(out) / len(speech)
    chunks, last = [], 0
    for (a, b), position in zip(gaps, at, strict=True):
        cut = min(len(out), round(position * scale))
        chunks += [out[last:cut], np.zeros(b - a, dtype=out.dtype)]
        last = cut
    chunks.append(out[last:])
    return np.concatenate(chunks)
