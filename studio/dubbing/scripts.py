"""Scripts in and out: plain text, CSV/TSV, YAML/JSON and SRT/WebVTT subtitles.

Plain text: one paragraph per scene (blank lines between scenes), an
optional ``# scene name`` heading, and ``[A] ...`` speaker tags starting a new
line of dialogue; untagged lines continue the line before. CSV/TSV: a header
row naming the columns (English or Chinese), see :data:`SCRIPT_COLUMNS`.
YAML/JSON: a list of line objects, or ``{name, voices, lines}``; a project
file is accepted too. SRT/VTT: each cue becomes a line whose slot is the
cue's time; BOM, CRLF, missing cue numbers, HTML/ASS tags and GBK files are
handled, overlapping or reversed cues are refused naming the cue.

Every import is bounded (:mod:`studio.limits`): at most
:data:`~studio.limits.MAX_SCRIPT_CHARS` characters and
:data:`~studio.limits.MAX_LINES` lines, YAML/JSON depth and alias expansion,
and each line's fields as :func:`~studio.dubbing.checks.check_line` checks
them (text as long as one can type, times within 24 hours).

CSV/TSV cells that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, tab or carriage return) are written with a leading ``'``,
which import removes again, so a script survives a round trip unchanged.
"""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..limits import MAX_LINES, MAX_SCRIPT_CHARS, load_json, load_yaml
from .checks import check_line, check_line_count
from .project import Line, Project, is_project_data, line_label, project_from_dict
from .script_writer import (
    FORMATS,
    FORMULA_START,
    SCRIPT_COLUMNS,
    export_script,
    format_of,
    format_timestamp,
    script_text,
)

__all__ = [
    "FORMATS",
    "SCRIPT_COLUMNS",
    "apply_timings",
    "decode_bytes",
    "export_script",
    "format_of",
    "format_timestamp",
    "import_script",
    "parse_script",
    "script_text",
]

_COLUMN_NAMES = {
    "scene": ("scene", "场景", "镜头"),
    "speaker": ("speaker", "voice", "role", "角色", "说话人", "声音"),
    "text": ("text", "line", "文本", "台词", "文字"),
    "emotion": ("emotion", "情绪"),
    "intensity": ("intensity", "强度"),
    "duration": ("duration", "时长", "目标时长"),
    "start": ("start", "开始"),
    "end": ("end", "结束"),
    "output": ("output", "file", "filename", "输出", "文件名", "输出文件"),
    "pause_after": ("pause_after", "pause", "停顿", "句后停顿"),
}
_SPEAKER_TAG = re.compile(r"^\s*[\[【]([^\]】\n]{1,40})[\]】]\s*")
_HEADING = re.compile(r"^\s*#\s*(.+?)\s*$")
_TIME = re.compile(r"^(?:(\d{1,9}):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?$")
_TAGS = re.compile(r"<[^>\n]*>|\{\\[^}\n]*\}")
_VTT_VOICE = re.compile(r"^\s*<v(?:\.[\w.-]+)?\s+([^>]+)>")
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")
#: Largest script file read from disk: the character limit in the widest encoding the reader accepts.
MAX_SCRIPT_BYTES = 4 * MAX_SCRIPT_CHARS


def _error(zh: str, en: str, source: str) -> InputError:
    return InputError(zh=f"{source}：{zh}", en=f"{source}: {en}", source=source)


# -- reading ----------------------------------------------------------------------------------------


def decode_bytes(data: bytes) -> str:
    """Text of a script file: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030; newlines as ``\\n``."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(
                zh="脚本文件不是有效的 UTF-16 文本（文件可能已损坏，或者不是文本）。",
                en="The script file is not valid UTF-16 text (it may be damaged, or not text at all).",
            ) from exc
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030", errors="replace")
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def import_script(path: str | Path, fmt: str | None = None) -> Project:
    """Read a script or subtitle file into a new (unsaved) project named after the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(zh=f"找不到脚本文件：{path.name}", en=f"Script file not found: {path.name}")
    if path.stat().st_size > MAX_SCRIPT_BYTES:
        raise _too_long(path.name)
    project = parse_script(decode_bytes(path.read_bytes()), fmt or format_of(path), path.name)
    if project.name == "dub":
        project.name = path.stem
    return project


def parse_script(text: str, fmt: str, source: str = "script") -> Project:
    """Parse script ``text`` in ``fmt`` (see :data:`FORMATS`); errors name the file and the line or cue."""
    if len(text) > MAX_SCRIPT_CHARS:
        raise _too_long(source)
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    parser = {
        "txt": _parse_txt,
        "csv": lambda t, s: _parse_table(t, s, ","),
        "tsv": lambda t, s: _parse_table(t, s, "\t"),
        "yaml": _parse_yaml,
        "json": _parse_json,
        "srt": _parse_subtitles,
        "vtt": _parse_subtitles,
    }.get(fmt)
    if parser is None:
        raise InputError(
            zh=f"不认识的脚本格式 “{fmt}”。可用：{', '.join(FORMATS)}。",
            en=f"Unknown script format '{fmt}'. Use one of {', '.join(FORMATS)}.",
        )
    project = parser(text, source)
    if not project.lines:
        raise _error("里面没有任何台词。", "it holds no lines.", source)
    return project


