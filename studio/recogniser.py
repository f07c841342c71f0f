"""The studio's speech recogniser: faster-whisper (CTranslate2 Whisper) as a managed model.

Why faster-whisper: it is maintained, runs Whisper (good Mandarin at large-v3,
usable at small) 4x faster than the reference code on CPU with int8 and on
CUDA with float16, gives sentence and word timestamps, and its models are
plain folders (``model.bin``, ``config.json``, ``tokenizer.json``) that the
model manager can download file by file with resume and a mirror endpoint.

A model is named by registry id (``whisper-small``...), by folder, or found on
disk (``STUDIO_ASR_MODEL``, the studio's models folder, the Hugging Face
cache). Loading is lazy: nothing here imports faster-whisper until a
transcription is asked for. One recogniser stays resident at a time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import checkpoints, config
from .errors import CheckpointError, InputError, NotFoundError
from .progress import CancelToken, ProgressFn, Status, no_progress
from .registry import ASR_MODELS, DEFAULT_ASR_MODEL, ModelSpec, get_spec
from .resident import Resident

SAMPLE_RATE = 16000
_REQUIRED = ("model.bin", "config.json", "tokenizer.json")
#: language name or code -> Whisper code, for the languages the studio speaks
LANGUAGE_CODES = {
    "chinese": "zh",
    "中文": "zh",
    "english": "en",
    "英语": "en",
    "japanese": "ja",
    "日语": "ja",
    "korean": "ko",
    "韩语": "ko",
    "german": "de",
    "德语": "de",
    "french": "fr",
    "法语": "fr",
    "russian": "ru",
    "俄语": "ru",
    "portuguese": "pt",
    "葡萄牙语": "pt",
    "spanish": "es",
    "西班牙语": "es",
    "italian": "it",
    "意大利语": "it",
    "cantonese": "yue",
    "粤语": "yue",
}
SUPPORTED_CODES = tuple(dict.fromkeys(LANGUAGE_CODES.values()))


@dataclass(frozen=True)
class Word:
    """One recognised word (or character, for Chinese) with its times in seconds."""

    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """One recognised sentence with its times and words."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...]


