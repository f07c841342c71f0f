"""Re-dub stages on the video's sound beyond the transcript: separation into voice and background, and
cloning the speaker's voice from the video.

Both work in the project's ``redub/`` folder and are cached there: ``mix.wav``
(the sound at the separator's rate), ``voice.wav`` and ``background.wav``
(see :mod:`studio.separator`), so a rerun continues where the last one stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import separator
from .errors import AudioError, InputError
from .progress import CancelToken, ProgressFn, Status, no_progress
from .recogniser import Transcript

CLONE_SOURCE = "video:"  #: the ``source`` a voice cloned from a video is saved with, then the video's name


def consent_error() -> InputError:
    """The refusal when ``--clone-from-video`` is asked without the consent confirmation."""
    return InputError(
        zh="从视频克隆声音前必须确认授权：只能克隆你自己的声音，或已获得声音主人明确同意的声音。确认后加上 --consent 再运行。",
        en="Cloning a voice from the video needs consent: only clone your own voice, or a voice whose owner has "
        "explicitly agreed. Confirm it by adding --consent.",
    )


def separate_video(
    video: Path,
    work: Path,
    model_dir: Path,
    fresh_sound: bool,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> separator.Separation:
    """Split ``video``'s sound into ``work/voice.wav`` and ``work/background.wav`` (cached; resumes by chunk).

    ``fresh_sound``: the video changed since the cached sound was made, so ``mix.wav`` is made again.
    """
    from .video_sound import extract_audio

    model = separator.get(model_dir)
    mix = work / "mix.wav"
    if fresh_sound or not mix.is_file():
        progress(0.0, Status("extracting"))
        extract_audio(video, mix, rate=model.samplerate, channels=model.channels)
    return model.separate_file(mix, work, progress, cancel)


@dataclass(frozen=True)
class ClonedVoice:
    """The voice :func:`clone_from_video` saved (or found from an earlier run)."""

    name: str
    span: tuple[float, float]  #: the window of the video it was cut from, seconds
    transcript: str
    report: object | None  #: the reference's :class:`studio.reference.QualityReport`; None when reused
    reused: bool
    used: str = "voice"  #: "voice": cut from ``voice_audio``; "original": from the fallback (no speech found)


def window_text(transcript: Transcript, span: tuple[float, float]) -> str:
    """What was said inside ``span``: the words whose middle lies in it (the sentences', without word times)."""
    start, end = span
    words = [w for s in transcript.segments for w in s.words if start <= (w.start + w.end) / 2 <= end]
    if words:
        return "".join(w.text for w in words).strip()
    return " ".join(s.text for s in transcript.segments if s.start < end and s.end > start).strip()


def clone_from_video(
    video: Path,
    voice_audio: Path,
    transcript: Transcript,
    name: str,
    consent: bool,
    library=None,
    fallback: Path | None = None,
) -> ClonedVoice:
    """Save the cleanest 3-10 s window of ``voice_audio`` as voice ``name`` (consent required).

    The window is picked by the Voices tab's reference chain (speech detection, quality report, best window,
    loudness); its transcript is the recognised words inside it. A voice of that name cloned from the same
    video earlier is reused; a different voice of that name is refused. When no speech is found in
    ``voice_audio`` (a separated voice), the window is taken from ``fallback`` (the original sound) instead.
    """
    from .reference import prepare_reference
    from .voices import VoiceLibrary

    if consent is not True:
        raise consent_error()
    lib = library if library is not None else VoiceLibrary()
    source = f"{CLONE_SOURCE}{video.name}"
    if lib.exists(name):
        voice = lib.get(name)
        if voice.source != source:
            raise InputError(
                zh=f"已经有名为“{name}”的声音。请用 --voice-name 换一个名字。",
                en=f"A voice called '{name}' exists already. Choose another name with --voice-name.",
            )
        return ClonedVoice(voice.name, (0.0, 0.0), voice.transcript, None, reused=True)
    used = "voice"
    try:
        prepared = prepare_reference(voice_audio)
    except AudioError:
        if fallback is None:
            raise
        # the separated voice can come out too thin for speech detection; the original sound still has it
        prepared, used = prepare_reference(fallback), "original"
    text = window_text(transcript, prepared.source_span)
    from .video_sound import CODE_TO_LANGUAGE

    language = CODE_TO_LANGUAGE.get(transcript.language, "auto")
    voice = lib.create(name, prepared, text, language=language, consent=True, source=source)
    return ClonedVoice(voice.name, prepared.source_span, text, prepared.report, reused=False, used=used)
