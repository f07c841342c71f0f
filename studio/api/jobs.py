"""Dubbing over HTTP: projects from scripts, generation jobs in the background, and their outputs.

A project lives in its own folder under the server's projects folder (the
Dubbing tab's ``outputs/dubbing/<name>``), so the UI and the CLI can open what
the API made and the other way round. A job runs
:func:`studio.dubbing.runner.run_project` on a single worker thread, one job at
a time, then assembles the track and writes the outputs (line files, track,
captions, zip) into ``<project>/outputs``. Each line's generation waits for its
turn in the same queue (:class:`~studio.api.app.Gate`) as the speech
endpoints, so a job and a ``/tts`` request never use the model at the same
time, and speech requests get in between a job's lines.

Cancelling sets the job's :class:`~studio.progress.CancelToken`: the model
stops at its next step, or the runner before the next line. Every finished
take is already saved with ``project.json``, so the project stays consistent
and the next job resumes it, reusing the finished lines. Jobs are kept in
memory (the last :data:`KEEP_FINISHED` finished ones); a project's files stay on disk.

What the Dubbing tab does to a project one line at a time is here too: edit a
line (text, speaker, emotion, timing; validated by
:func:`studio.dubbing.project.check_line`), lock it, choose one of its takes
(:func:`studio.dubbing.runner.choose_take`), listen to a take; change the
speaker-to-voice mapping and settings; delete a project; mux the track into an
uploaded video (:func:`studio.dubbing.mux.mux`). Each of these holds the project
(:meth:`JobRegistry.hold`): it is refused with 409 while a job is queued or runs
on the project, and no job starts on it until the change is done. An edit
changes the line's content hash when it changes its audio (text, voice,
emotion), so the next job regenerates that line only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from starlette.concurrency import run_in_threadpool

from ..errors import BusyError, Cancelled, ConflictError, InputError, NotFoundError, StudioError
from ..progress import CancelToken
from .app import context, parse_language
from .errors import ApiError, request_language

if TYPE_CHECKING:
    from ..dubbing.project import Project
    from ..dubbing.runner import LineResult
    from .app import ApiContext

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/dubbing", tags=["Dubbing"])

#: Finished jobs kept for status queries; older ones are forgotten (their files stay).
KEEP_FINISHED = 50
FINAL = ("done", "failed", "cancelled")
SCRIPT_FORMATS = ("txt", "csv", "tsv", "yaml", "json", "srt", "vtt")
_NAME = re.compile(r"\w[\w .\-]{0,79}")
_MEDIA = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".srt": "application/x-subrip",
    ".vtt": "text/vtt",
    ".json": "application/json",
    ".zip": "application/zip",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
}
#: Containers a muxed video keeps (they take the AAC dub); any other becomes .mkv.
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- projects on disk ------------------------------------------------------------------------------


def project_path(ctx: ApiContext, name: str) -> Path:
    """The folder of the project called ``name``: a plain name (letters, digits, space, ``.``, ``-``, ``_``)."""
    from ..dubbing.project import project_folder

    name = (name or "").strip()
    if not _NAME.fullmatch(name) or name.endswith("."):
        raise InputError(
            zh=f"项目名 “{name[:80]}” 无效：只能用文字、数字、空格、“.”、“-”、“_”（最多 80 个字符，不能以 “.” 开头或结尾），不能含路径分隔符。",
            en=f"Invalid project name '{name[:80]}': use letters, digits, spaces, '.', '-' and '_' (at most 80, not "
            "starting or ending with '.'), no path separators.",
            param="name",
        )
    return project_folder(name, ctx.projects_root)


def open_project(ctx: ApiContext, name: str) -> Project:
    """The saved project called ``name``; 404 when there is none."""
    from ..dubbing.project import PROJECT_FILE, Project

    folder = project_path(ctx, name)
    if not (folder / PROJECT_FILE).is_file():
        raise NotFoundError(
            zh=f"没有名为 “{name}” 的配音项目（GET /api/dubbing/projects 列出全部）。",
            en=f"No dubbing project called '{name}' (GET /api/dubbing/projects lists them).",
            param="project",
        )
    return Project.load(folder)


def _outputs_folder(project: Project) -> Path:
    assert project.folder is not None
    return project.folder / "outputs"


def output_files(ctx: ApiContext, project: Project) -> list[dict]:
    """The files in the project's output folder (plain files only), with their download URLs."""
    folder = _outputs_folder(project)
    if not folder.is_dir() or folder.is_symlink():
        return []
    files = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_symlink() or not path.is_file():
            continue
        files.append(
            {
                "file": path.name,
                "kind": _kind_of(project, path.name),
                "bytes": path.stat().st_size,
                "url": f"/api/dubbing/projects/{quote(project.folder.name)}/outputs/{quote(path.name)}",
            }
        )
    return files


def _kind_of(project: Project, file: str) -> str:
    from ..dubbing.outputs import safe_stem

    stem = safe_stem(project.name)
    if file in (f"{stem}-track.wav", f"{stem}-track.mp3"):
        return "track"
    if file == f"{stem}-dub.zip":
        return "zip"
    if file == f"{stem}-script.json":
        return "script"
    if file.endswith((".srt", ".vtt", "-captions.json")):
        return "captions"
    if file.lower().endswith(VIDEO_SUFFIXES):
        return "video"
    return "line"


def output_file(ctx: ApiContext, name: str, file: str) -> Path:
    """The output file ``file`` of project ``name``: a plain file name inside its output folder, nothing else."""
    project = open_project(ctx, name)
    folder = _outputs_folder(project)
    bad = (
        not file
        or file in (".", "..")
        or file.startswith(".")
        or any(c in file for c in "/\\\x00:")
        or Path(file).name != file
    )
    if not bad and (folder.is_symlink() or (folder / file).is_symlink()):
        bad = True
    if not bad and (folder / file).exists():
        bad = not (folder / file).resolve().is_relative_to(folder.resolve())
    if bad:
        raise InputError(
            zh=f"文件名 “{file[:80]}” 无效：只能下载项目输出文件夹里的文件（不能有路径、“..” 或符号链接）。",
            en=f"Invalid file name '{file[:80]}': only files inside the project's output folder can be downloaded "
            "(no paths, '..' or symbolic links).",
            param="file",
        )
    path = folder / file
    if not path.is_file():
        raise NotFoundError(
            zh=f"项目 “{name}” 没有输出文件 “{file}”。先运行一个任务生成输出。",
            en=f"Project '{name}' has no output file '{file}'. Run a job to write the outputs.",
            param="file",
        )
    return path


def _lines_of(project: Project) -> list[dict]:
    return [
        {
            "number": i + 1,
            "id": line.id,
            "scene": line.scene,
            "speaker": line.speaker,
            "text": line.text,
            "emotion": line.emotion,
            "intensity": line.intensity,
            "duration": line.duration,
            "start": line.start,
            "end": line.end,
            "locked": line.locked,
            "takes": len(line.takes),
            "chosen": line.chosen,
            "seconds": line.take.seconds if line.take is not None else None,
        }
        for i, line in enumerate(project.lines)
    ]


