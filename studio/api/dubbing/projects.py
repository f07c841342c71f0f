"""Dubbing projects on disk, as the API creates, reads and changes them.

A project lives in its own folder under the server's projects folder (the
Dubbing tab's ``outputs/dubbing/<name>``), so the UI and the CLI can open what
the API made and the other way round; the files a job writes go into
``<project>/outputs``.

What the Dubbing tab does to a project (one line at a time: :mod:`.lines`; output files:
:mod:`.outputs`) is here too: edit a line (text, speaker, emotion, timing; validated by
:func:`studio.dubbing.checks.check_line`), lock it, choose one of its takes
(:func:`studio.dubbing.runner.choose_take`); change the speaker-to-voice
mapping and settings; delete a project; mux the track into an uploaded video
(:func:`studio.dubbing.mux.mux`). Each of these holds the project
(:meth:`studio.api.dubbing.jobs.JobRegistry.hold`): it is refused with 409
while a job is queued or runs on the project, and no job starts on it until the
change is done. An edit changes the line's content hash when it changes its
audio (text, voice, emotion), so the next job regenerates that line only.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import BusyError, ConflictError, InputError, NotFoundError, StudioError
from ..context import parse_language
from .outputs import output_files

if TYPE_CHECKING:
    from ...dubbing.project import Project
    from ..context import ApiContext
    from .models import DubSettingsBody

log = logging.getLogger(__name__)

_NAME = re.compile(r"\w[\w .\-]{0,79}")


# -- projects on disk ------------------------------------------------------------------------------


def project_path(ctx: ApiContext, name: str) -> Path:
    """The folder of the project called ``name``: a plain name (letters, digits, space, ``.``, ``-``, ``_``)."""
    from ...dubbing.project import project_folder

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
    from ...dubbing.project import PROJECT_FILE, Project

    folder = project_path(ctx, name)
    if not (folder / PROJECT_FILE).is_file():
        raise NotFoundError(
            zh=f"没有名为 “{name}” 的配音项目（GET /api/dubbing/projects 列出全部）。",
            en=f"No dubbing project called '{name}' (GET /api/dubbing/projects lists them).",
            param="project",
        )
    return Project.load(folder)


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
            "pause_after": line.pause_after,
            "locked": line.locked,
            "takes": len(line.takes),
            "chosen": line.chosen,
            "seconds": line.take.seconds if line.take is not None else None,
        }
        for i, line in enumerate(project.lines)
    ]


def project_summary(ctx: ApiContext, project: Project) -> dict:
    """What the project listing shows of ``project``."""
    from ...dubbing.runner import take_path

    assert project.folder is not None
    ready = 0
    for line in project.lines:
        path = take_path(project, line)
        ready += bool(path is not None and path.is_file())
    from ...dubbing.lock import interrupted, running_elsewhere

    job = ctx.jobs.active_for(project.folder) if ctx.jobs is not None else None
    other = running_elsewhere(project.folder) if job is None else None
    left = interrupted(project.folder)
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
        "generating_process": other.get("pid") if other is not None else None,
        "interrupted_lines": len(left["pending"]) if left is not None else None,
        "outputs": [f["file"] for f in output_files(ctx, project)],
    }


# -- creating projects -----------------------------------------------------------------------------


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
    for attr in ("check_takes", "word_captions", "retakes"):
        if attr in given and (attr != "retakes" or body.retakes is not None):
            setattr(s, attr, getattr(body, attr))
    if body.language is not None:
        s.language = parse_language(body.language)
    for attr, kind in (("model_base", "base"), ("model_custom", "custom_voice"), ("model_design", "voice_design")):
        value = getattr(body, attr)
        if value is not None:
            setattr(s, attr, ctx.model_for(kind, value, True) if value.strip() else "")


def _check_voice(spec: str, where: str) -> str:
    from ...dubbing.project import parse_voice

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
    from ...dubbing.project import PROJECT_FILE, Project
    from ...dubbing.scripts import parse_script
    from ...dubbing.timeline import check_slots, mode_of

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
    from ...dubbing.runner import resolve_voice

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
    from ...dubbing.runner import project_lock

    folder = project_path(ctx, name)
    with _holding(ctx, folder):
        project = open_project(ctx, name)
        try:
            with project_lock(project):  # the Dubbing tab or the CLI may be generating it
                yield project
        except BusyError as exc:
            raise ConflictError(zh=exc.zh, en=exc.en, param="name") from None


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
    from ...dubbing.runner import project_lock

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
    """Put the project's track into a copy of the uploaded video (none: the re-dubbed one); the new file in the
    project's outputs folder.

    409 while a job runs or when no job has written the track yet. The upload is copied into its own folder in
    the server's upload area and removed afterwards, whatever happens.
    """
    from ...dubbing.outputs import safe_stem
    from ...dubbing.service import built_track, dub_into_video

    with _changing(ctx, name) as project:
        built_track(project)  # before the upload is copied
        if upload is None:
            return dub_into_video(project, None, mix, duck_db)
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
            return dub_into_video(project, video, mix, duck_db)
        finally:
            shutil.rmtree(area, ignore_errors=True)
