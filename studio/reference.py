"""Reference-clip processing: find the speech, trim it, pick a window, check it.

The chain :func:`prepare_reference` runs is VAD -> trim -> shorten long pauses
-> best 3-10 s window -> loudness -> 24 kHz mono. Every step also works alone
on an :class:`~studio.audio.Audio` and a list of speech regions in seconds, as
returned by :func:`detect_speech`.

Speech is found with silero-vad (its model ships in the wheel; no download) and
its boundaries are then tightened with frame energy, because silero's speech
probability decays over ~100-200 ms after the voice stops.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .audio import MODEL_SR, REF_MIN_SECONDS, Audio, check_reference, load_audio, resample
from .errors import AudioError

Region = tuple[float, float]
Level = Literal["error", "warning", "ok"]

VAD_SR = 16_000
#: Frame length for energy measurements (SNR, boundary refinement, splits).
FRAME_S = 0.01
#: Samples at or above this share of the clip's peak, in flat runs, count as clipped.
CLIP_LEVEL = 0.999
CLIP_RUN = 3
#: A reference is measured against these (see :func:`quality_report`).
SNR_ERROR_DB = 10.0
SNR_WARNING_DB = 25.0
CLIPPING_WARNING = 0.001
CLIPPING_ERROR = 0.01
IDEAL_MIN_S = 3.0
IDEAL_MAX_S = 10.0
QUIET_LUFS = -40.0
LOUD_LUFS = -10.0
LOW_SR = 16_000
PEAK_CEILING_DBFS = -1.0
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


def _frame_power(samples: np.ndarray, sr: int, frame_s: float = FRAME_S) -> np.ndarray:
    hop = max(1, round(sr * frame_s))
    n = len(samples) // hop
    if n == 0:
        return np.array([float(np.mean(samples.astype(np.float64) ** 2))]) if len(samples) else np.zeros(0)
    frames = samples[: n * hop].astype(np.float64).reshape(n, hop)
    return np.mean(frames**2, axis=1)


def _db(power: np.ndarray | float) -> np.ndarray:
    return 10.0 * np.log10(np.maximum(power, 1e-12))


def _speech_mask(n_frames: int, regions: list[Region], frame_s: float = FRAME_S) -> np.ndarray:
    mask = np.zeros(n_frames, dtype=bool)
    for start, end in regions:
        mask[int(start / frame_s) : int(np.ceil(end / frame_s))] = True
    return mask


def _noise_power(power: np.ndarray, mask: np.ndarray) -> float:
    """Median frame power outside speech; the quietest frames if there is too little of that."""
    outside = power[~mask]
    if len(outside) >= 30:
        return float(np.median(outside))
    return float(np.percentile(power, 10)) if len(power) else 0.0


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


def _no_speech() -> AudioError:
    return AudioError(
        zh="没有在音频里找到人声（可能是静音、纯噪声或音乐）。请录一段清晰的说话声，3-10 秒最好。",
        en="No speech was found in the audio (it may be silence, noise or music). "
        "Record clear speech, ideally 3-10 seconds.",
    )


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


def _clipped_mask(samples: np.ndarray) -> np.ndarray:
    """Samples on a flat top at the clip's peak: runs of ``CLIP_RUN`` or more."""
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak < 1e-3:
        return np.zeros(len(samples), dtype=bool)
    hot = np.abs(samples) >= CLIP_LEVEL * peak
    if not hot.any():
        return hot
    edges = np.diff(np.concatenate([[0], hot.astype(np.int8), [0]]))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    mask = np.zeros(len(samples), dtype=bool)
    for a, b in zip(starts, ends, strict=True):
        if b - a >= CLIP_RUN:
            mask[a:b] = True
    return mask


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


# ------------------------------------------------------------------ quality