def project_summary(ctx: ApiContext, project: Project) -> dict:
    """What the project listing shows of ``project``."""
    from ..dubbing.runner import take_path

    assert project.folder is not None
    ready = 0
    for line in project.lines:
        path = take_path(project, line)
        ready += bool(path is not None and path.is_file())
    job = ctx.jobs.active_for(project.folder) if ctx.jobs is not None else None
    timed = [line.timed for line in project.lines]
    return {
        "name": project.folder.name,
        "title": project.name,
        "lines": len(project.lines),
        "lines_with_audio": ready,
        "mode": "timed" if timed and all(timed) else "scene" if not any(timed) else "mixed",
        "voices": dict(project.voices),
        "default_voice": project.settings.default_voice,
        "job": job.id if job is not None else None,
        "outputs": [f["file"] for f in output_files(ctx, project)],
    }


# -- creating projects -----------------------------------------------------------------------------


class DubSettingsBody(BaseModel):
    """Project settings (each optional; the rest keep their defaults or saved values)."""

    model_config = ConfigDict(extra="forbid")

    language: str | None = Field(None, max_length=32, description="Auto, Chinese, English, ... or a code")
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="reproducible takes")
    max_new_tokens: int | None = Field(None, ge=1, le=4096, description="cap on model steps per line (12.5 a second)")
    loudness: float | None = Field(None, ge=-70.0, le=0.0, description="LUFS of each line; null: as generated")
    gap_s: float | None = Field(None, ge=0.0, le=30.0, description="scene mode: silence between lines")
    max_stretch: float | None = Field(None, ge=1.0, le=2.0, description="allowed stretch factor (default 1.33)")
    allow_overlap: bool | None = Field(None, description="a line too long for its slot may run into the next gap")
    format: Literal["mp3", "wav", "flac", "ogg"] | None = Field(None, description="line files (default mp3)")
    model_base: str | None = Field(None, max_length=64, description="registry id for cloned voices")
    model_custom: str | None = Field(None, max_length=64, description="registry id for preset speakers")
    model_design: str | None = Field(None, max_length=64, description="registry id for designed voices")


