"""Table column headers, Chinese (first) and English: part of the catalogue in :mod:`studio.ui.i18n`."""

from __future__ import annotations

COLUMN_STRINGS: dict[str, tuple[str, str]] = {
    "col_number": ("#", "#"),
    "col_id": ("编号", "id"),
    "col_scene": ("场景", "scene"),
    "col_speaker": ("角色", "speaker"),
    "col_text": ("台词", "text"),
    "col_emotion": ("情绪", "emotion"),
    "col_intensity": ("强度", "intensity"),
    "col_duration": ("时长", "duration"),
    "col_start": ("开始", "start"),
    "col_end": ("结束", "end"),
    "col_pause_after": ("句后停顿", "pause after"),
    "col_locked": ("锁定", "locked"),
    "col_takes": ("版本", "takes"),
    "col_heard": ("听写", "heard"),
    "col_voice": ("声音", "voice"),
    "col_name": ("名称", "name"),
    "col_language": ("语言", "language"),
    "col_clips": ("片段", "clips"),
    "col_transcript": ("文字内容", "transcript"),
    "col_consent": ("授权", "consent"),
    "col_updated": ("更新时间", "updated"),
    "col_model_id": ("模型", "id"),
    "col_kind": ("类型", "kind"),
    "col_downloaded": ("已下载", "downloaded"),
    "col_disk_mb": ("占用空间 (MB)", "disk MB"),
    "col_loaded": ("已加载", "loaded"),
    "col_path": ("位置", "path"),
    "col_time": ("时间", "time"),
    "col_seconds": ("秒数", "seconds"),
    "col_seed": ("种子", "seed"),
    "col_star": ("★", "★"),
}


def columns(keys: tuple[str, ...], lang: str) -> list[str]:
    """The headers ``keys`` in ``lang``."""
    return [COLUMN_STRINGS[k][0 if lang == "zh" else 1] for k in keys]
