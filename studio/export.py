"""Polished output: loudness normalisation, click-free edges, formats, sample rates and tags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from . import atomic
from .errors import InputError, writing

FORMATS = ("wav", "mp3", "flac", "ogg")
SAMPLE_RATES = (24_000, 44_100, 48_000)
DEFAULT_LUFS = -16.0
DEFAULT_TRUE_PEAK_DB = -1.0
_SF_FORMAT = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}


@dataclass
class Tags:
    """Metadata written into every exported file."""

    title: str = ""
    voice: str = ""
    model: str = ""
    date: str = field(default_factory=lambda: dt.date.today().isoformat())
    ai_generated: bool = True
    software: str = "Qwen Voice Studio"


def integrated_loudness(samples: np.ndarray, sr: int) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770-4, via pyloudnorm); -inf for silence."""
    import pyloudnorm

    meter = pyloudnorm.Meter(sr)
    padded = samples if len(samples) >= int(0.4 * sr) else np.pad(samples, (0, int(0.4 * sr) - len(samples)))
    return float(meter.integrated_loudness(padded.astype(np.float64)))


def true_peak_db(samples: np.ndarray, sr: int) -> float:
    """True peak in dBTP, estimated with 4x oversampling."""
    import soxr

    over = soxr.resample(samples.astype(np.float32), sr, sr * 4)
    peak = float(np.max(np.abs(over))) if over.size else 0.0
    return 20 * np.log10(peak) if peak > 0 else -np.inf


def _limit(samples: np.ndarray, sr: int, ceiling_db: float) -> np.ndarray:
    """Smooth gain reduction wherever the (oversampled) peak passes ``ceiling_db``."""
    import soxr
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    ceiling = 10 ** (ceiling_db / 20) * 0.98
    over = np.abs(soxr.resample(samples.astype(np.float32), sr, sr * 4))
    envelope = over[: len(samples) * 4].reshape(-1, 4).max(axis=1) if len(over) >= len(samples) * 4 else np.abs(samples)
    gain = np.minimum(1.0, ceiling / np.maximum(envelope, 1e-9))
    window = max(1, int(0.005 * sr))
    gain = -maximum_filter1d(-gain, size=2 * window + 1)  # hold the reduction around each peak
    gain = uniform_filter1d(gain, size=window)  # then smooth it: no clicks
    return (samples * np.minimum(gain, 1.0)).astype(np.float32)


def normalize_loudness(
    samples: np.ndarray, sr: int, target_lufs: float = DEFAULT_LUFS, true_peak: float = DEFAULT_TRUE_PEAK_DB
) -> np.ndarray:
    """Bring ``samples`` to ``target_lufs`` integrated with true peak at most ``true_peak`` dBTP."""
    if not -70 <= target_lufs <= 0 or not -20 <= true_peak <= 0:
        raise InputError(
            zh=f"响度目标 {target_lufs} LUFS 或峰值上限 {true_peak} dBTP 超出范围（-70 到 0 LUFS，-20 到 0 dBTP）。",
            en=f"Loudness target {target_lufs} LUFS or peak ceiling {true_peak} dBTP is out of range "
            "(-70 to 0 LUFS, -20 to 0 dBTP).",
        )
    out = samples.astype(np.float32)
    for _ in range(3):  # limiting lowers loudness a little: re-measure and correct
        loudness = integrated_loudness(out, sr)
        if not np.isfinite(loudness):
            return out  # silence stays silence
        out = out * np.float32(10 ** ((target_lufs - loudness) / 20))
        if true_peak_db(out, sr) > true_peak:
            out = _limit(out, sr, true_peak)
        if abs(integrated_loudness(out, sr) - target_lufs) < 0.2:
            break
    return out


def fade_edges(samples: np.ndarray, sr: int, ms: float = 5.0) -> np.ndarray:
    """Short raised-cosine fade-in and fade-out, removing clicks at the edges."""
    n = min(int(sr * ms / 1000), len(samples) // 2)
    if n <= 0:
        return samples
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n))).astype(np.float32)
    out = samples.astype(np.float32).copy()
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def polish(
    samples: np.ndarray, sr: int, target_lufs: float | None = DEFAULT_LUFS, true_peak: float = DEFAULT_TRUE_PEAK_DB
) -> np.ndarray:
    """Fade the edges, then normalise loudness (skipped when ``target_lufs`` is None)."""
    out = fade_edges(samples, sr)
    return normalize_loudness(out, sr, target_lufs, true_peak) if target_lufs is not None else out