class ProjectCreate(BaseModel):
    """A project from a script: its text and format, a name, and who reads which speaker."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=80, description="folder name: letters, digits, spaces, '.', '-', '_'")
    script: str = Field(max_length=2_000_000, description="the script or subtitle file's text")
    format: Literal["txt", "csv", "tsv", "yaml", "json", "srt", "vtt"] = Field(
        "txt", description="txt: paragraphs with [A] speaker tags; csv/tsv: header row; yaml/json; srt/vtt: timed"
    )
    voices: dict[str, str] = Field(
        default_factory=dict,
        description="speaker label -> voice: a saved voice or preset name, saved:NAME[#TAG], preset:NAME, "
        "design:DESCRIPTION (as the CLI's --speaker)",
    )
    voice: str | None = Field(None, max_length=2000, description="default voice for unmapped speakers (--voice)")
    settings: DubSettingsBody | None = None
    replace: bool = Field(
        False, description="replace an existing project's script, keeping the takes of lines that did not change"
    )


def _apply_settings(ctx: ApiContext, project: Project, body: DubSettingsBody | None) -> None:
    if body is None:
        return
    s = project.settings
    given = body.model_fields_set
    for attr in ("seed", "max_new_tokens", "gap_s", "max_stretch", "allow_overlap", "format"):
        value = getattr(body, attr)
        if value is not None:
            setattr(s, attr, value)
    if "loudness" in given:
        s.loudness = body.loudness
    if body.language is not None:
        s.language = parse_language(body.language)
    for attr, kind in (("model_base", "base"), ("model_custom", "custom_voice"), ("model_design", "voice_design")):
        value = getattr(body, attr)
        if value is not None:
            setattr(s, attr, ctx.model_for(kind, value, True) if value.strip() else "")


def _check_voice(spec: str, where: str) -> str:
    from ..dubbing.project import parse_voice

    try:
        parse_voice(spec)
    except InputError as exc:
        raise InputError(zh=exc.zh, en=exc.en, param=where) from None
    return spec.strip()


def create_project(
    ctx: ApiContext,
    name: str,
    script: str,
    fmt: str,
    voices: dict[str, str],
    voice: str | None,
    settings: DubSettingsBody | None,
    replace: bool,
) -> tuple[Project, bool]:
    """Import ``script`` as the project ``name`` (or replace its script); (project, whether it is new)."""
    from ..dubbing.project import PROJECT_FILE, Project
    from ..dubbing.scripts import parse_script
    from ..dubbing.timeline import check_slots, mode_of

    folder = project_path(ctx, name)
    project = parse_script(script, fmt, f"{folder.name}.{fmt}")
    for i, line in enumerate(project.lines):
        line.id, line.takes, line.chosen = f"l{i + 1:03d}", [], -1
    with _holding(ctx, folder):  # one change at a time; no job starts on it meanwhile (409 while one runs)
        exists = (folder / PROJECT_FILE).is_file()
        if exists and not replace:
            raise ConflictError(
                zh=f'项目 “{folder.name}” 已经存在。要替换它的脚本（保留未改动台词的音频）请加 "replace": true。',
                en=f"Project '{folder.name}' exists already. Send \"replace\": true to replace its script "
                "(the audio of unchanged lines is kept).",
                param="name",
            )
        if exists:  # the CLI's resume: same line ids keep their takes; the runner's hashes decide what is reused
            previous = Project.load(folder)
            kept = {line.id: line for line in previous.lines}
            for line in project.lines:
                if line.id in kept:
                    old = kept[line.id]
                    line.takes, line.chosen, line.locked = old.takes, old.chosen, old.locked
            project.settings = previous.settings
            project.voices = {**previous.voices, **project.voices}
        project.name = folder.name
        _set_voices(project, voices, voice)
        _apply_settings(ctx, project, settings)
        if mode_of(project) == "timed":
            check_slots(project)
        project.save(folder)
    return project, not exists


def _set_voices(project: Project, voices: dict[str, str | None], voice: str | None, removable: bool = False) -> None:
    """Map speaker labels to voices (``removable``: an empty voice removes the mapping), set the default voice."""
    for label, spec in voices.items():
        if not label.strip():
            raise InputError(
                zh="voices 里的说话人标签不能为空。", en="A speaker label in voices is empty.", param="voices"
            )
        if removable and not (spec or "").strip():
            project.voices.pop(label.strip(), None)
        else:
            project.voices[label.strip()] = _check_voice(spec or "", "voices")
    if voice is not None:
        project.settings.default_voice = _check_voice(voice, "voice") if voice.strip() else ""


def _warnings(ctx: ApiContext, project: Project, lang: str) -> list[str]:
    from ..dubbing.runner import resolve_voice

    out = []
    library = ctx.library()
    for i in range(len(project.lines)):
        try:
            resolve_voice(project, i, library)
        except StudioError as exc:
            out.append(exc.message(lang))
    return out


# -- changing projects: lines, takes, voices, deletion, video --------------------------------------


@contextlib.contextmanager
def _holding(ctx: ApiContext, folder: Path) -> Iterator[None]:
    if ctx.jobs is None:
        yield
        return
    with ctx.jobs.hold(folder):
        yield


@contextlib.contextmanager
def _changing(ctx: ApiContext, name: str) -> Iterator[Project]:
    """The project ``name`` (404), read afresh, while no job runs or starts on it and no window generates it (409)."""
    from ..dubbing.runner import project_lock

    folder = project_path(ctx, name)
    with _holding(ctx, folder):
        project = open_project(ctx, name)
        try:
            with project_lock(project):  # the Dubbing tab or the CLI may be generating it
                yield project
        except BusyError as exc:
            raise ConflictError(zh=exc.zh, en=exc.en, param="name") from None


def find_line(project: Project, ref: str) -> int:
    """The 0-based index of the line ``ref`` names: a number from 1 to the line count, else a line id; 404."""
    ref = (ref or "").strip()
    count = len(project.lines)
    if re.fullmatch(r"[0-9]{1,9}", ref) and 1 <= int(ref) <= count:
        return int(ref) - 1
    for i, line in enumerate(project.lines):
        if line.id == ref:
            return i
    assert project.folder is not None
    raise NotFoundError(
        zh=f"项目 “{project.folder.name}” 没有台词 “{ref[:40]}”：请用行号（1 到 {count}）或台词编号（id）。",
        en=f"Project '{project.folder.name}' has no line '{ref[:40]}': give a line number (1 to {count}) or a line id.",
        param="line",
    )


def line_detail(ctx: ApiContext, project: Project, index: int, lang: str) -> dict:
    """Line ``index`` as the project shows it, with its takes (and their URLs) and why it cannot be voiced."""
    from ..dubbing.runner import resolve_voice

    assert project.folder is not None
    line = project.lines[index]
    base = f"/api/dubbing/projects/{quote(project.folder.name)}/lines/{quote(line.id)}"
    warning = None
    try:
        resolve_voice(project, index, ctx.library())
    except StudioError as exc:
        warning = exc.message(lang)
    takes = [
        {
            "index": k,
            "seconds": take.seconds,
            "seed": take.seed,
            "model": take.model,
            "created": take.created,
            "chosen": k == line.chosen,
            "url": f"{base}/takes/{k}",
        }
        for k, take in enumerate(line.takes)
    ]
    return {**_lines_of(project)[index], "take_list": takes, "warning": warning, "url": base}


#: Line fields an edit sets as given; check_line normalises and checks them (null clears a field).
LINE_FIELDS = ("scene", "speaker", "text", "emotion", "intensity", "duration", "start", "end")


def edit_line(
    ctx: ApiContext, name: str, ref: str, changes: dict[str, Any], locked: bool | None, chosen: int | None
) -> tuple[Project, int]:
    """Apply ``changes`` (line fields), ``locked`` and ``chosen`` to the line ``ref`` of project ``name``, all or
    nothing; returns (project, line index). Values are checked as the Dubbing tab checks its table."""
    import dataclasses

    from ..dubbing.project import check_line, line_label
    from ..dubbing.runner import choose_take, set_locked
    from ..dubbing.timeline import check_slots, mode_of

    with _changing(ctx, name) as project:
        index = find_line(project, ref)
        line = check_line(dataclasses.replace(project.lines[index], **changes), index)
        if "text" in changes and not line.text:
            zh, en = line_label(index, line)
            raise InputError(zh=f"{zh}是空的：请填写台词。", en=f"{en} is empty: type its text.", param="text")
        project.lines[index] = line
        if {"start", "end"} & changes.keys() and mode_of(project) == "timed":
            check_slots(project)
        if chosen is not None:
            try:
                choose_take(project, line.id, chosen)
            except InputError as exc:
                zh, en = line_label(index, line)
                raise InputError(zh=f"{zh}：{exc.zh}", en=f"{en}: {exc.en}", param="chosen") from None
        if locked is not None:
            set_locked(project, line.id, locked)
        project.save()
        return project, index


def edit_project(
    ctx: ApiContext, name: str, voices: dict[str, str | None], voice: str | None, settings: DubSettingsBody | None
) -> Project:
    """Change the speaker-to-voice mapping (an empty voice removes one), the default voice and the settings."""
    with _changing(ctx, name) as project:
        _set_voices(project, voices, voice, removable=True)
        _apply_settings(ctx, project, settings)
        project.save()
        return project


def delete_project(ctx: ApiContext, name: str) -> str:
    """Remove the project ``name``'s folder (takes, outputs and all); its folder name. 404; 409 as an edit."""
    from ..dubbing.runner import project_lock

    root = ctx.projects_root
    folder = project_path(ctx, name)
    with _holding(ctx, folder):
        project = open_project(ctx, name)
        if folder.is_symlink() or folder.resolve().parent != root.resolve():
            raise InputError(
                zh=f"“{name}” 不是项目文件夹里的项目，不能删除。",
                en=f"'{name}' is not a project inside the projects folder; it cannot be deleted.",
                param="name",
            )
        try:
            with project_lock(project):  # nobody generates it in the Dubbing tab or the CLI right now
                pass
        except BusyError as exc:
            raise ConflictError(zh=exc.zh, en=exc.en, param="name") from None
        # Out of every listing at once (a hidden name no project can have), then removed.
        gone = root / f".deleted-{uuid.uuid4().hex[:12]}"
        try:
            folder.rename(gone)
        except OSError as exc:
            raise ConflictError(
                zh=f"项目 “{name}” 正被别的程序使用，无法删除：{exc.strerror}。",
                en=f"Project '{name}' is in use by another program and cannot be deleted: {exc.strerror}.",
                param="name",
            ) from None
    shutil.rmtree(gone, ignore_errors=True)
    if gone.exists():
        log.warning("could not remove all of the deleted dubbing project %s (left in %s)", name, gone)
    return folder.name


