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
import tempfile
import time
from pathlib import Path

from .. import atomic
from ..errors import InputError, NotFoundError, StorageError
from ..progress import CancelToken, ProgressFn, Status, no_progress

MUX_MODES = ("replace", "keep", "duck", "background")
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")  #: containers a dubbed copy keeps; others are written as .mkv
MUX_LIMIT_S = 3600.0  #: ffmpeg copies the picture, so even a 2-hour video takes minutes; more means it hangs


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
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Write ``dest``: ``video``'s picture with ``track`` as its sound (see the module docstring for ``mode``).

    ``background`` (the separated music and effects) is required by, and only used by, mode ``background``.
    Reports ffmpeg's position in the video; cancelling stops ffmpeg and leaves ``dest`` as it was.
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
    seconds = video_seconds(video)
    with atomic.replacing(dest, suffix=dest.suffix) as tmp:
        command += ["-c:v", "copy", "-c:a", "aac", "-b:a", "192k", "-progress", "pipe:1", "-nostats", str(tmp)]
        _run_ffmpeg(command, seconds, progress, cancel)
    progress(1.0, Status("muxing", at_s=seconds or 0.0, of_s=seconds or 0.0))
    return dest


def _run_ffmpeg(command: list[str], seconds: float | None, progress: ProgressFn, cancel: CancelToken | None) -> None:
    """Run ffmpeg with ``-progress pipe:1``, reporting its position; killed when cancelled or past the limit."""
    progress(0.0, Status("muxing", of_s=seconds or 0.0))
    deadline = time.monotonic() + MUX_LIMIT_S
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors, text=True, encoding="utf-8"
        )
        try:
            for line in proc.stdout:  # key=value lines, a block about twice a second
                key, _, value = line.strip().partition("=")
                if key == "out_time_us" and value.isdigit() and seconds:
                    at = min(seconds, int(value) / 1e6)
                    progress(at / seconds, Status("muxing", at_s=at, of_s=seconds))
                if cancel is not None:
                    cancel.check()
                if time.monotonic() > deadline:
                    raise StorageError(
                        zh=f"ffmpeg 合成视频超过 {MUX_LIMIT_S / 60:.0f} 分钟仍未完成，已停止。",
                        en=f"ffmpeg was still writing the video after {MUX_LIMIT_S / 60:.0f} minutes and was stopped.",
                    )
            proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if proc.returncode != 0:
            errors.seek(0)
            said = errors.read().decode("utf-8", "replace").strip()[-300:]
            raise StorageError(zh=f"ffmpeg 无法合成视频：{said}", en=f"ffmpeg could not write the video: {said}")