def export_audio(
    samples: np.ndarray,
    sr: int,
    path: str | Path,
    fmt: str | None = None,
    sample_rate: int | None = None,
    tags: Tags | None = None,
) -> Path:
    """Write ``samples`` as wav/mp3/flac/ogg at ``sample_rate`` with ``tags``; atomic."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".") or "wav").lower()
    if fmt not in FORMATS:
        raise InputError(
            zh=f"不支持的格式：{fmt}。可选：{', '.join(FORMATS)}。",
            en=f"Unsupported format: {fmt}. Choose one of {', '.join(FORMATS)}.",
        )
    sample_rate = sample_rate or sr
    if sample_rate not in SAMPLE_RATES:
        raise InputError(
            zh=f"不支持的采样率：{sample_rate}。可选：{SAMPLE_RATES}。",
            en=f"Unsupported sample rate: {sample_rate}. Choose one of {SAMPLE_RATES}.",
        )
    if sample_rate != sr:
        import soxr

        samples = soxr.resample(samples.astype(np.float32), sr, sample_rate)
    path.parent.mkdir(parents=True, exist_ok=True)
    container, subtype = _SF_FORMAT[fmt]
    with writing(path.parent), atomic.replacing(path, suffix=f".{fmt}") as tmp:
        sf.write(str(tmp), np.clip(samples, -1.0, 1.0), sample_rate, format=container, subtype=subtype)
        write_tags(tmp, fmt, tags or Tags())
    return path


def write_tags(path: Path, fmt: str, tags: Tags) -> None:
    """Write ``tags`` with mutagen: ID3 for mp3 and wav, Vorbis comments for flac and ogg."""
    values = {
        "title": tags.title,
        "artist": tags.voice,
        "date": tags.date,
        "comment": "AI-generated" if tags.ai_generated else "",
        "encoder": tags.software,
        "model": tags.model,
        "ai_generated": "true" if tags.ai_generated else "false",
    }
    if fmt in ("flac", "ogg"):
        from mutagen.flac import FLAC
        from mutagen.oggvorbis import OggVorbis

        audio = FLAC(path) if fmt == "flac" else OggVorbis(path)
        for key, value in values.items():
            if value:
                audio[key] = value
        audio.save()
        return
    from mutagen.id3 import COMM, TDRC, TIT2, TPE1, TSSE, TXXX
    from mutagen.mp3 import MP3
    from mutagen.wave import WAVE

    audio = MP3(path) if fmt == "mp3" else WAVE(path)
    if audio.tags is None:
        audio.add_tags()
    frames: list = [
        TIT2(encoding=3, text=values["title"]),
        TPE1(encoding=3, text=values["artist"]),
        TDRC(encoding=3, text=values["date"]),
        TSSE(encoding=3, text=values["encoder"]),
        TXXX(encoding=3, desc="MODEL", text=values["model"]),
        TXXX(encoding=3, desc="AI_GENERATED", text=values["ai_generated"]),
        COMM(encoding=3, lang="eng", desc="", text=values["comment"]),
    ]
    for frame in frames:
        audio.tags.add(frame)
    audio.save()


def read_tags(path: str | Path) -> dict[str, str]:
    """Read back the studio's tags from any exported file (used by tests and the "check a file" tool)."""
    import mutagen

    audio = mutagen.File(str(path))
    if audio is None or audio.tags is None:
        return {}
    if hasattr(audio.tags, "getall"):  # ID3
        out = {
            "title": str(audio.tags.get("TIT2", "")),
            "artist": str(audio.tags.get("TPE1", "")),
            "date": str(audio.tags.get("TDRC", "")),
        }
        for frame in audio.tags.getall("TXXX"):
            out[frame.desc.lower()] = str(frame.text[0])
        return out
    return {k.lower(): v[0] for k, v in audio.tags.items()}