def mux_project(ctx: ApiContext, name: str, upload: Any, filename: str, mix: str, duck_db: float) -> Path:
    """Put the project's track into a copy of the uploaded video; the new file in the project's outputs folder.

    409 while a job runs or when no job has written the track yet. The upload is copied into its own folder in
    the server's upload area and removed afterwards, whatever happens.
    """
    from ..dubbing.mux import mux
    from ..dubbing.outputs import safe_stem

    with _changing(ctx, name) as project:
        outputs = _outputs_folder(project)
        track = outputs / f"{safe_stem(project.name)}-track.wav"
        if outputs.is_symlink() or track.is_symlink() or not track.is_file():
            raise ConflictError(
                zh=f"项目 “{name}” 还没有配音音轨：先运行一个任务（POST /api/dubbing/jobs）生成它。",
                en=f"Project '{name}' has no track yet: run a job (POST /api/dubbing/jobs) to make it first.",
                param="project",
            )
        original = Path(filename.replace("\\", "/")).name
        suffix = Path(original).suffix.lower()
        suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""
        stem = safe_stem(Path(original).stem, "video")
        area = ctx.upload_dir / f"mux-{uuid.uuid4().hex}"
        try:
            area.mkdir(parents=True)
            video = area / f"{stem}{suffix}"
            with video.open("wb") as out:
                shutil.copyfileobj(upload, out, 1 << 20)
            if video.stat().st_size == 0:
                raise InputError(zh="上传的视频是空的。", en="The uploaded video is empty.", param="file")
            ext = suffix if suffix in VIDEO_SUFFIXES else ".mp4" if not suffix else ".mkv"
            return mux(video, track, outputs / f"{stem}-dubbed{ext}", mix, duck_db)
        finally:
            shutil.rmtree(area, ignore_errors=True)


# -- jobs ------------------------------------------------------------------------------------------


@dataclass
class _LineState:
    number: int
    id: str
    scene: str
    speaker: str
    text: str
    status: str = "pending"  #: pending | running | generated | reused | locked | failed | cancelled
    seconds: float | None = None
    message_zh: str = ""
    message_en: str = ""


@dataclass
class DubJob:
    """One generation run of a project, as the registry tracks it."""

    id: str
    project: str  #: the project's folder name
    folder: Path
    force: bool = False
    lines_spec: str | None = None  #: 1-based line numbers ("1,3-5"); None: every line
    build: bool = True  #: assemble the track and write the outputs afterwards
    status: str = "queued"  #: queued | running | done | failed | cancelled
    progress: float = 0.0
    message: str = ""
    current: int | None = None  #: 0-based index of the line being generated
    lines: list[_LineState] = field(default_factory=list)
    error: StudioError | None = None
    created: str = field(default_factory=_now)
    started: str | None = None
    finished: str | None = None
    outputs: list[str] = field(default_factory=list)
    track: dict[str, Any] | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url(self) -> str:
        return f"/api/dubbing/jobs/{self.id}"

    def finish(self, status: str) -> None:
        with self.lock:
            self.status = status
            self.finished = _now()
            self.current = None
            if status == "done":
                self.progress = 1.0
            for line in self.lines:  # the line a cancel or a crash interrupted (its take was never saved)
                if line.status == "running":
                    line.status = "cancelled" if status == "cancelled" else "failed"

    def on_progress(self, fraction: float | None, message: str) -> None:
        with self.lock:
            if fraction is not None:
                self.progress = max(self.progress, min(float(fraction), 0.99))
            self.message = message

    def on_line(self, result: LineResult) -> None:
        with self.lock:
            state = next((s for s in self.lines if s.number == result.index + 1), None)
            if state is None:
                return
            state.status = result.status
            if result.status == "running":
                self.current = result.index
                return
            state.seconds = round(result.seconds, 4) if result.status != "failed" else None
            state.message_zh, state.message_en = result.message_zh, result.message_en
            if self.current == result.index:
                self.current = None

    def to_dict(self, lang: str) -> dict:
        """The job's status as the API answers it, messages in ``lang``."""
        with self.lock:
            lines = [
                {
                    "number": s.number,
                    "id": s.id,
                    "scene": s.scene,
                    "speaker": s.speaker,
                    "status": s.status,
                    "seconds": s.seconds,
                    "message": (s.message_zh if lang.startswith("zh") else s.message_en) or None,
                }
                for s in self.lines
            ]
            current = next((s for s in self.lines if self.current is not None and s.number == self.current + 1), None)
            counts: dict[str, int] = {}
            for s in self.lines:
                counts[s.status] = counts.get(s.status, 0) + 1
            base = f"/api/dubbing/projects/{quote(self.project)}/outputs/"
            return {
                "id": self.id,
                "project": self.project,
                "status": self.status,
                "progress": round(self.progress, 4),
                "message": self.message,
                "current_line": None
                if current is None
                else {"number": current.number, "id": current.id, "scene": current.scene, "text": current.text},
                "lines": lines,
                "counts": counts,
                "errors": [
                    {"number": x["number"], "id": x["id"], "message": x["message"]}
                    for x in lines
                    if x["status"] == "failed"
                ],
                "error": self.error.to_dict(lang) if self.error is not None else None,
                "force": self.force,
                "selected_lines": self.lines_spec,
                "created": self.created,
                "started": self.started,
                "finished": self.finished,
                "outputs": [{"file": f, "url": base + quote(f)} for f in self.outputs],
                "track": None
                if self.track is None
                else {
                    "seconds": self.track["seconds"],
                    "mode": self.track["mode"],
                    "flagged": [
                        {
                            "number": f["number"],
                            "status": f["status"],
                            "suggestion": f["zh" if lang.startswith("zh") else "en"],
                        }
                        for f in self.track["flagged"]
                    ],
                },
                "url": self.url,
            }


class _Models:
    """The engine's model manager, with the server's models as the defaults (as the speech routes use them)."""

    def __init__(self, ctx: ApiContext) -> None:
        self._ctx = ctx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx.engine.manager, name)

    def default_model(self, kind: str) -> str:
        return self._ctx.models.get(kind) or self._ctx.engine.manager.default_model(kind)


class _QueuedEngine:
    """The engine as a dubbing job sees it: every generation first waits for its turn in the API's queue."""

    def __init__(self, ctx: ApiContext, cancel: CancelToken) -> None:
        self._ctx = ctx
        self._cancel = cancel
        self.manager = _Models(ctx)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx.engine, name)

    def _turn(self, method: str, *args: Any, **kwargs: Any) -> Any:
        gate = self._ctx.gate
        ticket = gate.admit(bounded=False)  # the job was accepted already; its lines always queue
        try:
            gate.wait(ticket, self._cancel)
            return getattr(self._ctx.engine, method)(*args, **kwargs)
        finally:
            gate.done(ticket)

    def clone(self, *args: Any, **kwargs: Any) -> Any:
        return self._turn("clone", *args, **kwargs)

    def custom(self, *args: Any, **kwargs: Any) -> Any:
        return self._turn("custom", *args, **kwargs)

    def design(self, *args: Any, **kwargs: Any) -> Any:
        return self._turn("design", *args, **kwargs)


def _line_numbers(spec: str | list[int] | None) -> str | None:
    if spec is None:
        return None
    if isinstance(spec, list):
        return ",".join(str(n) for n in spec)
    return spec.strip() or None


