"""What happens to generated audio: fitted to an exact length, levelled, watermarked (:class:`Delivery`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .export import DEFAULT_LUFS, DEFAULT_TRUE_PEAK_DB, polish
from .synthesis import SynthesisResult
from .timing import fit_to_duration, resolve_target


@dataclass
class Delivery:
    """What happens to the audio after generation: exact length and loudness."""

    duration: float | None = None  #: target length in seconds
    ratio: float | None = None  #: or a target as a ratio of the natural length (0.5-2.0)
    takes: int = 1  #: with a duration or a checker: generate this many takes and keep the best
    loudness: float | None = DEFAULT_LUFS  #: integrated LUFS; None leaves the audio untouched
    true_peak: float = DEFAULT_TRUE_PEAK_DB
    watermark: bool = True  #: an inaudible "made by this studio" mark (studio.watermark)
    #: ``check(samples, sr, model_text) -> TakeCheck`` (:func:`studio.takecheck.checker`): each take is heard
    #: and best-of-N ranks by its score first, length fit second
    checker: Callable | None = None

    def check(self) -> None:
        """Refuse impossible settings before any generation starts."""
        if self.duration is not None:
            resolve_target(self.duration, seconds=self.duration)
        if self.ratio is not None:
            resolve_target(1.0, ratio=self.ratio)
        if self.duration is not None and self.ratio is not None:
            resolve_target(1.0, self.duration, self.ratio)
        if not 1 <= self.takes <= 8:
            raise InputError(
                zh=f"候选次数必须在 1 到 8 之间（收到 {self.takes}）。",
                en=f"Takes must be between 1 and 8 (got {self.takes}).",
            )
        if self.loudness is not None and not (-70 <= self.loudness <= 0 and -20 <= self.true_peak <= 0):
            raise InputError(
                zh=f"响度目标 {self.loudness} LUFS 或峰值上限 {self.true_peak} dBTP 超出范围（-70 到 0 LUFS，-20 到 0 dBTP）。",
                en=f"Loudness target {self.loudness} LUFS or peak ceiling {self.true_peak} dBTP is out of range "
                "(-70 to 0 LUFS, -20 to 0 dBTP).",
            )


def deliver(result: SynthesisResult, delivery: Delivery) -> None:
    """Fit ``result`` to its target length and polish it, in place.

    With written pauses only the speech is stretched and polished: the
    stretch target is the target minus the pauses, which stay exact silence.
    """
    from .silence import around_silences, exact_silences

    gaps = exact_silences(result.samples, result.sr) if result.pause_s else []
    held = sum(b - a for a, b in gaps) / result.sr
    target = resolve_target(result.seconds, delivery.duration, delivery.ratio)
    if target is not None:
        reports = []

        def fit(speech: np.ndarray) -> np.ndarray:
            fitted, report = fit_to_duration(speech, result.sr, max(target - held, 0.05))
            reports.append(report)
            return fitted

        result.samples = around_silences(result.samples, result.sr, fit, gaps)
        result.fit = reports[0] if reports else None
        gaps = exact_silences(result.samples, result.sr) if gaps else []
    if delivery.loudness is not None:
        loud = delivery.loudness

        def level(speech: np.ndarray) -> np.ndarray:
            return polish(speech, result.sr, loud, delivery.true_peak)

        result.samples = around_silences(result.samples, result.sr, level, gaps)
    if delivery.watermark:
        from . import watermark

        result.samples = around_silences(result.samples, result.sr, lambda x: watermark.embed(x, result.sr), gaps)


def distance(result: SynthesisResult, delivery: Delivery) -> float:
    """How far ``result`` is from ``delivery``'s target length (0 without one): the best take is the closest."""
    return abs(result.seconds - delivery.duration) if delivery.duration is not None else 0.0


def rank(result: SynthesisResult, delivery: Delivery) -> tuple[float, float]:
    """Best-of-N order (smaller first): the take check's score when takes are heard, then the length fit."""
    from .takecheck import rank_key

    return rank_key(result.check, distance(result, delivery))