def _too_long(source: str) -> InputError:
    return _error(
        f"脚本太大，最多 {MAX_SCRIPT_CHARS} 个字符。请拆成几个文件。",
        f"the script is too large; the limit is {MAX_SCRIPT_CHARS} characters. Split it into several files.",
        source,
    )


def _checked(lines: list[Line], source: str) -> list[Line]:
    check_line_count(len(lines), source)
    for i, line in enumerate(lines):
        try:
            check_line(line, i)
        except InputError as exc:
            raise _error(exc.zh, exc.en, source) from exc
    return lines


def _parse_txt(text: str, source: str) -> Project:
    lines: list[Line] = []
    for number, paragraph in enumerate(p for p in re.split(r"\n\s*\n", text) if p.strip()):
        scene = f"scene{number + 1}"
        current: Line | None = None
        for raw in paragraph.split("\n"):
            if not raw.strip():
                continue
            heading = _HEADING.match(raw)
            if heading and current is None:
                scene = heading.group(1)
                continue
            tag = _SPEAKER_TAG.match(raw)
            if tag or current is None:
                current = Line(scene=scene, speaker=tag.group(1).strip() if tag else "", text="")
                lines.append(current)
                check_line_count(len(lines), source)
                raw = raw[tag.end() :] if tag else raw
            current.text = _join(current.text, raw.strip())
    return Project(lines=_checked(lines, source))


def _join(left: str, right: str) -> str:
    if not left or not right:
        return left or right
    if _CJK.match(left[-1]) or _CJK.match(right[0]):
        return left + right
    return f"{left} {right}"


def _column_of(name: str) -> str | None:
    key = name.strip().lower()
    return next((col for col, names in _COLUMN_NAMES.items() if key in names), None)


def _parse_table(text: str, source: str, delimiter: str) -> Project:
    rows = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            if any(c.strip() for c in row):
                rows.append([_unguarded(c) for c in row])
                check_line_count(len(rows) - 1, source)
    except csv.Error as exc:
        raise _error(f"表格格式错误：{exc}", f"invalid table: {exc}", source) from None
    if not rows:
        return Project()
    header = [_column_of(c) for c in rows[0]]
    if "text" in header:
        rows = rows[1:]
    else:  # no header: scene, speaker, text; a single column is the text
        header = ["text"] if len(rows[0]) == 1 else list(SCRIPT_COLUMNS[: len(rows[0])])
    lines = []
    for row in rows:
        values = {col: cell.strip() for col, cell in zip(header, row, strict=False) if col}
        for key in ("start", "end", "duration"):
            if values.get(key):
                values[key] = _seconds(values[key], source, len(lines))
        lines.append(Line(**{k: v for k, v in values.items() if v != ""}))
    return Project(lines=_checked(lines, source))


def _unguarded(cell: str) -> str:
    """A cell as written by the user: the ``'`` that :func:`_guarded` puts before a formula-like cell removed."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in (*FORMULA_START, "'") else cell


def _seconds(value: str, source: str, index: int) -> float | str:
    """A time as seconds: ``12.5``, ``00:00:12,500``, ``01:02.3``; leave anything else for check_line to refuse."""
    value = value.strip()
    match = _TIME.match(value)
    if not match:
        return value
    hours, minutes, secs, frac = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(secs) + (int(frac.ljust(3, "0")) / 1000 if frac else 0)


def _parse_mapping(data: Any, source: str) -> Project:
    if is_project_data(data):
        return project_from_dict(data, source)
    meta: dict = {}
    if isinstance(data, dict):
        meta, data = data, data.get("lines")
    if not isinstance(data, list):
        raise _error(
            "应为台词列表，或带有 lines 列表的对象。",
            "expected a list of lines, or an object with a 'lines' list.",
            source,
        )
    check_line_count(len(data), source)
    lines = []
    for i, item in enumerate(data):
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict):
            zh, en = line_label(i)
            raise _error(f"{zh}必须是对象或文字。", f"{en} must be an object or a string.", source)
        values = {k: item[k] for k in SCRIPT_COLUMNS if k in item and item[k] is not None}
        for key in ("start", "end", "duration"):
            if isinstance(values.get(key), str):
                values[key] = _seconds(values[key], source, i)
        text_keys = ("scene", "speaker", "text", "output")
        lines.append(Line(**{k: (_scalar(v) if k in text_keys else v) for k, v in values.items()}))
    voices = meta.get("voices") or {}
    if not isinstance(voices, dict) or not all(isinstance(v, str | int | float) for v in voices.values()):
        raise _error("voices 必须是“角色: 声音”的对象。", "'voices' must map speakers to voices.", source)
    if len(voices) > MAX_LINES or any(len(str(k)) > 200 or len(str(v)) > 2000 for k, v in voices.items()):
        raise _error(
            "voices 太大（角色名最多 200 个字符，声音最多 2000 个字符）。",
            "'voices' is too large (speaker labels at most 200 characters, voices at most 2000).",
            source,
        )
    return Project(
        name=str(_scalar(meta.get("name")) if isinstance(meta.get("name"), str | int | float) else "dub")[:80] or "dub",
        lines=_checked(lines, source),
        voices={str(k): str(v) for k, v in voices.items()},
    )


def _scalar(value: object) -> object:
    """A text field's value as text; lists and objects are left for check_line to refuse by name."""
    return str(value) if isinstance(value, str | int | float) else value


