"""Training data: clips and transcripts from a folder, checked, cleaned, and their codes cached.

A data folder holds either ``*.wav`` files with same-named ``*.txt`` transcripts
(UTF-8), or one long recording (wav/flac/mp3/m4a/ogg, up to an hour) that is
sliced at pauses with the studio's VAD into 3-15 s clips and transcribed by the
local recogniser (:mod:`studio.asr`; without one, split it yourself and type
the transcripts). Every clip goes through the reference-quality checks
(:func:`studio.reference.quality_report`: no speech, noise, clipping), is
trimmed, loudness-normalised to -20 LUFS and resampled to 24 kHz mono. A clip
whose transcript cannot be what it says (characters per second far from the
others') is rejected; many of them means the pairing is wrong, and the whole
folder is refused. Each refusal says what to fix.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio import MODEL_SR, Audio, load_audio, resample
from ..errors import AudioError, InputError

CLIP_MIN_S = 3.0
CLIP_MAX_S = 15.0
#: Fewer usable clips, or less speech, than this is refused: the voice would not generalise.
MIN_CLIPS = 10
MIN_SPEECH_S = 60.0
#: Bounds on what one folder may hold.
MAX_FILES = 5000
MAX_TOTAL_S = 4 * 3600.0
MAX_RECORDING_S = 3600.0
MAX_TRANSCRIPT_CHARS = 1000
#: Speaking rate bounds in text units (a CJK character, or a word) per second of speech.
RATE_BOUNDS = (0.5, 12.0)
#: A clip whose rate is this far (ratio) from the folder's median is taken as mismatched.
RATE_TOLERANCE = 2.5
#: More mismatched clips than this share means the files are paired wrongly: refuse all.
MISMATCH_REFUSE_SHARE = 0.3
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a", ".ogg")
TARGET_LUFS = -20.0


@dataclass
class Clip:
    """One usable utterance: 24 kHz mono audio and its transcript."""

    name: str
    text: str
    audio: Audio
    snr_db: float

    @property
    def seconds(self) -> float:
        return self.audio.seconds

    def key(self) -> str:
        """Identifies the clip's content (for the code cache)."""
        digest = hashlib.sha256(self.audio.samples.tobytes())
        digest.update(self.text.encode("utf-8"))
        return digest.hexdigest()[:32]


@dataclass
class Rejected:
    """A clip left out, and why."""

    name: str
    zh: str
    en: str

    def message(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


@dataclass
class Dataset:
    """The clips to train on, the ones left out, and the chosen reference clip."""

    clips: list[Clip]
    rejected: list[Rejected] = field(default_factory=list)
    reference: Clip | None = None

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.clips)

    def units_per_second(self) -> float:
        """The data's speaking rate: text units per second of audio."""
        return sum(text_units(c.text) for c in self.clips) / max(self.seconds, 1e-6)


def text_units(text: str) -> int:
    """Rate units: each CJK character, kana or hangul syllable counts one, each other word one."""
    cjk = re.findall(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]", text)
    words = re.findall(r"[^\W\d_\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+|\d+", text)
    return len(cjk) + len(words)


def _refuse(zh: str, en: str) -> InputError:
    return InputError(zh=zh, en=en)


def _clean(name: str, audio: Audio, text: str) -> Clip | Rejected:
    """Checks, trim, loudness, 24 kHz: a clip, or why it was left out."""
    from ..reference import detect_speech, normalize_loudness, quality_report, trim_silence

    regions = detect_speech(audio)
    if not regions:
        return Rejected(name, "没有检测到人声", "no speech found")
    report = quality_report(audio, regions)
    errors = [f for f in report.findings if f.level == "error"]
    if errors:
        return Rejected(name, errors[0].zh, errors[0].en)
    clip = trim_silence(audio, regions)
    if not CLIP_MIN_S <= clip.seconds <= CLIP_MAX_S:
        return Rejected(
            name,
            f"去掉首尾静音后长 {clip.seconds:.1f} 秒，需要 {CLIP_MIN_S:.0f}-{CLIP_MAX_S:.0f} 秒",
            f"{clip.seconds:.1f} s after trimming silence; clips must be {CLIP_MIN_S:.0f}-{CLIP_MAX_S:.0f} s",
        )
    clip = resample(normalize_loudness(clip, TARGET_LUFS), MODEL_SR)
    return Clip(name=name, text=text, audio=clip, snr_db=report.snr_db)


