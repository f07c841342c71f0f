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

#: The Dubbing tab's "Re-dub a video" panel (:mod:`studio.ui.redub_panel`).
REDUB_STRINGS: dict[str, tuple[str, str]] = {
    "redub_title": ("从视频配音", "Re-dub a video"),
    "redub_intro": (
        "上传一段视频：识别出带时间的台词，写入上面的项目文件夹（已有的项目不会被覆盖）。完成后点“打开 / 新建”编辑台词，再生成。",
        "Upload a video: its speech becomes timed lines in the project folder above (an existing project is never "
        "overwritten). Then click Open / new to edit the lines, and generate.",
    ),
    "redub_video": ("视频", "Video"),
    "redub_language": ("视频里说的语言（Auto 为自动识别）", "Language spoken (Auto: detect)"),
    "redub_keep_background": ("保留背景音乐和音效（分离人声）", "Keep the music and effects (separate the voice)"),
    "redub_clone": ("从视频克隆说话人的声音", "Clone the speaker's voice from the video"),
    "redub_consent": (
        "我确认这是我的声音，或声音主人已明确同意被克隆",
        "I confirm this is my voice, or its owner has explicitly agreed to its cloning",
    ),
    "redub_speakers": (
        "区分说话人（用 Base 模型的声纹）",
        "Tell the speakers apart (the Base model's speaker encoder)",
    ),
    "redub_start": ("识别视频", "Transcribe the video"),
    "redub_no_video": ("请先上传视频。", "Upload a video first."),
    "redub_done": (
        "已识别 {lines} 行，写入 {path}。点“打开 / 新建”编辑。",
        "{lines} lines written to {path}. Click Open / new to edit them.",
    ),
    "redub_kept": ("项目已存在，保持原样：{path}。", "The project exists already and was kept as it is: {path}."),
    "redub_background": (
        "背景音已分离：合成视频时选 `background` 方式，新配音会叠在背景音上。",
        "Background separated: mux the video with mode `background` to put the new voice over it.",
    ),
    "redub_cloned": (
        "已从视频克隆声音“{name}”，设为默认声音。",
        "Cloned the voice '{name}' from the video; it is the default voice.",
    ),
}


def columns(keys: tuple[str, ...], lang: str) -> list[str]:
    """The headers ``keys`` in ``lang``."""
    return [COLUMN_STRINGS[k][0 if lang == "zh" else 1] for k in keys]
