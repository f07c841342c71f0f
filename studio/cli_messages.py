"""Every message the command line prints to a person, in Chinese and English: one place, like the UI's catalogue.

The language comes from ``STUDIO_LANG``, then the locale (:func:`studio.cli.user_language`).
"""

from __future__ import annotations

import sys

MESSAGES: dict[str, tuple[str, str]] = {
    "no_voices": (
        "还没有保存的声音：python -m studio voices add 名称 --audio 片段 --transcript 文字 --consent",
        "no saved voices yet: python -m studio voices add NAME --audio CLIP --transcript TEXT --consent",
    ),
    "voice_row": (
        "{name:<20} {language:<8} 片段：{tags:<24} {transcript}",
        "{name:<20} {language:<8} clips: {tags:<24} {transcript}",
    ),
    "voice_saved": ("已保存声音“{name}”：{path}", "saved voice '{name}' in {path}"),
    "voice_clips": ("“{name}”现在的片段：{tags}", "'{name}' now has clips: {tags}"),
    "voice_renamed": ("已改名为“{name}”", "renamed to '{name}'"),
    "voice_removed": (
        "已把“{name}”移到回收站（python -m studio voices restore '{name}' 可以恢复）",
        "moved '{name}' to the trash (python -m studio voices restore '{name}' brings it back)",
    ),
    "voice_restored": ("已恢复“{name}”", "restored '{name}'"),
    "voice_imported": ("已导入“{name}”", "imported '{name}'"),
    "alias_removed": ("已从“{name}”移除别名：{alias}", "removed alias from '{name}': {alias}"),
    "alias_added": ("“{name}”现在也响应：{alias}", "'{name}' now answers to: {alias}"),
    "alias_none": ("“{name}”还没有别名。", "'{name}' has no aliases yet."),
    "gsv_saved": (
        "已保存声音“{name}”（{block}），参考文本：{transcript}",
        "saved voice '{name}' ({block}), transcript: {transcript}",
    ),
    "gsv_no_transcript": ("无", "none"),
    "gsv_alias": (
        "“{name}”响应别名：{alias}（客户端配置无需修改）",
        "'{name}' answers to: {alias} (the client's config works unchanged)",
    ),
    "error": ("错误：{message}", "error: {message}"),
    "cancelled": ("已取消", "cancelled"),
    "note": ("提示：{message}", "note: {message}"),
}


def message(key: str, lang: str, **values: object) -> str:
    """The message ``key`` in ``lang`` ('zh' or anything else for English), filled with ``values``."""
    zh, en = MESSAGES[key]
    return (zh if lang == "zh" else en).format(**values)


def say(key: str, lang: str, *, err: bool = False, **values: object) -> None:
    """Print the message ``key`` in ``lang`` (to stderr with ``err``)."""
    print(message(key, lang, **values), file=sys.stderr if err else sys.stdout)
