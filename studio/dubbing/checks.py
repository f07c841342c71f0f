"""The checks of a dubbing line and of project settings, wherever they come from.

An imported script (:mod:`.scripts`), a project file (:func:`.project.project_from_dict`), an edit in the
Dubbing tab or over HTTP all go through :func:`check_line`: text at most
:data:`~studio.limits.MAX_TEXT_CHARS` characters (what one generation takes, as when typing), labels at most
:data:`~studio.limits.MAX_LABEL_CHARS`, no NUL or lone surrogate, times and durations within 24 hours (or the
video's length), take records well-formed and inside the project. :func:`check_settings` gives a project
file's settings the types and ranges the API allows, dropping (with a warning) any that have not.
"""

from __future__ import annotations

import logging
import math
import re
import uuid

from ..errors import InputError
from ..limits import MAX_LABEL_CHARS, MAX_LINES, MAX_SLOT_SECONDS, MAX_TEXT_CHARS, bad_char
from ..text.pauses import MAX_PAUSE_S
from .lines import MAX_OUTPUT_CHARS, DubSettings, Line, line_label

log = logging.getLogger(__name__)

#: A line id names a folder under takes/; a take file is takes/<id>/<name>.wav, relative, nothing else.
_LINE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TAKE_FILE = re.compile(r"takes/[A-Za-z0-9_-]{1,64}/[A-Za-z0-9_-]{1,80}\.wav")
_FORMATS = ("mp3", "wav", "flac", "ogg")
#: Settings: (types allowed, lowest, highest); None in types means the field may be null.
_SETTINGS: dict[str, tuple[tuple, float, float]] = {
    "seed": ((int, None), 0, 2**32 - 1),
    "max_new_tokens": ((int, None), 1, 4096),
    "loudness": ((int, float, None), -70.0, 0.0),
    "gap_s": ((int, float), 0.0, 30.0),
    "max_stretch": ((int, float), 1.0, 2.0),
    "retakes": ((int,), 0, 7),
}
_SWITCHES = ("check_takes", "word_captions")  #: True, False or None (automatic)


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
    line.pause_after = _number(line.pause_after, ("句后停顿", "pause after"), where, math.inf) or 0.0
    if line.pause_after > MAX_PAUSE_S:
        raise InputError(
            zh=f"{where[0]}：句后停顿最长 {MAX_PAUSE_S:g} 秒（收到 {line.pause_after:g}）。",
            en=f"{where[1]}: the pause after a line is at most {MAX_PAUSE_S:g} s (got {line.pause_after:g}).",
        )
    line.output = _text(line.output, MAX_OUTPUT_CHARS, ("输出文件名", "output file name"), where)
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
    if len(line.takes) > 1000:
        raise InputError(zh=f"{where[0]}：版本太多。", en=f"{where[1]}: too many takes.")
    for take in line.takes:
        if not isinstance(take.file, str) or not _TAKE_FILE.fullmatch(take.file):
            raise InputError(
                zh=f"{where[0]}：版本文件 “{str(take.file)[:60]}” 不在项目的 takes 文件夹里，已拒绝。",
                en=f"{where[1]}: the take file '{str(take.file)[:60]}' is not in the project's takes folder; refused.",
            )
        seconds, seed = take.seconds, take.seed
        numbers_ok = (
            isinstance(seconds, int | float)
            and not isinstance(seconds, bool)
            and math.isfinite(seconds)
            and (seed is None or (isinstance(seed, int) and not isinstance(seed, bool)))
        )
        texts_ok = all(isinstance(v, str) and len(v) <= MAX_LABEL_CHARS for v in (take.hash, take.model, take.created))
        texts_ok = texts_ok and _check_ok(take.check)
        if not numbers_ok or not texts_ok or not 0 <= seconds <= MAX_SLOT_SECONDS:
            raise InputError(
                zh=f"{where[0]}：版本记录 “{take.file}” 已损坏（时长、种子、模型或时间无效）。",
                en=f"{where[1]}: the take record '{take.file}' is damaged (invalid length, seed, model or date).",
            )
    return line


def _check_ok(check: object) -> bool:
    """Whether a take's stored check is absent or reads back (bounded: a heard text no longer than a line)."""
    if check is None:
        return True
    from ..takecheck import TakeCheck

    try:
        return isinstance(check, dict) and len(TakeCheck.from_dict(check).heard) <= 4 * MAX_TEXT_CHARS
    except (KeyError, TypeError, ValueError):
        return False


def check_settings(raw: dict, source: str) -> dict:
    """A project file's settings (known fields only), keeping those with the types and ranges the API allows.

    A bad value (a hand edit, an older tool) is dropped with a one-line warning, and the default used, so a
    project never becomes unopenable because of one setting.
    """
    defaults = DubSettings()
    good = {name: value for name, value in raw.items() if _setting_ok(name, value, getattr(defaults, name))}
    dropped = sorted(set(raw) - set(good))
    if dropped:
        log.warning("%s: ignoring the settings %s (wrong type or out of range); using the defaults", source, dropped)
    return good


def _setting_ok(name: str, value: object, default: object) -> bool:
    if name in _SETTINGS:
        kinds, low, high = _SETTINGS[name]
        if value is None:
            return None in kinds
        number_types = tuple(k for k in kinds if k is not None)
        return (
            isinstance(value, number_types)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and low <= value <= high
        )
    if isinstance(default, bool) or name in _SWITCHES:
        return isinstance(value, bool) or (value is None and name in _SWITCHES)
    if not isinstance(value, str) or len(value) > 2000 or bad_char(value) is not None:
        return False
    return name != "format" or value in _FORMATS
