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
import math
import os
import re
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import DiskFullError, InputError, NotFoundError, StorageError, disk_full
from ..limits import MAX_LABEL_CHARS, MAX_LINES, MAX_SLOT_SECONDS, MAX_TEXT_CHARS, bad_char, load_json

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
            raise DiskFullError(path) from exc
        raise StorageError(zh=f"无法写入 {path}：{exc}", en=f"Cannot write {path}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


#: A line id names a folder under takes/; a take file is takes/<id>/<name>.wav, relative, nothing else.
_LINE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TAKE_FILE = re.compile(r"takes/[A-Za-z0-9_-]{1,64}/[A-Za-z0-9_-]{1,80}\.wav")


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
    settings = _known(DubSettings, data.get("settings") or {}, source, ("设置", "settings"))
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


def check_line_count(count: int, source: str) -> None:
    """Refuse a script or project of more than :data:`~studio.limits.MAX_LINES` lines, naming ``source``."""
    if count > MAX_LINES:
        raise InputError(
            zh=f"{source}：台词太多（{count} 行），最多 {MAX_LINES} 行。请拆成几个项目。",
            en=f"{source}: too many lines ({count}); the limit is {MAX_LINES}. Split it into several projects.",
            source=source,
        )


def _number(value: object, what: tuple[str, str], where: tuple[str, str], limit: float) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    shown = str(value)[:40]
    if not math.isfinite(number) or number < 0:
        raise InputError(
            zh=f"{where[0]}：{what[0]} “{shown}” 不是有效的非负数字。",
            en=f"{where[1]}: {what[1]} '{shown}' is not a valid non-negative number.",
        )
    if number > limit:
        day = limit == MAX_SLOT_SECONDS
        raise InputError(
            zh=f"{where[0]}：{what[0]} {shown} 秒太大，最多 {limit:g} 秒（{'24 小时' if day else '视频的长度'}）。",
            en=f"{where[1]}: {what[1]} {shown} s is too large; the limit is {limit:g} s "
            f"({'24 hours' if day else 'the length of the video'}).",
        )
    return number


def _text(value: object, limit: int, what: tuple[str, str], where: tuple[str, str]) -> str:
    """A line's text field as a stripped string within ``limit`` characters, with no NUL or lone surrogate."""
    if isinstance(value, list | dict | tuple | set):
        raise InputError(zh=f"{where[0]}：{what[0]}必须是文字。", en=f"{where[1]}: the {what[1]} must be text.")
    text = str(value if value is not None else "").strip()
    if len(text) > limit:
        raise InputError(
            zh=f"{where[0]}：{what[0]}太长（{len(text)} 个字符），最多 {limit} 个。",
            en=f"{where[1]}: the {what[1]} is too long ({len(text)} characters); the limit is {limit}.",
        )
    found = bad_char(text)
    if found is not None:
        raise InputError(
            zh=f"{where[0]}：{what[0]}含有不允许的字符 {found}（空字符或不成对的代理字符）。",
            en=f"{where[1]}: the {what[1]} holds a character that is not allowed, {found} (a NUL or an unpaired "
            "surrogate).",
        )
    return text


def check_line(line: Line, index: int, max_seconds: float = MAX_SLOT_SECONDS) -> Line:
    """Normalise a line's fields in place and refuse impossible values, naming the line.

    The one check of a line, wherever it comes from (an imported script, a project file, an edit in the
    Dubbing tab or over HTTP): text at most :data:`~studio.limits.MAX_TEXT_CHARS` characters (what one
    generation takes), labels at most :data:`~studio.limits.MAX_LABEL_CHARS`, times and durations at most
    ``max_seconds`` (default :data:`~studio.limits.MAX_SLOT_SECONDS`, 24 h; the video's length when there is one).
    """
    where = line_label(index)
    line.scene = _text(line.scene, MAX_LABEL_CHARS, ("场景", "scene"), where)
    where = line_label(index, line)
    line.speaker = _text(line.speaker, MAX_LABEL_CHARS, ("说话人", "speaker"), where)
    line.text = _text(line.text, MAX_TEXT_CHARS, ("台词", "text"), where)
    line.emotion = _text(line.emotion, MAX_LABEL_CHARS, ("情绪", "emotion"), where)
    intensity = _number(line.intensity, ("强度", "intensity"), where, math.inf)
    line.intensity = 0.5 if intensity is None else intensity
    if line.intensity > 1:
        raise InputError(
            zh=f"{where[0]}：强度必须在 0 到 1 之间（收到 {line.intensity}）。",
            en=f"{where[1]}: intensity must be between 0 and 1 (got {line.intensity}).",
        )
    line.duration = _number(line.duration, ("目标时长", "target duration"), where, max_seconds)
    line.start = _number(line.start, ("开始时间", "start time"), where, max_seconds)
    line.end = _number(line.end, ("结束时间", "end time"), where, max_seconds)
    if (line.start is None) != (line.end is None):
        raise InputError(
            zh=f"{where[0]}：开始和结束时间要么都填，要么都不填。",
            en=f"{where[1]}: give both a start and an end time, or neither.",
        )
    if line.timed and line.end <= line.start:
        raise InputError(
            zh=f"{where[0]}：结束时间 {line.end:.3f} 秒不晚于开始时间 {line.start:.3f} 秒。",
            en=f"{where[1]}: the end time {line.end:.3f} s is not after the start time {line.start:.3f} s.",
        )
    line.output = str(line.output or "").strip()
    if len(line.output) > MAX_OUTPUT_CHARS:
        raise InputError(
            zh=f"{where[0]}：输出文件名太长（{len(line.output)} 个字符），最多 {MAX_OUTPUT_CHARS} 个。",
            en=f"{where[1]}: the output file name is too long ({len(line.output)} characters); "
            f"the limit is {MAX_OUTPUT_CHARS}.",
        )
    line.locked = bool(line.locked)
    line.id = str(line.id or uuid.uuid4().hex[:8])
    if not _LINE_ID.fullmatch(line.id):
        raise InputError(
            zh=f"{where[0]}：编号 “{line.id[:40]}” 无效（只能用字母、数字、- 和 _，最多 64 个字符）。",
            en=f"{where[1]}: the id '{line.id[:40]}' is invalid (letters, digits, - and _ only, at most 64).",
        )
    if isinstance(line.chosen, bool) or not isinstance(line.chosen, int) or not -1 <= line.chosen < len(line.takes):
        raise InputError(
            zh=f"{where[0]}：选中的版本 {line.chosen!r} 无效。",
            en=f"{where[1]}: the chosen take {line.chosen!r} is invalid.",
        )
    for take in line.takes:
        if not isinstance(take.file, str) or not _TAKE_FILE.fullmatch(take.file):
            raise InputError(
                zh=f"{where[0]}：版本文件 “{str(take.file)[:60]}” 不在项目的 takes 文件夹里，已拒绝。",
                en=f"{where[1]}: the take file '{str(take.file)[:60]}' is not in the project's takes folder; refused.",
            )
    return line
