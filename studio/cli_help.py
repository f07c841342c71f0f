"""The CLI's help in the user's language: every help text and description of the parser, Chinese or English.

The table maps each English text, as written in the parser code, to its Chinese; :func:`localise`
walks a built parser and, for Chinese, swaps the texts and argparse's own words (usage, section
titles, error lines). English is left exactly as argparse prints it.
"""

from __future__ import annotations

import argparse
import re
import sys

#: argparse's own words, Chinese.
_ARGPARSE_ZH = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",
}

#: argparse's error lines (English pattern -> Chinese template), matched on the whole message.
_ERRORS_ZH = [
    (r"the following arguments are required: (.+)", "缺少必填参数：{0}"),
    (r"unrecognized arguments: (.+)", "无法识别的参数：{0}"),
    (r"argument (\S+): invalid choice: (.+?) \(choose from (.+)\)", "参数 {0}：无效的选项 {1}（可选：{2}）"),
    (r"argument (\S+): invalid (\w+) value: (.+)", "参数 {0}：无效的 {1} 值 {2}"),
    (r"argument (\S+): expected one argument", "参数 {0}：需要一个值"),
    (r"argument (\S+): expected at least one argument", "参数 {0}：至少需要一个值"),
    (r"argument (\S+): not allowed with argument (\S+)", "参数 {0}：不能与参数 {1} 同时使用"),
    (r"argument (\S+): ignored explicit argument (.+)", "参数 {0}：多余的值 {1}"),
    (r"argument (\S+): (.+)", "参数 {0}：{1}"),
    (r"one of the arguments (.+) is required", "参数 {0} 必须选一个"),
    (r"ambiguous option: (\S+) could match (.+)", "选项 {0} 有歧义，可能是：{1}"),
]

