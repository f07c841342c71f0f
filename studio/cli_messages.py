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
    "result": (
        "{path}  {seconds:.2f} 秒音频，种子 {seed}，{model}（{timing}）",
        "{path}  {seconds:.2f} s of audio, seed {seed}, {model}  ({timing})",
    ),
    "sent_to_model": ("发送给模型：{text}", "sent to the model: {text}"),
    "instruction": ("风格指令：{text}", "instruction: {text}"),
    "fitted": (
        "原长 {natural:.2f} 秒，目标 {target:.3f} 秒，调整为 {final:.3f} 秒（裁掉 {trimmed:.2f} 秒，停顿 {pauses:+.2f} 秒，伸缩 ×{stretch:.3f}）",
        "natural {natural:.2f} s, target {target:.3f} s, fitted to {final:.3f} s "
        "(trimmed {trimmed:.2f} s, pauses {pauses:+.2f} s, stretch x{stretch:.3f})",
    ),
    "dub_header": (
        "{n:>3}  {scene:<14}{speaker:<10}{status:<10}{natural:>8}{slot:>8}{stretch:>8}  {file}",
        "{n:>3}  {scene:<14}{speaker:<10}{status:<10}{natural:>8}{slot:>8}{stretch:>8}  {file}",
    ),
    "dub_columns": (
        "#|场景|角色|状态|原长|时段|伸缩|文件",
        "#|scene|speaker|status|natural|slot|stretch|file",
    ),
    "dub_totals": (
        "共 {lines} 行（生成 {generated}，复用 {reused}，锁定 {locked}，失败 {failed}）· 音频共 {audio:.2f} 秒 · "
        "音轨 {track:.2f} 秒（{mode} 模式）· 用时 {wall:.1f} 秒 · 超出时段 {over} 行",
        "lines {lines} (generated {generated}, reused {reused}, locked {locked}, failed {failed}) · total audio "
        "{audio:.2f} s · track {track:.2f} s ({mode} mode) · wall time {wall:.1f} s · lines over their slot {over}",
    ),
    "dub_timelines": (
        "时间线：{xml}（Premiere、DaVinci Resolve），{fcpxml}（Final Cut Pro），{otio}（OpenTimelineIO）",
        "timelines: {xml} (Premiere, DaVinci Resolve), {fcpxml} (Final Cut Pro), {otio} (OpenTimelineIO)",
    ),
    "dub_zip": ("压缩包：{path}", "zip: {path}"),
    "dub_checked": (
        "逐条听写检查 {checked} 行，仍有问题 {wrong} 行（已标出，请试听）",
        "checked by ear: {checked} line(s); still wrong: {wrong} (marked; listen to them)",
    ),
    "dub_heard_wrong": (
        "  ! 第 {n} 行：错误率 {cer:.0%}；{problems}；听到：“{heard}”",
        "  ! line {n}: error rate {cer:.0%}; {problems}; heard: '{heard}'",
    ),
    "dub_words": ("逐字字幕：{names}", "word captions: {names}"),
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
