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
    "take_check": ("听一遍检查：{summary}", "take check: {summary}"),
    "take_check_wrong": ("听一遍检查：{summary}；听到：“{heard}”", 'take check: {summary}; heard: "{heard}"'),
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
        "音轨 {track:.2f} 秒（{mode}）· 用时 {wall:.1f} 秒 · 超出时段 {over} 行",
        "lines {lines} (generated {generated}, reused {reused}, locked {locked}, failed {failed}) · total audio "
        "{audio:.2f} s · track {track:.2f} s ({mode} mode) · wall time {wall:.1f} s · lines over their slot {over}",
    ),
    "dub_timelines": (
        "时间线：{xml}（Premiere、DaVinci Resolve），{fcpxml}（Final Cut Pro），{otio}（OpenTimelineIO）",
        "timelines: {xml} (Premiere, DaVinci Resolve), {fcpxml} (Final Cut Pro), {otio} (OpenTimelineIO)",
    ),
    "dub_jianying": (
        "剪映草稿：{path}（复制到剪映的草稿文件夹中打开）",
        "JianYing draft: {path} (copy it into JianYing's drafts folder to open it)",
    ),
    "dub_zip": ("压缩包：{path}", "zip: {path}"),
    "readings_text": ("文本：{text}", "text : {text}"),
    "readings_model": ("模型文本：{text}", "model: {text}"),
    "readings_loaded": (
        "多音字模型加载用时 {ms:.0f} 毫秒（! = 置信度低，请检查）",
        "polyphone model loaded in {ms:.0f} ms (! = low confidence: check it)",
    ),
    "source_pypinyin": ("拼音库", "pypinyin"),
    "source_model": ("模型", "model"),
    "source_phrase": ("词组", "phrase"),
    "source_correction": ("校正", "correction"),
    "source_rule": ("规则", "rule"),
    "source_pinned": ("指定", "pinned"),
    "source_dictionary": ("发音词典", "dictionary"),
    "check_tag": ("  标记：AI 生成（Qwen Voice Studio）", "  tag: AI-generated (Qwen Voice Studio)"),
    "ref_report": (
        "时长 {duration:.2f} 秒，语音 {speech:.2f} 秒（{ratio:.0%}），信噪比 {snr:.0f} dB，削波 {clipping:.2%}，"
        "{sr} Hz，响度 {lufs:.1f} LUFS",
        "duration {duration:.2f} s, speech {speech:.2f} s ({ratio:.0%}), SNR {snr:.0f} dB, clipping {clipping:.2%}, "
        "{sr} Hz, loudness {lufs:.1f} LUFS",
    ),
    "ref_kept": ("保留 {start:.2f}-{end:.2f} 秒（{seconds:.2f} 秒）", "kept {start:.2f}-{end:.2f} s ({seconds:.2f} s)"),
    "ref_window": ("（自动选取的片段）", " [window]"),
    "level_error": ("错误", "error"),
    "level_warning": ("注意", "warning"),
    "level_ok": ("良好", "ok"),
    "finding": ("{level}：{message}", "{level}: {message}"),
    "models_columns": ("模型|类型|已下载|占用 MB|位置", "id|kind|downloaded|disk MB|path"),
    "models_row": (
        "{id:<16}{kind:<14}{downloaded:<12}{disk:>9}  {path}",
        "{id:<16}{kind:<14}{downloaded:<12}{disk:>9}  {path}",
    ),
    "kind_base": ("克隆", "base"),
    "kind_custom_voice": ("预设音色", "custom_voice"),
    "kind_voice_design": ("声音设计", "voice_design"),
    "kind_tokenizer": ("分词器", "tokenizer"),
    "kind_asr": ("语音识别", "asr"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "doctor_row": ("{mark} {name:<12} {finding}", "{mark} {name:<12} {finding}"),
    "doctor_ok": ("正常", "ok "),
    "doctor_bad": ("异常", "BAD"),
    "remote_ok": ("可用 {url}", "ok {url}"),
    "remote_models": ("模型：{names}", "models: {names}"),
    "remote_voices": ("声音：{names}", "voices: {names}"),
    "remote_engine": ("远程引擎：{url}", "remote engine: {url}"),
    "remote_none": ("无（在本机生成）", "none (generation runs on this computer)"),
    "remote_key": ("API 密钥：{masked}", "api key: {masked}"),
    "remote_key_none": ("无", "none"),
    "remote_overridden": (
        "提示：{names}（环境变量或 --remote/--local）优先于设置",
        "note: {names} (environment or --remote/--local) override the settings",
    ),
    "random_asr": ("{path}（随机权重：识别结果是噪声）", "{path}  (random weights: its transcripts are noise)"),
    "random_separator": ("{path}（随机权重：分离出的声音是噪声）", "{path}  (random weights: its stems are noise)"),
    "random_checkpoint": ("{path}（随机权重：生成的音频是噪声）", "{path}  (random weights: its audio is noise)"),
    "dub_resuming": ("继续上次中断的生成（{where}）", "resuming the interrupted run ({where})"),
    "mode_timed": ("按时间码排布", "timed"),
    "mode_scene": ("按场景顺序排布", "scene"),
    "status_generated": ("已生成", "generated"),
    "status_reused": ("复用", "reused"),
    "status_locked": ("锁定", "locked"),
    "status_failed": ("失败", "failed"),
    "redub_project": ("项目：{folder}（{state}）", "project: {folder} ({state})"),
    "redub_created": ("新建", "created"),
    "redub_kept": (
        "沿用（已存在；编辑它，或删除后重新开始）",
        "kept (already there; edit it or delete it to start over)",
    ),
    "redub_heard": (
        "识别出 {sentences} 句，共 {seconds:.1f} 秒（语言 {language}）；{lines} 行",
        "heard {sentences} sentences in {seconds:.1f} s (language {language}); {lines} lines",
    ),
    "redub_stems": ("人声：{voice}\n背景：{background}", "voice: {voice}\nbackground: {background}"),
    "redub_from_voice": ("分离出的人声", "separated voice"),
    "redub_from_sound": ("原声", "original sound"),
    "redub_span": ("{source} {start:.2f}-{end:.2f} 秒", "{source} {start:.2f}-{end:.2f} s"),
    "redub_reused": ("沿用上次的结果", "kept from an earlier run"),
    "redub_cloned": ("克隆的声音：{name}（{where}）{transcript}", "cloned voice: {name} ({where}) {transcript}"),
    "redub_more": ("…… 还有 {count} 行", "... {count} more"),
    "redub_next": (
        "下一步：编辑台词，然后运行 `python -m studio dub {folder} --out {out} --video {video}`",
        "next: edit the lines, then: python -m studio dub {folder} --out {out} --video {video}",
    ),
    "finetune_stopping": (
        "\n这一步结束后停止（再按一次 Ctrl-C 立即停止）……",
        "\nstopping after this step (Ctrl-C again to stop now)...",
    ),
    "finetune_stopped": (
        "已停止；训练进度保存在 {folder}：运行同一条命令即可继续",
        "stopped; the run is kept in {folder}: run the same command to resume",
    ),
    "finetune_epoch": ("第 {epoch} 轮：损失 {loss:.3f}", "epoch {epoch}: loss {loss:.3f}"),
    "finetune_evaluation": (
        "，语速为数据的 ×{rate:.2f}，相似度 {similarity:.3f}",
        ", rate x{rate:.2f} of the data's, similarity {similarity:.3f}",
    ),
    "finetune_done": (
        "{out}  说话人“{speaker}”：{clips} 个片段，{minutes} 分钟，导出第 {epoch} 轮（共 {epochs} 轮）",
        "{out}  speaker '{speaker}': {clips} clips, {minutes} min, exported epoch {epoch} of {epochs}",
    ),
    "finetune_rejected": ("有 {count} 个片段未使用（见 {report}）", "left out {count} clips (see {report})"),
    "finetune_in_library": (
        '已加入声音库，名为“{name}”：在克隆页选择它，或运行 `python -m studio clone --voice "{name}"`',
        'in the voice library as "{name}": choose it in the Clone tab, or clone --voice "{name}"',
    ),
    "finetune_speak": (
        '使用方法：`python -m studio custom --model {out} --speaker "{speaker}" --text ... --out x.wav`',
        'speak with: python -m studio custom --model {out} --speaker "{speaker}" --text ... --out x.wav',
    ),
    "doc_python": ("Python", "python"),
    "doc_torch": ("PyTorch", "torch"),
    "doc_device": ("设备", "device"),
    "doc_gpu": ("显存", "gpu memory"),
    "doc_ram": ("内存", "ram"),
    "doc_home": ("数据文件夹", "data folder"),
    "doc_qwen": ("qwen-tts", "qwen-tts"),
    "doc_checkpoints": ("模型文件", "checkpoints"),
    "doc_remote": ("远程引擎", "remote"),
    "doc_not_importable": ("无法导入：{error}", "not importable: {error}"),
    "doc_placement": ("{device}（{dtype}，注意力 {attention}）", "{device} ({dtype}, attention {attention})"),
    "doc_gpu_free": ("可用 {free:.1f} GB，共 {total:.1f} GB", "{free:.1f} GB free of {total:.1f} GB"),
    "doc_ram_free": ("可用 {free:.1f} GB", "{free:.1f} GB available"),
    "doc_home_free": ("{home}（剩余 {free:.0f} GB）", "{home} ({free:.0f} GB free)"),
    "doc_imports": ("{name} 可以导入", "{name} imports"),
    "doc_cannot_import": ("无法导入：{error}", "cannot import: {error}"),
    "doc_no_checkpoints": (
        "还没有下载（第一次生成时会下载）",
        "none downloaded yet (the first generate downloads one)",
    ),
    "doc_no_remote": ("无：在本机生成", "none: generation runs here"),
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
