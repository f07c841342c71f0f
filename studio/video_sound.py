"""A video's sound: probe it, check it can be re-dubbed, extract it as WAV (ffmpeg from imageio-ffmpeg)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from . import atomic, recogniser
from .errors import InputError, NotFoundError

MAX_SECONDS = 2 * 3600  #: longest video accepted (its 16 kHz sound is ~460 MB in memory)
CODE_TO_LANGUAGE = {
    "zh": "Chinese",
    "yue": "Chinese",
    "en": "English",
    "ja": "Japanese",
    "ko": "Korean",
    "de": "German",
    "fr": "French",
    "ru": "Russian",
    "pt": "Portuguese",
    "es": "Spanish",
    "it": "Italian",
}


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def probe(video: Path) -> tuple[bool, float | None]:
    """(has sound, duration in seconds or None) of ``video``, from ffmpeg's reading of its header."""
    proc = subprocess.run([_ffmpeg(), "-hide_banner", "-i", str(video)], capture_output=True, text=True, timeout=60)
    has_audio = re.search(r"Stream #\S+.*?: Audio:", proc.stderr) is not None
    found = re.search(r"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)", proc.stderr)
    seconds = int(found[1]) * 3600 + int(found[2]) * 60 + float(found[3]) if found else None
    return has_audio, seconds


def check_video(video: str | Path) -> float:
    """The video's duration; one clear error when it is missing, unreadable, silent or too long."""
    video = Path(video)
    if not video.is_file():
        raise NotFoundError(zh=f"找不到视频文件：{video.name}", en=f"Video file not found: {video.name}")
    has_audio, seconds = probe(video)
    if seconds is None:
        raise InputError(
            zh=f"{video.name} 无法读取：文件损坏或不是视频/音频文件。",
            en=f"{video.name} cannot be read: the file is damaged or is not a video or audio file.",
        )
    if not has_audio:
        raise InputError(
            zh=f"{video.name} 里没有声音（没有音轨），无法识别台词。",
            en=f"{video.name} has no sound (no audio stream), so there is nothing to transcribe.",
        )
    if seconds > MAX_SECONDS:
        raise InputError(
            zh=f"{video.name} 长 {seconds / 3600:.1f} 小时，超过 {MAX_SECONDS // 3600} 小时的上限。请先把它剪成较短的几段再分别配音。",
            en=f"{video.name} is {seconds / 3600:.1f} hours long, over the {MAX_SECONDS // 3600}-hour limit. "
            "Cut it into shorter parts and re-dub each.",
        )
    return seconds


def extract_audio(video: Path, dest: Path, rate: int = recogniser.SAMPLE_RATE, channels: int = 1) -> Path:
    """Write ``video``'s first sound stream to ``dest`` as ``rate`` Hz WAV (16 kHz mono by default; atomically)."""
    with atomic.replacing(dest, suffix=".wav") as tmp:
        _extract(video, tmp, rate, channels)
    return dest


def _extract(video: Path, tmp: Path, rate: int, channels: int) -> None:
    command = [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(video), "-map", "0:a:0", "-vn"]
    command += ["-ac", str(channels), "-ar", str(rate), "-c:a", "pcm_s16le", str(tmp)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size <= 44:
        raise InputError(
            zh=f"无法从 {video.name} 提取声音：文件可能已损坏。",
            en=f"Could not extract the sound of {video.name}: the file may be damaged.",
            cause=proc.stderr.strip()[-300:],
        )
