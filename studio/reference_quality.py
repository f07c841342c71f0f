"""The quality report of a reference clip: speech ratio, SNR, clipping, loudness, peak, and plain advice.

The measurements behind it (frame power, the speech mask, clipped samples) are
shared with :mod:`studio.reference`, which trims and picks windows with them.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

import numpy as np

from .audio import REF_MIN_SECONDS, Audio
from .errors import AudioError

Region = tuple[float, float]
Level = Literal["error", "warning", "ok"]

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


def _no_speech() -> AudioError:
    return AudioError(
        zh="没有在音频里找到人声（可能是静音、纯噪声或音乐）。请录一段清晰的说话声，3-10 秒最好。",
        en="No speech was found in the audio (it may be silence, noise or music). "
        "Record clear speech, ideally 3-10 seconds.",
    )


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