#: Every help text and description of the parser (English, as in the code) -> Chinese.
ZH = {
    "Qwen Voice Studio command line": "Qwen Voice Studio 命令行",
    "show this help message and exit": "显示本帮助并退出",
    "for this command, generate on the remote speech server at URL (vLLM-Omni, another studio)": "本次命令在 URL 处的远程语音服务器上生成（vLLM-Omni 或另一台 studio）",
    "for this command, generate on this computer": "本次命令在这台电脑上生成",
    "with --remote: its API key": "配合 --remote：它的 API 密钥",
    "clone a voice from a reference clip (Base models)": "用参考音频克隆声音（Base 模型）",
    "speak with a preset speaker (CustomVoice models)": "用预设音色说话（CustomVoice 模型）",
    "make a voice from a description (VoiceDesign model)": "按文字描述设计声音（VoiceDesign 模型）",
    "show the readings the studio predicts and the text sent to the model": "显示预测的读音和发给模型的文本",
    "the voice library: list, check, add, add-clip, show, rename, remove, ...": "声音库：list、check、add、add-clip、show、rename、remove 等",
    "generate on a remote speech server (vLLM-Omni, another studio): show, set, clear, test": "在远程语音服务器上生成（vLLM-Omni 或另一台 studio）：show、set、clear、test",
    "does a file carry the studio's watermark or AI-generated tag? (exit 1 if not)": "检查文件是否带有 studio 水印或 AI 生成标记（没有则退出码为 1）",
    "list the official checkpoints and their state": "列出官方模型及其状态",
    "download an official checkpoint": "下载官方模型",
    "check the install: python, torch, device, memory, checkpoints": "检查安装：python、torch、设备、内存、模型",
    "build a random-weight checkpoint offline (output is noise)": "离线生成随机权重的模型（输出是噪音）",
    "serve the HTTP API (GPT-SoVITS, OpenAI compatible and native)": "启动 HTTP API 服务（兼容 GPT-SoVITS、OpenAI，另有原生接口）",
    "dub a whole script or subtitle file: line files, track, captions, zip": "为整份脚本或字幕文件配音：逐句音频、音轨、字幕、zip",
    "train a voice of your own from 10-30 minutes of recordings": "用 10-30 分钟录音训练你自己的声音",
    "re-dub a video: transcribe it into a timed dubbing project (then optionally generate it)": "给视频重新配音：转写成带时间轴的配音项目（可接着直接生成）",
    "text to speak": "要朗读的文本",
    "UTF-8 file with the text to speak": "存放朗读文本的 UTF-8 文件",
    "output audio file (.wav, .mp3, .flac, .ogg)": "输出音频文件（.wav、.mp3、.flac、.ogg）",
    "output rate (default 24000)": "输出采样率（默认 24000）",
    "Auto, Chinese, English, Japanese, ... (default Auto)": "Auto、Chinese、English、Japanese 等（默认 Auto）",
    "registry id (0.6b-base, 1.7b-base, 0.6b-custom, 1.7b-custom, 1.7b-design) or a local checkpoint folder; default: STUDIO_MODEL or the registry default": "模型 id（0.6b-base、1.7b-base、0.6b-custom、1.7b-custom、1.7b-design）或本地模型文件夹；默认取 STUDIO_MODEL，否则用内置默认模型",
    "seed for a reproducible result": "随机种子，用于复现结果",
    "override the device": "指定运行设备",
    "override the dtype": "指定数据精度",
    "exact length of the result in seconds": "结果的精确时长（秒）",
    "length as a ratio of the natural length (0.5-2.0)": "时长相对自然时长的倍数（0.5-2.0）",
    "with --duration or --check-take: generate N takes, keep the best": "配合 --duration 或 --check-take：生成 N 条，保留最好的一条（先看听写检查，再看时长）",
    "hear the result with the speech recogniser: error rate, problems found, what was heard": "用语音识别听一遍结果：错字率、发现的问题、听到的内容",
    "integrated loudness in LUFS (default -16)": "整体响度，单位 LUFS（默认 -16）",
    "leave loudness and peaks as generated": "保持生成时的响度和峰值，不做调整",
    "read numbers and symbols as written": "数字和符号按原样读，不做转写",
    "leave out the inaudible studio watermark": "不加入听不见的 studio 水印",
    "sampling preset from presets/sampling.json (default, stable, natural, ...)": "采样预设，取自 presets/sampling.json（default、stable、natural 等）",
    "a saved voice (python -m studio voices list)": "已保存的声音（见 python -m studio voices list）",
    "with --voice: the tag of the clip to use (e.g. happy); default neutral": "配合 --voice：要用的片段标签（如 happy）；默认 neutral",
    "reference clip, 3-10 s ideal (instead of --voice)": "参考音频，最好 3-10 s（代替 --voice）",
    "transcript of the reference clip (needed unless --x-vector-only)": "参考音频的文字稿（除非用 --x-vector-only，否则必填）",
    "use only the speaker embedding (no transcript)": "只用说话人向量（无需文字稿）",
    "Vivian, Serena, Uncle_Fu, Dylan, Eric, Ryan, Aiden, Ono_Anna, Sohee": "Vivian、Serena、Uncle_Fu、Dylan、Eric、Ryan、Aiden、Ono_Anna、Sohee",
    "style instruction (1.7B CustomVoice only)": "风格指令（仅限 1.7B CustomVoice）",
    "emotion preset (presets/emotions.json)": "情绪预设（presets/emotions.json）",
    "emotion intensity 0-1 (default 0.5)": "情绪强度 0-1（默认 0.5）",
    "what the voice sounds like": "声音听起来是什么样",
    "the text (or --text / --text-file)": "文本（或用 --text / --text-file）",
    "every character, not only polyphones and overrides": "显示每个字，而不只是多音字和自定义读音",
    "list saved voices": "列出已保存的声音",
    "quality report of a reference clip and the part that would be kept": "参考音频的质量报告，以及会保留的部分",
    "save a new voice from a reference clip": "用参考音频保存一个新声音",
    "add a clip tagged with an emotion or style (happy, whisper, 开心...)": "添加一段带情绪或风格标签的片段（happy、whisper、开心等）",
    "write a voice to a zip archive": "把声音导出为 zip 压缩包",
    "add a voice from a zip archive": "从 zip 压缩包导入声音",
    "exact strings (old GPT-SoVITS reference paths) a voice also answers to: add, --remove, or list": "声音额外响应的精确字符串（旧 GPT-SoVITS 参考音频路径）：添加、--remove 删除或列出",
    "import the reference voice of a GPT-SoVITS client config (xiaozhi config.yaml, a .py app) with its alias": "从 GPT-SoVITS 客户端配置（xiaozhi 的 config.yaml、.py 程序）导入参考声音及其别名",
    "reference clip (wav, mp3, flac, ogg, m4a)": "参考音频（wav、mp3、flac、ogg、m4a）",
    "what the clip says, word for word": "音频里说的话，逐字写出",
    "tags of the voice (e.g. narrator, female)": "声音的标签（如 narrator、female）",
    "confirm this is your voice or you may clone it": "确认这是你本人的声音，或你有权克隆它",
    "replace a clip with the same tag": "替换标签相同的片段",
    "save under another name": "另存为其他名字",
    "a saved voice": "已保存的声音",
    'the exact string a client sends, e.g. "E:\\GPT-SoVITS\\纳西妲\\0.wav"': '客户端发来的精确字符串，如 "E:\\GPT-SoVITS\\纳西妲\\0.wav"',
    "stop answering to ALIAS": "不再响应 ALIAS",
    ".yaml/.yml or .py file (read as data, never run)": ".yaml/.yml 或 .py 文件（只当数据读取，绝不运行）",
    "which block when the config has several (e.g. GPT_SOVITS_V2)": "配置里有多段时用哪一段（如 GPT_SOVITS_V2）",
    "the reference clip, when the config's path is not on this computer": "参考音频（配置里的路径不在这台电脑上时使用）",
    "name of the new voice (default: from the path)": "新声音的名字（默认取自路径）",
    "an existing voice to answer to the config's path instead of creating one": "让已有的声音响应配置里的路径，而不新建声音",
    "Generation goes to the remote engine when its URL is set; everything else stays local. Environment: STUDIO_REMOTE_URL and STUDIO_REMOTE_KEY override the settings.": "设置了 URL 后，生成交给远程引擎，其余都在本地完成。环境变量 STUDIO_REMOTE_URL 和 STUDIO_REMOTE_KEY 优先于设置。",
    "the remote engine in use (the key masked)": "当前使用的远程引擎（密钥已遮盖）",
    "use the server at URL, e.g. http://gpu-box:8091": "使用 URL 处的服务器，如 http://gpu-box:8091",
    "forget the URL and key: generate on this computer": "清除 URL 和密钥：改在这台电脑上生成",
    "ask the server what it serves (GET /v1/audio/voices and /v1/models)": "询问服务器提供哪些声音和模型（GET /v1/audio/voices 和 /v1/models）",
    "its API key (sent as 'Authorization: Bearer KEY')": "它的 API 密钥（以 'Authorization: Bearer KEY' 发送）",
    "registry id, e.g. 0.6b-base": "模型 id，如 0.6b-base",
    "hub mirror, e.g. https://hf-mirror.com": "下载镜像，如 https://hf-mirror.com",
    "how the weights are stored (default: bfloat16 for 0.6b/1.7b, as released; float32 for tiny)": "权重的存储精度（默认：0.6b/1.7b 按发布时的 bfloat16，tiny 用 float32）",
    "Serve the HTTP API. Listening beyond 127.0.0.1 needs an API key.": "启动 HTTP API 服务。监听 127.0.0.1 以外的地址需要 API 密钥。",
    "interface to listen on (default 127.0.0.1)": "监听地址（默认 127.0.0.1）",
    "port (default 9880, GPT-SoVITS' port)": "端口（默认 9880，与 GPT-SoVITS 相同）",
    "require 'Authorization: Bearer KEY' (default: STUDIO_API_KEY); needed off loopback": "要求请求带 'Authorization: Bearer KEY'（默认取 STUDIO_API_KEY）；非本机访问时必须设置",
    "requests that may wait; more get 503 (default 8)": "可排队等待的请求数，超出的返回 503（默认 8）",
    "longest text per request (default 5000)": "每个请求的最长文本（默认 5000）",
    "largest request body in MB (default 25)": "请求体上限，单位 MB（默认 25）",
    "allow this browser origin (repeatable)": "允许该浏览器来源（可重复指定）",
    "model for cloning: registry id or local folder": "克隆用的模型：模型 id 或本地文件夹",
    "model for preset speakers: registry id or local folder": "预设音色用的模型：模型 id 或本地文件夹",
    "model for voice design: registry id or local folder": "声音设计用的模型：模型 id 或本地文件夹",
    "project folder or project.json, or a script file": "项目文件夹、project.json 或脚本文件",
    "output folder (the project of a script is kept in OUT/project)": "输出文件夹（脚本生成的项目保存在 OUT/project）",
    "default voice: a saved voice or preset speaker name, or design:DESCRIPTION": "默认声音：已保存的声音、预设音色名，或 design:描述",
    "map a speaker label, e.g. A=Vivian": "为说话人标签指定声音，如 A=Vivian",
    "subtitle file whose cues give the lines' slots (in order)": "字幕文件，按顺序用其时间段安排每句台词",
    "format of the line files (default mp3)": "逐句音频的格式（默认 mp3）",
    "model for cloned voices (a registry id or checkpoint folder)": "克隆声音用的模型（模型 id 或模型文件夹）",
    "model for preset speakers": "预设音色用的模型",
    "model for designed voices": "设计声音用的模型",
    "Auto, Chinese, English, ...": "Auto、Chinese、English 等",
    "seed for reproducible takes": "随机种子，用于复现每条生成",
    "cap on model steps for each segment (a line is split into segments at sentence ends; each segment gets this cap, not the whole line; 12.5 steps = 1 second of audio)": "每个分段的模型步数上限（一句台词在句末切成若干分段，上限按分段而非整句计算；12.5 步 = 1 秒音频）",
    "scene mode: seconds of silence between lines": "场景模式：台词之间的静音秒数",
    "allowed stretch factor, 1-2 (default 1.33)": "允许的变速倍数，1-2（默认 1.33）",
    "let a long line run into the following gap": "允许过长的台词延伸到后面的空隙",
    "only these line numbers, e.g. 1,3-5": "只处理这些行号，如 1,3-5",
    "make new takes even for unchanged lines": "没改动的台词也重新生成",
    "hear each take with the recogniser (auto: with a GPU)": "用识别模型复听每条生成（auto：有 GPU 时启用）",
    "also mux the track into a copy of this video": "同时把音轨合成到这个视频的副本里",
    "original audio (with --video); background: the project's separated background (redub --keep-background)": "原音频（配合 --video）；background：项目分离出的背景音（redub --keep-background）",
    "*.wav clips with same-named *.txt transcripts, or one recording": "*.wav 片段及同名 *.txt 文字稿，或一整段录音",
    "the new speaker's name (used as --speaker later)": "新说话人的名字（之后用作 --speaker）",
    "0.6b-base, 1.7b-base or a Base checkpoint folder": "0.6b-base、1.7b-base 或 Base 模型文件夹",
    "folder for the trained CustomVoice checkpoint": "存放训练好的 CustomVoice 模型的文件夹",
    "LoRA rank (default 16); 0 = full fine-tuning": "LoRA 秩（默认 16）；0 表示全量微调",
    "passes over the data (default 3)": "训练轮数（默认 3）",
    "batches per optimiser step (default 4)": "每次优化累积的批次数（默认 4）",
    "peak learning rate (default 1e-4 LoRA, 1e-5 full)": "峰值学习率（默认 LoRA 1e-4，全量 1e-5）",
    "language the voice will speak: Auto (default), Chinese, ...": "声音要说的语言：Auto（默认）、Chinese 等",
    "the clip (file name) whose voice print becomes the speaker's": "用哪个片段（文件名）的声纹作为说话人声纹",
    "held-out sentences spoken after each epoch to pick the best (0-3)": "每轮后朗读的留出句子数，用来挑选最佳结果（0-3）",
    "confirm the voice is yours or its owner agreed (required)": "确认声音是你本人的，或已获得本人同意（必填）",
    "who gave the consent (kept in the voice's record)": "授权人（记录在声音档案里）",
    "do not add the result to the voice library": "不把结果加入声音库",
    "output folder (the project is kept in OUT/project)": "输出文件夹（项目保存在 OUT/project）",
    "voice for every line: a saved voice or preset speaker name, or design:DESCRIPTION": "所有台词用的声音：已保存的声音、预设音色名，或 design:描述",
    "language spoken in the video: zh, en, Chinese, 中文, ... (default: detect)": "视频里说的语言：zh、en、Chinese、中文 等（默认自动检测）",
    "speech recogniser: a registry id (whisper-small, ...) or a faster-whisper model folder": "语音识别模型：模型 id（whisper-small 等）或 faster-whisper 模型文件夹",
    "voice/background separator: a registry id (htdemucs) or a Demucs model folder": "人声/背景分离模型：模型 id（htdemucs）或 Demucs 模型文件夹",
    "separate the voice from the music and effects (OUT/project/redub/background.wav); --generate then mixes the new voice over the background": "把人声与音乐、音效分开（OUT/project/redub/background.wav）；--generate 随后把新配音混到背景上",
    "save the cleanest 3-10 s of the (separated) voice as a voice and dub with it (needs --consent)": "把（分离后）人声中最干净的 3-10 s 保存为声音并用它配音（需要 --consent）",
    "with --clone-from-video: the new voice's name (default: the video's name)": "配合 --clone-from-video：新声音的名字（默认取视频名）",
    "confirm the voice in the video is yours or you may clone it": "确认视频里是你本人的声音，或你有权克隆它",
    "tell the speakers apart (S1, S2, ... in the speaker column) with the Base model's speaker encoder (--model, default: the studio's Base model)": "用 Base 模型的说话人编码器区分说话人（说话人一列标为 S1、S2 等；--model 指定模型，默认用 studio 的 Base 模型）",
    "hub mirror for downloading the models, e.g. https://hf-mirror.com": "下载模型用的镜像，如 https://hf-mirror.com",
    "transcribe everything, not only the parts voice detection keeps": "全部转写，而不只是人声检测保留的部分",
    "also dub the project and mux it into a copy of the video": "同时为项目配音，并合成到视频的副本里",
    "with --generate: model for cloned voices (registry id or checkpoint folder)": "配合 --generate：克隆声音用的模型（模型 id 或模型文件夹）",
    "with --generate: model for preset speakers": "配合 --generate：预设音色用的模型",
    "with --generate: model for designed voices": "配合 --generate：设计声音用的模型",
    "with --generate: cap on model steps for each segment": "配合 --generate：每个分段的模型步数上限",
    "with --generate: also word-level and karaoke captions, timed by this recogniser": "配合 --generate：同时生成逐词字幕和卡拉 OK 字幕，由该识别模型对时",
    "with --generate: original audio (default: background with --keep-background, else duck)": "配合 --generate：原音频（默认：用了 --keep-background 则为 background，否则为 duck）",
}