class JobRegistry:
    """Dubbing jobs: queued in order, run one at a time on a worker thread, kept for status queries."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()
        self._jobs: dict[str, DubJob] = {}
        self._queue: queue.Queue[DubJob | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._held: dict[Path, int] = {}  #: projects a request is changing (edit, delete, mux): no job starts
        self._changes: dict[Path, threading.Lock] = {}  #: one change at a time per project

    def active_for(self, folder: Path) -> DubJob | None:
        """The queued or running job of the project in ``folder``, if any."""
        with self._lock:
            return self._active(folder)

    def _active(self, folder: Path) -> DubJob | None:
        return next((j for j in self._jobs.values() if j.folder == folder and j.status not in FINAL), None)

    @contextlib.contextmanager
    def hold(self, folder: Path) -> Iterator[None]:
        """Change the project in ``folder``: 409 while a job is queued or runs on it; no job starts until done.

        Changes of one project wait for each other (each reads, changes and saves ``project.json``).
        """
        with self._lock:
            running = self._active(folder)
            if running is not None:
                raise ConflictError(
                    zh=f"项目 “{folder.name}” 有正在进行的任务 {running.id}（{running.status}）。等它结束或取消它，再修改项目。",
                    en=f"Project '{folder.name}' has a job in progress: {running.id} ({running.status}). Wait for "
                    "it to end, or cancel it, before changing the project.",
                    job=running.id,
                )
            self._held[folder] = self._held.get(folder, 0) + 1
            change = self._changes.setdefault(folder, threading.Lock())
        try:
            with change:
                yield
        finally:
            with self._lock:
                self._held[folder] -= 1
                if not self._held[folder]:
                    del self._held[folder], self._changes[folder]

    def submit(self, name: str, spec: str | list[int] | None, force: bool, build: bool) -> DubJob:
        """Queue a job for the project ``name`` (404 if missing, 409 if it has one already, 400 for bad lines)."""
        from ..dubbing.cli import parse_line_numbers

        project = open_project(self.ctx, name)
        assert project.folder is not None
        numbers = _line_numbers(spec)
        only = None
        if numbers is not None:
            only = {project.lines[i].id for i in parse_line_numbers(numbers, len(project.lines))}
        with self._lock:
            if self._closed:
                raise BusyError(zh="服务器正在关闭。", en="The server is shutting down.", retry_after=5)
            if project.folder in self._held:
                raise ConflictError(
                    zh=f"项目 “{project.folder.name}” 正在被另一个请求修改（编辑、删除或合成视频）。稍后再试。",
                    en=f"Project '{project.folder.name}' is being changed by another request (an edit, a delete or "
                    "a mux). Try again in a moment.",
                )
            running = self._active(project.folder)
            if running is not None:
                raise ConflictError(
                    zh=f"项目 “{project.folder.name}” 已有任务 {running.id}（{running.status}）。等它结束或取消它。",
                    en=f"Project '{project.folder.name}' has a job already: {running.id} ({running.status}). "
                    "Wait for it to end, or cancel it.",
                    job=running.id,
                )
            job = DubJob(
                id=uuid.uuid4().hex[:12],
                project=project.folder.name,
                folder=project.folder,
                force=force,
                lines_spec=numbers,
                build=build,
            )
            self._set_lines(job, project, only)
            self._jobs[job.id] = job
            self._prune()
            self._queue.put(job)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="studio-dubbing-jobs", daemon=True)
                self._thread.start()
        return job

    def get(self, job_id: str) -> DubJob:
        """The job ``job_id``; 404 when unknown (or forgotten)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(
                zh=f"没有编号为 “{job_id[:40]}” 的配音任务。", en=f"No dubbing job '{job_id[:40]}'.", param="id"
            )
        return job

    def list(self) -> list[DubJob]:
        """Every job kept, oldest first."""
        with self._lock:
            return list(self._jobs.values())

    def cancel(self, job_id: str) -> DubJob:
        """Ask ``job_id`` to stop: a queued job never starts, a running one stops at the model's next step."""
        job = self.get(job_id)
        with self._lock:
            if job.status in FINAL:
                return job
            job.cancel.cancel()
            if job.status == "queued":
                job.finish("cancelled")
        return job

    def close(self) -> None:
        """Cancel every job and stop the worker (waits a little for a running one to stop)."""
        with self._lock:
            self._closed = True
            for job in self._jobs.values():
                if job.status not in FINAL:
                    job.cancel.cancel()
                    if job.status == "queued":
                        job.finish("cancelled")
            thread = self._thread
        self._queue.put(None)
        if thread is not None:
            thread.join(timeout=30)

    # -- running -----------------------------------------------------------------------------------

    def _prune(self) -> None:
        finished = [j for j in self._jobs.values() if j.status in FINAL]
        for job in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.id]

    @staticmethod
    def _set_lines(job: DubJob, project: Project, only: set[str] | None = None) -> None:
        with job.lock:
            job.lines = [
                _LineState(i + 1, line.id, line.scene, line.speaker, line.text)
                for i, line in enumerate(project.lines)
                if only is None or line.id in only
            ]

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job.status != "queued":
                    continue  # cancelled while waiting
                job.status, job.started = "running", _now()
            try:
                self._run(job)
            except Cancelled:
                job.finish("cancelled")
            except StudioError as exc:
                job.error = exc
                job.finish("failed")
            except Exception as exc:  # a bug must not kill the worker: the job fails, the log has it
                log.exception("dubbing job %s failed", job.id)
                job.error = ApiError(
                    500,
                    "internal_error",
                    zh=f"服务器内部错误（{type(exc).__name__}）。请查看服务器日志。",
                    en=f"Internal server error ({type(exc).__name__}). See the server log.",
                )
                job.finish("failed")

    def _run(self, job: DubJob) -> None:
        from ..dubbing.cli import parse_line_numbers
        from ..dubbing.outputs import write_outputs
        from ..dubbing.project import Project
        from ..dubbing.runner import load_takes, run_project, take_rate
        from ..dubbing.timeline import assemble

        project = Project.load(job.folder)
        only = None
        if job.lines_spec is not None:
            only = [project.lines[i].id for i in parse_line_numbers(job.lines_spec, len(project.lines))]
        self._set_lines(job, project, set(only) if only is not None else None)
        report = run_project(
            project,
            _QueuedEngine(self.ctx, job.cancel),
            self.ctx.library(),
            only=only,
            force=job.force,
            progress=job.on_progress,
            cancel=job.cancel,
            on_line=job.on_line,
        )
        job.cancel.check()
        if not job.build:
            job.finish("done")
            return
        audio = load_takes(project)
        if not audio:
            zh = "；".join(r.message("zh") for r in report.failed) or "没有任何台词可以生成。"
            en = "; ".join(r.message("en") for r in report.failed) or "no line could be generated."
            raise InputError(zh=f"没有生成任何音频：{zh}", en=f"No audio was generated: {en}")
        job.on_progress(None, "writing outputs")
        track = assemble(project, audio, take_rate(project))
        outputs = write_outputs(project, track, _outputs_folder(project), project.settings.format)
        written = [*outputs.files, outputs.zip]
        with job.lock:
            job.outputs = sorted(p.name for p in written if p is not None)
            job.track = {
                "seconds": round(track.seconds, 4),
                "mode": track.mode,
                "flagged": [
                    {
                        "number": p.index + 1,
                        "status": p.status,
                        "zh": p.suggestion("zh"),
                        "en": p.suggestion("en"),
                    }
                    for p in track.flagged
                ],
            }
        job.finish("done")


