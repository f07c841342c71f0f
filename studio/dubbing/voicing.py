"""Which voice reads a line, which model speaks it, and the content hash that says when a take is still current."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import InputError, NotFoundError
from ..registry import SPEAKERS
from .project import Line, Project, VoiceChoice, line_label, parse_voice

KIND_MODEL = {"saved": "base", "preset": "custom_voice", "design": "voice_design"}


def library_or_default(library):
    """``library``, or the studio's voice library when None."""
    if library is None:
        from ..voices import VoiceLibrary

        library = VoiceLibrary()
    return library


def _preset_name(name: str) -> str | None:
    return next((n for n, _, _ in SPEAKERS if n.lower() == name.strip().lower()), None)


def resolve_voice(project: Project, index: int, library=None) -> VoiceChoice:
    """The voice line ``index`` is read with; an unknown speaker raises :class:`NotFoundError` naming the line."""
    line = project.lines[index]
    zh, en = line_label(index, line)
    label = line.speaker
    if label in project.voices:
        spec = project.voices[label]
    elif label and _known_name(label, library):
        spec = label
    elif project.settings.default_voice:
        spec = project.settings.default_voice
    elif label:
        raise NotFoundError(
            zh=f"{zh}：不认识的说话人 “{label}”。请把它对应到已保存的声音、预设音色或设计的声音。",
            en=f"{en}: unknown speaker '{label}'. Map it to a saved voice, a preset speaker or a designed voice.",
        )
    else:
        raise NotFoundError(
            zh=f"{zh}没有指定说话人，也没有默认声音。请在“角色 → 声音”里设置。",
            en=f"{en} has no speaker and there is no default voice. Map it under 'speaker -> voice'.",
        )
    try:
        voice = parse_voice(spec)
    except InputError as exc:
        raise InputError(zh=f"{zh}：{exc.zh}", en=f"{en}: {exc.en}") from exc
    if voice.kind == "":
        if library_or_default(library).exists(voice.name):
            voice.kind = "saved"
        elif _preset_name(voice.name):
            voice.kind, voice.name = "preset", _preset_name(voice.name)
        else:
            raise NotFoundError(
                zh=f"{zh}：不认识的说话人 “{voice.name}”。请把它对应到已保存的声音、预设音色或设计的声音。",
                en=f"{en}: unknown speaker '{voice.name}'. Map it to a saved voice, a preset speaker or a designed voice.",
            )
    elif voice.kind == "saved" and not library_or_default(library).exists(voice.name):
        raise NotFoundError(
            zh=f"{zh}：声音库里没有 “{voice.name}”。", en=f"{en}: there is no saved voice called '{voice.name}'."
        )
    elif voice.kind == "preset":
        if not _preset_name(voice.name):
            raise NotFoundError(
                zh=f"{zh}：没有名为 “{voice.name}” 的预设音色。", en=f"{en}: no preset speaker called '{voice.name}'."
            )
        voice.name = _preset_name(voice.name)
    return voice


def _known_name(name: str, library) -> bool:
    return _preset_name(name) is not None or library_or_default(library).exists(name)


def saved_clip(voice: VoiceChoice, line: Line, library) -> tuple[Path, str]:
    """The reference file and transcript of a saved voice; an emotion picks the clip tagged with it."""
    saved = library_or_default(library).get(voice.name)
    tag = voice.tag or None
    if tag is None and line.emotion and any(c.tag.lower() == line.emotion.lower() for c in saved.clips):
        tag = line.emotion
    clip = saved.clip(tag)
    return saved.path / clip.file, clip.transcript or saved.transcript


def model_for(project: Project, voice: VoiceChoice, engine) -> str:
    """The model id or folder that reads ``voice`` (the project's setting, else the studio default)."""
    kind = KIND_MODEL[voice.kind]
    chosen = {"base": project.settings.model_base, "custom_voice": project.settings.model_custom}.get(
        kind, project.settings.model_design
    )
    return chosen or engine.manager.default_model(kind)


def spoken_text(line: Line) -> str:
    """The line's text as generated: its words, then its ``pause_after`` as a pause tag."""
    from ..text.pauses import pause_tag

    return f"{line.text}{pause_tag(line.pause_after)}" if line.pause_after else line.text


def line_hash(project: Project, index: int, voice: VoiceChoice, engine, library=None) -> str:
    """Content hash of everything that shapes line ``index``'s audio (timing and slots excluded)."""
    line, settings = project.lines[index], project.settings
    parts: dict = {
        "text": spoken_text(line),
        "voice": [voice.kind, voice.name, voice.tag, voice.description],
        "emotion": [line.emotion, line.intensity] if line.emotion else None,
        "language": settings.language,
        "model": model_for(project, voice, engine),
        "seed": settings.seed,
        "max_new_tokens": settings.max_new_tokens,
        "loudness": settings.loudness,
    }
    remote = getattr(engine, "remote", None)
    if remote is not None:  # another machine's model: its takes are not the local model's
        parts["remote"] = remote.url
    if voice.kind == "saved":
        path, transcript = saved_clip(voice, line, library)
        parts["clip"] = [hashlib.sha1(path.read_bytes()).hexdigest(), transcript]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]
