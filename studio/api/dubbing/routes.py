"""The ``/api/dubbing`` routes, with their request and response models.

Projects (create from a script or an upload, list, read, change, delete, edit a
line, listen to a take, mux a video, download outputs) are in
:mod:`studio.api.dubbing.projects`; jobs (start, status, cancel, outputs) in
:mod:`studio.api.dubbing.jobs`. The routes run the blocking work in the thread pool.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from ...errors import ConflictError, InputError, NotFoundError, StudioError
from ..context import context
from ..errors import request_language
from .jobs import job_json
from .lines import LINE_FIELDS, edit_line, find_line, line_detail
from .outputs import MEDIA_TYPES, output_file, output_files
from .projects import (
    _NAME,
    _lines_of,
    _warnings,
    create_project,
    delete_project,
    edit_project,
    mux_project,
    open_project,
    project_summary,
)

if TYPE_CHECKING:
    from ...dubbing.project import Project
    from ..context import ApiContext
    from .jobs import JobRegistry

from .models import (
    Deleted,
    DubSettingsBody,
    JobStatus,
    LineEdit,
    MuxResult,
    OutputFile,
    ProjectCreate,
    ProjectDetail,
    ProjectEdit,
    ProjectSummary,
    ScriptLine,
    StartJob,
)

router = APIRouter(prefix="/api/dubbing", tags=["Dubbing"])

SCRIPT_FORMATS = ("txt", "csv", "tsv", "yaml", "json", "srt", "vtt")


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
    from ...dubbing.scripts import decode_bytes, format_of

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
            from ...limits import load_json

            try:
                parsed = DubSettingsBody.model_validate(load_json(settings, "settings"))
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
    from ...dubbing.project import PROJECT_FILE, Project

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
    responses={200: {"content": {t: {} for t in sorted(set(MEDIA_TYPES.values()))}}},
)
async def download(request: Request, name: str, file: str) -> FileResponse:
    """One file of the project's output folder (a plain name; paths, '..' and links are refused with 400)."""
    ctx = context(request)
    path = await run_in_threadpool(lambda: output_file(open_project(ctx, name), file))
    return FileResponse(
        path, media_type=MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream"), filename=path.name
    )


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
    from ...dubbing.runner import take_path

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
    file: Annotated[
        UploadFile | None,
        File(
            description="the video (mp4, mov, mkv, ...); up to the server's body limit. Leave it out for a project "
            "re-dubbed from a video: its own video is used"
        ),
    ] = None,
    mix: Annotated[
        str,
        Form(
            description="original audio: duck (lowered under the dub), keep (full level), replace (dropped), "
            "background (the separated music and effects of a re-dub with the background kept)"
        ),
    ] = "duck",
    duck_db: Annotated[float, Form(ge=-60.0, le=0.0, description="duck: how far the original is lowered, dB")] = -14.0,
) -> MuxResult:
    """A copy of the video with the project's track as its sound (the picture is copied, not re-encoded), written
    to the project's outputs as ``<video>-dubbed.<ext>``. 201 with its download URL. 409 while a job runs on
    the project or before a job has written the track; 400 for a file that is not a video."""
    ctx = context(request)

    def run() -> JSONResponse:
        upload = None if file is None else file.file
        path = mux_project(ctx, name, upload, (file.filename if file else None) or "video.mp4", mix, duck_db)
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
    data = job_json(job, lang)
    return JSONResponse(JobStatus(**data).model_dump(), status_code=202, headers={"Location": data["url"]})


@router.get("/jobs", summary="list dubbing jobs")
async def jobs(request: Request) -> list[JobStatus]:
    """Queued, running and recently finished jobs, oldest first."""
    lang = request_language(request.headers, context(request).lang)
    return [JobStatus(**job_json(j, lang)) for j in _registry(request).list()]


@router.get("/jobs/{job_id}", summary="a job's status")
async def job_status(request: Request, job_id: str) -> JobStatus:
    """Status (queued, running, done, failed, cancelled), progress 0-1, the line being generated, each line's
    result and message, and the outputs once done."""
    lang = request_language(request.headers, context(request).lang)
    return JobStatus(**job_json(_registry(request).get(job_id), lang))


async def _cancel(request: Request, job_id: str) -> JSONResponse:
    lang = request_language(request.headers, context(request).lang)
    job = _registry(request).cancel(job_id)
    return JSONResponse(JobStatus(**job_json(job, lang)).model_dump(), status_code=202)


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
    responses={200: {"content": {t: {} for t in sorted(set(MEDIA_TYPES.values()))}}},
)
async def job_download(request: Request, job_id: str, file: str) -> FileResponse:
    """The same as ``GET /api/dubbing/projects/{project}/outputs/{file}`` for the job's project."""
    job = _registry(request).get(job_id)
    return await download(request, job.project, file)