def _read_transcript(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8-sig").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise _refuse(
            f"无法读取文字稿 {path.name}：请保存为 UTF-8 文本。",
            f"Cannot read the transcript {path.name}: save it as UTF-8 text.",
        ) from exc
    if len(text) > MAX_TRANSCRIPT_CHARS:
        raise _refuse(
            f"文字稿 {path.name} 超过 {MAX_TRANSCRIPT_CHARS} 个字符：一个片段只放 3-15 秒的话。",
            f"The transcript {path.name} is over {MAX_TRANSCRIPT_CHARS} characters: one clip holds 3-15 s of speech.",
        )
    return " ".join(text.split())


def _paired_clips(folder: Path, wavs: list[Path]) -> list[Clip | Rejected]:
    missing = [w.name for w in wavs if not w.with_suffix(".txt").is_file()]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise _refuse(
            f"{len(missing)} 个音频没有同名的 .txt 文字稿：{shown}。每个 a.wav 旁边放一个 a.txt，写上它说的话。",
            f"{len(missing)} audio files have no same-named .txt transcript: {shown}. Put a.txt next to each a.wav, "
            "with what it says.",
        )
    out: list[Clip | Rejected] = []
    for wav in wavs:
        text = _read_transcript(wav.with_suffix(".txt"))
        if not text:
            out.append(Rejected(wav.name, "文字稿是空的", "the transcript is empty"))
            continue
        try:
            out.append(_clean(wav.name, load_audio(wav), text))
        except AudioError as exc:
            out.append(Rejected(wav.name, exc.message("zh"), exc.message("en")))
    return out


