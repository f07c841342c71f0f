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
        "背景音已分离：在“合成配音视频”里选“只留分离出的背景音乐和音效”，新配音会叠在背景音上。",
        "Background separated: in “Put the dub into the video”, choose the separated music and effects only.",
    ),
    "redub_cloned": (
        "已从视频克隆声音“{name}”，设为默认声音。",
        "Cloned the voice '{name}' from the video; it is the default voice.",
    ),
    "redub_job_queued": ("“{project}”的视频识别等待开始……", "Re-dubbing '{project}': waiting to start..."),
    "redub_job_running": (
        "正在识别“{project}”的视频：{percent:.0f}% {message}",
        "Re-dubbing '{project}': {percent:.0f}% {message}",
    ),
    "redub_job_stopping": ("正在停止“{project}”的视频识别……", "Stopping the re-dub of '{project}'..."),
    "redub_job_cancelled": (
        "“{project}”的视频识别已停止。再点“识别视频”从停下的地方继续（不必重新上传）。",
        "The re-dub of '{project}' stopped. Click Transcribe the video again to go on where it stopped (no need "
        "to upload it again).",
    ),
    "redub_job_failed": ("“{project}”的视频识别失败：{error}", "The re-dub of '{project}' failed: {error}"),
    "redub_job_resumed": (
        "上次被中断的视频识别已自动继续。",
        "The re-dub an interruption stopped was resumed.",
    ),
    "redub_no_job": ("这个项目没有进行中的视频识别。", "This project has no re-dub in progress."),
}


def columns(keys: tuple[str, ...], lang: str) -> list[str]:
    """The headers ``keys`` in ``lang``."""
    return [COLUMN_STRINGS[k][0 if lang == "zh" else 1] for k in keys]


#: The Train tab (:mod:`studio.ui.train_tab`), Chinese (first) and English.
TRAIN_STRINGS: dict[str, tuple[str, str]] = {
    "tab_train": ("训练", "Train"),
    "train_intro": (
        "用 10-30 分钟自己的录音训练一个声音：上传 .wav 片段和同名 .txt 文字稿（或一段长录音），检查片段，"
        "审阅文字，然后开始训练。训练好的声音会出现在声音库里，在“声音克隆”里选择它即可使用。",
        "Train a voice from 10-30 minutes of your own recordings: upload .wav clips with same-named .txt "
        "transcripts (or one long recording), check the clips, review the text, then start. The trained voice "
        "joins the voice library: choose it in the Clone tab.",
    ),
    "train_files": ("录音片段和文字稿", "Clips and transcripts"),
    "train_folder": ("或本机文件夹", "Or a folder on this computer"),
    "train_check": ("检查片段", "Check clips"),
    "train_summary": (
        "可用片段 {clips} 个，共 {minutes} 分钟；排除 {rejected} 个。",
        "{clips} usable clips, {minutes} min in all; {rejected} left out.",
    ),
    "train_clip_audio": ("试听所选片段", "Selected clip"),
    "train_name": ("声音名称", "Voice name"),
    "train_base": ("基础模型（Base）", "Base model"),
    "train_lora": ("LoRA 秩（0 = 全量微调）", "LoRA rank (0 = full fine-tuning)"),
    "train_epochs": ("训练轮数", "Epochs"),
    "train_consent": (
        "我确认这是我自己的声音，或已获得声音主人的明确同意",
        "This is my own voice, or its owner has explicitly agreed",
    ),
    "train_start": ("开始训练", "Start training"),
    "train_cancel": ("取消", "Cancel"),
    "train_resume": ("继续训练", "Resume"),
    "train_running": (
        "第 {epoch}/{epochs} 轮，第 {step}/{steps} 步，损失 {loss}，剩余约 {eta}。",
        "Epoch {epoch}/{epochs}, step {step}/{steps}, loss {loss}, about {eta} left.",
    ),
    "train_done": (
        "完成：声音“{name}”已加入声音库（说话人 {speaker}）。在“声音克隆”里选择它，或在“预设音色”里选模型 {model}。",
        "Done: the voice '{name}' is in the voice library (speaker {speaker}). Choose it in the Clone tab, or the "
        "model {model} in the Custom voice tab.",
    ),
    "train_cancelled": ("已停止，进度已保存：点“继续训练”接着训练。", "Stopped; progress is saved: Resume goes on."),
    "train_failed": ("训练失败：{error}", "Training failed: {error}"),
    "train_no_data": ("请先上传片段并点“检查片段”。", "Upload clips and press Check clips first."),
    "train_no_job": ("还没有训练任务。", "No training job yet."),
    "train_progress": ("进度（%）", "Progress (%)"),
    "train_report": ("每轮报告", "Per-epoch report"),
    "train_ab_epoch": ("对比第几轮", "Compare epoch"),
    "train_ab_trained": ("A：训练后的声音", "A: trained voice"),
    "train_ab_zero": ("B：零样本克隆（同一参考）", "B: zero-shot clone (same reference)"),
    "col_keep": ("使用", "use"),
    "col_clip": ("片段", "clip"),
    "col_epoch": ("轮", "epoch"),
    "col_loss": ("损失", "loss"),
    "col_rate": ("语速比", "rate ratio"),
    "col_similarity": ("相似度", "similarity"),
    "col_cer": ("字错率", "CER"),
    "col_score": ("得分", "score"),
}
COLUMN_STRINGS.update({k: v for k, v in TRAIN_STRINGS.items() if k.startswith("col_")})

