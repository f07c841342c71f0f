"""Every label of the UI in Chinese (first) and English."""

from __future__ import annotations

from .i18n_tables import COLUMN_STRINGS, DUB_VIDEO_STRINGS, REDUB_STRINGS, TAKE_CHECK_STRINGS, TRAIN_STRINGS

LANGS = ("zh", "en")
LANG_CHOICES = [("中文", "zh"), ("English", "en")]

STRINGS: dict[str, tuple[str, str]] = {
    "title": (
        "# Qwen 声音工作室\n克隆声音、配音短视频。首次生成时才会下载并加载模型。",
        "# Qwen Voice Studio\nClone voices and dub short videos. Models download and load on first use.",
    ),
    "ui_language": ("界面语言", "Interface language"),
    "tab_clone": ("声音克隆", "Clone"),
    "tab_custom": ("预设音色", "Custom voice"),
    "tab_design": ("声音设计", "Voice design"),
    "tab_models": ("模型", "Models"),
    "text": ("要合成的文本", "Text to speak"),
    "text_ph": ("在这里输入文字……", "Type the text here..."),
    "language": ("语言", "Language"),
    "model": ("模型", "Model"),
    "model_info": ("官方模型 ID，或本地模型文件夹路径", "An official model id, or a local checkpoint folder"),
    "seed": ("随机种子（-1 为随机）", "Seed (-1 = random)"),
    "generate": ("生成", "Generate"),
    "stop": ("停止", "Stop"),
    "result": ("结果", "Result"),
    "listen_live": ("边生成边听", "Listen while generating"),
    "live_audio": ("实时播放（生成中）", "Live playback (while generating)"),
    "ref_audio": ("参考音频（上传或录音，3-10 秒最佳）", "Reference audio (upload or record; 3-10 s is best)"),
    "ref_text": ("参考音频的文字内容（逐字）", "Transcript of the reference (word for word)"),
    "xvec": (
        "仅用声纹（x-vector，不需要文字内容，相似度较低）",
        "x-vector only (no transcript needed; lower similarity)",
    ),
    "speaker": ("音色", "Speaker"),
    "instruct": ("风格指令（可选，仅 1.7B 模型）", "Style instruction (optional, 1.7B only)"),
    "instruct_ph": ("例如：用开心的语气说", "e.g. say it cheerfully"),
    "description": ("声音描述", "Voice description"),
    "description_ph": ("例如：温柔的年轻女声，语速稍慢", "e.g. a gentle young female voice, a little slow"),
    "models_intro": (
        "官方模型列表。首次生成会自动下载所需模型；也可以在这里下载、加载、卸载、删除，或指定本地文件夹。",
        "The official checkpoints. The first Generate downloads what it needs; you can also download, "
        "load, unload and delete here, or point the studio at a local folder.",
    ),
    "models_table": ("模型", "Checkpoints"),
    "model_select": ("选择模型", "Model"),
    "download": ("下载", "Download"),
    "load": ("加载", "Load"),
    "unload": ("卸载", "Unload"),
    "delete": ("删除", "Delete"),
    "refresh": ("刷新", "Refresh"),
    "open_logs": ("打开日志文件夹", "Open logs folder"),
    "api_port": ("HTTP 接口端口", "HTTP API port"),
    "api_switch": (
        "开启 HTTP 接口（兼容 GPT-SoVITS 与 OpenAI，仅本机可访问）",
        "Serve the HTTP API (GPT-SoVITS and OpenAI compatible, this computer only)",
    ),
    "api_running": ("HTTP 接口已开启：{url}（文档：{url}/docs）", "HTTP API running at {url} (docs: {url}/docs)"),
    "api_stopped": ("HTTP 接口已关闭。", "HTTP API stopped."),
    "api_failed": (
        "无法在端口 {port} 开启 HTTP 接口（端口可能已被占用，详情见日志）。请换一个端口。",
        "Cannot serve the HTTP API on port {port} (it may be in use; details in the log). Try another port.",
    ),
    "tab_takes": ("历史记录", "Takes"),
    "check_file": ("检查文件是否由本工作室生成（水印）", "Check a file for the studio's watermark"),
    "check_file_input": ("音频文件", "Audio file"),
    "take_id": ("记录编号（点表格中的一行）", "Take id (click a row in the table)"),
    "take_audio": ("这条记录", "This take"),
    "take_compare": ("上一条（对比）", "Previous one (compare)"),
    "star": ("加星 / 取消", "Star / unstar"),
    "starred": ("已加星：不会被自动清理。", "Starred: it will not be cleaned up."),
    "unstarred": ("已取消星标。", "Unstarred."),
    "delete_take": ("删除这条", "Delete this take"),
    "take_deleted": ("已删除。", "Deleted."),
    "regenerate": ("用新种子重新生成", "Regenerate with a new seed"),
    "format": ("格式", "Format"),
    "sample_rate": ("采样率", "Sample rate"),
    "download_take": ("下载", "Download"),
    "seed_info": (
        "-1 = 随机；同一种子在同一台机器上得到同样的结果",
        "-1 = random; the same seed gives the same audio here",
    ),
    "sampling": ("生成设置（采样）", "Generation settings (sampling)"),
    "sampling_preset": ("预设（空白的框 = 模型默认）", "Preset (an empty box = the model's default)"),
    "preset_name": ("另存为预设：名称", "Save as preset: name"),
    "save_preset": ("保存预设", "Save preset"),
    "preset_saved": ("已保存预设“{name}”。", "Saved preset '{name}'."),
    "base_intensity": (
        "选了情绪片段时：0 = 保留中性音色、只借情绪语气，1 = 音色和语气都来自情绪片段",
        "With an emotion clip: 0 keeps the neutral timbre with the emotional delivery, 1 takes both from the emotion",
    ),
    "local_folder": ("本地模型文件夹（已有模型时填写）", "Local checkpoint folder (if you already have the model)"),
    "use_folder": ("使用这个文件夹", "Use this folder"),
    "endpoint": ("下载镜像（中国大陆可填 https://hf-mirror.com）", "Download mirror (e.g. https://hf-mirror.com)"),
    "device": ("设备", "Device"),
    "dtype": ("精度", "Precision"),
    "save_settings": ("保存设置", "Save settings"),
    "runtime": ("运行状态", "Runtime"),
    "kind_base": ("声音克隆", "voice clone (base)"),
    "kind_custom_voice": ("预设音色", "preset voices (custom_voice)"),
    "kind_voice_design": ("声音设计", "voice design"),
    "kind_tokenizer": ("语音编解码器", "speech tokenizer"),
    "kind_asr": ("语音识别", "speech recognition"),
    "runtime_device": (
        "设备 **{device}** · 精度 **{dtype}** · 注意力 {attention}",
        "device **{device}** · dtype **{dtype}** · attention {attention}",
    ),
    "runtime_memory": ("内存占用 {rss:.0f} MB", "RSS {rss:.0f} MB"),
    "runtime_gpu": ("显存 {mb:.0f} MB", "GPU {mb:.0f} MB"),
    "runtime_loaded": ("已加载：{name}", "loaded: {name}"),
    "runtime_remote": ("远程引擎：{url}（在那里生成）", "remote engine: {url} (generation runs there)"),
    "saved": ("已保存。", "Saved."),
    "remote_title": (
        "### 远程引擎\n填写 OpenAI 兼容语音服务器的地址（例如用 vLLM-Omni 部署的 Qwen3-TTS，或另一台电脑上的本工作室），"
        "生成就交给它完成，本机不加载模型；文本处理、分段、时长、响度、水印和声音库仍在本机。留空则在本机生成。",
        "### Remote engine\nThe address of an OpenAI-compatible speech server (Qwen3-TTS served by vLLM-Omni, or "
        "this studio on another computer): generation goes there and no model loads here; text preparation, "
        "segments, timing, loudness, watermark and the voice library stay here. Empty = generate on this computer.",
    ),
    "remote_url": ("远程引擎地址（留空 = 本机生成）", "Remote engine URL (empty = this computer)"),
    "remote_url_ph": ("例如 http://192.168.1.20:8091", "e.g. http://192.168.1.20:8091"),
    "remote_key": ("API 密钥（可选）", "API key (optional)"),
    "remote_key_ph": ("留空则保留已保存的密钥", "Leave empty to keep the saved key"),
    "remote_save": ("保存远程引擎", "Save remote engine"),
    "remote_test": ("测试连接", "Test connection"),
    "remote_clear": ("改回本机生成", "Switch back to local"),
    "remote_on": ("已保存：生成交给远程引擎 {url}。", "Saved: generation goes to the remote engine at {url}."),
    "remote_off": ("已保存：在本机生成。", "Saved: generating on this computer."),
    "remote_none": ("未填写地址：在本机生成，无需测试。", "No URL: generation runs on this computer; nothing to test."),
    "remote_ok": (
        "连接成功：{url}。模型：{models}；音色：{voices}。",
        "Connected to {url}. Models: {models}; voices: {voices}.",
    ),
    "remote_env": (
        "注意：环境变量 STUDIO_REMOTE_URL 优先于这里的设置，当前实际使用：{url}。",
        "Note: the STUDIO_REMOTE_URL environment variable overrides this setting; in use now: {url}.",
    ),
    "remote_local": ("本机", "this computer"),
    "done_download": ("下载完成：{path}", "Downloaded: {path}"),
    "done_load": ("已加载 {name}（{seconds:.1f} 秒）。", "Loaded {name} in {seconds:.1f} s."),
    "done_unload": ("已卸载，内存已释放。", "Unloaded; memory freed."),
    "done_delete": ("已删除 {name}。", "Deleted {name}."),
    "nothing_deleted": (
        "{name} 不在工作室的模型文件夹里，没有删除任何东西。",
        "{name} is not in the studio's models folder; nothing deleted.",
    ),
    "result_info": (
        "{seconds:.2f} 秒音频 · 种子 {seed} · {model} · 生成 {gen:.1f} 秒",
        "{seconds:.2f} s of audio · seed {seed} · {model} · generated in {gen:.1f} s",
    ),
    "loaded_in": (" · 加载 {load:.1f} 秒", " · loaded in {load:.1f} s"),
    "need_ref": ("请先上传或录制一段参考音频。", "Upload or record a reference clip first."),
    "lawful_use": (
        "请只克隆你本人或已获得授权的声音，并标注 AI 生成内容。",
        "Only clone your own voice or one you have permission to use, and label AI-generated content.",
    ),
    # -- text panel, timing, emotion
    "readings": ("读音与发音词典", "Readings and pronunciation dictionary"),
    "normalize": ("数字、日期、单位转为读法", "Spell out numbers, dates and units"),
    "normalize_info": (
        "例如 2% → 百分之二；关闭则原样发送",
        "e.g. 2% is read out as 'two percent'; off sends them as written",
    ),
    "check_readings": ("检查读音", "Check readings"),
    "readings_view": (
        "预测读音（标出的是多音字，⚠ 表示把握不大、请先检查；点击一个字来固定读音，候选按可能性排序）",
        "Predicted readings (polyphones are marked, ⚠ = low confidence, check these first; click a character to "
        "pin its reading, candidates are ordered by likelihood)",
    ),
    "pin_reading": ("选择这个字的读音", "Choose this character's reading"),
    "sent_to_model": ("**发送给模型的文本：** {text}", "**Sent to the model:** {text}"),
    "error_title": ("出错了", "Error"),
    "error_kept": ("**出错了：** {message}", "**Error:** {message}"),
    "s_temperature": ("温度", "temperature"),
    "s_top_k": ("top-k", "top_k"),
    "s_top_p": ("top-p", "top_p"),
    "s_repetition_penalty": ("重复惩罚", "repetition_penalty"),
    "s_subtalker_temperature": ("子码温度", "subtalker_temperature"),
    "s_subtalker_top_k": ("子码 top-k", "subtalker_top_k"),
    "s_subtalker_top_p": ("子码 top-p", "subtalker_top_p"),
    "s_max_new_tokens": ("每段最多步数", "max_new_tokens"),
    "pause_mark": ("⏸ 停顿 {s} 秒", "⏸ pause {s} s"),
    "pauses_note": (
        "{n} 处停顿，共 {s} 秒静音：不发送给模型，按原长度插入；设定时长时只伸缩语音。",
        "{n} pauses, {s} s of silence: not sent to the model, inserted at their length; a target duration "
        "stretches only the speech.",
    ),
    "dictionary": ("发音词典（全局）", "Pronunciation dictionary (global)"),
    "dictionary_rules": (
        "规则：词<TAB>reading<TAB>读音 或 词<TAB>alias<TAB>替换文字",
        "Rules: word<TAB>reading<TAB>pinyin or word<TAB>alias<TAB>replacement",
    ),
    "dictionary_saved": ("已保存 {count} 条规则。", "Saved {count} rules."),
    "save": ("保存", "Save"),
    "timing": ("时长", "Timing"),
    "duration": ("目标时长（秒，0 = 自然长度）", "Target length (s, 0 = natural)"),
    "duration_info": ("结果精确到 10 毫秒以内", "The result lasts this within 10 ms"),
    "ratio": ("或：自然长度的倍数", "Or: ratio of the natural length"),
    "ratio_info": (
        "0.75-1.33 之外听起来可能不自然",
        "Outside 0.75-1.33 it may sound unnatural",
    ),
    "takes": ("候选次数", "Takes"),
    "takes_info": (
        "设定目标时长或勾选“听一遍检查”时，生成多次并保留最好的一次",
        "With a target length or the check by ear: generate N, keep the best",
    ),
    "emotion": ("情绪 / 风格", "Emotion / style"),
    "intensity": ("强度", "Intensity"),
    "intensity_info": ("0 = 略带，1 = 非常", "0 = slightly, 1 = very"),
    "instruction_info": ("**发送的指令：** {text}", "**Instruction sent:** {text}"),
    "no_instruct_small": (
        "0.6B CustomVoice 不接受风格指令：换用 1.7B CustomVoice 才能使用情绪和指令。",
        "0.6B CustomVoice takes no style instruction: use 1.7B CustomVoice for emotion and instructions.",
    ),
    "fit_info": (
        " · 自然长度 {natural:.2f} 秒 → 目标 {target:.3f} 秒，结果 {seconds:.3f} 秒（伸缩 ×{stretch:.3f}）",
        " · natural {natural:.2f} s -> target {target:.3f} s, result {seconds:.3f} s (stretch x{stretch:.3f})",
    ),
    "stretch_warning": (
        "伸缩 ×{stretch:.2f} 超出自然范围 {low}-{high}，可能听起来不自然：可以改短/改长文字，或放宽目标时长。",
        "Stretch x{stretch:.2f} is outside the natural range {low}-{high} and may sound unnatural: "
        "shorten or lengthen the text, or relax the target.",
    ),
    "segments_info": (" · 分 {n} 段生成", " · generated in {n} segments"),
    "saved_voice": ("已保存的声音（可选）", "Saved voice (optional)"),
    "saved_voice_info": ("选择后无需上传参考音频", "When chosen, no reference upload is needed"),
    "voice_clip": ("使用的片段（情绪标签）", "Clip to use (emotion tag)"),
    "voice_clip_info": (
        "Base 模型不接受指令：情绪来自带该标签的参考片段",
        "Base models take no instruction: emotion comes from the clip with that tag",
    ),
    # -- Voice tab
    "tab_voices": ("声音库", "Voices"),
    "analyse_clip": ("检查录音", "Check the recording"),
    "waveform": ("波形（绿色：检测到的人声；蓝框：保留的部分）", "Waveform (green: speech found; blue: the part kept)"),
    "quality_summary": (
        "时长 {duration:.1f} 秒 · 人声 {speech:.1f} 秒（{ratio:.0f}%）· 信噪比约 {snr:.0f} dB · 削波 {clipping:.2f}% · "
        "{sr} Hz · 响度 {lufs:.1f} LUFS",
        "{duration:.1f} s · speech {speech:.1f} s ({ratio:.0f}%) · SNR about {snr:.0f} dB · clipping {clipping:.2f}% · "
        "{sr} Hz · loudness {lufs:.1f} LUFS",
    ),
    "window_proposed": (
        "录音较长：建议保留 {start:.2f}-{end:.2f} 秒（完整句子、人声比例最高）。",
        "Long recording: keep {start:.2f}-{end:.2f} s (whole sentences, most speech) is proposed.",
    ),
    "trim_start": ("开始（秒）", "Start (s)"),
    "trim_end": ("结束（秒）", "End (s)"),
    "apply_trim": ("按此裁剪并处理", "Trim and prepare"),
    "kept_clip": (
        "处理后的参考音频（24 kHz，已去静音、响度归一）",
        "Prepared clip (24 kHz, silence trimmed, loudness set)",
    ),
    "voice_name": ("声音名称", "Voice name"),
    "asr_missing": (
        "未找到本地语音识别模型：请逐字输入录音内容。",
        "No local speech recogniser found: type what the recording says, word for word.",
    ),
    "asr_ready": (
        "可以用本机的语音识别模型自动填写，填好后请核对。",
        "A local speech recogniser can fill this in; check the text afterwards.",
    ),
    "asr_fill": ("自动识别文字", "Fill from the audio"),
    "voice_tags": ("标签（逗号分隔）", "Tags (comma separated)"),
    "consent": (
        "我确认这是我本人的声音，或声音主人已明确同意我克隆它",
        "I confirm this is my own voice, or its owner has explicitly agreed that I clone it",
    ),
    "save_voice": ("保存到声音库", "Save to the library"),
    "clip_tag": ("情绪片段标签（开心、生气、耳语……）", "Emotion clip tag (happy, angry, whisper...)"),
    "add_clip": ("把这段录音加为该声音的情绪片段", "Add this recording to the voice as an emotion clip"),
    "library": ("声音库", "Voice library"),
    "new_name": ("新名称 / 导入时的名称", "New name / name on import"),
    "search_voices": ("搜索（名称、标签、备注、文字）", "Search (name, tag, notes, transcript)"),
    "duplicate": ("复制为新名称", "Duplicate under the new name"),
    "voice_preview": ("试听", "Preview"),
    "rename": ("重命名", "Rename"),
    "delete_voice": ("删除（可恢复）", "Delete (restorable)"),
    "restore": ("从回收站恢复", "Restore from trash"),
    "export_voice": ("导出为 zip", "Export as zip"),
    "voice_archive": ("声音压缩包", "Voice archive"),
    "import_voice": ("导入 zip", "Import zip"),
    "need_archive": ("请先选择一个声音压缩包（.zip）。", "Choose a voice archive (.zip) first."),
    "voice_saved": ("已保存声音“{name}”。", "Saved voice '{name}'."),
    "clip_added": ("“{name}”现有片段：{tags}", "'{name}' now has clips: {tags}"),
    "voice_renamed": ("已重命名为“{name}”。", "Renamed to '{name}'."),
    "voice_deleted": ("已把“{name}”移到回收站。", "Moved '{name}' to the trash."),
    "voice_restored": ("已恢复“{name}”。", "Restored '{name}'."),
    "voice_imported": ("已导入“{name}”。", "Imported '{name}'."),
    # -- Voices tab: aliases and GPT-SoVITS config import
    "aliases_panel": ("别名与 GPT-SoVITS 配置导入", "Aliases and GPT-SoVITS config import"),
    "aliases_intro": (
        "旧的 GPT-SoVITS 客户端（小智 xiaozhi-esp32-server、数字人应用）发送的是旧电脑上的参考音频路径，"
        "例如 E:\\GPT-SoVITS\\纳西妲\\0.wav。把这个路径原样设为声音的别名，客户端配置无需修改即可使用本工作室的接口。",
        "Old GPT-SoVITS clients (xiaozhi-esp32-server, digital-human apps) send a reference path on the old machine, "
        "e.g. E:\\GPT-SoVITS\\voice\\0.wav. Make that exact path an alias of a voice and the client's config works "
        "unchanged against the studio's API.",
    ),
    "alias": ("别名（原样填写旧配置发送的路径）", "Alias (the exact path the old config sends)"),
    "add_alias": ("给选中的声音添加别名", "Add alias to the chosen voice"),
    "remove_alias": ("移除这个别名", "Remove this alias"),
    "aliases_of": ("“{name}”的别名：{aliases}", "Aliases of '{name}': {aliases}"),
    "no_aliases": ("无", "none"),
    "gsv_config": (
        "GPT-SoVITS 客户端配置（.yaml / .py，只读取，不运行）",
        "GPT-SoVITS client config (.yaml / .py; read, never run)",
    ),
    "gsv_audio": ("配置里的参考音频（不在本机时上传）", "The config's reference audio (upload it here)"),
    "gsv_block": ("配置块（有多个时填写，如 GPT_SOVITS_V2）", "Block (when there are several, e.g. GPT_SOVITS_V2)"),
    "gsv_to_chosen": (
        "不新建声音：让选中的声音响应配置里的路径",
        "Create no voice: make the chosen voice answer to the config's path",
    ),
    "gsv_import": ("从配置导入", "Import from the config"),
    "need_config": (
        "请先选择一个 GPT-SoVITS 配置文件（.yaml 或 .py）。",
        "Choose a GPT-SoVITS config (.yaml or .py) first.",
    ),
    "gsv_created": (
        "已保存声音“{name}”，参考文本：{text}。它响应别名 {alias}，客户端配置无需修改。",
        "Saved voice '{name}', transcript: {text}. It answers to {alias}; the client's config works unchanged.",
    ),
    "gsv_aliased": (
        "“{name}”现在响应 {alias}，客户端配置无需修改。",
        "'{name}' now answers to {alias}; the client's config works unchanged.",
    ),
    # -- Dubbing tab
    "tab_dubbing": ("配音", "Dubbing"),
    "dub_intro": (
        "整部视频的配音：导入脚本或字幕（txt、csv、tsv、yaml、json、srt、vtt），给每个角色选声音，一键生成。"
        "已生成且未改动的台词不会重做；有时间的台词会被精确放进各自的时间段。",
        "A whole video's voice-over: import a script or subtitles (txt, csv, tsv, yaml, json, srt, vtt), give each "
        "speaker a voice, generate in one click. Unchanged lines are never redone; timed lines are fitted into their slots.",
    ),
    "dub_folder": ("项目文件夹", "Project folder"),
    "dub_open": ("打开 / 新建", "Open / new"),
    "dub_import": ("导入脚本或字幕", "Import a script or subtitles"),
    "dub_lines": ("台词（可直接编辑；时间单位为秒）", "Lines (edit in place; times in seconds)"),
    "dub_voices": (
        "角色 → 声音（已保存的声音名、preset:Vivian、design:声音描述）",
        "Speaker -> voice (a saved voice name, preset:Vivian, design:DESCRIPTION)",
    ),
    "dub_default_voice": ("默认声音（未对应的角色使用）", "Default voice (for unmapped speakers)"),
    "dub_gap": ("场景模式的台词间隔（秒）", "Gap between lines in scene mode (s)"),
    "dub_max_stretch": ("允许的伸缩倍数", "Allowed stretch factor"),
    "dub_overlap": ("台词过长时可延伸到后面的空白", "A long line may run into the following gap"),
    "dub_format": ("单句文件格式", "Line file format"),
    "dub_save": ("保存", "Save"),
    "dub_generate_all": ("全部生成", "Generate all"),
    "dub_generate_selected": ("生成所选行", "Generate selected"),
    "dub_selection": ("行号（如 1,3-5）", "Line numbers (e.g. 1,3-5)"),
    "dub_line": ("行号", "Line number"),
    "dub_play": ("试听", "Play"),
    "dub_regenerate": ("重新生成这一行", "Regenerate this line"),
    "dub_take": ("版本号", "Take number"),
    "dub_choose_take": ("使用这个版本", "Use this take"),
    "dub_lock": ("锁定 / 解锁", "Lock / unlock"),
    "dub_build": ("合成音轨并导出", "Build track and export"),
    "dub_files": ("下载（zip、音轨、字幕）", "Downloads (zip, track, subtitles)"),
    "dub_track": ("完整音轨", "Full track"),
    "dub_line_audio": ("这一行", "This line"),
    "dub_saved": ("已保存：{path}", "Saved: {path}"),
    "dub_run_done": (
        "完成：生成 {generated} 行，复用 {reused} 行，锁定 {locked} 行，失败 {failed} 行，用时 {wall:.1f} 秒。",
        "Done: {generated} generated, {reused} reused, {locked} locked, {failed} failed in {wall:.1f} s.",
    ),
    "dub_built": (
        "音轨 {seconds:.2f} 秒（{mode}），{flagged} 行超出允许的伸缩：",
        "Track {seconds:.2f} s ({mode}); {flagged} line(s) beyond the allowed stretch:",
    ),
    "dub_no_take": ("这一行还没有生成。", "This line has not been generated yet."),
    "dub_job_queued": ("已排队：{job}。", "Queued: {job}."),
    "dub_job_running": ("正在生成：{job}，{percent:.0f}%。{message}", "Generating: {job}, {percent:.0f}%. {message}"),
    "dub_job_cancelled": (
        "已停止：{job}。已完成的行都已保存，下次生成会接着做。",
        "Stopped: {job}. Finished lines are saved; the next run resumes.",
    ),
    "dub_job_failed": ("失败：{job}：{error}", "Failed: {job}: {error}"),
    "dub_job_stopping": ("正在停止：{job}（在模型的下一步停下）。", "Stopping: {job} (at the model's next step)."),
    "dub_job_elsewhere": (
        "这个项目正在另一个程序里生成（{where}）。请在那里停止它。",
        "This project is being generated by another program ({where}). Stop it there.",
    ),
    "dub_job_resumed": (
        "上次的生成被中断（{where}），已继续生成剩下的 {count} 行。",
        "The last run was interrupted ({where}); resuming its {count} remaining line(s).",
    ),
    "dub_no_job": ("这个项目现在没有生成任务。", "No generation is running for this project."),
}


STRINGS.update(COLUMN_STRINGS)
STRINGS.update(REDUB_STRINGS)
STRINGS.update(DUB_VIDEO_STRINGS)
STRINGS.update(TRAIN_STRINGS)
STRINGS.update(TAKE_CHECK_STRINGS)


def t(key: str, lang: str, **kwargs: object) -> str:
    """The string ``key`` in ``lang`` ('zh' or 'en'), formatted with ``kwargs``."""
    zh, en = STRINGS[key]
    text = zh if lang == "zh" else en
    return text.format(**kwargs) if kwargs else text