# -- routes ----------------------------------------------------------------------------------------


class LineStatus(BaseModel):
    number: int = Field(description="1-based line number")
    id: str
    scene: str
    speaker: str
    status: str = Field(description="pending | running | generated | reused | locked | failed | cancelled")
    seconds: float | None = Field(None, description="length of the line's take as generated")
    message: str | None = Field(None, description="why the line failed")


class LineError(BaseModel):
    number: int
    id: str
    message: str | None


class CurrentLine(BaseModel):
    number: int
    id: str
    scene: str
    text: str


class JobOutput(BaseModel):
    file: str
    url: str


class FlaggedLine(BaseModel):
    number: int
    status: str
    suggestion: str


class TrackInfo(BaseModel):
    seconds: float
    mode: str = Field(description="timed (subtitle slots) | scene")
    flagged: list[FlaggedLine] = Field(description="lines over (or far under) their slot, with a suggested fix")


class JobStatus(BaseModel):
    """A dubbing job's state."""

    id: str
    project: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float = Field(description="0-1")
    message: str = Field(description="what the job is doing")
    current_line: CurrentLine | None
    lines: list[LineStatus]
    counts: dict[str, int]
    errors: list[LineError] = Field(description="lines that could not be generated (the job goes on without them)")
    error: dict[str, str] | None = Field(description="why the job failed: {error, message}")
    force: bool
    selected_lines: str | None
    created: str
    started: str | None
    finished: str | None
    outputs: list[JobOutput] = Field(description="files written by the job (when done)")
    track: TrackInfo | None
    url: str


class StartJob(BaseModel):
    """Generate a project's lines."""

    model_config = ConfigDict(extra="forbid")

    project: str = Field(max_length=80)
    force: bool = Field(False, description="new takes even for lines that did not change")
    lines: str | list[int] | None = Field(None, description="only these 1-based line numbers: '1,3-5' or [1, 3]")
    build: bool = Field(True, description="then assemble the track and write line files, captions and the zip")


class OutputFile(BaseModel):
    file: str
    kind: str = Field(description="track | line | captions | script | zip")
    bytes: int
    url: str


class ProjectSummary(BaseModel):
    name: str
    title: str
    lines: int
    lines_with_audio: int
    mode: str = Field(description="timed | scene | mixed")
    voices: dict[str, str]
    default_voice: str
    job: str | None = Field(description="the queued or running job, if any")
    outputs: list[str]


class ProjectDetail(ProjectSummary):
    settings: dict[str, Any]
    script_lines: list[dict[str, Any]] = Field(description="every line: text, timing, takes")
    output_files: list[OutputFile]
    warnings: list[str] = Field(description="lines whose speaker has no voice (they will fail until mapped)")


def _registry(request: Request) -> JobRegistry:
    ctx = context(request)
    assert ctx.jobs is not None
    return ctx.jobs


def _detail(ctx: ApiContext, project: Project, lang: str) -> dict:
    return {
        **project_summary(ctx, project),
        "settings": asdict(project.settings),
        "script_lines": _lines_of(project),
        "output_files": output_files(ctx, project),
        "warnings": _warnings(ctx, project, lang),
    }


@router.post("/projects", summary="create a project from a script", status_code=201)
async def create(request: Request, body: ProjectCreate) -> ProjectDetail:
    """Import a script (txt, csv, tsv, yaml, json, srt, vtt) as a project, map speakers to voices, set
    settings. 409 if the project exists (send ``replace: true`` to replace its script; unchanged lines keep
    their audio) or a job runs on it."""
    ctx = context(request)
    lang = request_language(request.headers, ctx.lang)

    def run() -> JSONResponse:
        project, created = create_project(
            ctx, body.name, body.script, body.format, body.voices, body.voice, body.settings, body.replace
        )
        detail = ProjectDetail(**_detail(ctx, project, lang)).model_dump()
        url = f"/api/dubbing/projects/{quote(detail['name'])}"
        return JSONResponse(detail, status_code=201 if created else 200, headers={"Location": url})

    return await run_in_threadpool(run)


@router.post("/projects/upload", summary="create a project from an uploaded script file", status_code=201)
async def upload(
    request: Request,
    file: Annotated[UploadFile, File(description="script or subtitle file")],
    name: Annotated[str | None, Form(description="project name (default: the file's name)")] = None,
    format: Annotated[
        str | None, Form(description="txt, csv, tsv, yaml, json, srt, vtt (default: by extension)")
    ] = None,
    voice: Annotated[str | None, Form(description="default voice (as the CLI's --voice)")] = None,
    speaker: Annotated[list[str] | None, Form(description="LABEL=VOICE, repeatable (as the CLI's --speaker)")] = None,
    settings: Annotated[str | None, Form(description="project settings as a JSON object")] = None,
    replace: Annotated[bool, Form()] = False,
) -> ProjectDetail:
    """The same as ``POST /api/dubbing/projects`` with the script as a multipart file upload."""
    from ..dubbing.scripts import decode_bytes, format_of

    ctx = context(request)
    lang = request_language(request.headers, ctx.lang)
    data = await file.read()
    filename = Path((file.filename or "script.txt").replace("\\", "/")).name

    def run() -> JSONResponse:
        fmt = (format or "").strip().lower() or format_of(filename)
        if fmt not in SCRIPT_FORMATS:
            raise InputError(
                zh=f"不认识的脚本格式 “{fmt}”。可用：{', '.join(SCRIPT_FORMATS)}。",
                en=f"Unknown script format '{fmt}'. Use one of {', '.join(SCRIPT_FORMATS)}.",
                param="format",
            )
        voices = {}
        for item in speaker or []:
            label, sep, spec = item.partition("=")
            if not sep or not label.strip():
                raise InputError(
                    zh=f"speaker 应写成 标签=声音（收到 “{item}”）。",
                    en=f"speaker takes LABEL=VOICE (got '{item}').",
                    param="speaker",
                )
            voices[label.strip()] = spec
        parsed = None
        if settings:
            try:
                parsed = DubSettingsBody.model_validate(json.loads(settings))
            except ValueError as exc:
                raise InputError(
                    zh=f"settings 不是有效的设置 JSON：{exc}",
                    en=f"settings is not valid settings JSON: {exc}",
                    param="settings",
                ) from None
        project_name = (name or "").strip() or Path(filename).stem
        project, created = create_project(ctx, project_name, decode_bytes(data), fmt, voices, voice, parsed, replace)
        detail = ProjectDetail(**_detail(ctx, project, lang)).model_dump()
        url = f"/api/dubbing/projects/{quote(detail['name'])}"
        return JSONResponse(detail, status_code=201 if created else 200, headers={"Location": url})

    return await run_in_threadpool(run)


