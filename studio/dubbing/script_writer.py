"""Scripts out: a project's lines as txt, CSV/TSV, YAML/JSON or SRT/WebVTT (read back by :mod:`.scripts`).

CSV/TSV cells that a spreadsheet would run as a formula (starting with one of
:data:`FORMULA_START`) get a leading ``'``; :mod:`.scripts` removes it on import.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from .project import Line, Project, line_label, write_text_atomic

FORMATS = ("txt", "csv", "tsv", "yaml", "json", "srt", "vtt")
SCRIPT_COLUMNS = (
    "scene",
    "speaker",
    "text",
    "emotion",
    "intensity",
    "duration",
    "start",
    "end",
    "output",
    "pause_after",
)

#: First characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def format_of(path: str | Path) -> str:
    """The script format named by ``path``'s extension."""
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = {"yml": "yaml", "text": "txt", "md": "txt", "webvtt": "vtt"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise InputError(
            zh=f"不认识的脚本格式 “.{suffix}”。可用：{', '.join(FORMATS)}。",
            en=f"Unknown script format '.{suffix}'. Use one of {', '.join(FORMATS)}.",
        )
    return fmt


def _guarded(cell: object) -> object:
    """A cell a spreadsheet will not run: ``'`` before text starting like a formula (or with ``'``)."""
    if isinstance(cell, str) and cell[:1] in (*FORMULA_START, "'"):
        return "'" + cell
    return cell


def format_timestamp(seconds: float, separator: str = ",") -> str:
    """``HH:MM:SS,mmm`` (SRT) or with ``separator='.'`` ``HH:MM:SS.mmm`` (WebVTT)."""
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def _number_text(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}".rstrip("0").rstrip(".")


def _line_record(line: Line) -> dict[str, Any]:
    record: dict[str, Any] = {"scene": line.scene, "speaker": line.speaker, "text": line.text}
    if line.emotion:
        record["emotion"], record["intensity"] = line.emotion, line.intensity
    for key in ("duration", "start", "end"):
        if getattr(line, key) is not None:
            record[key] = round(getattr(line, key), 3)
    if line.output:
        record["output"] = line.output
    if line.pause_after:
        record["pause_after"] = round(line.pause_after, 3)
    return record


def script_text(project: Project, fmt: str) -> str:
    """``project``'s lines as a script in ``fmt`` (takes and settings are not part of a script)."""
    if fmt == "txt":
        return _txt(project)
    if fmt in ("csv", "tsv"):
        out = io.StringIO()
        writer = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(SCRIPT_COLUMNS)
        for line in project.lines:
            record = _line_record(line)
            cells = [_number_text(v) if isinstance(v, float) else v for v in map(record.get, SCRIPT_COLUMNS)]
            writer.writerow([_guarded(c) for c in cells])
        return out.getvalue()
    data = {"name": project.name, "voices": project.voices, "lines": [_line_record(li) for li in project.lines]}
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    if fmt in ("srt", "vtt"):
        return _subtitles(project, fmt)
    raise InputError(
        zh=f"不认识的脚本格式 “{fmt}”。可用：{', '.join(FORMATS)}。",
        en=f"Unknown script format '{fmt}'. Use one of {', '.join(FORMATS)}.",
    )


def export_script(project: Project, path: str | Path, fmt: str | None = None) -> Path:
    """Write ``project`` as a script file; the format follows the extension unless ``fmt`` is given."""
    path = Path(path)
    write_text_atomic(path, script_text(project, fmt or format_of(path)))
    return path


def _txt(project: Project) -> str:
    paragraphs: list[list[str]] = []
    scene = None
    for line in project.lines:
        if not paragraphs or line.scene != scene:
            scene = line.scene
            default = f"scene{len(paragraphs) + 1}"
            paragraphs.append([] if scene == default else [f"# {scene}"])
        paragraphs[-1].append(f"[{line.speaker}] {line.text}" if line.speaker else line.text)
    return "\n\n".join("\n".join(p) for p in paragraphs) + "\n"


def _subtitles(project: Project, fmt: str) -> str:
    blocks = ["WEBVTT"] if fmt == "vtt" else []
    separator = "." if fmt == "vtt" else ","
    for i, line in enumerate(project.lines):
        if not line.timed:
            zh, en = line_label(i, line)
            raise InputError(
                zh=f"{zh}没有开始和结束时间，无法导出为字幕。",
                en=f"{en} has no start and end time, so it cannot be exported as subtitles.",
            )
        timing = f"{format_timestamp(line.start, separator)} --> {format_timestamp(line.end, separator)}"
        text = f"[{line.speaker}] {line.text}" if line.speaker else line.text
        blocks.append(f"{i + 1}\n{timing}\n{text}" if fmt == "srt" else f"{timing}\n{text}")
    return "\n\n".join(blocks) + "\n"
