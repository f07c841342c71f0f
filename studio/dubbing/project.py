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
import os
import re
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import DiskFullError, InputError, NotFoundError, StorageError, disk_full
from ..limits import load_json

PROJECT_FORMAT = "qwen-voice-studio/dub-project"
PROJECT_VERSION = 1
PROJECT_FILE = "project.json"
MAX_OUTPUT_CHARS = 120  #: a line's own output file name
VOICE_KINDS = ("saved", "preset", "design")


def line_label(index: int, line: Line | None = None) -> tuple[str, str]:
    """How messages name a line: ("第 3 行（scene2）", "line 3 (scene2)") for 0-based ``index``."""
    scene = f"（{line.scene}）" if line is not None and line.scene else ""
    scene_en = f" ({line.scene})" if line is not None and line.scene else ""
    return f"第 {index + 1} 行{scene}", f"line {index + 1}{scene_en}"


@dataclass
class VoiceChoice:
    """The voice a speaker is read with: a saved voice, a preset speaker or a designed voice."""

    kind: str  #: saved | preset | design
    name: str = ""  #: saved voice name or preset speaker name
    tag: str = ""  #: clip tag of a saved voice ("" = its default clip)
    description: str = ""  #: for a designed voice

    def spec(self) -> str:
        """The one-string form accepted by :func:`parse_voice` (``saved:小明#happy``, ``design:...``)."""
        if self.kind == "design":
            return f"design:{self.description}"
        return f"{self.kind}:{self.name}" + (f"#{self.tag}" if self.tag else "")


def parse_voice(spec: str) -> VoiceChoice:
    """``saved:NAME[#TAG]``, ``preset:SPEAKER``, ``design:DESCRIPTION`` or a bare name (resolved later)."""
    spec = (spec or "").strip()
    kind, sep, rest = spec.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in VOICE_KINDS:
        kind, rest = "", spec
    rest = rest.strip()
    if not rest:
        raise InputError(
            zh=f"声音设置 “{spec}” 是空的。写法：saved:声音名、preset:Vivian 或 design:声音描述。",
            en=f"The voice '{spec}' is empty. Write saved:NAME, preset:Vivian or design:DESCRIPTION.",
        )
    if kind == "design":
        return VoiceChoice("design", description=rest)
    name, _, tag = rest.partition("#")
    return VoiceChoice(kind, name=name.strip(), tag=tag.strip())


@dataclass
class Take:
    """One generated reading of a line, at its natural length."""

    file: str  #: relative to the project folder
    hash: str  #: content hash of text + voice + settings it was made from
    seconds: float
    seed: int
    model: str
    created: str = ""
    check: dict | None = None  #: what the recogniser heard (:meth:`studio.takecheck.TakeCheck.to_dict`)


@dataclass
class Line:
    """One line of the script."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    scene: str = ""
    speaker: str = ""  #: a label mapped in :attr:`Project.voices`, or a voice/preset name itself
    text: str = ""  #: may carry pinned readings, e.g. 行(háng)
    emotion: str = ""
    intensity: float = 0.5
    duration: float | None = None  #: target length in seconds (scene mode)
    start: float | None = None  #: slot on the video's timeline, seconds
    end: float | None = None
    output: str = ""  #: the line's own output file name (``scene8-ending.mp3``); "" = ``scene{N}-audio``
    pause_after: float = 0.0  #: seconds of exact silence after the line's words (inside its slot)
    locked: bool = False  #: never regenerate; keep the chosen take
    takes: list[Take] = field(default_factory=list)
    chosen: int = -1  #: index into takes; -1 = none

    @property
    def take(self) -> Take | None:
        """The chosen take, if any."""
        return self.takes[self.chosen] if 0 <= self.chosen < len(self.takes) else None

    @property
    def timed(self) -> bool:
        """Whether the line has a slot on the timeline."""
        return self.start is not None and self.end is not None


@dataclass
class DubSettings:
    """How a project is generated and assembled."""

    language: str = "Auto"
    model_base: str = ""  #: "" = the studio's default for each kind
    model_custom: str = ""
    model_design: str = ""
    seed: int | None = None  #: None: a random seed per take
    max_new_tokens: int | None = None  #: cap on model steps for each segment of a line (None = by text length)
    loudness: float | None = -16.0  #: LUFS of every line; None leaves it as generated
    gap_s: float = 0.4  #: scene mode: silence between lines
    max_stretch: float = 1.33  #: allowed stretch factors are 1/max_stretch .. max_stretch
    allow_overlap: bool = False  #: a line too long for its slot may run into the following gap
    format: str = "mp3"
    default_voice: str = ""  #: voice spec for speakers without a mapping
    check_takes: bool | None = None  #: check each take by ear (None: on with a GPU and a recogniser on disk)
    retakes: int = 2  #: with checking: new takes made for a line whose take is still wrong
    word_captions: bool | None = None  #: word-level captions (None: when takes are checked)


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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}.part")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        if disk_full(exc, path):
            raise DiskFullError(path, exc.strerror or "") from exc
        raise StorageError(zh=f"无法写入 {path}：{exc}", en=f"Cannot write {path}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


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
