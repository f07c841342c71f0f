"""Generate a project's lines: resumable, cancellable, never redoing unchanged work.

Each line's take is keyed by a content hash of its text, its resolved voice
(the reference clip's bytes and transcript for a saved voice) and every
setting that changes the audio. A line whose chosen take has the current
hash is reused, as is an older take with that hash. Each take is written,
then ``project.json`` is saved, before the next line starts: a crash or a
closed app loses at most the line in progress, and the next run resumes.
Lines are generated grouped by model kind, so each model loads once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import BusyError, Cancelled, InputError, NotFoundError, StudioError, writing
from ..progress import CancelToken, ProgressFn, no_progress
from ..registry import SPEAKERS
from .project import Line, Project, VoiceChoice, line_label, parse_voice

_KIND_MODEL = {"saved": "base", "preset": "custom_voice", "design": "voice_design"}


@dataclass
class LineResult:
    """What a run did with one line."""

    line_id: str
    index: int
    status: str  #: generated | reused | locked | failed | skipped (and "running", only passed to ``on_line``)
    seconds: float = 0.0
    message_zh: str = ""
    message_en: str = ""

    def message(self, lang: str = "zh") -> str:
        """The failure message in ``lang``."""
        return self.message_zh if lang.startswith("zh") else self.message_en


@dataclass
class RunReport:
    """The outcome of :func:`run_project`."""

    results: list[LineResult] = field(default_factory=list)
    wall_s: float = 0.0

    def count(self, status: str) -> int:
        """How many lines ended with ``status``."""
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[LineResult]:
        """Lines that could not be generated, with their messages."""
        return [r for r in self.results if r.status == "failed"]


# -- voices and hashes ------------------------------------------------------------------------------


def _library(library):
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
        if _library(library).exists(voice.name):
            voice.kind = "saved"
        elif _preset_name(voice.name):
            voice.kind, voice.name = "preset", _preset_name(voice.name)
        else:
            raise NotFoundError(
                zh=f"{zh}：不认识的说话人 “{voice.name}”。请把它对应到已保存的声音、预设音色或设计的声音。",
                en=f"{en}: unknown speaker '{voice.name}'. Map it to a saved voice, a preset speaker or a designed voice.",
            )
    elif voice.kind == "saved" and not _library(library).exists(voice.name):
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
    return _preset_name(name) is not None or _library(library).exists(name)


def _saved_clip(voice: VoiceChoice, line: Line, library) -> tuple[Path, str]:
    """The reference file and transcript of a saved voice; an emotion picks the clip tagged with it."""
    saved = _library(library).get(voice.name)
    tag = voice.tag or None
    if tag is None and line.emotion and any(c.tag.lower() == line.emotion.lower() for c in saved.clips):
        tag = line.emotion
    clip = saved.clip(tag)
    return saved.path / clip.file, clip.transcript or saved.transcript


def model_for(project: Project, voice: VoiceChoice, engine) -> str:
    """The model id or folder that reads ``voice`` (the project's setting, else the studio default)."""
    kind = _KIND_MODEL[voice.kind]
    chosen = {"base": project.settings.model_base, "custom_voice": project.settings.model_custom}.get(
        kind, project.settings.model_design
    )
    return chosen or engine.manager.default_model(kind)


def line_hash(project: Project, index: int, voice: VoiceChoice, engine, library=None) -> str:
    """Content hash of everything that shapes line ``index``'s audio (timing and slots excluded)."""
    line, settings = project.lines[index], project.settings
    parts: dict = {
        "text": line.text,
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
        path, transcript = _saved_clip(voice, line, library)
        parts["clip"] = [hashlib.sha1(path.read_bytes()).hexdigest(), transcript]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


# -- takes ------------------------------------------------------------------------------------------


def take_path(project: Project, line: Line, index: int | None = None) -> Path | None:
    """The file of the line's chosen take (or take ``index``)."""
    takes = line.takes
    chosen = line.chosen if index is None else index
    if project.folder is None or not 0 <= chosen < len(takes):
        return None
    path = project.folder / takes[chosen].file
    takes_root = (project.folder / "takes").resolve()
    if path.is_symlink() or not path.resolve().is_relative_to(takes_root):
        return None  # a take is only ever a file the runner wrote under takes/
    return path


def read_take(project: Project, line: Line, index: int | None = None) -> np.ndarray | None:
    """The samples of the line's chosen take (or take ``index``), or None when there is none on disk."""
    path = take_path(project, line, index)
    if path is None or not path.is_file():
        return None
    samples, _ = sf.read(str(path), dtype="float32")
    return samples


def take_rate(project: Project) -> int:
    """The sample rate of the project's takes (that of the first on disk; 24 kHz otherwise)."""
    for line in project.lines:
        path = take_path(project, line)
        if path is not None and path.is_file():
            return sf.info(str(path)).samplerate
    return 24_000


def load_takes(project: Project) -> dict[str, np.ndarray]:
    """Every line's chosen take that exists on disk, by line id."""
    audio = {}
    for line in project.lines:
        samples = read_take(project, line)
        if samples is not None:
            audio[line.id] = samples
    return audio


def choose_take(project: Project, line_id: str, take: int) -> None:
    """Make take ``take`` (0-based) the line's chosen one, and save."""
    line = project.lines[project.index_of(line_id)]
    if not 0 <= take < len(line.takes):
        raise InputError(
            zh=f"这一行只有 {len(line.takes)} 个版本，没有第 {take + 1} 个。",
            en=f"This line has {len(line.takes)} takes; there is no take {take + 1}.",
        )
    line.chosen = take
    project.save()


def _save_take(project: Project, line: Line, digest: str, result) -> None:
    folder = project.folder / "takes" / line.id
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{digest[:12]}-{len(line.takes) + 1}.wav"
    tmp = folder / f".{uuid.uuid4().hex[:6]}.part.wav"
    try:
        with writing(folder):
            sf.write(str(tmp), result.samples, result.sr, subtype="FLOAT")
            os.replace(tmp, folder / name)
    finally:
        tmp.unlink(missing_ok=True)
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    from .project import Take

    line.takes.append(Take(f"takes/{line.id}/{name}", digest, result.seconds, result.seed, result.model, created))
    line.chosen = len(line.takes) - 1
    project.save()


@contextlib.contextmanager
def project_lock(project: Project) -> Iterator[None]:
    """Hold the project folder's lock for a run; a second run meanwhile gets :class:`BusyError`."""
    from filelock import FileLock, Timeout

    if project.folder is None:
        raise InputError(zh="请先保存项目（指定文件夹）再生成。", en="Save the project to a folder before generating.")
    project.folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(project.folder / ".lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout as exc:
        raise BusyError(
            zh="这个项目正在另一个窗口或命令里生成，请等它结束。",
            en="This project is being generated in another window or command; wait for it to finish.",
        ) from exc
    try:
        yield
    finally:
        lock.release()


# -- running ----------------------------------------------------------------------------------------


def _generate(engine, project: Project, index: int, voice: VoiceChoice, library, progress, cancel):
    from ..engine import Delivery
    from ..synthesis import Sampling
    from ..text import prepare_text

    line, settings = project.lines[index], project.settings
    text = prepare_text(line.text).model_text
    common = {
        "language": settings.language,
        "model": model_for(project, voice, engine),
        "seed": None if settings.seed is None else settings.seed + len(line.takes),
        "sampling": Sampling(max_new_tokens=settings.max_new_tokens) if settings.max_new_tokens else None,
        "progress": progress,
        "cancel": cancel,
        "delivery": Delivery(loudness=settings.loudness),
    }
    emotion = {"emotion": line.emotion or None, "intensity": line.intensity}
    if voice.kind == "saved":
        reference, transcript = _saved_clip(voice, line, library)
        return engine.clone(text, reference, transcript, x_vector_only=not transcript, **common)
    if voice.kind == "preset":
        return engine.custom(text, voice.name, **common, **emotion)
    return engine.design(text, voice.description, **common, **emotion)


def _loaded_kind(engine) -> str:
    loaded = getattr(engine.manager, "loaded", None)
    return getattr(getattr(loaded, "info", None), "kind", "")


def run_project(
    project: Project,
    engine,
    library=None,
    *,
    only: list[str] | None = None,
    force: bool = False,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    on_line: Callable[[LineResult], None] | None = None,
) -> RunReport:
    """Generate the project's lines (or the ids in ``only``); ``force`` makes a new take even when up to date.

    A line that cannot be generated (unknown speaker, empty text, ...) is
    reported in the result, naming the line, and the others still run.
    Unexpected errors and :class:`Cancelled` stop the run; what was made is saved.
    ``on_line`` hears about each line as it happens: a "running" result when its
    generation starts, then its final result (after its take is saved).
    """
    started = time.perf_counter()
    report = RunReport()

    def record(result: LineResult) -> None:
        report.results.append(result)
        if on_line is not None:
            on_line(result)

    library = _library(library)
    wanted = set(only) if only is not None else None
    with project_lock(project):
        jobs = []
        for i, line in enumerate(project.lines):
            if wanted is not None and line.id not in wanted:
                continue
            try:
                if not line.text.strip():
                    zh, en = line_label(i, line)
                    raise InputError(zh=f"{zh}是空的：请填写台词。", en=f"{en} is empty: type its text.")
                voice = resolve_voice(project, i, library)
                digest = line_hash(project, i, voice, engine, library)
            except StudioError as exc:
                record(_failed(i, line, exc))
                continue
            jobs.append((i, line, voice, digest))
        first = _loaded_kind(engine)
        jobs.sort(key=lambda job: (_KIND_MODEL[job[2].kind] != first, _KIND_MODEL[job[2].kind]))
        done_s: list[float] = []
        for k, (i, line, voice, digest) in enumerate(jobs):
            if cancel is not None:
                cancel.check()
            reused = _reuse(project, line, digest, force)
            if reused:
                record(LineResult(line.id, i, reused, line.take.seconds if line.take else 0.0))
                continue
            line_started = time.perf_counter()
            label = f"{k + 1}/{len(jobs)} {line.scene or line.id}"
            eta = f" · ~{np.mean(done_s) * (len(jobs) - k):.0f} s left" if done_s else ""

            def line_progress(fraction, message, k=k, label=label, eta=eta):
                overall = (k + (fraction or 0.0)) / len(jobs)
                progress(overall, f"{label}{eta} · {message}")

            progress(k / len(jobs), f"{label}{eta}")
            if on_line is not None:
                on_line(LineResult(line.id, i, "running"))
            try:
                result = _generate(engine, project, i, voice, library, line_progress, cancel)
            except Cancelled:
                raise
            except StudioError as exc:
                record(_failed(i, line, exc))
                continue
            _save_take(project, line, digest, result)
            done_s.append(time.perf_counter() - line_started)
            record(LineResult(line.id, i, "generated", result.seconds))
        progress(1.0, "done")
    report.results.sort(key=lambda r: r.index)
    report.wall_s = time.perf_counter() - started
    return report


def _reuse(project: Project, line: Line, digest: str, force: bool) -> str:
    """'reused' / 'locked' when the line needs no new take (picking an older take with ``digest``), else ''."""
    if line.locked and line.take is not None:
        return "locked"
    if force:
        return ""
    for n in [line.chosen, *range(len(line.takes) - 1, -1, -1)]:
        if 0 <= n < len(line.takes) and line.takes[n].hash == digest:
            path = take_path(project, line, n)
            if path is not None and path.is_file():
                if line.chosen != n:
                    line.chosen = n
                    project.save()
                return "reused"
    return ""


def _failed(index: int, line: Line, exc: StudioError) -> LineResult:
    zh, en = line_label(index, line)
    message_zh = exc.zh if exc.zh.startswith(zh) else f"{zh}：{exc.zh}"
    message_en = exc.en if exc.en.startswith(en) else f"{en}: {exc.en}"
    return LineResult(line.id, index, "failed", 0.0, message_zh, message_en)


def set_locked(project: Project, line_id: str, locked: bool) -> None:
    """Lock or unlock a line, and save."""
    project.lines[project.index_of(line_id)].locked = bool(locked)
    project.save()