@router.get("/projects", summary="list dubbing projects")
async def projects(request: Request) -> list[ProjectSummary]:
    """Every project in the projects folder (the Dubbing tab's ``dubbing/<name>`` folders)."""
    from ..dubbing.project import PROJECT_FILE, Project

    ctx = context(request)

    def run() -> list[ProjectSummary]:
        root = ctx.projects_root
        out = []
        if not root.is_dir():
            return out
        for folder in sorted(root.iterdir(), key=lambda p: p.name.casefold()):
            if folder.is_symlink() or not (folder / PROJECT_FILE).is_file() or not _NAME.fullmatch(folder.name):
                continue
            with contextlib.suppress(StudioError):
                out.append(ProjectSummary(**project_summary(ctx, Project.load(folder))))
        return out

    return await run_in_threadpool(run)


@router.get("/projects/{name}", summary="a project: lines, voices, settings, outputs")
async def project(request: Request, name: str) -> ProjectDetail:
    """The project's lines (text, timing, takes), voices, settings, output files, and lines with no voice."""
    ctx = context(request)
    lang = request_language(request.headers, ctx.lang)
    return await run_in_threadpool(lambda: ProjectDetail(**_detail(ctx, open_project(ctx, name), lang)))


@router.get("/projects/{name}/outputs", summary="a project's output files")
async def project_outputs(request: Request, name: str) -> list[OutputFile]:
    """The files the last job wrote: line files, the track (wav, mp3), captions (srt, vtt, json), script, zip."""
    ctx = context(request)
    return await run_in_threadpool(lambda: [OutputFile(**f) for f in output_files(ctx, open_project(ctx, name))])


@router.get(
    "/projects/{name}/outputs/{file}",
    summary="download an output file",
    response_class=FileResponse,
    responses={200: {"content": {t: {} for t in sorted(set(_MEDIA.values()))}}},
)
async def download(request: Request, name: str, file: str) -> FileResponse:
    """One file of the project's output folder (a plain name; paths, '..' and links are refused with 400)."""
    ctx = context(request)
    path = await run_in_threadpool(output_file, ctx, name, file)
    return FileResponse(
        path, media_type=_MEDIA.get(path.suffix.lower(), "application/octet-stream"), filename=path.name
    )


class ProjectEdit(BaseModel):
    """Who reads which speaker, the default voice, settings (each optional; the rest stay as they are)."""

    model_config = ConfigDict(extra="forbid")

    voices: dict[str, str | None] = Field(
        default_factory=dict,
        description="speaker label -> voice (as in POST /api/dubbing/projects); null or '' removes the mapping",
    )
    voice: str | None = Field(None, max_length=2000, description="default voice for unmapped speakers; '' clears it")
    settings: DubSettingsBody | None = None


class LineEdit(BaseModel):
    """Changes to one line, checked as the Dubbing tab checks its table; fields left out stay as they are.

    A change of text, speaker or emotion changes the line's audio hash, so the next job makes a new take of that
    line only; timing (start, end, duration) and scene are applied when the track is assembled.
    """

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="the words; may carry pinned readings, e.g. 行(háng)")
    scene: str | None = Field(None, description="scene name (names the line's output file)")
    speaker: str | None = Field(
        None, description="a speaker label mapped in the project's voices, or a saved voice or preset speaker name"
    )
    emotion: str | None = Field(None, description="emotion preset id; '' or null: none")
    intensity: float | None = Field(None, description="of the emotion, 0-1 (null: 0.5)")
    duration: float | None = Field(None, description="scene mode: target length in seconds; null: natural")
    start: float | None = Field(None, description="subtitle mode: the slot's start in seconds (with end)")
    end: float | None = Field(None, description="subtitle mode: the slot's end in seconds (with start)")
    locked: bool | None = Field(None, description="a locked line keeps its chosen take, even in a forced job")
    chosen: StrictInt | None = Field(None, description="0-based index of the take to use (see take_list)")


class TakeInfo(BaseModel):
    index: int = Field(description="0-based, as chosen")
    seconds: float
    seed: int | None
    model: str
    created: str
    chosen: bool
    url: str = Field(description="the take's audio (WAV)")


class ScriptLine(BaseModel):
    """One line of a project."""

    number: int = Field(description="1-based line number")
    id: str
    scene: str
    speaker: str
    text: str
    emotion: str
    intensity: float
    duration: float | None
    start: float | None
    end: float | None
    locked: bool
    takes: int = Field(description="how many takes the line has")
    chosen: int = Field(description="0-based index of the chosen take; -1: none")
    seconds: float | None = Field(description="length of the chosen take")
    take_list: list[TakeInfo]
    warning: str | None = Field(description="why the line cannot be voiced (e.g. its speaker has no voice)")
    url: str


class Deleted(BaseModel):
    name: str
    deleted: bool = True


class MuxResult(OutputFile):
    mix: str = Field(description="duck | keep | replace")


@router.patch("/projects/{name}", summary="change a project's voices and settings")
async def change_project(request: Request, name: str, body: ProjectEdit) -> ProjectDetail:
    """Map speakers to voices (null removes a mapping), set the default voice and settings, without touching the
    lines. 404 for an unknown project, 409 while a job is queued or runs on it."""
    ctx = context(request)
    lang = request_language(request.headers, ctx.lang)

    def run() -> ProjectDetail:
        project = edit_project(ctx, name, body.voices, body.voice, body.settings)
        return ProjectDetail(**_detail(ctx, project, lang))

    return await run_in_threadpool(run)


@router.delete("/projects/{name}", summary="delete a project")
async def remove_project(request: Request, name: str) -> Deleted:
    """Delete the project's folder: script, takes and outputs (there is no undo). 404 for an unknown project,
    409 while a job is queued or runs on it (cancel it first) or the Dubbing tab is generating it."""
    ctx = context(request)
    return Deleted(name=await run_in_threadpool(delete_project, ctx, name))


@router.get("/projects/{name}/lines/{line}", summary="a line with its takes")
async def project_line(request: Request, name: str, line: str) -> ScriptLine:
    """One line (by 1-based number or id): text, timing, lock, its takes with their audio URLs."""
    ctx = context(request)
    lang = request_language(request.headers, ctx.lang)

    def run() -> ScriptLine:
        project = open_project(ctx, name)
        return ScriptLine(**line_detail(ctx, project, find_line(project, line), lang))

    return await run_in_threadpool(run)