#: Checking a single generation by ear (the generating tabs' checkbox), Chinese (first) and English.
TAKE_CHECK_STRINGS: dict[str, tuple[str, str]] = {
    "check_take": ("听一遍检查", "Check the take by ear (speech recognition)"),
    "check_take_info": (
        "生成后用本地语音识别听一遍：字错率、漏读、重复、多音字读错、结尾跑题或被截断。和“候选次数”一起用时保留听起来最对的一条。"
        "CPU 上大约和生成一样慢。",
        "After generating, the local speech recogniser hears the take: error rate, dropped or repeated words, "
        "misread polyphones, runaway or cut endings. With Takes, the take heard best is kept. On a CPU it costs "
        "about as much as generating.",
    ),
    "take_check": ("听一遍检查：{summary}", "Take check: {summary}"),
    "take_check_wrong": ("听一遍检查：{summary}；听到：「{heard}」", "Take check: {summary}; heard: “{heard}”"),
}


#: The Dubbing tab's "Put the dub into the video" panel (:mod:`studio.ui.dub_video_panel`).
DUB_VIDEO_STRINGS: dict[str, tuple[str, str]] = {
    "dub_video_title": ("合成配音视频", "Put the dub into the video"),
    "dub_video_intro": (
        "先生成台词并输出文件，再把配音音轨合成进视频的副本（画面直接复制，不重新编码），写入项目的输出文件夹。"
        "从视频配音的项目会用它自己的视频，不必再上传。",
        "Generate the lines and build the outputs first; then the dub track goes into a copy of the video (the "
        "picture is copied, not re-encoded), written to the project's outputs folder. A project re-dubbed from a "
        "video uses its own video: no upload needed.",
    ),
    "dub_video_file": ("视频（从视频配音的项目可不选）", "Video (optional for a re-dubbed project)"),
    "dub_video_mode": ("原视频的声音", "The original sound"),
    "dub_video_duck": ("压低原声多少 dB", "Lower the original by (dB)"),
    "dub_video_start": ("合成视频", "Make the video"),
    "dub_video_result": ("配音后的视频", "Dubbed video"),
    "dub_video_done": ("已写出 {name}（{mode}）。", "Wrote {name} ({mode})."),
    "mix_duck": ("压低后垫在配音下面", "lowered under the dub"),
    "mix_keep": ("原样保留，和配音混在一起", "kept at full level under the dub"),
    "mix_replace": ("去掉，只留配音", "dropped: the dub only"),
    "mix_background": ("只留分离出的背景音乐和音效", "the separated music and effects only"),
}
