"""Bounds on everything the studio parses from a user: JSON and YAML files, request bodies, strings.

Every structured file a user hands in (dubbing scripts, project files, voice
profiles, ``settings.json``, the settings of an upload) is read with
:func:`load_json` or :func:`load_yaml`, and every JSON request body is checked
with :func:`check_tree` before a route sees it. Both refuse, with one clear
:class:`~studio.errors.InputError`:

- nesting deeper than :data:`MAX_DEPTH` (instead of a ``RecursionError``);
- more than :data:`MAX_NODES` values or :data:`MAX_TOTAL_CHARS` characters of
  strings, counted as if YAML aliases were copied out (a few hundred bytes of
  nested aliases would otherwise expand to gigabytes);
- more than :data:`MAX_ALIASES` YAML aliases;
- a NUL character or a lone UTF-16 surrogate in any string (:func:`bad_char`),
  which no file name or text can hold.

Limits on single fields (line text, labels, times) live with the fields:
:func:`studio.dubbing.checks.check_line`, :mod:`studio.voices`.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import InputError

#: Longest text one generation call (and so one dubbing line) takes, in characters: what a user may type.
MAX_TEXT_CHARS = 5000
#: Longest short label (scene, speaker, emotion of a dubbing line), in characters.
MAX_LABEL_CHARS = 200
#: Most lines in one dubbing script or project.
MAX_LINES = 10_000
#: Latest time a dubbing slot may start or end, and the longest target duration: 24 hours, in seconds.
MAX_SLOT_SECONDS = 24 * 3600.0
#: Largest script a user may import, in characters once decoded.
MAX_SCRIPT_CHARS = 2_000_000
#: Deepest nesting of lists and objects in any parsed file or request body.
MAX_DEPTH = 32
#: Most values (strings, numbers, lists, objects; keys count) in one parsed file, aliases expanded.
MAX_NODES = 1_000_000
#: Most characters of strings in one parsed file, aliases expanded.
MAX_TOTAL_CHARS = 8_000_000
#: Most YAML aliases (``*name``) in one file; scripts rarely need any.
MAX_ALIASES = 100


def bad_char(text: str) -> str | None:
    """A description of the first character no user text may hold (NUL, lone surrogate), or None."""
    if "\x00" in text:
        return "NUL (\\x00)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"U+{ord(text[exc.start]):04X}"
    return None


def check_chars(text: str, what: tuple[str, str]) -> str:
    """``text`` unchanged, or :class:`InputError` naming ``what`` (zh, en) when it holds a NUL or lone surrogate."""
    found = bad_char(text)
    if found is not None:
        raise InputError(
            zh=f"{what[0]}含有不允许的字符 {found}（空字符或不成对的代理字符）。请删除它后重试。",
            en=f"The {what[1]} holds a character that is not allowed, {found} (a NUL or an unpaired surrogate). "
            "Remove it and try again.",
            param=what[1],
        )
    return text


def _refuse(source: str, zh: str, en: str) -> InputError:
    return InputError(zh=f"{source}：{zh}", en=f"{source}: {en}", source=source)


def _too_deep(source: str) -> InputError:
    return _refuse(
        source,
        f"嵌套太深（超过 {MAX_DEPTH} 层）。请把列表和对象展平。",
        f"it is nested too deeply (more than {MAX_DEPTH} levels). Flatten its lists and objects.",
    )


def _too_big(source: str) -> InputError:
    return _refuse(
        source,
        f"内容太多（展开别名后超过 {MAX_NODES} 个值或 {MAX_TOTAL_CHARS} 个字符）。请拆成几个文件。",
        f"it holds too much (over {MAX_NODES} values or {MAX_TOTAL_CHARS} characters once aliases are "
        "expanded). Split it into several files.",
    )


def check_tree(data: Any, source: str, what: tuple[str, str] | None = None) -> Any:
    """``data`` (parsed JSON or YAML) unchanged, or :class:`InputError` when it breaks a bound (module docstring).

    Walks shared objects once per reference, as a writer would, and stops at
    the first bound broken, so a bomb costs at most :data:`MAX_NODES` steps.
    A bad character is reported with the key it sits under; ``what`` (zh, en)
    names the whole (default: ``source``).
    """
    what = what or (source, source)
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    nodes = chars = 0
    while stack:
        item, depth, key = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise _too_big(source)
        if depth > MAX_DEPTH:
            raise _too_deep(source)
        if isinstance(item, str):
            chars += len(item)
            if chars > MAX_TOTAL_CHARS:
                raise _too_big(source)
            named = (f"{what[0]}的 {key[:40]} 字段", f"{what[1]} field '{key[:40]}'") if key else what
            check_chars(item, named)
        elif isinstance(item, dict):
            for name, value in item.items():
                stack.append((name, depth + 1, key))
                stack.append((value, depth + 1, str(name)))
        elif isinstance(item, list | tuple):
            stack.extend((value, depth + 1, key) for value in item)
    return data


def load_json(text: str | bytes, source: str) -> Any:
    """Parse JSON ``text`` within the bounds; :class:`InputError` naming ``source`` for bad or oversized JSON."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise _too_deep(source) from None
    except ValueError as exc:
        raise _refuse(source, f"JSON 格式错误：{exc}", f"invalid JSON: {exc}") from None
    return check_tree(data, source)


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML ``text`` (safe tags only) within the bounds; :class:`InputError` naming ``source``."""
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader that counts aliases and nesting while it composes (composing is recursive)."""

        aliases = 0
        depth = 0

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    raise _refuse(
                        source,
                        f"别名（*名称）太多，最多 {MAX_ALIASES} 个。请直接写出内容。",
                        f"it uses too many aliases (*name); the limit is {MAX_ALIASES}. Write the values out.",
                    )
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    raise _too_deep(source)
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    loader = Loader(text)
    try:
        data = loader.get_single_data()
    except RecursionError:
        raise _too_deep(source) from None
    except yaml.YAMLError as exc:
        raise _refuse(source, f"YAML 格式错误：{exc}", f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return check_tree(data, source)
