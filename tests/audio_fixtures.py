"""Offline test audio: speech-like signals that silero-vad accepts as speech.

Each syllable is a glottal pulse train (jittered pitch contour, spectral tilt)
through three vowel formant resonators, shaped by a syllable envelope and led
by a short fricative burst. silero-vad scores it as speech with probability
~1.0 and white, pink and brown noise as non-speech, so tests need neither
recordings nor espeak-ng.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.signal as ss
import soundfile as sf

GEN_SR = 48_000
_VOWELS = {
    "a": (730, 1090, 2440),
    "i": (270, 2290, 3010),
    "u": (300, 870, 2240),
    "e": (530, 1840, 2480),
    "o": (570, 840, 2410),
}


def _resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    if sr_in == sr_out:
        return x
    import soxr

    return soxr.resample(x, sr_in, sr_out)


def _formants(x: np.ndarray, formants: tuple[int, int, int], sr: int) -> np.ndarray:
    y = np.zeros_like(x)
    for freq, bw in zip(formants, (80, 100, 120), strict=True):
        r = np.exp(-np.pi * bw / sr)
        theta = 2 * np.pi * freq / sr
        y += ss.lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], x)
    return y


def speech(seconds: float, sr: int = 24_000, seed: int = 0, f0: float = 140.0, level: float = 0.3) -> np.ndarray:
    """``seconds`` of continuous synthetic speech at ``sr``, peak ``level``."""
    rng = np.random.default_rng(seed)
    sr_gen = GEN_SR
    parts: list[np.ndarray] = []
    total = 0
    target = int(seconds * sr_gen)
    band = ss.butter(2, [2500 / (sr_gen / 2), 6000 / (sr_gen / 2)], "band")
    while total < target:
        n = int(rng.uniform(0.16, 0.28) * sr_gen)
        vowel = _VOWELS[str(rng.choice(list(_VOWELS)))]
        t = np.arange(n) / sr_gen
        contour = 1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.5, 2.0) * t + rng.uniform(0, 6))
        freq = f0 * contour * rng.uniform(0.85, 1.2)
        pulses = np.diff(np.floor(np.cumsum(freq / sr_gen)), prepend=0.0)
        source = ss.lfilter([1.0], [1.0, -0.95], pulses)
        voiced = _formants(source, vowel, sr_gen) * np.sin(np.pi * np.linspace(0, 1, n)) ** 0.6
        m = int(rng.uniform(0.03, 0.07) * sr_gen)
        burst = ss.lfilter(*band, rng.normal(0, 1, m) * np.hanning(m)) * 0.3 * np.abs(voiced).max()
        parts += [burst, voiced]
        total += m + n
    x = np.concatenate(parts)[:target]
    x = _resample(x * (level / np.abs(x).max()), sr_gen, sr)
    return x.astype(np.float32)


def utterance(
    layout: list[tuple[str, float]], sr: int = 24_000, seed: int = 0, noise_level: float = 1e-4
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Speech and silence laid out as ``[("sil", 1.0), ("speech", 2.0), ...]``.

    Returns the samples (with a faint noise floor, as any real recording has)
    and the true speech regions in seconds.
    """
    chunks: list[np.ndarray] = []
    truth: list[tuple[float, float]] = []
    at = 0
    for i, (kind, seconds) in enumerate(layout):
        if kind == "speech":
            chunk = speech(seconds, sr=sr, seed=seed + i, f0=120.0 + 20.0 * (i % 4))
            truth.append((at / sr, (at + len(chunk)) / sr))
        else:
            chunk = np.zeros(int(seconds * sr), dtype=np.float32)
        chunks.append(chunk)
        at += len(chunk)
    x = np.concatenate(chunks)
    x = x + np.random.default_rng(seed + 1000).normal(0, noise_level, len(x)).astype(np.float32)
    return x.astype(np.float32), truth


def noise(seconds: float, sr: int = 24_000, level: float = 0.1, seed: int = 0) -> np.ndarray:
    """White Gaussian noise with standard deviation ``level``."""
    return np.random.default_rng(seed).normal(0, level, int(seconds * sr)).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, sr: int, subtype: str = "PCM_16") -> Path:
    """Write a test WAV (mono or ``(frames, channels)``)."""
    sf.write(str(path), samples, sr, subtype=subtype)
    return path


def speech_video(path: Path, seconds: float = 4.0) -> Path:
    """A test video: picture, and two stretches of synthetic speech over a quiet 220 Hz tone bed (ffmpeg)."""
    import subprocess

    import imageio_ffmpeg

    sr = 24_000
    rest = max(0.1, seconds - 4.0)
    voice, _ = utterance([("sil", 0.3), ("speech", 1.6), ("sil", 0.3), ("speech", 1.4), ("sil", 0.4 + rest)], sr=sr)
    bed = 0.05 * np.sin(2 * np.pi * 220 * np.arange(len(voice)) / sr)
    sound = path.with_suffix(".wav")
    sf.write(sound, (voice + bed).astype(np.float32), sr)
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi", "-i"]
    command += [f"testsrc=size=64x64:rate=10:duration={seconds}", "-i", str(sound)]
    subprocess.run([*command, "-shortest", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)], check=True, timeout=120)
    return path