def _parse_json(text: str, source: str) -> Project:
    return _parse_mapping(load_json(text, source), source)


def _parse_yaml(text: str, source: str) -> Project:
    return _parse_mapping(load_yaml(text, source), source)


def _cue_time(value: str, source: str, cue: int, file_line: int) -> float:
    seconds = _seconds(value.replace(" ", ""), source, cue)
    if isinstance(seconds, str):
        raise _error(
            f"第 {cue} 条字幕（文件第 {file_line} 行）的时间 “{value}” 无法识别，应为 00:00:01,000。",
            f"cue {cue} (file line {file_line}): cannot read the time '{value}'; expected 00:00:01,000.",
            source,
        )
    return float(seconds)


def _cue_text(lines: list[str]) -> tuple[str, str]:
    """(speaker, text) of a cue's text lines: VTT ``<v Name>`` or ``[Name]`` tags give the speaker."""
    speaker = ""
    voice = _VTT_VOICE.match(lines[0]) if lines else None
    if voice:
        speaker = voice.group(1).strip()
    text = ""
    for raw in lines:
        text = _join(text, html.unescape(_TAGS.sub("", raw)).strip())
    tag = _SPEAKER_TAG.match(text)
    if tag and not speaker:
        speaker, text = tag.group(1).strip(), text[tag.end() :]
    return speaker, text.strip()


def _parse_subtitles(text: str, source: str) -> Project:
    """SRT or WebVTT cues; the file line of each block is kept for messages."""
    lines: list[Line] = []
    file_line = 1
    previous: tuple[int, float] | None = None
    for block in re.split(r"\n[ \t]*\n", text):
        block_line, file_line = file_line, file_line + block.count("\n") + 2
        rows = [r for r in block.split("\n") if r.strip()]
        if not rows:
            continue
        first = rows[0].strip()
        if first.startswith("WEBVTT") or first.split(" ")[0] in ("NOTE", "STYLE", "REGION"):
            continue
        timing = next((i for i, r in enumerate(rows) if "-->" in r), None)
        cue = len(lines) + 1
        where_line = block_line + (block.split("\n").index(rows[timing]) if timing is not None else 0)
        if timing is None:
            raise _error(
                f"第 {cue} 条字幕（文件第 {block_line} 行）缺少时间行 “开始 --> 结束”。",
                f"cue {cue} (file line {block_line}) has no 'start --> end' time line.",
                source,
            )
        start_text, _, end_text = rows[timing].partition("-->")
        start = _cue_time(start_text.strip(), source, cue, where_line)
        end = _cue_time((end_text.split() or [""])[0], source, cue, where_line)
        span = f"{format_timestamp(start)} --> {format_timestamp(end)}"
        if end <= start:
            raise _error(
                f"第 {cue} 条字幕（文件第 {where_line} 行，{span}）的结束时间不晚于开始时间。",
                f"cue {cue} (file line {where_line}, {span}) ends before it starts.",
                source,
            )
        if previous is not None and start < previous[1] - 1e-6:
            raise _error(
                f"第 {cue} 条字幕（文件第 {where_line} 行，{span}）与第 {previous[0]} 条重叠，"
                f"它在上一条结束（{format_timestamp(previous[1])}）之前就开始了。",
                f"cue {cue} (file line {where_line}, {span}) overlaps cue {previous[0]}: it starts before "
                f"that one ends ({format_timestamp(previous[1])}).",
                source,
            )
        previous = (cue, end)
        speaker, cue_text = _cue_text(rows[timing + 1 :])
        lines.append(Line(scene=f"scene{cue}", speaker=speaker, text=cue_text, start=start, end=end))
    return Project(lines=_checked(lines, source))


def apply_timings(project: Project, timed: Project) -> None:
    """Give ``project``'s lines, in order, the slots of ``timed``'s cues (same count required)."""
    if len(project.lines) != len(timed.lines):
        raise InputError(
            zh=f"字幕有 {len(timed.lines)} 条，脚本有 {len(project.lines)} 行台词：数量必须一致。",
            en=f"The subtitles have {len(timed.lines)} cues but the script has {len(project.lines)} lines; "
            "they must match.",
        )
    for line, cue in zip(project.lines, timed.lines, strict=True):
        line.start, line.end = cue.start, cue.end
