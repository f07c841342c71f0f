"""Reference-clip processing: find the speech, trim it, pick a window, check it.

The chain :func:`prepare_reference` runs is VAD -> trim -> shorten long pauses
-> best 3-10 s window -> loudness -> 24 kHz mono. Every step also works alone
on an :class:`~studio.audio.Audio` and a list of speech regions in seconds, as
returned by :func:`detect_speech`. The quality report (:func:`quality_report`) lives in
:mod:`studio.reference_quality` and is re-exported here.

Speech is found with silero-vad (its model ships in the wheel; no download) and
its boundaries are then tightened with frame energy, because silero's speech
probability decays over ~100-200 ms after the voice stops.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .audio import MODEL_SR, REF_MIN_SECONDS, Audio, check_reference, load_audio, resample
from .errors import AudioError
from .reference_quality import (  # noqa: F401  (the quality report's names, re-exported)
    CLIP_LEVEL,
    CLIP_RUN,
    CLIPPING_ERROR,
    CLIPPING_WARNING,
    FRAME_S,
    IDEAL_MAX_S,
    IDEAL_MIN_S,
    LOUD_LUFS,
    LOW_SR,
    PEAK_CEILING_DBFS,
    QUIET_LUFS,
    SNR_ERROR_DB,
    SNR_WARNING_DB,
    Finding,
    Level,
    QualityReport,
    Region,
    _clipped_mask,
    _db,
    _frame_power,
    _no_speech,
    _noise_power,
    _speech_mask,
    estimate_snr,
    measure_loudness,
    quality_report,
)

VAD_SR = 16_000
#: Windows whose speech ratio is this close to the best count as equal; the longest of them wins.
RATIO_TOLERANCE = 0.05

_vad_model: Any = None
_vad_lock = threading.Lock()


# --------------------------------------------------------------------------- VAD


def _load_vad() -> tuple[Any, Any]:
    """silero-vad's model (loaded once, from the wheel) and its timestamp function.

    The ONNX model runs in its own single-threaded onnxruntime session: torch's
    shared thread pool makes each 32 ms step ~100x slower when the CPU is busy.
    The TorchScript model is the fallback where onnxruntime is missing.
    """
    global _vad_model
    import torch

    threads = torch.get_num_threads()
    # Importing silero_vad calls torch.set_num_threads(1), which would slow every
    # other model in this process down; undo it.
    from silero_vad import get_speech_timestamps, load_silero_vad

    torch.set_num_threads(threads)
    if _vad_model is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # silero's importlib.resources call
            try:
                _vad_model = load_silero_vad(onnx=True)
            except ImportError:
                _vad_model = load_silero_vad(onnx=False)
    return _vad_model, get_speech_timestamps


def _refine(samples: np.ndarray, sr: int, regions: list[Region]) -> list[Region]:
    """Move VAD boundaries onto the first/last frame that stands out of the noise floor."""
    power = _frame_power(samples, sr)
    if not len(power):
        return regions
    level = _db(power)
    noise_db = float(_db(_noise_power(power, _speech_mask(len(power), regions))))
    refined: list[Region] = []
    for start, end in regions:
        lo, hi = int(start / FRAME_S), min(len(level), int(np.ceil(end / FRAME_S)))
        if hi <= lo:
            continue
        speech_db = float(np.percentile(level[lo:hi], 95))
        threshold = max(noise_db + 6.0, speech_db - 35.0)
        # Silero starts are early (by its pad) and ends late (by its decay).
        a, b = max(0, lo - 10), min(len(level), lo + 25)
        loud = np.nonzero(level[a:b] >= threshold)[0]
        new_start = (a + loud[0]) * FRAME_S if len(loud) else start
        a, b = max(0, hi - 35), min(len(level), hi + 10)
        loud = np.nonzero(level[a:b] >= threshold)[0]
        new_end = (a + loud[-1] + 1) * FRAME_S if len(loud) else end
        if new_end - new_start >= 0.05:
            refined.append((round(float(new_start), 4), round(float(new_end), 4)))
    return _merge(refined)


def _merge(regions: list[Region], gap_s: float = 0.0) -> list[Region]:
    merged: list[Region] = []
    for start, end in sorted(regions):
        if merged and start <= merged[-1][1] + gap_s:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def detect_speech(audio: Audio, threshold: float = 0.5, min_silence_ms: int = 100) -> list[Region]:
    """Speech regions ``[(start_s, end_s), ...]`` found by silero-vad, boundaries tightened by energy.

    Returns an empty list for silence or noise. Thread-safe (the model is stateful,
    so calls are serialised).
    """
    if len(audio.samples) == 0 or float(np.max(np.abs(audio.samples))) < 1e-4:
        return []
    import torch

    x16 = resample(audio, VAD_SR).samples
    with _vad_lock:
        model, get_speech_timestamps = _load_vad()
        stamps = get_speech_timestamps(
            torch.from_numpy(np.ascontiguousarray(x16, dtype=np.float32)),
            model,
            threshold=threshold,
            sampling_rate=VAD_SR,
            min_silence_duration_ms=min_silence_ms,
            speech_pad_ms=30,
        )
    regions = [(s["start"] / VAD_SR, min(s["end"] / VAD_SR, audio.seconds)) for s in stamps]
    return _refine(audio.samples, audio.sr, regions)


# ------------------------------------------------------------------ editing


def _fade(samples: np.ndarray, sr: int, ms: float = 5.0) -> np.ndarray:
    n = min(len(samples) // 2, int(sr * ms / 1000))
    if n > 0:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        samples[:n] *= ramp
        samples[-n:] *= ramp[::-1]
    return samples


def no_speech_error() -> AudioError:
    """The error for a clip with no speech in it (for callers that run :func:`detect_speech` themselves)."""
    return _no_speech()


def _cut(audio: Audio, start_s: float, end_s: float) -> Audio:
    a, b = max(0, round(start_s * audio.sr)), min(len(audio.samples), round(end_s * audio.sr))
    return Audio(samples=_fade(audio.samples[a:b].copy(), audio.sr), sr=audio.sr)


def _trim(audio: Audio, regions: list[Region], pad_ms: float) -> tuple[Audio, list[Region], float]:
    if not regions:
        raise _no_speech()
    pad = pad_ms / 1000.0
    start = max(0.0, regions[0][0] - pad)
    end = min(audio.seconds, regions[-1][1] + pad)
    start = round(start * audio.sr) / audio.sr
    shifted = [(max(0.0, s - start), min(end, e) - start) for s, e in regions]
    return _cut(audio, start, end), shifted, start


def trim_silence(audio: Audio, regions: list[Region], pad_ms: float = 100.0) -> Audio:
    """Cut the silence before the first and after the last speech region, keeping ``pad_ms`` of it.

    Raises :class:`AudioError` when ``regions`` is empty (no speech).
    """
    return _trim(audio, regions, pad_ms)[0]


def _shorten(audio: Audio, regions: list[Region], max_pause_s: float) -> tuple[Audio, list[Region]]:
    sr = audio.sr
    keep = max(0, round(max_pause_s * sr / 2))
    xfade = int(0.01 * sr)
    pieces: list[np.ndarray] = []
    new_regions: list[Region] = []
    cursor = 0  # next input sample to copy
    removed = 0  # samples dropped so far
    for i, (start, end) in enumerate(regions):
        new_regions.append((start - removed / sr, end - removed / sr))
        if i + 1 == len(regions):
            break
        gap_a, gap_b = round(end * sr), round(regions[i + 1][0] * sr)
        if gap_b - gap_a <= 2 * keep + xfade:
            continue
        head = audio.samples[cursor : gap_a + keep + xfade].copy()
        tail_start = gap_b - keep
        # A short crossfade inside the pause hides the splice.
        ramp = np.linspace(1.0, 0.0, xfade, dtype=np.float32)
        head[-xfade:] = head[-xfade:] * ramp + audio.samples[tail_start : tail_start + xfade] * ramp[::-1]
        pieces.append(head)
        removed += tail_start - (gap_a + keep)
        cursor = tail_start + xfade
    pieces.append(audio.samples[cursor:])
    return Audio(samples=np.concatenate(pieces).astype(np.float32), sr=sr), new_regions


def shorten_pauses(audio: Audio, regions: list[Region], max_pause_s: float = 0.5) -> Audio:
    """Shorten every pause between speech regions that is longer than ``max_pause_s`` to that length.

    Silence before the first and after the last region is left alone (see :func:`trim_silence`).
    """
    return _shorten(audio, regions, max_pause_s)[0]


# ------------------------------------------------------------------ window


def _split_long(audio: Audio, regions: list[Region], max_len: float) -> list[Region]:
    """Split regions longer than ``max_len`` at their quietest 50 ms."""
    power = np.convolve(_frame_power(audio.samples, audio.sr), np.ones(5) / 5, mode="same")
    out: list[Region] = []
    todo = list(regions)
    while todo:
        start, end = todo.pop(0)
        if end - start <= max(max_len, 0.5):
            out.append((start, end))
            continue
        lo, hi = int((start + 1.0) / FRAME_S), int((end - 1.0) / FRAME_S)
        at = (lo + int(np.argmin(power[lo:hi]))) * FRAME_S if hi > lo else (start + end) / 2
        todo[:0] = [(start, at - FRAME_S / 2), (at + FRAME_S / 2, end)]
    return out


def _candidates(audio: Audio, regions: list[Region], min_s: float, max_s: float, pad: float) -> list[tuple]:
    clipped = np.concatenate([[0], np.cumsum(_clipped_mask(audio.samples))])
    found = []
    for i in range(len(regions)):
        prev_end = regions[i - 1][1] if i else 0.0
        ws = max(regions[i][0] - pad, (prev_end + regions[i][0]) / 2 if i else 0.0)
        speech = 0.0
        for j in range(i, len(regions)):
            speech += regions[j][1] - regions[j][0]
            nxt = regions[j + 1][0] if j + 1 < len(regions) else None
            we = min(regions[j][1] + pad, (regions[j][1] + nxt) / 2 if nxt is not None else audio.seconds)
            length = we - ws
            if length > max_s:
                break
            if length >= min_s:
                a = min(round(ws * audio.sr), len(clipped) - 1)
                b = min(round(we * audio.sr), len(clipped) - 1)
                n_clipped = int(clipped[b] - clipped[a])
                found.append((n_clipped > 0, speech / length, length, ws, we))
    return found


def best_window(
    audio: Audio, regions: list[Region], min_s: float = IDEAL_MIN_S, max_s: float = IDEAL_MAX_S, pad_ms: float = 100.0
) -> Region | None:
    """The best ``min_s``-``max_s`` window ``(start_s, end_s)`` made of whole speech regions.

    Boundaries lie in the silence around regions (at most ``pad_ms`` from the
    speech). Windows without clipping win; then the highest speech ratio; among
    ratios within ``RATIO_TOLERANCE`` of the best, the longest. A region longer than
    ``max_s`` is split at its quietest point. ``None`` when there is less than
    ``min_s`` of material or no whole regions fit (e.g. long pauses: shorten
    them first).
    """
    if not regions:
        return None
    pad = pad_ms / 1000.0
    regions = _split_long(audio, regions, max_s - 2 * pad)
    found = _candidates(audio, regions, min_s, max_s, pad)
    if not found:
        return None
    clean = [c for c in found if not c[0]] or found
    top = max(c[1] for c in clean)
    pick = max((c for c in clean if c[1] >= top - RATIO_TOLERANCE), key=lambda c: (c[2], c[1]))
    return (round(pick[3], 4), round(pick[4], 4))


# ------------------------------------------------------------------ loudness


def normalize_loudness(audio: Audio, target_lufs: float = -20.0) -> Audio:
    """Scale ``audio`` to ``target_lufs`` integrated loudness (BS.1770), peaks kept under -1 dBFS.

    When the peak ceiling binds, the result is quieter than the target (no limiter
    is applied, so the waveform is never distorted). Raises :class:`AudioError`
    for silence or clips under 0.4 s, whose loudness cannot be measured.
    """
    lufs = measure_loudness(audio)
    if lufs is None:
        raise AudioError(
            zh="无法测量音量：音频是静音或短于 0.4 秒。请换一段有声音的录音。",
            en="Cannot measure loudness: the audio is silent or shorter than 0.4 s. Use a recording with sound in it.",
        )
    gain = 10.0 ** ((target_lufs - lufs) / 20.0)
    peak = float(np.max(np.abs(audio.samples)))
    ceiling = 10.0 ** (PEAK_CEILING_DBFS / 20.0)
    if peak * gain > ceiling:
        gain = ceiling / peak
    return Audio(samples=(audio.samples * gain).astype(np.float32), sr=audio.sr)


# ------------------------------------------------------------------ chain


@dataclass(frozen=True)
class PreparedReference:
    """A reference clip ready for the model, and how it was made."""

    audio: Audio
    """24 kHz mono, trimmed, loudness-normalised."""
    regions: list[Region]
    """Speech regions in ``audio``'s timeline."""
    source_span: Region
    """The part of the input recording that was kept, in the input's seconds."""
    windowed: bool
    """True when a window was cut out of a longer recording: its transcript must be the window's."""
    gain_db: float
    loudness_lufs: float | None
    report: QualityReport
    """Quality of the input recording (before processing)."""


