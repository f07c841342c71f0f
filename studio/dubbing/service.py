"""The dubbing service: what the Dubbing tab, ``python -m studio dub`` and the HTTP jobs all do with a project.

Pick lines by number (:func:`parse_line_numbers`, :func:`select_lines`), run
them (:func:`~studio.dubbing.runner.run_project`), then build the track and
its files (:func:`build`), with one wording for "nothing was generated"
(:func:`nothing_generated`, :func:`failed_lines`). Each adapter only adds its
own way of starting, showing progress and reporting.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConflictError, InputError
from ..progress import CancelToken, ProgressFn, no_progress
from .outputs import Build, build_outputs
from .project import Project


def parse_line_numbers(spec: str, count: int) -> list[int]:
    """``1,3-5`` -> [0, 2, 3, 4] (0-based), refusing numbers outside 1..count."""
    numbers: list[int] = []
    for part in (spec or "").replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            lo, hi = int(first), int(last or first)
        except ValueError:
            lo = hi = 0
        if not 1 <= lo <= hi <= count:
            raise InputError(
                zh=f"行号 “{part}” 无效：项目共有 {count} 行。",
                en=f"Invalid line number '{part}': the project has {count} lines.",
            )
        numbers.extend(range(lo - 1, hi))
    return sorted(set(numbers))


def line_spec(spec: str | list[int] | None) -> str | None:
    """A selection as text (``[1, 3]`` -> ``"1,3"``); None (or blank) selects every line."""
    if spec is None:
        return None
    if isinstance(spec, list):
        return ",".join(str(n) for n in spec)
    return spec.strip() or None


def select_lines(project: Project, spec: str | list[int] | None) -> list[str] | None:
    """The ids of the lines ``spec`` numbers (1-based, ``1,3-5`` or a list); None when it selects every line."""
    text = line_spec(spec)
    if text is None:
        return None
    return [project.lines[i].id for i in parse_line_numbers(text, len(project.lines))]


def failed_lines(report) -> InputError:
    """The error for a run in which lines failed (the others were written)."""
    zh = "；".join(r.message("zh") for r in report.failed) or "没有任何台词可以生成。"
    en = "; ".join(r.message("en") for r in report.failed) or "no line could be generated."
    return InputError(
        zh=f"{len(report.failed)} 行没有生成（其余已输出）：{zh}",
        en=f"{len(report.failed)} line(s) not generated (the rest were written): {en}",
    )


def nothing_generated(report) -> InputError:
    """The error for a run that left no line with audio, naming why each line failed."""
    zh = "；".join(r.message("zh") for r in report.failed)
    en = "; ".join(r.message("en") for r in report.failed)
    return InputError(zh=f"没有生成任何音频：{zh}", en=f"No audio was generated: {en}")


def nothing_usable(report) -> bool:
    """Whether a run failed lines and has no line with audio to build from."""
    return bool(report.failed) and not any(r.status in ("generated", "reused", "locked") for r in report.results)


def build(project: Project, report=None, folder: str | Path | None = None) -> Build:
    """The track and every output file; with the run's ``report``, "nothing generated" names the failures."""
    try:
        return build_outputs(project, folder)
    except InputError as exc:
        if report is None or not report.failed:
            raise
        raise nothing_generated(report) from exc


def track_summary(built: Build) -> dict:
    """The built track in plain data: length, mode, lines left silent, lines flagged (with suggestions)."""
    return {
        "seconds": round(built.track.seconds, 4),
        "mode": built.track.mode,
        "missing": [i + 1 for i, _ in built.missing],
        "flagged": [
            {"number": p.index + 1, "status": p.status, "zh": p.suggestion("zh"), "en": p.suggestion("en")}
            for p in built.track.flagged
        ],
    }


def output_files(built: Build) -> list[Path]:
    """The files a build wrote, the zip last (for downloads)."""
    return [p for p in [*built.outputs.files, built.outputs.zip] if p is not None]


def source_video(project: Project) -> Path | None:
    """The video a re-dub made ``project`` from (kept in ``redub/input``), or None."""
    from ..redub_job_file import INPUT_DIR, work_dir

    if project.folder is None:
        return None
    inputs = work_dir(project.folder) / INPUT_DIR
    if not inputs.is_dir() or inputs.is_symlink():
        return None
    videos = sorted(p for p in inputs.iterdir() if p.is_file() and not p.is_symlink())
    return videos[0] if len(videos) == 1 else None


def built_track(project: Project) -> Path:
    """The project's built track (``outputs/<name>-track.wav``); refused (409) before the outputs are built."""
    from .names import safe_stem

    assert project.folder is not None
    outputs = project.folder / "outputs"
    track = outputs / f"{safe_stem(project.name)}-track.wav"
    if outputs.is_symlink() or track.is_symlink() or not track.is_file():
        raise ConflictError(
            zh=f"项目 “{project.name}” 还没有配音音轨：先生成台词并输出文件。",
            en=f"Project '{project.name}' has no track yet: generate its lines and build the outputs first.",
            param="project",
        )
    return track


def dub_into_video(
    project: Project,
    video: str | Path | None = None,
    mode: str = "duck",
    duck_db: float = -14.0,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """A copy of ``video`` (default: the re-dubbed one) with the project's built track as its sound.

    Written to the project's outputs as ``<video>-dubbed.<ext>``; mode ``background`` puts the dub over the
    re-dub's separated background. Refused before any work without a built track or a video.
    """
    from .mux import VIDEO_SUFFIXES, mux
    from .names import safe_stem

    track = built_track(project)
    video = Path(video) if video else source_video(project)
    if video is None:
        raise InputError(
            zh="请选择要配音的视频（只有从视频配音的项目才会记住原视频）。",
            en="Choose the video to dub (only a project re-dubbed from a video remembers its video).",
            param="file",
        )
    suffix = video.suffix.lower()
    ext = suffix if suffix in VIDEO_SUFFIXES else ".mp4" if not suffix else ".mkv"
    dest = track.parent / f"{safe_stem(video.stem, 'video')}-dubbed{ext}"
    background = project.folder / "redub" / "background.wav" if mode == "background" else None
    return mux(video, track, dest, mode, duck_db, background, progress=progress, cancel=cancel)
