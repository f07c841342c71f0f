"""Put the dub track into a copy of the video (ffmpeg from imageio-ffmpeg; the video stream is copied).

Modes: ``replace`` drops the original audio; ``keep`` mixes it under the dub
at full level; ``duck`` lowers it by ``duck_db`` under the dub (constant, so
music and effects stay audible but never compete with the voice); ``background``
puts the dub over a separated background track (the original's music and
effects with its voice removed, see :mod:`studio.separator`) at full level,
mixed the same way as ``keep``.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

from .. import atomic
from ..errors import InputError, NotFoundError, StorageError

MUX_MODES = ("replace", "keep", "duck", "background")


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def probe_streams(video: str | Path) -> tuple[bool, bool]:
    """(has video, has audio) of ``video``; a file ffmpeg cannot read has neither."""
    proc = subprocess.run([_ffmpeg(), "-hide_banner", "-i", str(video)], capture_output=True, text=True, timeout=60)
    streams = re.findall(r"Stream #\S+.*?: (Video|Audio):", proc.stderr)
    video_streams = [s for s in re.findall(r"Stream #\S+.*?: Video: (\w+)", proc.stderr) if s not in ("png", "mjpeg")]
    return bool(video_streams), "Audio" in streams


def video_seconds(video: str | Path) -> float | None:
    """The length of ``video`` in seconds as ffmpeg reports it; None when it reports none."""
    proc = subprocess.run([_ffmpeg(), "-hide_banner", "-i", str(video)], capture_output=True, text=True, timeout=60)
    match = re.search(r"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)", proc.stderr)
    if not match:
        return None
    hours, minutes, secs = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(secs)


def check_within_video(project, video: str | Path) -> None:
    """Refuse (naming the line) any slot or target duration of ``project`` that ends after ``video`` does.

    Half a second of slack covers containers whose reported length is rounded.
    """
    from .checks import check_line

    seconds = video_seconds(video)
    if seconds is None:
        return
    for i, line in enumerate(project.lines):
        check_line(dataclasses.replace(line), i, max_seconds=seconds + 0.5)


def check_background(background: str | Path | None) -> None:
    """Refuse mode ``background`` without the separated background track (before any work)."""
    if background is None or not Path(background).is_file():
        raise InputError(
            zh="混音方式 background 需要分离出的背景声（先用 redub --keep-background 分离人声和背景）。",
            en="Mix mode 'background' needs the separated background track (run redub --keep-background first).",
        )


def mux(
    video: str | Path,
    track: str | Path,
    dest: str | Path,
    mode: str = "duck",
    duck_db: float = -14.0,
    background: str | Path | None = None,
) -> Path:
    """Write ``dest``: ``video``'s picture with ``track`` as its sound (see the module docstring for ``mode``).

    ``background`` (the separated music and effects) is required by, and only used by, mode ``background``.
    """
    video, track, dest = Path(video), Path(track), Path(dest)
    if mode not in MUX_MODES:
        raise InputError(
            zh=f"不认识的混音方式 “{mode}”。可选：{', '.join(MUX_MODES)}。",
            en=f"Unknown mix mode '{mode}'. Choose one of {', '.join(MUX_MODES)}.",
        )
    if not video.is_file():
        raise NotFoundError(zh=f"找不到视频文件：{video.name}", en=f"Video file not found: {video.name}")
    if mode == "background":
        check_background(background)
    has_video, has_audio = probe_streams(video)
    if not has_video:
        raise InputError(
            zh=f"{video.name} 不是视频文件（里面没有画面）。请选择 mp4、mov、mkv 等视频。",
            en=f"{video.name} is not a video (it has no picture). Choose an mp4, mov, mkv or similar video.",
        )
    command = [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(video), "-i", str(track)]
    if mode == "background":
        command += ["-i", str(background)]
        graph = "[2:a:0]volume=1.0[bed];[bed][1:a:0]amix=inputs=2:duration=longest:normalize=0[mix]"
        command += ["-filter_complex", graph, "-map", "0:v:0", "-map", "[mix]", "-shortest"]
    elif mode == "replace" or not has_audio:
        command += ["-map", "0:v:0", "-map", "1:a:0"]
    else:
        gain = "1.0" if mode == "keep" else f"{10 ** (duck_db / 20):.4f}"
        graph = f"[0:a:0]volume={gain}[bed];[bed][1:a:0]amix=inputs=2:duration=first:normalize=0[mix]"
        command += ["-filter_complex", graph, "-map", "0:v:0", "-map", "[mix]"]
    with atomic.replacing(dest, suffix=dest.suffix) as tmp:
        command += ["-c:v", "copy", "-c:a", "aac", "-b:a", "192k", str(tmp)]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise StorageError(
                zh=f"ffmpeg 无法合成视频：{proc.stderr.strip()[-300:]}",
                en=f"ffmpeg could not write the video: {proc.stderr.strip()[-300:]}",
            )
    return dest