@dataclass(frozen=True)
class Transcript:
    """What the recogniser heard in one recording."""

    language: str
    duration: float
    segments: tuple[Segment, ...]

    @property
    def text(self) -> str:
        """All the segments' text, joined."""
        return "".join(s.text for s in self.segments).strip()

    def to_dict(self) -> dict:
        """A JSON-ready form (the re-dub cache)."""
        return {
            "language": self.language,
            "duration": self.duration,
            "segments": [
                {
                    "start": s.start,
                    "end": s.end,
                    "text": s.text,
                    "words": [[w.start, w.end, w.text, w.probability] for w in s.words],
                }
                for s in self.segments
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Transcript:
        """The inverse of :meth:`to_dict`."""
        return cls(
            language=str(data["language"]),
            duration=float(data["duration"]),
            segments=tuple(
                Segment(
                    float(s["start"]),
                    float(s["end"]),
                    str(s["text"]),
                    tuple(Word(float(a), float(b), str(t), float(p)) for a, b, t, p in s["words"]),
                )
                for s in data["segments"]
            ),
        )


def language_code(language: str | None) -> str | None:
    """The Whisper code for ``language`` (name in English or Chinese, or a code); None means detect."""
    if language is None or language.strip().lower() in ("", "auto", "自动"):
        return None
    wanted = language.strip().lower()
    if wanted in SUPPORTED_CODES:
        return wanted
    if wanted in LANGUAGE_CODES:
        return LANGUAGE_CODES[wanted]
    raise InputError(
        zh=f"语音识别不支持语言“{language}”。可选：{'、'.join(SUPPORTED_CODES)}，或 auto（自动识别）。",
        en=f"Speech recognition does not support the language '{language}'. Choose one of "
        f"{', '.join(SUPPORTED_CODES)}, or auto (detect).",
    )


def is_model_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a faster-whisper model with its own tokenizer (so nothing is fetched)."""
    return all((folder / name).is_file() for name in _REQUIRED)


def validate(folder: str | Path) -> Path:
    """``folder`` if it is a usable recogniser; a clear error otherwise."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise NotFoundError(zh=f"找不到语音识别模型文件夹：{path}", en=f"Speech recogniser folder not found: {path}")
    missing = [name for name in _REQUIRED if not (path / name).is_file()]
    if missing:
        raise CheckpointError(
            zh=f"{path} 不是可用的 faster-whisper 模型：缺少 {', '.join(missing)}。请重新下载。",
            en=f"{path} is not a usable faster-whisper model: missing {', '.join(missing)}. Download it again.",
        )
    return path


def _cached_snapshot(spec: ModelSpec) -> Path | None:
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(spec.repo_id, "model.bin")
    except Exception:  # a broken cache must not stop the studio
        return None
    return Path(cached).parent if isinstance(cached, str) else None


def locate(spec: ModelSpec, local_models: dict[str, str] | None = None) -> Path | None:
    """The folder holding registry recogniser ``spec``, if it is on disk."""
    override = (local_models or {}).get(spec.id)
    for folder in (Path(override) if override else None, checkpoints.local_dir(spec), _cached_snapshot(spec)):
        if folder is not None and is_model_folder(folder):
            return folder
    return None


def find_local() -> Path | None:
    """A recogniser already on disk: ``STUDIO_ASR_MODEL``, else a downloaded registry model (smallest first)."""
    named = config.asr_model()
    if named:
        return Path(named) if is_model_folder(Path(named)) else None
    for spec in ASR_MODELS:
        folder = locate(spec)
        if folder is not None:
            return folder
    return None


def resolve(
    model: str | None = None,
    endpoint: str | None = None,
    local_models: dict[str, str] | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """The recogniser folder for ``model`` (registry id, folder, or None for the default), downloading if needed."""
    if model and (os.sep in model or "/" in model or Path(model).expanduser().is_dir()):
        return validate(model)
    if not model:
        found = find_local()
        if found is not None:
            return found
    spec = get_spec(model or DEFAULT_ASR_MODEL)
    if spec.kind != "asr":
        ids = ", ".join(s.id for s in ASR_MODELS)
        raise InputError(
            zh=f"{spec.id} 不是语音识别模型。可选：{ids}。", en=f"{spec.id} is not a recogniser. Choose {ids}."
        )
    folder = locate(spec, local_models)
    if folder is None:
        progress(0.0, Status("downloading", model=spec.id))
        folder = checkpoints.download(spec, endpoint, progress, cancel)
    return validate(folder)


class Recogniser:
    """A loaded faster-whisper model (loaded on the first transcription)."""

    def __init__(self, folder: str | Path, device: str = "auto") -> None:
        self.folder = validate(folder)
        self.device = device
        self._model = None

    def _load(self):
        if self._model is None:
            import ctranslate2
            from faster_whisper import WhisperModel

            device = self.device
            if device == "auto":
                device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
            compute = "float16" if device == "cuda" else "int8"
            try:
                self._model = WhisperModel(str(self.folder), device=device, compute_type=compute, local_files_only=True)
            except (RuntimeError, ValueError, OSError) as exc:
                raise CheckpointError(
                    zh=f"无法加载语音识别模型 {self.folder}：文件可能损坏或不完整，请重新下载。",
                    en=f"Could not load the speech recogniser {self.folder}: its files may be damaged or "
                    "incomplete; download it again.",
                    cause=str(exc)[:200],
                ) from exc
        return self._model

    def transcribe(
        self,
        audio,
        language: str | None = None,
        progress: ProgressFn = no_progress,
        cancel: CancelToken | None = None,
        word_timestamps: bool = True,
        vad: bool = True,
        on_segment=None,
        greedy: bool = False,
        max_new_tokens: int | None = None,
    ) -> Transcript:
        """Recognise ``audio`` (a 16 kHz mono float32 array, or a file path) with sentence and word times.

        ``vad`` skips the parts without speech first (Silero VAD), which keeps Whisper from inventing
        text over music; turn it off to transcribe everything. ``on_segment(segment)`` is called as each
        sentence is ready (to save partial work). ``greedy`` decodes once, without beam search or
        temperature fallback, and ``max_new_tokens`` caps each window's text: for checking our own takes,
        where the text's length is known and speed matters more than the last point of accuracy.
        """
        code = language_code(language)
        model = self._load()
        if code is not None and code not in model.supported_languages:
            raise InputError(
                zh=f"这个语音识别模型不支持语言“{language}”。",
                en=f"This speech recogniser does not support the language '{language}'.",
            )
        import ctranslate2

        # Whisper falls back to sampling at higher temperatures when greedy decoding fails its checks;
        # a fixed seed makes the same audio give the same transcript every run.
        ctranslate2.set_random_seed(0)
        pieces, info = model.transcribe(
            audio if not isinstance(audio, Path) else str(audio),
            language=code,
            word_timestamps=word_timestamps,
            vad_filter=vad,
            condition_on_previous_text=False,
            **({"beam_size": 1, "temperature": 0.0} if greedy else {}),
            max_new_tokens=max_new_tokens,
        )
        duration = float(info.duration)
        segments = []
        for piece in pieces:  # a lazy generator: the work happens as it is consumed
            if cancel is not None:
                cancel.check()
            segments.append(_segment(piece, duration))
            if on_segment is not None:
                on_segment(segments[-1])
            progress(
                min(1.0, piece.end / duration) if duration else None,
                Status("transcribing", at_s=piece.end, of_s=duration),
            )
        return Transcript(language=info.language, duration=duration, segments=tuple(segments))


def _clamp(value: float, duration: float) -> float:
    return round(min(max(float(value), 0.0), duration), 3)


def _segment(piece, duration: float) -> Segment:
    """A faster-whisper segment with its times inside the clip and its words inside the sentence.

    Word times come from cross-attention alignment and can stray a little outside their sentence's
    own times; they are kept inside it so the two never disagree.
    """
    start, end = _clamp(piece.start, duration), _clamp(piece.end, duration)
    end = max(start, end)
    words = []
    for w in piece.words or ():
        w_start = min(max(_clamp(w.start, duration), start), end)
        words.append(Word(w_start, min(max(_clamp(w.end, duration), w_start), end), w.word, float(w.probability)))
    return Segment(start, end, piece.text.strip(), tuple(words))


_models: Resident[Recogniser] = Resident(lambda folder: validate(folder), lambda path: Recogniser(path))


def get(folder: str | Path) -> Recogniser:
    """The resident recogniser for ``folder`` (replacing another one)."""
    return _models.get(folder)


def unload() -> None:
    """Drop the resident recogniser."""
    _models.unload()
