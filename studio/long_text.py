"""Long texts: split into bounded segments at pause tags and sentence groups, and joined back into one clip.

Each segment costs the same bounded amount, so time grows linearly with the
text's length; a written pause becomes exact silence of its length and never
reaches the model (:mod:`studio.text.pauses`).
"""

from __future__ import annotations

import numpy as np

from .progress import ProgressFn, Status
from .synthesis import SynthesisResult

#: Texts longer than this are generated sentence group by sentence group, so cost grows linearly.
SEGMENT_CHARS = 120
#: Silence put between the segments of a long text.
SEGMENT_PAUSE_S = 0.2


def scaled_progress(progress: ProgressFn, start: float, span: float, part: int, parts: int) -> ProgressFn:
    """Map a piece's 0-1 progress onto [start, start + span] of the whole job; the status names the piece."""

    def report(fraction: float | None, message) -> None:
        status = message if isinstance(message, Status) else Status()
        progress(None if fraction is None else start + span * fraction, status.with_(part=part, parts=parts))

    return report


def plan(text: str) -> list[tuple[str, float]]:
    """(segment, pause after it) for ``text``: split at pause tags, then into sentence groups.

    A pause of 0.0 means the usual short gap between segments (:data:`SEGMENT_PAUSE_S`);
    a segment '' carries only a pause (a tag at the start, or two tags in a row).
    """
    from .text import split_text
    from .text.pauses import split_pauses

    plan: list[tuple[str, float]] = []
    for piece, pause in split_pauses(text):
        speakable = any(c.isalnum() for c in piece)
        segments = [seg.text for seg in split_text(piece, max_chars=SEGMENT_CHARS)] if speakable else []
        plan += [(segment, 0.0) for segment in segments]
        if pause:
            if plan and plan[-1][1] == 0.0 and plan[-1][0]:
                plan[-1] = (plan[-1][0], pause)
            else:
                plan.append(("", pause))
    return plan or [(text, 0.0)]


def join(parts: list[tuple[SynthesisResult | None, float]]) -> SynthesisResult:
    """One result from the pieces of a long text: a short gap between pieces, a written pause as exact silence."""
    spoken = [part for part, _ in parts if part is not None]
    if len(parts) == 1 and parts[0][1] == 0.0:
        return spoken[0]
    sr = spoken[0].sr
    dtype = spoken[0].samples.dtype
    chunks, pause_s = [], 0.0
    for k, (part, pause) in enumerate(parts):
        if part is not None:
            chunks.append(part.samples)
        if pause:
            chunks.append(np.zeros(round(pause * sr), dtype=dtype))
            pause_s += pause
        elif part is not None and k + 1 < len(parts):
            chunks.append(np.zeros(round(SEGMENT_PAUSE_S * sr), dtype=dtype))
    timings: dict[str, float] = {}
    for part in spoken:
        for key, value in part.timings.items():
            timings[key] = timings.get(key, 0.0) + value
    return SynthesisResult(
        samples=np.concatenate(chunks),
        sr=sr,
        seed=spoken[0].seed,
        model=spoken[0].model,
        random_weights=spoken[0].random_weights,
        max_new_tokens=sum(p.max_new_tokens for p in spoken),
        timings=timings,
        segments=len(spoken),
        pause_s=pause_s,
    )
