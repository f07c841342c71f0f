"""A dubbing project: ordered lines, speaker-to-voice mapping, settings and generated takes.

On disk a project is a folder::

    project.json          this module's JSON (versioned; written atomically)
    takes/<line id>/*.wav the generated takes of each line (natural length, float WAV)
    .lock                 held while a run generates into the folder

The JSON reopens to an equal :class:`Project`. A file written by a newer
studio (``version`` above :data:`PROJECT_VERSION`) is refused with a clear
message instead of being half-read.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .. import atomic
from ..errors import DiskFullError, InputError, NotFoundError, StorageError, disk_full
from ..limits import load_json
from .lines import (  # noqa: F401  (the records, re-exported: importers use studio.dubbing.project)
    MAX_OUTPUT_CHARS,
    VOICE_KINDS,
    DubSettings,
    Line,
    Take,
    VoiceChoice,
    line_label,
    parse_voice,
)

PROJECT_FORMAT = "qwen-voice-studio/dub-project"
PROJECT_VERSION = 1
PROJECT_FILE = "project.json"


@dataclass
class Project:
    """Lines, voices and settings; ``folder`` is where it is saved (not stored in the file)."""

    name: str = "dub"
    lines: list[Line] = field(default_factory=list)
    voices: dict[str, str] = field(default_factory=dict)  #: speaker label -> voice spec
    settings: DubSettings = field(default_factory=DubSettings)
    folder: Path | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object stored in ``project.json``."""
        return {
            "format": PROJECT_FORMAT,
            "version": PROJECT_VERSION,
            "name": self.name,
            "settings": asdict(self.settings),
            "voices": dict(self.voices),
            "lines": [asdict(line) for line in self.lines],
        }

    def index_of(self, line_id: str) -> int:
        """The position of the line with ``line_id``."""
        for i, line in enumerate(self.lines):
            if line.id == line_id:
                return i
        raise NotFoundError(zh=f"项目里没有编号为 {line_id} 的台词。", en=f"The project has no line with id {line_id}.")

    def save(self, folder: str | Path | None = None) -> Path:
        """Write ``project.json`` atomically into ``folder`` (default: the folder it came from)."""
        target = Path(folder) if folder is not None else self.folder
        if target is None:
            raise InputError(zh="请先指定项目文件夹。", en="Choose a project folder first.")
        self.folder = target
        path = target / PROJECT_FILE
        data = json.dumps(self.to_dict(), ensure_ascii=False, indent=2)
        write_text_atomic(path, data)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Project:
        """Open a project folder or its ``project.json``."""
        path = Path(path)
        file = path / PROJECT_FILE if path.is_dir() else path
        if not file.is_file():
            raise NotFoundError(zh=f"找不到项目文件：{file}", en=f"Project file not found: {file}")
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                zh=f"项目文件 {file.name} 无法读取：{exc}", en=f"The project file {file.name} cannot be read: {exc}"
            ) from exc
        try:
            data = load_json(text, file.name)
        except InputError as exc:
            raise InputError(
                zh=f"项目文件无法读取：{exc.zh}", en=f"The project file cannot be read: {exc.en}", source=file.name
            ) from None
        project = project_from_dict(data, file.name)
        project.folder = file.parent
        return project


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` beside ``path`` then rename over it: a crash leaves the old file or the new one."""
    try:
        atomic.write_text(path, text)
    except OSError as exc:
        if disk_full(exc, path):
            raise DiskFullError(path, exc.strerror or "") from exc
        raise StorageError(zh=f"无法写入 {path}：{exc}", en=f"Cannot write {path}: {exc}") from exc


def project_folder(value: str | Path, root: str | Path) -> Path:
    """The project folder ``value`` names under ``root``; relative only, no ``..``, no symbolic links.

    For every place a project folder comes from someone else (the UI, a request):
    :class:`InputError` when the name would leave ``root``.
    """
    text = str(value or "").strip().replace("\\", "/")
    root = Path(root)
    parts = [p for p in text.split("/") if p not in ("", ".")]
    bad = (
        not parts
        or text.startswith("/")
        or re.match(r"^[A-Za-z]:", text) is not None
        or text.startswith("~")
        or any(p == ".." or "\x00" in p for p in parts)
    )
    path = root.joinpath(*parts) if parts else root
    probe = path
    while not bad and probe != root:
        bad = probe.is_symlink()
        probe = probe.parent
    if bad:
        raise InputError(
            zh=f"项目文件夹 “{text[:80]}” 无效：只能是输出文件夹里的相对路径，不能用绝对路径、“..”或符号链接。",
            en=f"The project folder '{text[:80]}' is invalid: give a relative folder inside the outputs folder, "
            "with no absolute path, '..' or symbolic link.",
        )
    return path


def is_project_data(data: object) -> bool:
    """Whether parsed JSON/YAML is a project file (rather than a plain script)."""
    return isinstance(data, dict) and data.get("format") == PROJECT_FORMAT


def project_from_dict(data: object, source: str = "project.json") -> Project:
    """Build a :class:`Project` from its JSON object, refusing newer versions and bad fields."""
    if not is_project_data(data):
        raise InputError(
            zh=f"{source} 不是配音项目文件。", en=f"{source} is not a dubbing project file.", source=source
        )
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise InputError(
            zh=f"{source} 的版本号无效：{version!r}。", en=f"{source} has an invalid version: {version!r}."
        )
    if version > PROJECT_VERSION:
        raise InputError(
            zh=f"{source} 由更新版本的工作室保存（项目格式 {version}，本程序只认识到 {PROJECT_VERSION}）。请升级工作室后再打开。",
            en=f"{source} was saved by a newer studio (project format {version}; this one reads up to "
            f"{PROJECT_VERSION}). Update the studio to open it.",
        )
    from .checks import check_line, check_line_count, check_settings

    settings = check_settings(_known(DubSettings, data.get("settings") or {}, source, ("设置", "settings")), source)
    raw_lines = data.get("lines") or []
    if not isinstance(raw_lines, list):
        raise InputError(zh=f"{source}：lines 必须是列表。", en=f"{source}: 'lines' must be a list.", source=source)
    check_line_count(len(raw_lines), source)
    lines = []
    for i, raw in enumerate(raw_lines):
        zh, en = line_label(i)
        item = _known(Line, raw, source, (zh, en))
        item["takes"] = [Take(**_known(Take, t, source, (zh, en))) for t in item.get("takes") or []]
        lines.append(check_line(Line(**item), i))
    voices = data.get("voices") or {}
    if not isinstance(voices, dict):
        raise InputError(zh=f"{source}：voices 必须是对象。", en=f"{source}: 'voices' must be an object.")
    return Project(
        name=str(data.get("name") or "dub"),
        lines=lines,
        voices={str(k): str(v) for k, v in voices.items()},
        settings=DubSettings(**settings),
    )


def _known(cls: type, raw: object, source: str, where: tuple[str, str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InputError(
            zh=f"{source}：{where[0]}必须是对象。", en=f"{source}: {where[1]} must be an object.", source=source
        )
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in raw.items() if k in names}


def check_line(line: Line, index: int, max_seconds: float | None = None) -> Line:
    """:func:`studio.dubbing.checks.check_line`, for callers that import it from here."""
    from .checks import check_line as check

    return check(line, index) if max_seconds is None else check(line, index, max_seconds)