def prepare_reference(
    audio: Audio | str | Path | tuple,
    *,
    window: bool = True,
    max_pause_s: float | None = 0.5,
    pad_ms: float = 100.0,
    target_lufs: float = -20.0,
    min_s: float = IDEAL_MIN_S,
    max_s: float = IDEAL_MAX_S,
) -> PreparedReference:
    """Run the whole chain: VAD -> trim -> shorten pauses -> window (if longer than ``max_s``) -> loudness -> 24 kHz.

    Raises :class:`AudioError` when no speech is found, when less than 1 s of
    speech is left, or when the result is still over 60 s (``window=False``).
    """
    if not isinstance(audio, Audio):
        audio = load_audio(audio)
    regions = detect_speech(audio)
    if not regions:
        raise _no_speech()
    report = quality_report(audio, regions)
    originals = list(regions)
    clip, regions, _ = _trim(audio, regions, pad_ms)
    if max_pause_s is not None:
        clip, regions = _shorten(clip, regions, max_pause_s)
    # Trimming and shortening keep regions 1:1, each shifted by its own offset.
    offsets = [o[0] - r[0] for o, r in zip(originals, regions, strict=True)]
    span: Region = (0.0, clip.seconds)
    first, last = 0, len(regions) - 1
    windowed = False
    if window and clip.seconds > max_s:
        picked = best_window(clip, regions, min_s=min_s, max_s=max_s, pad_ms=pad_ms)
        if picked is not None:
            span = picked
            inside = [i for i, (s, e) in enumerate(regions) if s < span[1] and e > span[0]]
            first, last = inside[0], inside[-1]
            regions = [(max(s, span[0]) - span[0], min(e, span[1]) - span[0]) for s, e in regions[first : last + 1]]
            clip = _cut(clip, span[0], span[1])
            windowed = True
    speech_s = sum(e - s for s, e in regions)
    if speech_s < REF_MIN_SECONDS:
        raise AudioError(
            zh=f"人声太短（{speech_s:.1f} 秒），至少需要 {REF_MIN_SECONDS:.0f} 秒，3-10 秒最好。请录得长一些。",
            en=f"Too little speech ({speech_s:.1f} s): at least {REF_MIN_SECONDS:.0f} s is needed, 3-10 s is best. "
            "Record a longer clip.",
        )
    before = measure_loudness(clip)
    clip = normalize_loudness(clip, target_lufs)
    after = measure_loudness(clip)
    clip = resample(clip, MODEL_SR)
    check_reference(clip)
    return PreparedReference(
        audio=clip,
        regions=regions,
        source_span=(max(0.0, span[0] + offsets[first]), min(audio.seconds, span[1] + offsets[last])),
        windowed=windowed,
        gain_db=(after - before) if before is not None and after is not None else 0.0,
        loudness_lufs=after,
        report=report,
    )
