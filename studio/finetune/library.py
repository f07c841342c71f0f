"""A trained voice in the voice library: it speaks with its own checkpoint wherever a saved voice is used.

A trained voice is an ordinary library voice (its reference clip, transcript,
consent record, tags, aliases) with one more file in its folder,
``trained.json``: the CustomVoice checkpoint folder, the speaker's name in it,
and the training report. Every path that clones from a saved voice (the Clone
tab, ``clone --voice``, the HTTP dialects, dubbing) asks :func:`trained_voice`
first and, for a trained one, speaks through that checkpoint's own speaker
(``generate_custom_voice``) instead of zero-shot cloning its clip. A voice
whose checkpoint folder has gone falls back to cloning its clip.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..adapters import is_adapter
from ..errors import ConflictError, InputError

TRAINED_FILE = "trained.json"
REPORT_FILE = "training-report.json"
#: What the training job leaves in ``OUT/training`` for the library: the reference clip and its words.
REFERENCE_WAV = "reference.wav"
REFERENCE_TXT = "reference.txt"


@dataclass(frozen=True)
class TrainedVoice:
    """The checkpoint a trained voice speaks with."""

    model: str  #: the CustomVoice checkpoint folder
    speaker: str  #: the speaker's name in it (lower case, as qwen-tts looks it up)
    report: dict


def trained_voice(voice) -> TrainedVoice | None:
    """The trained checkpoint of a library ``voice`` (:class:`studio.voices.Voice`), or None for a cloned one."""
    path = Path(voice.path) / TRAINED_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        model, speaker = str(data["model"]), str(data["speaker"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (Path(model) / "config.json").is_file() and not is_adapter(model):
        return None  # the checkpoint was moved or deleted: the voice still clones from its clip
    report = {}
    report_path = Path(voice.path) / REPORT_FILE
    if report_path.is_file():
        try:
            report = json.loads(report_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            report = {}
    return TrainedVoice(model=model, speaker=speaker, report=report)


def trained_by_name(library, name: str | None) -> TrainedVoice | None:
    """The trained checkpoint of the saved voice called ``name`` (None when there is no such trained voice)."""
    if not name or not library.exists(name):
        return None
    return trained_voice(library.get(name))


def trained_voices(library) -> list[tuple[str, TrainedVoice]]:
    """(voice name, checkpoint) of every trained voice in ``library``."""
    found = []
    for voice in library.list():
        trained = trained_voice(voice)
        if trained is not None:
            found.append((voice.name, trained))
    return found


def check_name_free(library, name: str, out: Path) -> None:
    """Refuse, before training, a voice name the library cannot take or already uses for another voice."""
    from ..voices import validate_name

    validate_name(name)
    if not library.exists(name):
        return
    existing = trained_voice(library.get(name))
    if existing is not None and Path(existing.model).resolve() == Path(out).resolve():
        return  # the same run again (a resume): its entry is updated
    raise ConflictError(
        zh=f"声音库里已经有名为“{name}”的声音。请换一个名字（--name），或先在“声音库”里删除或改名。",
        en=f"The voice library already has a voice called '{name}'. Choose another --name, or delete or rename "
        "that voice in the Voices tab first.",
    )


def require_consent(consent: bool) -> None:
    """Training makes a voice of someone: the same consent as saving a cloned voice."""
    if consent is not True:
        raise InputError(
            zh="训练前必须确认授权：只能训练你自己的声音，或已获得声音主人明确同意的声音（命令行加 --consent）。",
            en="Consent is required before training: only train your own voice, or a voice whose owner has "
            "explicitly agreed (command line: add --consent).",
        )


def add_trained_voice(library, out, name: str, speaker: str, report: dict, consent_by: str = ""):
    """Put the checkpoint in ``out`` into ``library`` as the voice ``name``; return the library's record.

    The voice's clip is the reference the speaker embedding came from (so the voice also clones zero-shot,
    and the A/B comparison has its reference). A voice of that name made by an earlier run of the same
    ``out`` is replaced.
    """
    out = Path(out).resolve()
    training = out / "training"
    transcript = (training / REFERENCE_TXT).read_text(encoding="utf-8").strip()
    if library.exists(name):
        check_name_free(library, name, out)
        library.delete(name)
    data = report.get("data", {})
    notes = (
        f"训练的声音 / trained voice: {data.get('clips', '?')} clips, {data.get('minutes', '?')} min, "
        f"epoch {report.get('exported_epoch', '?')} of {len(report.get('epochs', []))}"
    )
    voice = library.create(
        name,
        training / REFERENCE_WAV,
        transcript=transcript,
        tags=("trained",),
        consent=True,
        notes=notes,
        source=f"fine-tuned checkpoint {out.name}",
        consent_by=consent_by,
    )
    record = {"model": str(out), "speaker": speaker, "base": report.get("base", "")}
    tmp = voice.path / f".{TRAINED_FILE}.part"
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(voice.path / TRAINED_FILE)
    shutil.copyfile(training / "report.json", voice.path / REPORT_FILE)
    return library.get(name)


def trained_choices() -> list[tuple[str, str, str]]:
    """(voice name, checkpoint folder, speaker) of the studio library's trained voices, for model/speaker lists.

    Empty on a Space (each visitor has a library of their own) and when the library cannot be read.
    """
    from .. import space_mode as space

    if space.enabled():
        return []
    from ..errors import StudioError
    from ..voices import VoiceLibrary

    try:
        return [(name, trained.model, trained.speaker) for name, trained in trained_voices(VoiceLibrary())]
    except (OSError, StudioError):
        return []
