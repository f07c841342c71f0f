"""An inaudible "made by Qwen Voice Studio" mark on generated audio, and its detector.

Why our own: the maintained learned watermarkers on PyPI (AudioSeal, WavMark,
SilentCipher) ship only code in their wheels and download their weights from
a model hub on first use, so they do not work offline. This module is a
classic signal-processing watermark instead:

- a fixed studio key seeds a pseudo-random noise block of 0.5 s, limited to
  1-4 kHz, repeated over the whole clip;
- the block is scaled to follow the clip's own 1-4 kHz loudness (about 20 dB
  below it), so it hides under the voice, plus a very low floor in pauses;
- the detector resamples to 16 kHz, folds the clip into 0.5 s pieces and
  sums them (the mark adds up, the voice does not), then takes the phase
  correlation (GCC-PHAT) with the key block over every circular shift. The
  score is the best peak in standard deviations above the rest; a mark is
  "found" above :data:`THRESHOLD`.

It survives what the studio itself does to a clip (loudness normalisation,
limiting, resampling, mp3/ogg/flac export, trimming the start or end) and
any gain change. It is NOT a learned, attack-robust watermark: someone who
knows this scheme (it is open source, and so is the key) can remove or forge
it, and heavy processing (pitch shift, time stretch, low bit-rate codecs,
re-recording through a speaker) can erase it. Clips under about 1 s carry too
little of it to be detected reliably. Treat "found" as strong evidence that
a file came from this studio, and "not found" as no evidence either way.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import numpy as np

#: Identifies the scheme; changing it changes the mark (old files are no longer detected).
KEY = "qwen-voice-studio/watermark/v1"
#: Detection works at this rate; the block repeats every BLOCK samples (0.5 s).
RATE = 16_000
BLOCK = 8_000
BAND_HZ = (1_000.0, 4_000.0)
#: Mark level relative to the clip's own 1-4 kHz level (-20 dB), and its floor in pauses (about -66 dBFS).
STRENGTH = 0.1
FLOOR = 5e-4
#: Detection threshold on the score (peak z-score over 8,000 shifts; clean audio stays under ~5).
THRESHOLD = 7.0


@cache
def _key_block() -> np.ndarray:
    """The keyed 0.5 s noise block at :data:`RATE`, band-limited to :data:`BAND_HZ`, unit RMS."""
    seed = int.from_bytes(hashlib.sha256(KEY.encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(BLOCK))
    freqs = np.fft.rfftfreq(BLOCK, 1.0 / RATE)
    spectrum[(freqs < BAND_HZ[0]) | (freqs > BAND_HZ[1])] = 0
    block = np.fft.irfft(spectrum, BLOCK)
    return (block / np.sqrt(np.mean(block**2))).astype(np.float64)


def _band(samples: np.ndarray, sr: int) -> np.ndarray:
    """``samples`` limited to :data:`BAND_HZ` (FFT mask)."""
    spectrum = np.fft.rfft(samples)
    freqs = np.fft.rfftfreq(len(samples), 1.0 / sr)
    spectrum[(freqs < BAND_HZ[0]) | (freqs > BAND_HZ[1])] = 0
    return np.fft.irfft(spectrum, len(samples))


def _envelope(samples: np.ndarray, sr: int) -> np.ndarray:
    """A smooth RMS envelope (20 ms windows) of ``samples``."""
    from scipy.ndimage import uniform_filter1d

    window = max(1, int(0.02 * sr))
    return np.sqrt(uniform_filter1d(samples.astype(np.float64) ** 2, size=window, mode="nearest"))


def _resample(samples: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    if sr_from == sr_to:
        return samples
    import soxr

    return soxr.resample(samples.astype(np.float64), sr_from, sr_to)


def _mono(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim == 2:
        samples = samples.mean(axis=1 if samples.shape[0] > samples.shape[1] else 0)
    return samples


def embed(samples: np.ndarray, sr: int, offset: int = 0) -> np.ndarray:
    """Return ``samples`` (mono float) with the studio's mark added; same length and dtype float32.

    ``offset``: where ``samples`` start in a clip that is marked piece by piece
    (a streamed answer), so that the pieces carry one continuous mark.
    """
    samples = _mono(samples)
    if samples.size == 0 or sr < 2 * BAND_HZ[1]:
        return samples.astype(np.float32)
    period = BLOCK * sr / RATE
    if period.is_integer():
        offset %= int(period)  # the mark repeats every block
    repeats = int(np.ceil((offset + len(samples)) * RATE / sr / BLOCK)) + 1
    mark = _resample(np.tile(_key_block(), repeats), RATE, sr)[offset : offset + len(samples)]
    level = _envelope(_band(samples, sr), sr)
    marked = samples + mark * (STRENGTH * level + FLOOR)
    return np.clip(marked, -1.0, 1.0).astype(np.float32)


def detect(samples: np.ndarray, sr: int) -> tuple[bool, float]:
    """Look for the studio's mark: ``(found, score)``; the score is a z-score, found when >= :data:`THRESHOLD`."""
    samples = _mono(samples)
    if samples.size == 0 or sr <= 0 or not np.all(np.isfinite(samples)) or not np.any(samples):
        return False, 0.0
    x = _resample(samples, sr, RATE)
    x = np.pad(x, (0, (-len(x)) % BLOCK))
    folded = x.reshape(-1, BLOCK).sum(axis=0)
    cross = np.fft.rfft(folded) * np.conj(np.fft.rfft(_key_block()))
    freqs = np.fft.rfftfreq(BLOCK, 1.0 / RATE)
    in_band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    magnitude = np.abs(cross)
    cross = np.where(in_band & (magnitude > 1e-12), cross / np.maximum(magnitude, 1e-12), 0)
    corr = np.fft.irfft(cross, BLOCK)
    peak = int(np.argmax(corr))
    rest = np.delete(corr, [(peak + d) % BLOCK for d in range(-2, 3)])
    spread = float(np.std(rest))
    score = float((corr[peak] - np.mean(rest)) / spread) if spread > 0 else 0.0
    return score >= THRESHOLD, round(score, 2)


def check_file(path: str | Path) -> dict:
    """Check an audio file for the studio's mark (the "Check a file" tool).

    Returns ``{"file", "found", "score", "threshold", "seconds", "message_zh",
    "message_en"}``. Unreadable files raise :class:`~studio.errors.AudioError`.
    """
    from .audio import load_audio

    audio = load_audio(path)
    found, score = detect(audio.samples, audio.sr)
    if found:
        zh = f"检测到 Qwen Voice Studio 水印（得分 {score:.1f}，阈值 {THRESHOLD:.0f}）：这个文件很可能由本工作室生成。"
        en = (
            f"Qwen Voice Studio watermark found (score {score:.1f}, threshold {THRESHOLD:.0f}): "
            "this file was very likely generated by this studio."
        )
    else:
        zh = (
            f"未检测到水印（得分 {score:.1f}，阈值 {THRESHOLD:.0f}）。这不能证明文件是真人录音："
            "短于约 1 秒的片段、经过变调/变速或低码率压缩的文件可能检测不到。"
        )
        en = (
            f"No watermark found (score {score:.1f}, threshold {THRESHOLD:.0f}). This does not prove the file is a "
            "real recording: clips under about 1 s, or files pitch-shifted, time-stretched or heavily compressed, "
            "may not show it."
        )
    return {
        "file": Path(path).name,
        "found": found,
        "score": score,
        "threshold": THRESHOLD,
        "seconds": round(audio.seconds, 2),
        "message_zh": zh,
        "message_en": en,
    }
