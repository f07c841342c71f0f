"""A dubbing project's output files over the API: list them, and resolve one download safely."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from ...dubbing.mux import VIDEO_SUFFIXES
from ...errors import InputError, NotFoundError

if TYPE_CHECKING:
    from ...dubbing.project import Project
    from ..context import ApiContext


#: The media type each output file is served with.
MEDIA_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".srt": "application/x-subrip",
    ".vtt": "text/vtt",
    ".json": "application/json",
    ".xml": "application/xml",
    ".fcpxml": "application/xml",
    ".otio": "application/json",
    ".zip": "application/zip",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
}


def outputs_folder(project: Project) -> Path:
    assert project.folder is not None
    return project.folder / "outputs"


def output_files(ctx: ApiContext, project: Project) -> list[dict]:
    """The files in the project's output folder (plain files only), with their download URLs."""
    folder = outputs_folder(project)
    if not folder.is_dir() or folder.is_symlink():
        return []
    files = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_symlink() or not path.is_file():
            continue
        files.append(
            {
                "file": path.name,
                "kind": _kind_of(project, path.name),
                "bytes": path.stat().st_size,
                "url": f"/api/dubbing/projects/{quote(project.folder.name)}/outputs/{quote(path.name)}",
            }
        )
    return files


def _kind_of(project: Project, file: str) -> str:
    from ...dubbing.editors import timeline_names
    from ...dubbing.outputs import safe_stem

    stem = safe_stem(project.name)
    if file in timeline_names(stem):
        return "timeline"
    if file in (f"{stem}-track.wav", f"{stem}-track.mp3"):
        return "track"
    if file == f"{stem}-dub.zip":
        return "zip"
    if file == f"{stem}-script.json":
        return "script"
    if file.endswith((".srt", ".vtt", "-captions.json")):
        return "captions"
    if file.lower().endswith(VIDEO_SUFFIXES):
        return "video"
    return "line"


def output_file(project: Project, file: str) -> Path:
    """The output file ``file`` of ``project``: a plain file name inside its output folder, nothing else."""
    folder = outputs_folder(project)
    bad = (
        not file
        or file in (".", "..")
        or file.startswith(".")
        or any(c in file for c in "/\\\x00:")
        or Path(file).name != file
    )
    if not bad and (folder.is_symlink() or (folder / file).is_symlink()):
        bad = True
    if not bad and (folder / file).exists():
        bad = not (folder / file).resolve().is_relative_to(folder.resolve())
    if bad:
        raise InputError(
            zh=f"文件名 “{file[:80]}” 无效：只能下载项目输出文件夹里的文件（不能有路径、“..” 或符号链接）。",
            en=f"Invalid file name '{file[:80]}': only files inside the project's output folder can be downloaded "
            "(no paths, '..' or symbolic links).",
            param="file",
        )
    path = folder / file
    name = project.folder.name
    if not path.is_file():
        raise NotFoundError(
            zh=f"项目 “{name}” 没有输出文件 “{file}”。先运行一个任务生成输出。",
            en=f"Project '{name}' has no output file '{file}'. Run a job to write the outputs.",
            param="file",
        )
    return path
