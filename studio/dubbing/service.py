"""The dubbing service: what the Dubbing tab, ``python -m studio dub`` and the HTTP jobs all do with a project.

Pick lines by number (:func:`parse_line_numbers`, :func:`select_lines`), run
them (:func:`~studio.dubbing.runner.run_project`), then build the track and
its files (:func:`build`), with one wording for "nothing was generated"
(:func:`nothing_generated`, :func:`failed_lines`). Each adapter only adds its
own way of starting, showing progress and reporting.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
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
