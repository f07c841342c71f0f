"""The files of a line's takes on disk: where the chosen one is, its samples, the project's sample rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from .project import Line, Project


def take_path(project: Project, line: Line, index: int | None = None) -> Path | None:
    """The file of the line's chosen take (or take ``index``)."""
    takes = line.takes
    chosen = line.chosen if index is None else index
    if project.folder is None or not 0 <= chosen < len(takes):
        return None
    path = project.folder / takes[chosen].file
    takes_root = (project.folder / "takes").resolve()
    if path.is_symlink() or not path.resolve().is_relative_to(takes_root):
        return None  # a take is only ever a file the runner wrote under takes/
    return path


def read_take(project: Project, line: Line, index: int | None = None) -> np.ndarray | None:
    """The samples of the line's chosen take (or take ``index``), or None when there is none on disk."""
    path = take_path(project, line, index)
    if path is None or not path.is_file():
        return None
    samples, _ = sf.read(str(path), dtype="float32")
    return samples


def take_rate(project: Project) -> int:
    """The sample rate of the project's takes (that of the first on disk; 24 kHz otherwise)."""
    for line in project.lines:
        path = take_path(project, line)
        if path is not None and path.is_file():
            return sf.info(str(path)).samplerate
    return 24_000
