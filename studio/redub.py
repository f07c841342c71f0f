"""Re-dub a video: its speech becomes a dubbing project whose lines carry the original times and text.

Stages, each cached in the project folder so a cancelled or crashed run resumes:

1. check the video (readable, has sound, not longer than :data:`MAX_SECONDS`) and
   extract its sound as 16 kHz mono (``redub/audio.wav``);
2. transcribe it with sentence and word times (``redub/transcript.json``; while it
   runs, ``redub/transcript.partial.json`` keeps the sentences done so far and a
   resumed run starts after the last one);
   With a separator (``keep_background``), the sound is also split into
   ``redub/voice.wav`` and ``redub/background.wav`` (:mod:`studio.redub_stems`);
   then the separated voice is what is heard (as 16 kHz mono, ``redub/voice16k.wav``:
   music and effects under the speech no longer reach the recogniser), and
   ``clone_voice`` saves the cleanest window of the (separated) voice as a voice;
3. write ``project.json``: one line per sentence with its start, end and text, in
   the format the Dubbing tab and ``python -m studio dub`` open. A project that
   already exists is never overwritten, so the creator's edits survive a rerun.

Every refusal (no sound, damaged file, too long, unsupported language, nothing
heard) happens before anything is written, or removes what this run wrote.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import recogniser
from .dubbing.project import PROJECT_FILE, DubSettings, Line, Project, parse_voice, write_text_atomic
from .errors import InputError, StorageError
from .progress import CancelToken, ProgressFn, Status, no_progress
from .recogniser import Segment, Transcript
from .redub_stems import ClonedVoice, clone_from_video, consent_error, separate_video
from .separator import Separation
from .video_sound import CODE_TO_LANGUAGE, check_video, extract_audio

WORK_DIR = "redub"
_SAVE_EVERY = 5  #: sentences between saves of the partial transcript


@dataclass
class RedubResult:
    """What :func:`create_project` made."""

    project: Project
    transcript: Transcript
    created: bool  #: False when an existing project was kept as it was
    resumed: bool  #: the transcript (or part of it) came from an earlier run
    separation: Separation | None = None  #: the voice and background stems, when separated
    cloned: ClonedVoice | None = None  #: the voice cloned from the video, when asked


def _source_key(video: Path, language: str | None, model: Path, vad: bool) -> dict:
    stat = video.stat()
    return {
        "video": video.name,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "language": language,
        "model": str(model),
        "vad": vad,
    }


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _shift(segment: Segment, offset: float) -> Segment:
    words = tuple(recogniser.Word(w.start + offset, w.end + offset, w.text, w.probability) for w in segment.words)
    return Segment(round(segment.start + offset, 3), round(segment.end + offset, 3), segment.text, words)


def transcribe_cached(
    work: Path,
    audio_path: Path,
    key: dict,
    model: Path,
    language: str | None,
    vad: bool,
    progress: ProgressFn,
    cancel: CancelToken | None,
) -> tuple[Transcript, bool]:
    """The transcript of ``audio_path``: cached, resumed from a partial one, or made now; (transcript, resumed)."""
    import soundfile as sf

    final, partial = work / "transcript.json", work / "transcript.partial.json"
    cached = _read_json(final)
    if cached is not None and cached.get("source") == key:
        return Transcript.from_dict(cached["transcript"]), True
    audio, rate = sf.read(audio_path, dtype="float32")
    if rate != recogniser.SAMPLE_RATE or audio.ndim != 1:
        raise StorageError(
            zh="缓存的声音文件格式不对，请删除 redub 文件夹后重试。",
            en="The cached sound is malformed; delete the redub folder and retry.",
        )
    duration = len(audio) / rate
    done: list[Segment] = []
    earlier = _read_json(partial)
    if earlier is not None and earlier.get("source") == key:
        done = list(Transcript.from_dict(earlier["transcript"]).segments)
    offset = done[-1].end if done else 0.0
    detected = (earlier or {}).get("transcript", {}).get("language") if done else None

    def save_partial() -> None:
        data = {"source": key, "transcript": Transcript(detected or "", duration, tuple(done)).to_dict()}
        write_text_atomic(partial, json.dumps(data, ensure_ascii=False))

    def keep(segment: Segment) -> None:
        done.append(_shift(segment, offset))
        if len(done) % _SAVE_EVERY == 0:
            save_partial()

    resumed = bool(done)
    rest = audio[int(offset * rate) :]
    if len(rest) >= rate // 2:  # under half a second left: nothing more to hear

        def report(fraction: float | None, message: str) -> None:
            if fraction is not None and duration:
                fraction = (offset + fraction * (duration - offset)) / duration
            if isinstance(message, Status) and message.of_s:  # times in the whole recording, not the rest
                message = message.with_(at_s=offset + message.at_s, of_s=duration)
            progress(fraction, message)

        try:
            tail = recogniser.get(model).transcribe(
                rest, detected or language, progress=report, cancel=cancel, vad=vad, on_segment=keep
            )
        except BaseException:  # cancelled, Ctrl-C or failed: keep what was heard for the next run
            if done:
                save_partial()
            raise
        detected = detected or tail.language
    result = Transcript(detected or language or "", duration, tuple(done))
    write_text_atomic(final, json.dumps({"source": key, "transcript": result.to_dict()}, ensure_ascii=False))
    partial.unlink(missing_ok=True)
    return result, resumed


def project_from_transcript(transcript: Transcript, name: str, voice: str | None) -> Project:
    """A dubbing project with one timed line per recognised sentence (speaker left for the creator)."""
    lines = [
        Line(id=f"l{i + 1:03d}", text=segment.text, start=segment.start, end=segment.end)
        for i, segment in enumerate(s for s in transcript.segments if s.text.strip() and s.end > s.start)
    ]
    settings = DubSettings(language=CODE_TO_LANGUAGE.get(transcript.language, "Auto"))
    if voice:
        parse_voice(voice)
        settings.default_voice = voice
    return Project(name=name, lines=lines, settings=settings)


def create_project(
    video: str | Path,
    folder: str | Path,
    language: str | None = None,
    voice: str | None = None,
    model: str | None = None,
    vad: bool = True,
    endpoint: str | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    separator_model: str | None = None,
    keep_background: bool = False,
    clone_voice: str | None = None,
    consent: bool = False,
    library=None,
    speakers=None,
) -> RedubResult:
    """Turn ``video`` into a dubbing project in ``folder`` (see the module docstring); resumes earlier runs.

    ``keep_background`` (or a ``separator_model``) separates voice and background; ``clone_voice`` names the
    voice cloned from the video (``consent`` must be True), which becomes the project's default voice.
    ``speakers`` (a function returning a :data:`studio.speakers.Embedder`, called only when the lines are
    made) labels each line with its speaker.
    """
    video, folder = Path(video), Path(folder)
    code = recogniser.language_code(language)
    if voice:
        parse_voice(voice)
    if clone_voice is not None:
        from .voices import validate_name

        if voice:
            raise InputError(
                zh="--voice 和 --clone-from-video 只能选一个。", en="Choose either --voice or --clone-from-video."
            )
        if consent is not True:
            raise consent_error()
        clone_voice = validate_name(clone_voice)
    check_video(video)
    model_dir = recogniser.resolve(model, endpoint=endpoint, progress=progress, cancel=cancel)
    separator_dir = None
    if keep_background or separator_model:
        from . import separator

        separator_dir = separator.resolve(separator_model, endpoint=endpoint, progress=progress, cancel=cancel)
    created = folder  # the outermost folder this run creates: removed again when the run is refused
    while not created.parent.exists():
        created = created.parent
    existed = folder.exists()
    work = folder / WORK_DIR
    key = _source_key(video, code, model_dir, vad)
    separation = cloned = None
    try:
        audio_path = work / "audio.wav"
        fresh = _read_json(work / "source.json") != key or not audio_path.is_file()
        if fresh:
            progress(0.0, Status("extracting"))
            extract_audio(video, audio_path)
            write_text_atomic(work / "source.json", json.dumps(key))
        heard, heard_key = audio_path, {**key, "heard": "mix"}
        if separator_dir is not None:
            separation = separate_video(video, work, separator_dir, fresh, progress, cancel)
            heard = work / "voice16k.wav"  # the separated voice, 16 kHz mono like audio.wav: what is transcribed
            if fresh or not heard.is_file() or heard.stat().st_mtime_ns < separation.voice.stat().st_mtime_ns:
                extract_audio(separation.voice, heard)
            heard_key = {**key, "heard": "voice", "separator": str(separator_dir)}
        transcript, resumed = transcribe_cached(work, heard, heard_key, model_dir, code, vad, progress, cancel)
        if separation is not None and not any(s.text.strip() and s.end > s.start for s in transcript.segments):
            # the separator left no speech in the voice: hear the original sound rather than refuse the video
            mix_key = {**key, "heard": "mix"}
            transcript, resumed = transcribe_cached(work, audio_path, mix_key, model_dir, code, vad, progress, cancel)
        exists = (folder / PROJECT_FILE).is_file()
        project = project_from_transcript(transcript, video.stem, voice)
        if not project.lines and not exists:
            raise InputError(
                zh=f"在 {video.name} 里没有听到说话，无法生成台词。",
                en=f"No speech was heard in {video.name}, so there are no lines to dub.",
            )
        if clone_voice is not None:  # after the refusals above: a refused run saves no voice
            heard = separation.voice if separation is not None else audio_path
            fallback = audio_path if separation is not None else None
            cloned = clone_from_video(video, heard, transcript, clone_voice, consent, library, fallback=fallback)
            project.settings.default_voice = cloned.name
    except InputError:
        if not existed:
            shutil.rmtree(created, ignore_errors=True)
        raise
    if exists:
        return RedubResult(Project.load(folder), transcript, False, True, separation, cloned)
    if speakers is not None:
        from .speakers import label_lines

        heard = separation.voice if separation is not None else work / "audio.wav"
        spans = [(line.start, line.end) for line in project.lines]
        for line, label in zip(
            project.lines, label_lines(spans, heard, speakers(), progress=progress, cancel=cancel), strict=True
        ):
            line.speaker = label
    project.save(folder)
    progress(1.0, Status("done"))
    return RedubResult(project, transcript, True, resumed, separation, cloned)
