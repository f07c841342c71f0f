"""Compare pitch-preserving time-stretch methods on real speech made offline (espeak-ng).

Usage: ``python bench/stretch_methods.py``. Needs Debian's espeak-ng.

For each method and factor it prints the median F0 drift (%), a log-mel
spectral distance to the original (frames aligned by linear time-warping),
the peak level, and speed (seconds of audio processed per second). This table
is why studio/timing.py uses Praat's PSOLA ("Lengthen (overlap-add)").
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SENTENCES = [
    ("cmn", "今天天气很好，我们一起去公园散步吧。银行行长说这件事情不行。"),
    ("en", "The quick brown fox jumps over the lazy dog, and then it rests for a while."),
]
FACTORS = (0.5, 0.75, 1.25, 1.5, 2.0)


def espeak(voice: str, text: str, sr: int = 24_000) -> np.ndarray:
    """Speech for ``text`` from espeak-ng, resampled to ``sr``."""
    import soxr

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True)
        samples, file_sr = sf.read(path, dtype="float32")
    return soxr.resample(samples, file_sr, sr).astype(np.float32)


def median_f0(samples: np.ndarray, sr: int) -> float:
    """Median F0 of voiced frames (Praat's autocorrelation pitch)."""
    import parselmouth

    pitch = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=sr).to_pitch(
        pitch_floor=60, pitch_ceiling=500
    )
    f0 = pitch.selected_array["frequency"]
    return float(np.median(f0[f0 > 0]))


def log_mel(samples: np.ndarray, sr: int) -> np.ndarray:
    """Log-mel spectrogram (frames x 64)."""
    import librosa

    mel = librosa.feature.melspectrogram(y=samples, sr=sr, n_fft=1024, hop_length=240, n_mels=64)
    return np.log(mel.T + 1e-6)


def spectral_distance(original: np.ndarray, stretched: np.ndarray, sr: int) -> float:
    """Mean absolute log-mel difference after warping the stretched frames back to the original's count."""
    a, b = log_mel(original, sr), log_mel(stretched, sr)
    idx = np.clip(np.round(np.linspace(0, len(b) - 1, len(a))).astype(int), 0, len(b) - 1)
    return float(np.mean(np.abs(a - b[idx])))


def praat_psola(x, sr, factor):
    from studio.timing import time_stretch

    return time_stretch(x, sr, factor)


def pytsmod_wsola(x, sr, factor):
    import pytsmod

    return pytsmod.wsola(x, factor).astype(np.float32)


def audiotsm_wsola(x, sr, factor):
    from audiotsm import wsola
    from audiotsm.io.array import ArrayReader, ArrayWriter

    reader, writer = ArrayReader(x[np.newaxis, :].astype(np.float64)), ArrayWriter(1)
    wsola(1, speed=1 / factor).run(reader, writer)
    return writer.data[0].astype(np.float32)


def librosa_phase_vocoder(x, sr, factor):
    import librosa

    return librosa.effects.time_stretch(x, rate=1 / factor).astype(np.float32)


METHODS = {
    "praat-psola": praat_psola,
    "pytsmod-wsola": pytsmod_wsola,
    "audiotsm-wsola": audiotsm_wsola,
    "librosa-pv": librosa_phase_vocoder,
}


def main() -> None:
    sr = 24_000
    clips = [espeak(v, t, sr) for v, t in SENTENCES]
    for fn in METHODS.values():  # warm-up (imports, numba compilation)
        fn(clips[0][: sr // 2], sr, 1.2)
    print(f"{'method':<16}{'F0 drift %':>11}{'spec dist':>10}{'peak':>7}{'x realtime':>11}")
    for name, fn in METHODS.items():
        drifts, dists, peaks, audio_s, cpu_s = [], [], [], 0.0, 0.0
        for clip in clips:
            f0 = median_f0(clip, sr)
            for factor in FACTORS:
                started = time.perf_counter()
                out = fn(clip, sr, factor)
                cpu_s += time.perf_counter() - started
                audio_s += len(clip) / sr
                drifts.append(abs(median_f0(out, sr) / f0 - 1) * 100)
                dists.append(spectral_distance(clip, out, sr))
                peaks.append(float(np.max(np.abs(out))))
        print(f"{name:<16}{np.median(drifts):>11.2f}{np.mean(dists):>10.3f}{max(peaks):>7.2f}{audio_s / cpu_s:>11.0f}")
    print(
        f"(factors {FACTORS}; {len(clips)} espeak-ng sentences, zh and en; source peak "
        f"{max(float(np.max(np.abs(c))) for c in clips):.2f})"
    )


if __name__ == "__main__":
    main()