def measure_loudness(audio: Audio) -> float | None:
    """Integrated loudness in LUFS (ITU-R BS.1770-4, gated); ``None`` for silence or clips under 0.4 s."""
    import pyloudnorm

    if audio.seconds <= 0.4:
        return None
    with np.errstate(divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lufs = float(pyloudnorm.Meter(audio.sr).integrated_loudness(audio.samples.astype(np.float64)))
    return lufs if np.isfinite(lufs) else None


@dataclass(frozen=True)
class Finding:
    """One piece of advice about a reference clip."""

    level: Level
    code: str
    zh: str
    en: str

    def message(self, lang: str = "zh") -> str:
        """The advice in ``lang`` ("zh" or anything else for English)."""
        return self.zh if lang.startswith("zh") else self.en


@dataclass(frozen=True)
class QualityReport:
    """Measurements of a reference clip and the advice they lead to."""

    duration_s: float
    speech_s: float
    speech_ratio: float
    snr_db: float
    clipping_ratio: float
    sample_rate: int
    loudness_lufs: float | None
    peak: float
    findings: list[Finding] = field(default_factory=list)

    @property
    def peak_dbfs(self) -> float:
        """Sample peak in dBFS."""
        return float(_db(self.peak**2))

    @property
    def ok(self) -> bool:
        """True when no finding is an error."""
        return all(f.level != "error" for f in self.findings)

    def level(self) -> Level:
        """The worst level among the findings."""
        levels = {f.level for f in self.findings}
        return "error" if "error" in levels else "warning" if "warning" in levels else "ok"

    def to_dict(self) -> dict:
        """A JSON-ready description (infinite values are not produced)."""
        data = asdict(self)
        data["peak_dbfs"] = self.peak_dbfs
        return data


def estimate_snr(audio: Audio, regions: list[Region]) -> float:
    """Speech-to-noise ratio in dB: speech frames' power (less the noise) over the non-speech frames' median power."""
    power = _frame_power(audio.samples, audio.sr)
    mask = _speech_mask(len(power), regions)
    if not mask.any():
        return 0.0
    noise = _noise_power(power, mask)
    signal = max(float(np.mean(power[mask])) - noise, 1e-12)
    return float(np.clip(_db(signal / max(noise, 1e-12)), -20.0, 100.0))


def _findings(r: QualityReport) -> list[Finding]:
    out: list[Finding] = []
    add = out.append
    if r.speech_s < REF_MIN_SECONDS:
        add(
            Finding(
                "error",
                "too_short",
                f"人声太短（{r.speech_s:.1f} 秒），至少需要 {REF_MIN_SECONDS:.0f} 秒，3-10 秒最好。请录得长一些。",
                f"Too short: only {r.speech_s:.1f} s of speech; at least {REF_MIN_SECONDS:.0f} s is needed, "
                "3-10 s is best. Record a longer clip.",
            )
        )
    elif r.speech_s < IDEAL_MIN_S:
        add(
            Finding(
                "warning",
                "short",
                f"人声偏短（{r.speech_s:.1f} 秒）。3-10 秒的参考音频克隆效果最好，建议再多说几句。",
                f"Short: {r.speech_s:.1f} s of speech. 3-10 s clones best; say a few more sentences.",
            )
        )
    elif r.speech_s > IDEAL_MAX_S:
        add(
            Finding(
                "ok",
                "long",
                f"录音较长（{r.speech_s:.0f} 秒人声），会自动选出最好的 3-10 秒。",
                f"Long recording ({r.speech_s:.0f} s of speech): the best 3-10 s will be picked automatically.",
            )
        )
    else:
        add(Finding("ok", "length", "时长合适。", "Good length."))
    if r.snr_db < SNR_ERROR_DB:
        add(
            Finding(
                "error",
                "too_noisy",
                f"噪声太大（信噪比约 {r.snr_db:.0f} dB），克隆出来会很差。请换到安静的房间重新录制，关掉风扇和空调。",
                f"Too noisy (SNR about {r.snr_db:.0f} dB): the clone will be poor. "
                "Record again in a quieter room, with fans and air conditioning off.",
            )
        )
    elif r.snr_db < SNR_WARNING_DB:
        add(
            Finding(
                "warning",
                "noisy",
                f"有明显的背景噪声（信噪比约 {r.snr_db:.0f} dB）。在更安静的房间里录音，或者离麦克风近一些。",
                f"Noticeable background noise (SNR about {r.snr_db:.0f} dB): "
                "record in a quieter room or closer to the microphone.",
            )
        )
    else:
        add(Finding("ok", "clean", "背景安静。", "Quiet background."))
    if r.clipping_ratio >= CLIPPING_WARNING:
        level: Level = "error" if r.clipping_ratio >= CLIPPING_ERROR else "warning"
        add(
            Finding(
                level,
                "clipped",
                f"声音爆音/削波（{r.clipping_ratio:.1%} 的采样）。请调低麦克风输入音量，或离麦克风远一点再录。",
                f"Clipped ({r.clipping_ratio:.1%} of samples): lower the input gain "
                "or move back from the microphone and record again.",
            )
        )
    else:
        add(Finding("ok", "no_clipping", "没有爆音。", "No clipping."))
    if r.sample_rate < LOW_SR:
        add(
            Finding(
                "warning",
                "low_sample_rate",
                f"采样率太低（{r.sample_rate} Hz，电话音质），高音会丢失。请用 24 kHz 或更高的采样率录音。",
                f"Low sample rate ({r.sample_rate} Hz, telephone quality): the highs are lost. "
                "Record at 24 kHz or more.",
            )
        )
    if r.loudness_lufs is not None and r.loudness_lufs < QUIET_LUFS:
        add(
            Finding(
                "warning",
                "quiet",
                f"声音太小（{r.loudness_lufs:.0f} LUFS）。音量会自动调整，但噪声也会一起变大；请离麦克风近一些。",
                f"Very quiet ({r.loudness_lufs:.0f} LUFS). It will be normalised, but the noise rises with it: "
                "move closer to the microphone.",
            )
        )
    elif r.loudness_lufs is not None and r.loudness_lufs > LOUD_LUFS:
        add(
            Finding(
                "warning",
                "loud",
                f"声音过响（{r.loudness_lufs:.0f} LUFS），可能经过了强压缩。最好用未处理的原始录音。",
                f"Very loud ({r.loudness_lufs:.0f} LUFS), probably heavily compressed. "
                "Use the raw, unprocessed recording if you can.",
            )
        )
    return out


def quality_report(audio: Audio, regions: list[Region]) -> QualityReport:
    """Measure a reference clip (speech ratio, SNR, clipping, loudness, peak) and give plain advice."""
    speech_s = float(sum(e - s for s, e in regions))
    report = QualityReport(
        duration_s=audio.seconds,
        speech_s=speech_s,
        speech_ratio=speech_s / audio.seconds if audio.seconds else 0.0,
        snr_db=estimate_snr(audio, regions),
        clipping_ratio=float(_clipped_mask(audio.samples).mean()) if len(audio.samples) else 0.0,
        sample_rate=audio.sr,
        loudness_lufs=measure_loudness(audio),
        peak=float(np.max(np.abs(audio.samples))) if len(audio.samples) else 0.0,
    )
    none = _no_speech()
    findings = _findings(report) if regions else [Finding("error", "no_speech", none.zh, none.en)]
    return replace(report, findings=findings)


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
