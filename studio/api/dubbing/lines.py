"""One line of a dubbing project over the API: find it, show it with its takes, edit it (lock, choose a take)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ...errors import InputError, NotFoundError, StudioError

if TYPE_CHECKING:
    from ...dubbing.project import Project
    from ..context import ApiContext

from .projects import _changing, _lines_of


def find_line(project: Project, ref: str) -> int:
    """The 0-based index of the line ``ref`` names: a number from 1 to the line count, else a line id; 404."""
    ref = (ref or "").strip()
    count = len(project.lines)
    if re.fullmatch(r"[0-9]{1,9}", ref) and 1 <= int(ref) <= count:
        return int(ref) - 1
    for i, line in enumerate(project.lines):
        if line.id == ref:
            return i
    assert project.folder is not None
    raise NotFoundError(
        zh=f"项目 “{project.folder.name}” 没有台词 “{ref[:40]}”：请用行号（1 到 {count}）或台词编号（id）。",
        en=f"Project '{project.folder.name}' has no line '{ref[:40]}': give a line number (1 to {count}) or a line id.",
        param="line",
    )


def line_detail(ctx: ApiContext, project: Project, index: int, lang: str) -> dict:
    """Line ``index`` as the project shows it, with its takes (and their URLs) and why it cannot be voiced."""
    from ...dubbing.runner import resolve_voice

    assert project.folder is not None
    line = project.lines[index]
    base = f"/api/dubbing/projects/{quote(project.folder.name)}/lines/{quote(line.id)}"
    warning = None
    try:
        resolve_voice(project, index, ctx.library())
    except StudioError as exc:
        warning = exc.message(lang)
    takes = [
        {
            "index": k,
            "seconds": take.seconds,
            "seed": take.seed,
            "model": take.model,
            "created": take.created,
            "chosen": k == line.chosen,
            "url": f"{base}/takes/{k}",
        }
        for k, take in enumerate(line.takes)
    ]
    return {**_lines_of(project)[index], "take_list": takes, "warning": warning, "url": base}


#: Line fields an edit sets as given; check_line normalises and checks them (null clears a field).
LINE_FIELDS = ("scene", "speaker", "text", "emotion", "intensity", "duration", "start", "end", "pause_after")


def edit_line(
    ctx: ApiContext, name: str, ref: str, changes: dict[str, Any], locked: bool | None, chosen: int | None
) -> tuple[Project, int]:
    """Apply ``changes`` (line fields), ``locked`` and ``chosen`` to the line ``ref`` of project ``name``, all or
    nothing; returns (project, line index). Values are checked as the Dubbing tab checks its table."""
    import dataclasses

    from ...dubbing.checks import check_line
    from ...dubbing.project import line_label
    from ...dubbing.runner import choose_take, set_locked
    from ...dubbing.timeline import check_slots, mode_of

    with _changing(ctx, name) as project:
        index = find_line(project, ref)
        line = check_line(dataclasses.replace(project.lines[index], **changes), index)
        if "text" in changes and not line.text:
            zh, en = line_label(index, line)
            raise InputError(zh=f"{zh}是空的：请填写台词。", en=f"{en} is empty: type its text.", param="text")
        project.lines[index] = line
        if {"start", "end"} & changes.keys() and mode_of(project) == "timed":
            check_slots(project)
        if chosen is not None:
            try:
                choose_take(project, line.id, chosen)
            except InputError as exc:
                zh, en = line_label(index, line)
                raise InputError(zh=f"{zh}：{exc.zh}", en=f"{en}: {exc.en}", param="chosen") from None
        if locked is not None:
            set_locked(project, line.id, locked)
        project.save()
        return project, index