class _ZhFormatter(argparse.HelpFormatter):
    """argparse's formatter with a Chinese usage prefix."""

    def add_usage(self, usage, actions, groups, prefix=None):
        """The usage line, headed ``用法：``."""
        return super().add_usage(usage, actions, groups, _ARGPARSE_ZH["usage: "] if prefix is None else prefix)


def _zh_formatter(cls: type) -> type:
    """``cls`` (a HelpFormatter class) with the Chinese usage prefix."""
    if issubclass(cls, _ZhFormatter):
        return cls
    return type(f"Zh{cls.__name__}", (_ZhFormatter, cls), {})


def _zh_error(parser: argparse.ArgumentParser):
    """An ``error`` for ``parser`` that prints argparse's refusal in Chinese (exit 2, as argparse)."""

    def error(message: str):
        for pattern, template in _ERRORS_ZH:
            found = re.fullmatch(pattern, message, flags=re.S)
            if found:
                message = template.format(*found.groups())
                break
        parser.print_usage(sys.stderr)
        parser.exit(2, f"{parser.prog}：错误：{message}\n")

    return error


def _texts(parser: argparse.ArgumentParser, seen: set[int] | None = None):
    """Every (object, attribute) holding a help text or description in ``parser`` and its subparsers."""
    seen = set() if seen is None else seen
    if id(parser) in seen:
        return
    seen.add(id(parser))
    yield parser, "description"
    for action in parser._actions:
        yield action, "help"
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                yield choice, "help"
            for sub in action.choices.values():
                yield from _texts(sub, seen)


def parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser`` and every subparser under it, nested ones included."""
    return list(dict.fromkeys(obj for obj, attr in _texts(parser) if attr == "description"))


def untranslated(parser: argparse.ArgumentParser) -> list[str]:
    """The help texts and descriptions of ``parser`` that have no Chinese in :data:`ZH`."""
    found = (getattr(obj, attr) for obj, attr in _texts(parser))
    return sorted({text for text in found if text and text is not argparse.SUPPRESS and text not in ZH})


def localise(parser: argparse.ArgumentParser, lang: str) -> argparse.ArgumentParser:
    """``parser`` speaking ``lang``: for 'zh' its help, descriptions and argparse's words in Chinese.

    A text missing from :data:`ZH` stays as written; ``argparse.SUPPRESS`` is left alone.
    """
    if lang != "zh":
        return parser
    for obj, attr in list(_texts(parser)):
        text = getattr(obj, attr)
        if text and text is not argparse.SUPPRESS and text in ZH:
            setattr(obj, attr, ZH[text])
    for each in parsers(parser):
        each.formatter_class = _zh_formatter(each.formatter_class)
        each.error = _zh_error(each)
        for group in each._action_groups:
            group.title = _ARGPARSE_ZH.get(group.title, group.title)
    return parser
