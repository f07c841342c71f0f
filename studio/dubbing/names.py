"""File names of a dub's per-line outputs: one rule for every script format.

* a line that names its own file (``output: scene8-ending.mp3``) gets that name, sanitised, with the
  chosen format's extension;
* otherwise ``scene{N}-audio.<fmt>``, where a scene called ``1``, ``01``, ``scene1``, ``Scene 1``,
  ``场景1`` or ``镜头 1`` is scene N = 1 (CSV/YAML/JSON ``scene`` columns and plain-text paragraphs
  alike), a scene with another name keeps its name (``开场-audio.mp3``), and a line with no scene is its
  own scene, numbered by its position;
* a scene with several lines numbers them (``scene2-audio-1.mp3``, ``scene2-audio-2.mp3``);
* names are unique, case-insensitively (``-2``, ``-3`` ... added), and never those of the track,
  captions or script files written beside them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import PurePosixPath

from .project import Project

_NUMBERED_SCENE = re.compile(r"(?:scene|场景|镜头|第)?\s*0*(\d{1,6})\s*(?:场|幕|镜)?", re.IGNORECASE)
_AUDIO_EXTENSIONS = {".mp3", ".wav", ".flac", ".ogg", ".opus", ".m4a", ".aac"}


def safe_stem(name: str, fallback: str = "dub") -> str:
    """A file-name-safe form of ``name`` (Chinese kept; separators and reserved characters become '-')."""
    stem = unicodedata.normalize("NFKC", name).strip()
    stem = re.sub(r'[\s<>:"/\\|?*\x00-\x1f\x7f]+', "-", stem).strip(" .-")[:60]
    return stem or fallback


def scene_stem(scene: str, position: int) -> str:
    """``scene{N}`` for a numbered scene, the sanitised name for a named one, ``scene{position}`` for none."""
    text = unicodedata.normalize("NFKC", scene or "").strip()
    if not text:
        return f"scene{position}"
    match = _NUMBERED_SCENE.fullmatch(text)
    if match:
        return f"scene{int(match.group(1))}"
    return safe_stem(text, f"scene{position}")


def output_stem(output: str) -> str:
    """The sanitised stem of a line's own output name: folders and a known audio extension dropped."""
    base = PurePosixPath(unicodedata.normalize("NFKC", output).replace("\\", "/")).name
    if PurePosixPath(base).suffix.lower() in _AUDIO_EXTENSIONS:
        base = base[: -len(PurePosixPath(base).suffix)]
    return safe_stem(base, "")


def line_file_names(project: Project, fmt: str, reserved: set[str] | frozenset[str] = frozenset()) -> dict[str, str]:
    """The file name of each line, by line id (see the module docstring for the rule)."""
    stems = []
    for i, line in enumerate(project.lines):
        own = output_stem(line.output) if line.output else ""
        stems.append((own, scene_stem(line.scene, i + 1)))
    per_scene = Counter(scene for own, scene in stems if not own)
    seen: Counter = Counter()
    taken = {name.casefold() for name in reserved}
    names = {}
    for line, (own, scene) in zip(project.lines, stems, strict=True):
        if own:
            stem = own
        else:
            seen[scene] += 1
            stem = f"{scene}-audio" + (f"-{seen[scene]}" if per_scene[scene] > 1 else "")
        name, n = f"{stem}.{fmt}", 2
        while name.casefold() in taken:
            name, n = f"{stem}-{n}.{fmt}", n + 1
        taken.add(name.casefold())
        names[line.id] = name
    return names
