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

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import soundfile as sf

from .. import atomic
from ..errors import Cancelled, InputError, StudioError, writing
from ..finetune.library import trained_by_name
from ..progress import CancelToken, Eta, ProgressFn, Status, no_progress
from . import listening
from .lock import project_lock
from .project import Line, Project, VoiceChoice, line_label
from .take_files import read_take, take_path, take_rate  # noqa: F401  (re-exported)
from .voicing import KIND_MODEL, library_or_default, line_hash, model_for, resolve_voice, saved_clip, spoken_text

__all__ = [
    "LineResult",
    "RunReport",
    "line_hash",
    "model_for",
    "project_lock",
    "resolve_voice",
    "run_project",
    "spoken_text",
]


@dataclass
class LineResult:
    """What a run did with one line."""

    line_id: str
    index: int
    #: generated | reused | locked | failed | skipped; "running" and "flagged" (a target the text can never
    #: meet, found before generating) are only passed to ``on_line``
    status: str
    seconds: float = 0.0
    message_zh: str = ""
    message_en: str = ""
    check: dict | None = None  #: what the recogniser heard in the chosen take (when takes are checked)

    def message(self, lang: str = "zh") -> str:
        """The failure message in ``lang``."""
        return self.message_zh if lang.startswith("zh") else self.message_en


@dataclass
class RunReport:
    """The outcome of :func:`run_project`."""

    results: list[LineResult] = field(default_factory=list)
    wall_s: float = 0.0
    flagged: list[LineResult] = field(default_factory=list)  #: lines whose slot the text can never fit

    def count(self, status: str) -> int:
        """How many lines ended with ``status``."""
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[LineResult]:
        """Lines that could not be generated, with their messages."""
        return [r for r in self.results if r.status == "failed"]


# -- takes ------------------------------------------------------------------------------------------


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
    with writing(folder), atomic.replacing(folder / name, suffix=".wav") as tmp:
        sf.write(str(tmp), result.samples, result.sr, subtype="FLOAT")
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    from .project import Take

    line.takes.append(Take(f"takes/{line.id}/{name}", digest, result.seconds, result.seed, result.model, created))
    line.chosen = len(line.takes) - 1
    project.save()


# -- running ----------------------------------------------------------------------------------------