def _read_long(path: Path) -> Audio:
    """A long recording, refused over :data:`MAX_RECORDING_S` before it is decoded."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
        seconds = info.frames / float(info.samplerate)
    except Exception:
        return load_audio(path)  # formats soundfile cannot read: the studio's decoder (and its limit)
    if seconds > MAX_RECORDING_S:
        raise _refuse(
            f"录音太长（{seconds / 60:.0f} 分钟），最多 {MAX_RECORDING_S / 60:.0f} 分钟；10-30 分钟就够了。请剪短或分成几个文件。",
            f"The recording is too long ({seconds / 60:.0f} min); the limit is {MAX_RECORDING_S / 60:.0f} min and "
            "10-30 min is plenty. Cut it, or split it into files.",
        )
    samples, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return Audio(samples=samples.mean(axis=1), sr=int(sr))


def slice_recording(audio: Audio) -> list[tuple[float, float]]:
    """Cut points of a long recording: speech regions joined into 3-15 s pieces, split only at pauses."""
    from ..reference import detect_speech

    pieces, start, end = [], None, None
    for s, e in detect_speech(audio):
        if start is not None and e - start > CLIP_MAX_S:
            pieces.append((start, end))
            start = None
        if start is None:
            start = s
        end = e
    if start is not None:
        pieces.append((start, end))
    pad = 0.1
    return [(max(0.0, s - pad), min(audio.seconds, e + pad)) for s, e in pieces if e - s >= CLIP_MIN_S]


def _long_recording(path: Path, transcribe) -> list[Clip | Rejected]:
    import tempfile

    from ..asr import status
    from ..audio import write_audio

    state = status()
    if transcribe is None and not state.available:
        raise _refuse(
            f"一段长录音需要本地语音识别来生成文字稿：{state.zh} 或者把录音剪成 3-15 秒的 .wav，每个配一个同名 .txt。",
            f"A single long recording needs the local speech recogniser for its transcripts: {state.en} Or cut it into "
            "3-15 s .wav files, each with a same-named .txt.",
        )
    if transcribe is None:
        from ..asr import transcribe
    audio = _read_long(path)
    out: list[Clip | Rejected] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (s, e) in enumerate(slice_recording(audio)):
            piece = Audio(audio.samples[int(s * audio.sr) : int(e * audio.sr)], audio.sr)
            name = f"{path.stem}-{i + 1:04d} ({s:.1f}-{e:.1f} s)"
            wav = write_audio(Path(tmp) / f"{i}.wav", piece.samples, piece.sr)
            text = " ".join(transcribe(wav).split())
            out.append(_clean(name, piece, text) if text else Rejected(name, "识别不出文字", "no words recognised"))
    return out


def _mismatched(clips: list[Clip]) -> list[Clip]:
    rates = [text_units(c.text) / c.seconds for c in clips]
    median = float(np.median(rates)) if rates else 0.0
    low, high = RATE_BOUNDS
    return [
        c
        for c, r in zip(clips, rates, strict=True)
        if not low <= r <= high or (median > 0 and not 1 / RATE_TOLERANCE <= r / median <= RATE_TOLERANCE)
    ]


def load_dataset(folder, transcribe=None, reference: str | None = None, min_clips: int = MIN_CLIPS) -> Dataset:
    """Read, check and clean the clips in ``folder``; refuse with the reason when they cannot make a voice.

    ``transcribe(path) -> str`` replaces the local recogniser for a long recording;
    ``reference`` names the clip whose speaker embedding becomes the voice (default: the cleanest 3-10 s clip).
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise _refuse(f"找不到数据文件夹：{folder}", f"Data folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    if len(files) > MAX_FILES:
        raise _refuse(f"文件夹里音频超过 {MAX_FILES} 个。", f"The folder holds over {MAX_FILES} audio files.")
    if not files:
        raise _refuse(
            f"{folder} 里没有音频：放入 .wav 片段和同名 .txt 文字稿，或一段长录音。",
            f"No audio in {folder}: put .wav clips with same-named .txt transcripts there, or one long recording.",
        )
    wavs = [p for p in files if p.suffix.lower() == ".wav"]
    if len(files) == 1 and not files[0].with_suffix(".txt").is_file():
        results = _long_recording(files[0], transcribe)
    elif len(wavs) != len(files):
        raise _refuse(
            "片段请用 .wav 格式（长录音可以是其他格式）。",
            "Clips must be .wav (a single long recording may be another format).",
        )
    else:
        results = _paired_clips(folder, wavs)
    clips = [r for r in results if isinstance(r, Clip)]
    rejected = [r for r in results if isinstance(r, Rejected)]
    total = sum(c.seconds for c in clips)
    if total > MAX_TOTAL_S:
        raise _refuse(
            f"数据共 {total / 3600:.1f} 小时，最多 {MAX_TOTAL_S / 3600:.0f} 小时。",
            f"{total / 3600:.1f} h of data; the limit is {MAX_TOTAL_S / 3600:.0f} h.",
        )
    bad = _mismatched(clips)
    if clips and len(bad) > MISMATCH_REFUSE_SHARE * len(clips):
        shown = ", ".join(c.name for c in bad[:5])
        raise _refuse(
            f"{len(bad)}/{len(clips)} 个片段的文字和音频长度对不上（如 {shown}）：文字稿和音频是不是配错了？",
            f"{len(bad)} of {len(clips)} clips have a transcript that cannot match their length (e.g. {shown}): "
            "are the transcripts paired with the right files?",
        )
    for c in bad:
        rejected.append(Rejected(c.name, "文字和音频长度对不上", "the transcript does not fit the clip's length"))
    clips = [c for c in clips if c not in bad]
    speech = sum(c.seconds for c in clips)
    if len(clips) < min_clips or speech < MIN_SPEECH_S:
        reasons = "; ".join(f"{r.name}: {r.en}" for r in rejected[:3])
        reasons_zh = "；".join(f"{r.name}：{r.zh}" for r in rejected[:3])
        raise _refuse(
            f"可用的片段只有 {len(clips)} 个、共 {speech:.0f} 秒；至少需要 {min_clips} 个、{MIN_SPEECH_S:.0f} 秒（10-30 分钟最好）。"
            + (f"被排除的：{reasons_zh}" if rejected else ""),
            f"Only {len(clips)} usable clips, {speech:.0f} s in all; at least {min_clips} clips and "
            f"{MIN_SPEECH_S:.0f} s are needed (10-30 minutes is best)." + (f" Left out: {reasons}" if rejected else ""),
        )
    return Dataset(clips=clips, rejected=rejected, reference=_pick_reference(clips, reference))


def _pick_reference(clips: list[Clip], name: str | None) -> Clip:
    if name:
        for c in clips:
            if c.name == name or Path(c.name).stem == name:
                return c
        raise _refuse(
            f"参考片段 {name} 不在可用的片段里。", f"The reference clip {name} is not among the usable clips."
        )
    ideal = [c for c in clips if 3.0 <= c.seconds <= 10.0] or clips
    return max(ideal, key=lambda c: c.snr_db)


def extract_codes(tokenizer, clips: list[Clip], cache_path, progress=None) -> list:
    """The 12 Hz codes ``[frames, 16]`` of each clip by the checkpoint's own speech tokenizer, cached by content."""
    from ..backend import torch

    torch = torch()
    cache_path = Path(cache_path)
    cache = torch.load(cache_path, map_location="cpu", weights_only=True) if cache_path.is_file() else {}
    out = []
    for i, clip in enumerate(clips):
        key = clip.key()
        if key not in cache:
            encoded = tokenizer.encode(clip.audio.samples, sr=clip.audio.sr)
            cache[key] = encoded.audio_codes[0].to("cpu", torch.long)
        out.append(cache[key])
        if progress is not None:
            progress(None, f"codes {i + 1}/{len(clips)}")
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(cache, cache_path)
    return out
