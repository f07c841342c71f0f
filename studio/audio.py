"""Decoding, checking and writing audio. Works without any model loaded.

The model only ever receives ``(np.ndarray, sample_rate)`` built here: user
strings are never handed to qwen-tts, which would treat them as URLs or base64.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from . import atomic
from .errors import AudioError, writing

MODEL_SR = 24_000
REF_MIN_SECONDS = 1.0
REF_MAX_SECONDS = 60.0
#: Files longer than this are refused before they are decoded in full.
MAX_DECODE_SECONDS = 600.0


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] and their sample rate."""

    samples: np.ndarray
    sr: int

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return len(self.samples) / float(self.sr)


def _probe_seconds(path: Path) -> float | None:
    try:
        info = sf.info(str(path))
    except Exception:
        return None
    return info.frames / float(info.samplerate) if info.samplerate else None


def load_audio(source: str | Path | tuple[int, np.ndarray] | tuple[np.ndarray, int]) -> Audio:
    """Decode a file path or an in-memory clip into mono float32.

    Accepts a path, Gradio's ``(sr, array)`` tuple or qwen-tts' ``(array, sr)``.
    Integer PCM is scaled to [-1, 1]; stereo is averaged to mono.
    """
    if isinstance(source, tuple):
        first, second = source
        samples, sr = (second, first) if isinstance(first, (int, np.integer)) else (first, second)
        return _clean(np.asarray(samples), int(sr), name="audio")
    path = Path(source)
    if not path.is_file():
        raise AudioError(zh=f"找不到音频文件：{path.name}", en=f"Audio file not found: {path.name}")
    if path.stat().st_size == 0:
        raise AudioError(
            zh=f"音频文件是空的（0 字节）：{path.name}", en=f"The audio file is empty (0 bytes): {path.name}"
        )
    seconds = _probe_seconds(path)
    if seconds is not None and seconds > MAX_DECODE_SECONDS:
        raise AudioError(
            zh=f"音频太长（{seconds:.0f} 秒），最多 {MAX_DECODE_SECONDS:.0f} 秒。请先剪出需要的部分。",
            en=f"The audio is too long ({seconds:.0f} s); the limit is {MAX_DECODE_SECONDS:.0f} s. Cut out the part you need first.",
        )
    try:
        samples, sr = sf.read(str(path), dtype="float32", always_2d=True)
        samples = samples.mean(axis=1)
    except Exception:
        samples, sr = _decode_with_ffmpeg_or_refuse(path)
    return _clean(samples, int(sr), name=path.name)


def _not_audio(path: Path, cause: str = "") -> AudioError:
    return AudioError(
        zh=f"无法读取音频文件 {path.name}：文件损坏或不是音频。请换成 wav、mp3、flac 或 ogg 文件。",
        en=f"Cannot read {path.name}: the file is damaged or not audio. Use a wav, mp3, flac or ogg file.",
        cause=cause,
    )