def _generate(engine, project: Project, index: int, voice: VoiceChoice, library, progress, cancel):
    from ..engine import Delivery
    from ..synthesis import Sampling
    from ..text import prepare_text

    line, settings = project.lines[index], project.settings
    text = prepare_text(spoken_text(line)).model_text
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
        trained = trained_by_name(library_or_default(library), voice.name)
        if trained is not None:  # a trained voice speaks with its own checkpoint
            return engine.custom(text, trained.speaker, **{**common, "model": trained.model})
        reference, transcript = saved_clip(voice, line, library)
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
    job: str = "",
    checker: Callable | str | None = "auto",
) -> RunReport:
    """Generate the project's lines (or the ids in ``only``); ``force`` makes a new take even when up to date.

    A line that cannot be generated (unknown speaker, empty text, ...) is
    reported in the result, naming the line, and the others still run.
    Unexpected errors and :class:`Cancelled` stop the run; what was made is saved.
    ``on_line`` hears about each line as it happens: a "running" result when its
    generation starts, then its final result (after its take is saved); before
    any generation, a "flagged" result for each line whose slot or target length
    its text can never fit (it is still generated; the track cuts it and says so).
    ``job`` names the run in the project's marker (see :mod:`.lock`).
    ``checker`` (``check(samples, sr, text)``, see :mod:`.listening`; "auto" from the project's
    ``check_takes``) hears each take; a take that is still wrong gets up to ``retakes`` new ones and the
    best (check score first, length fit second) is chosen; the results carry the check.
    """
    started = time.perf_counter()
    report = RunReport()

    def record(result: LineResult) -> None:
        report.results.append(result)
        if on_line is not None:
            on_line(result)

    library = library_or_default(library)
    if checker == "auto":
        checker = listening.take_checker(project)
    wanted = set(only) if only is not None else None
    with project_lock(project, job, force) as marker:
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
            warning = unreachable_target(i, line)
            if warning is not None:
                report.flagged.append(warning)
                if on_line is not None:
                    on_line(warning)
        first = _loaded_kind(engine)
        jobs.sort(key=lambda job: (KIND_MODEL[job[2].kind] != first, KIND_MODEL[job[2].kind]))
        eta = Eta()
        marker.start([job[1].id for job in jobs])
        for k, (i, line, voice, digest) in enumerate(jobs):
            if cancel is not None:
                cancel.check()
            reused = _reuse(project, line, digest, force)
            if reused:
                if checker is not None and line.take is not None and line.take.check is None:
                    listening.check_take(checker, project, line)
                    project.save()
                take = line.take
                record(LineResult(line.id, i, reused, take.seconds if take else 0.0, check=take and take.check))
                marker.finished(line.id)
                continue
            marker.at(k + 1, i + 1)
            where = Status(line=k + 1, lines=len(jobs))

            def line_progress(fraction, message, k=k, where=where):
                overall = (k + (fraction or 0.0)) / len(jobs)
                status = message if isinstance(message, Status) else Status()
                progress(overall, status.with_(line=where.line, lines=where.lines, eta_s=eta.left(overall)))

            progress(k / len(jobs), where.with_(eta_s=eta.left(k / len(jobs))))
            if on_line is not None:
                on_line(LineResult(line.id, i, "running"))
            tries = 1 + (project.settings.retakes if checker is not None else 0)
            made, error = 0, None
            for _ in range(tries):
                try:
                    result = _generate(engine, project, i, voice, library, line_progress, cancel)
                except Cancelled:
                    raise
                except StudioError as exc:  # a failed retake keeps the takes already made
                    error = exc
                    break
                _save_take(project, line, digest, result)
                made += 1
                if checker is None or not listening.is_wrong(listening.check_take(checker, project, line)):
                    break
            if not made:
                record(_failed(i, line, error))
                marker.finished(line.id)
                continue
            if checker is not None:
                listening.choose_best(line, digest)
            project.save()
            marker.finished(line.id)
            record(LineResult(line.id, i, "generated", line.take.seconds, check=line.take.check))
        progress(1.0, Status("done"))
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


def unreachable_target(index: int, line: Line) -> LineResult | None:
    """A "flagged" result when the line's slot (or target length) is one its text can never fit, else None."""
    from ..text import prepare_text
    from ..timing import text_length_range

    target = line.end - line.start if line.timed else line.duration
    if target is None:
        return None
    low, high = text_length_range(prepare_text(line.text).model_text)
    if low <= target <= high:
        return None
    zh, en = line_label(index, line)
    if target < low:
        return LineResult(
            line.id,
            index,
            "flagged",
            0.0,
            f"{zh}：{target:.2f} 秒读不完这段文字（至少约 {low:.2f} 秒），会被截断。请缩短文字或加长时段。",
            f"{en}: {target:.2f} s is too short for its text (at least about {low:.2f} s); it will be cut. "
            "Shorten the text or lengthen the slot.",
        )
    return LineResult(
        line.id,
        index,
        "flagged",
        0.0,
        f"{zh}：这段文字读不满 {target:.2f} 秒（最多约 {high:.0f} 秒），其余是静音。请加长文字或缩短时段。",
        f"{en}: its text cannot fill {target:.2f} s (at most about {high:.0f} s); the rest will be silence. "
        "Lengthen the text or shorten the slot.",
    )


def _failed(index: int, line: Line, exc: StudioError) -> LineResult:
    zh, en = line_label(index, line)
    message_zh = exc.zh if exc.zh.startswith(zh) else f"{zh}：{exc.zh}"
    message_en = exc.en if exc.en.startswith(en) else f"{en}: {exc.en}"
    return LineResult(line.id, index, "failed", 0.0, message_zh, message_en)


def set_locked(project: Project, line_id: str, locked: bool) -> None:
    """Lock or unlock a line, and save."""
    project.lines[project.index_of(line_id)].locked = bool(locked)
    project.save()
