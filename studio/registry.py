"""The official Qwen3-TTS checkpoints the studio knows by name."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import NotFoundError


@dataclass(frozen=True)
class ModelSpec:
    """One official checkpoint."""

    id: str  #: short id used on the command line and in settings
    repo_id: str  #: Hugging Face repository
    kind: str  #: base | custom_voice | voice_design | tokenizer | asr | separator
    size: str  #: 0.6b | 1.7b | "" for the tokenizer
    download_gb: float  #: approximate download size
    memory_gb: float  #: approximate memory for bf16 inference (GPU or RAM)

    @property
    def takes_instruction(self) -> bool:
        """Whether the model honours a style instruction."""
        return self.kind == "voice_design" or (self.kind == "custom_voice" and self.size == "1.7b")


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("0.6b-base", "Qwen/Qwen3-TTS-12Hz-0.6B-Base", "base", "0.6b", 2.5, 3.0),
    ModelSpec("1.7b-base", "Qwen/Qwen3-TTS-12Hz-1.7B-Base", "base", "1.7b", 4.5, 6.0),
    ModelSpec("0.6b-custom", "Qwen/Qwen3-TTS-12Hz-0.6B-CustomVoice", "custom_voice", "0.6b", 2.5, 3.0),
    ModelSpec("1.7b-custom", "Qwen/Qwen3-TTS-12Hz-1.7B-CustomVoice", "custom_voice", "1.7b", 4.5, 6.0),
    ModelSpec("1.7b-design", "Qwen/Qwen3-TTS-12Hz-1.7B-VoiceDesign", "voice_design", "1.7b", 4.5, 6.0),
)
TOKENIZER = ModelSpec("tokenizer-12hz", "Qwen/Qwen3-TTS-Tokenizer-12Hz", "tokenizer", "", 0.7, 0.8)
#: Speech recognisers (faster-whisper / CTranslate2 conversions of OpenAI Whisper), for re-dubbing and transcripts.
ASR_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("whisper-small", "Systran/faster-whisper-small", "asr", "small", 0.5, 1.0),
    ModelSpec("whisper-medium", "Systran/faster-whisper-medium", "asr", "medium", 1.5, 2.0),
    ModelSpec("whisper-large-v3", "Systran/faster-whisper-large-v3", "asr", "large-v3", 3.1, 4.0),
)
DEFAULT_ASR_MODEL = "whisper-small"
#: Voice/background separators (Demucs v4 hybrid transformer, safetensors export), for re-dubbing with the music kept.
SEPARATOR_MODELS: tuple[ModelSpec, ...] = (ModelSpec("htdemucs", "adefossez/HTDemucs", "separator", "", 0.2, 1.5),)
DEFAULT_SEPARATOR_MODEL = "htdemucs"
ALL_SPECS: tuple[ModelSpec, ...] = (*MODELS, TOKENIZER, *ASR_MODELS, *SEPARATOR_MODELS)

DEFAULT_MODEL = {"base": "0.6b-base", "custom_voice": "1.7b-custom", "voice_design": "1.7b-design"}

#: Language names the model accepts, in the order the UI lists them.
LANGUAGES = (
    "Auto",
    "Chinese",
    "English",
    "Japanese",
    "Korean",
    "German",
    "French",
    "Russian",
    "Portuguese",
    "Spanish",
    "Italian",
)
LANGUAGE_ZH = {
    "Auto": "自动",
    "Chinese": "中文",
    "English": "英语",
    "Japanese": "日语",
    "Korean": "韩语",
    "German": "德语",
    "French": "法语",
    "Russian": "俄语",
    "Portuguese": "葡萄牙语",
    "Spanish": "西班牙语",
    "Italian": "意大利语",
}

#: CustomVoice's preset speakers: (name, native language, short description).
SPEAKERS = (
    ("Vivian", "Chinese", "明亮年轻的女声 / bright young female"),
    ("Serena", "Chinese", "温柔的女声 / warm gentle female"),
    ("Uncle_Fu", "Chinese", "沉稳的男声 / mellow mature male"),
    ("Dylan", "Chinese", "北京口音的男声 / Beijing-accented male"),
    ("Eric", "Chinese", "四川口音的男声 / Sichuan-accented male"),
    ("Ryan", "English", "有活力的男声 / dynamic male"),
    ("Aiden", "English", "阳光的美式男声 / sunny American male"),
    ("Ono_Anna", "Japanese", "俏皮的日语女声 / playful Japanese female"),
    ("Sohee", "Korean", "温暖的韩语女声 / warm Korean female"),
)


def get_spec(model_id: str) -> ModelSpec:
    """Look up a registry id (case-insensitive)."""
    for spec in ALL_SPECS:
        if spec.id == model_id.strip().lower():
            return spec
    ids = ", ".join(s.id for s in MODELS)
    raise NotFoundError(
        zh=f"没有名为 “{model_id}” 的模型。可选：{ids}，或者一个本地模型文件夹的路径。",
        en=f"No model called '{model_id}'. Choose one of {ids}, or give the path of a local checkpoint folder.",
    )


def normalize_language(language: str | None) -> str:
    """Map a language name (English or Chinese, any case) to the model's name."""
    if not language:
        return "Auto"
    wanted = language.strip().lower()
    for name in LANGUAGES:
        if wanted in (name.lower(), LANGUAGE_ZH[name]):
            return name
    raise NotFoundError(
        zh=f"不支持的语言：{language}。可选：{'、'.join(LANGUAGE_ZH[n] for n in LANGUAGES)}。",
        en=f"Unsupported language: {language}. Choose one of {', '.join(LANGUAGES)}.",
    )