@router.patch("/projects/{name}/lines/{line}", summary="edit a line, lock it or choose its take")
async def change_line(request: Request, name: str, line: str, body: LineEdit) -> ScriptLine:
    """Change a line (by 1-based number or id): text, scene, speaker, emotion, intensity, duration, start/end,
    ``locked``, ``chosen`` take. All or nothing: 400 for a bad value (naming the line), 404 for an unknown line
    or project, 409 while a job is queued or runs on the project. The next job regenerates the line if its
    text, voice or emotion changed (unless it is locked)."""
    ctx = context(request)
    lang = request_language(request.headers, ctx.lang)
    changes = {f: getattr(body, f) for f in LINE_FIELDS if f in body.model_fields_set}

    def run() -> ScriptLine:
        project, index = edit_line(ctx, name, line, changes, body.locked, body.chosen)
        return ScriptLine(**line_detail(ctx, project, index, lang))

    return await run_in_threadpool(run)


@router.get(
    "/projects/{name}/lines/{line}/takes/{take}",
    summary="listen to a take",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}}},
)
async def take_audio(request: Request, name: str, line: str, take: int) -> FileResponse:
    """The audio of take ``take`` (0-based) of a line, as generated (before fitting into the track)."""
    from ..dubbing.runner import take_path

    ctx = context(request)

    def run() -> Path:
        project = open_project(ctx, name)
        index = find_line(project, line)
        path = take_path(project, project.lines[index], take) if take >= 0 else None
        if path is None or not path.is_file():
            count = len(project.lines[index].takes)
            raise NotFoundError(
                zh=f"第 {index + 1} 行没有第 {take} 号版本的音频（它有 {count} 个版本，编号从 0 开始）。",
                en=f"Line {index + 1} has no audio for take {take} (it has {count} takes, numbered from 0).",
                param="take",
            )
        return path

    path = await run_in_threadpool(run)
    return FileResponse(path, media_type="audio/wav", filename=path.name)


@router.post("/projects/{name}/mux", summary="put the track into a video", status_code=201)
async def mux_video(
    request: Request,
    name: str,
    file: Annotated[UploadFile, File(description="the video (mp4, mov, mkv, ...); up to the server's body limit")],
    mix: Annotated[
        str, Form(description="original audio: duck (lowered under the dub), keep (full level), replace (dropped)")
    ] = "duck",
    duck_db: Annotated[float, Form(ge=-60.0, le=0.0, description="duck: how far the original is lowered, dB")] = -14.0,
) -> MuxResult:
    """A copy of the video with the project's track as its sound (the picture is copied, not re-encoded), written
    to the project's outputs as ``<video>-dubbed.<ext>``. 201 with its download URL. 409 while a job runs on
    the project or before a job has written the track; 400 for a file that is not a video."""
    ctx = context(request)

    def run() -> JSONResponse:
        path = mux_project(ctx, name, file.file, file.filename or "video.mp4", mix, duck_db)
        folder = path.parent.parent.name
        url = f"/api/dubbing/projects/{quote(folder)}/outputs/{quote(path.name)}"
        result = MuxResult(file=path.name, kind="video", bytes=path.stat().st_size, url=url, mix=mix)
        return JSONResponse(result.model_dump(), status_code=201, headers={"Location": url})

    return await run_in_threadpool(run)


@router.post("/jobs", summary="start generating a project", status_code=202, response_model=JobStatus)
async def start(request: Request, body: StartJob) -> JSONResponse:
    """Queue a job: generate the project's lines (unchanged lines are reused), then write the track, captions
    and zip. 202 with the job and its ``Location``; poll ``GET /api/dubbing/jobs/{id}``. 404 for an unknown
    project, 409 while another job runs on it."""
    ctx = context(request)
    lang = request_language(request.headers, ctx.lang)
    registry = _registry(request)
    job = await run_in_threadpool(registry.submit, body.project, body.lines, body.force, body.build)
    return JSONResponse(JobStatus(**job.to_dict(lang)).model_dump(), status_code=202, headers={"Location": job.url})


@router.get("/jobs", summary="list dubbing jobs")
async def jobs(request: Request) -> list[JobStatus]:
    """Queued, running and recently finished jobs, oldest first."""
    lang = request_language(request.headers, context(request).lang)
    return [JobStatus(**j.to_dict(lang)) for j in _registry(request).list()]


@router.get("/jobs/{job_id}", summary="a job's status")
async def job_status(request: Request, job_id: str) -> JobStatus:
    """Status (queued, running, done, failed, cancelled), progress 0-1, the line being generated, each line's
    result and message, and the outputs once done."""
    lang = request_language(request.headers, context(request).lang)
    return JobStatus(**_registry(request).get(job_id).to_dict(lang))


async def _cancel(request: Request, job_id: str) -> JSONResponse:
    lang = request_language(request.headers, context(request).lang)
    job = _registry(request).cancel(job_id)
    return JSONResponse(JobStatus(**job.to_dict(lang)).model_dump(), status_code=202)


@router.delete("/jobs/{job_id}", summary="cancel a job", status_code=202, response_model=JobStatus)
async def delete_job(request: Request, job_id: str) -> JSONResponse:
    """Cancel: a queued job never starts; a running one stops at the model's next step. Finished lines stay
    saved, so the next job resumes the project. 202; the status turns to ``cancelled`` when it has stopped."""
    return await _cancel(request, job_id)


@router.post("/jobs/{job_id}/cancel", summary="cancel a job", status_code=202, response_model=JobStatus)
async def cancel_job(request: Request, job_id: str) -> JSONResponse:
    """The same as ``DELETE /api/dubbing/jobs/{id}``."""
    return await _cancel(request, job_id)


@router.get("/jobs/{job_id}/outputs", summary="the files a job wrote")
async def job_outputs(request: Request, job_id: str) -> list[OutputFile]:
    """The output files of the job's project, once the job is done (409 before)."""
    ctx = context(request)
    job = _registry(request).get(job_id)
    if job.status != "done":
        raise ConflictError(
            zh=f"任务 {job.id} 还没有完成（{job.status}），没有输出。",
            en=f"Job {job.id} is not done ({job.status}); it has no outputs.",
        )
    return await run_in_threadpool(
        lambda: [OutputFile(**f) for f in output_files(ctx, open_project(ctx, job.project)) if f["file"] in job.outputs]
    )


@router.get(
    "/jobs/{job_id}/outputs/{file}",
    summary="download a file a job wrote",
    response_class=FileResponse,
    responses={200: {"content": {t: {} for t in sorted(set(_MEDIA.values()))}}},
)
async def job_download(request: Request, job_id: str, file: str) -> FileResponse:
    """The same as ``GET /api/dubbing/projects/{project}/outputs/{file}`` for the job's project."""
    job = _registry(request).get(job_id)
    return await download(request, job.project, file)