def _looks_like_text(path: Path) -> bool:
    """True when the file's start is plain text (a script, notes): no audio or video container is."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte character cut at the 4 KB boundary is still text
        if exc.start < len(head) - 4:
            return False
    return True


def _decode_with_ffmpeg_or_refuse(path: Path) -> tuple[np.ndarray, int]:
    """What libsndfile cannot read: text is refused at once, anything else goes to ffmpeg.

    librosa is not used here: for files libsndfile refuses it falls back to
    audioread, which is deprecated (a FutureWarning on every call) and ends in
    ffmpeg anyway.
    """
    if _looks_like_text(path):
        raise _not_audio(path, "text")
    decoded = _decode_with_ffmpeg(path)
    if decoded is None:
        raise _not_audio(path, "undecodable")
    return decoded


def _ffmpeg_exe() -> str | None:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:
        return shutil.which("ffmpeg")


def _decode_with_ffmpeg(path: Path) -> tuple[np.ndarray, int] | None:
    """Decode what libsndfile cannot (m4a/aac from phones, video files) with ffmpeg; None if unavailable or no audio.

    The duration is read from ffmpeg's probe first, so long files are refused before decoding.
    """
    exe = _ffmpeg_exe()
    if exe is None:
        return None
    # "file:" keeps ffmpeg from reading the name as a URL or another protocol.
    source = f"file:{path.resolve()}"
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    try:
        probe = subprocess.run(
            [exe, "-hide_banner", "-nostdin", "-i", source],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=30,
            creationflags=flags,
        )
        rate = re.search(r"Stream #\S+.*?: Audio: .*?(\d+) Hz", probe.stderr)
        if rate is None:
            return None
        length = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", probe.stderr)
        if length is not None:
            hours, minutes, secs = length.groups()
            _refuse_long(path, int(hours) * 3600 + int(minutes) * 60 + float(secs))
        sr = int(rate.group(1))
        decode = [exe, "-v", "error", "-nostdin", "-i", source, "-map", "0:a:0", "-t", str(MAX_DECODE_SECONDS + 1)]
        decode += ["-ac", "1", "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"]
        out = subprocess.run(
            decode,
            capture_output=True,
            timeout=300,
            creationflags=flags,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 or not out.stdout or sr <= 0:
        return None
    samples = np.frombuffer(out.stdout[: len(out.stdout) // 4 * 4], dtype="<f4").copy()
    _refuse_long(path, len(samples) / float(sr))
    return samples, sr


def _refuse_long(path: Path, seconds: float) -> None:
    if seconds > MAX_DECODE_SECONDS:
        raise AudioError(
            zh=f"音频太长（{seconds:.0f} 秒），最多 {MAX_DECODE_SECONDS:.0f} 秒。请先剪出需要的部分。",
            en=f"The audio is too long ({seconds:.0f} s); the limit is {MAX_DECODE_SECONDS:.0f} s. Cut out the part you need first.",
            file=path.name,
        )


def _clean(samples: np.ndarray, sr: int, name: str) -> Audio:
    if sr <= 0:
        raise AudioError(zh=f"{name} 的采样率无效。", en=f"{name} has an invalid sample rate.")
    if np.issubdtype(samples.dtype, np.integer):
        samples = samples.astype(np.float32) / float(np.iinfo(samples.dtype).max)
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:
        # Gradio gives (frames, channels); a (channels, frames) array has few rows.
        samples = samples.mean(axis=0 if samples.shape[0] < samples.shape[1] and samples.shape[0] <= 8 else 1)
    if samples.ndim != 1 or samples.size == 0:
        raise AudioError(zh=f"{name} 里没有音频数据。", en=f"{name} contains no audio samples.")
    if not np.all(np.isfinite(samples)):
        raise AudioError(
            zh=f"{name} 含有无效的采样值（NaN 或无穷大），文件可能已损坏。",
            en=f"{name} contains invalid samples (NaN or infinity); the file is probably damaged.",
        )
    peak = float(np.max(np.abs(samples)))
    if peak > 1.0:
        samples = samples / peak
    return Audio(samples=samples, sr=sr)


def check_reference(audio: Audio) -> None:
    """Refuse a reference clip the model cannot clone from (length, silence)."""
    if audio.seconds < REF_MIN_SECONDS:
        raise AudioError(
            zh=f"参考音频太短（{audio.seconds:.1f} 秒），至少需要 {REF_MIN_SECONDS:.0f} 秒，最好 3-10 秒。",
            en=f"The reference is too short ({audio.seconds:.1f} s); it needs at least {REF_MIN_SECONDS:.0f} s, ideally 3-10 s.",
        )
    if audio.seconds > REF_MAX_SECONDS:
        raise AudioError(
            zh=f"参考音频太长（{audio.seconds:.0f} 秒），最多 {REF_MAX_SECONDS:.0f} 秒，最好剪到 3-10 秒。",
            en=f"The reference is too long ({audio.seconds:.0f} s); the limit is {REF_MAX_SECONDS:.0f} s, ideally 3-10 s.",
        )
    if float(np.max(np.abs(audio.samples))) < 1e-4:
        raise AudioError(
            zh="参考音频是静音，没有可克隆的声音。请重新录制。",
            en="The reference is silent: there is no voice to clone. Record it again.",
        )


def resample(audio: Audio, sr: int) -> Audio:
    """Return ``audio`` at sample rate ``sr`` (no-op when already there)."""
    if audio.sr == sr:
        return audio
    import soxr

    return Audio(samples=soxr.resample(audio.samples, audio.sr, sr).astype(np.float32), sr=sr)


def to_wav_bytes(samples: np.ndarray, sr: int, subtype: str = "PCM_16") -> bytes:
    """Encode samples as a WAV file in memory."""
    buf = io.BytesIO()
    sf.write(buf, np.clip(samples, -1.0, 1.0), sr, format="WAV", subtype=subtype)
    return buf.getvalue()


def write_audio(path: str | Path, samples: np.ndarray, sr: int) -> Path:
    """Write ``samples`` to ``path`` atomically; the format follows the suffix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with writing(path.parent), atomic.replacing(path) as tmp:
        sf.write(str(tmp), np.clip(samples, -1.0, 1.0), sr, format=(path.suffix.lstrip(".") or "wav").upper())
    return path
