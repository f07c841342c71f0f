"""The Dubbing tab's "Re-dub a video" panel: a video's speech becomes the project in the tab's folder.

Start hands the video to a re-dub job (:mod:`studio.redub_jobs`) owned by the
project, not by this page, and returns at once; a timer polls the job of the
folder the tab shows, so a page reopened later (or another page) sees its
progress, and Stop cancels it. The stages are cached in the project's
``redub`` folder: Start again after Stop (with or without the video) goes on
where it stopped, and a run a crash interrupted is resumed when a page shows
its folder. The lines are then opened and edited in the tab's table like any project.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ..errors import InputError, StudioError
from ..progress import progress_text
from ..redub_jobs import RedubJob, registry
from .common import UiContext, escape_md, user_errors
from .i18n import t

_VIDEO_TYPES = [".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"]
POLL_S = 1.0


def redub_text(job: RedubJob, lang: str) -> str:
    """The job's state in Markdown, in ``lang``."""
    name = escape_md(job.project)
    if job.status == "queued":
        text = t("redub_job_queued", lang, project=name)
    elif job.status == "running":
        if job.cancel.cancelled:
            text = t("redub_job_stopping", lang, project=name)
        else:
            message = escape_md(progress_text(job.message, lang))
            text = t("redub_job_running", lang, project=name, percent=100 * job.progress, message=message)
    elif job.status == "cancelled":
        text = t("redub_job_cancelled", lang, project=name)
    elif job.status == "failed":
        error = job.error.message(lang) if job.error is not None else ""
        text = t("redub_job_failed", lang, project=name, error=escape_md(error))
    else:
        where = escape_md(job.folder)
        parts = [t("redub_done" if job.created else "redub_kept", lang, lines=job.lines, path=where)]
        if job.background:
            parts.append(t("redub_background", lang))
        if job.cloned is not None:
            parts.append(t("redub_cloned", lang, name=escape_md(job.cloned)))
        text = "\n\n".join(parts)
    if job.resumed and job.status not in ("done", "failed"):
        text = f"{t('redub_job_resumed', lang)}\n\n{text}"
    return text


def build_redub_panel(ctx: UiContext, lang_state: gr.State, folder: gr.Textbox, resolve_folder) -> None:
    """The panel; ``resolve_folder(value)`` confines the folder box's value (the tab's own rule)."""
    with ctx.loc(gr.Accordion(t("redub_title", "zh"), open=False), label="redub_title"):
        ctx.loc(gr.Markdown(t("redub_intro", "zh")), value="redub_intro")
        with gr.Row():
            video = ctx.loc(gr.File(label=t("redub_video", "zh"), file_types=_VIDEO_TYPES), label="redub_video")
            with gr.Column():
                language = ctx.loc(gr.Textbox(value="Auto", label=t("redub_language", "zh")), label="redub_language")
                keep = ctx.loc(gr.Checkbox(label=t("redub_keep_background", "zh")), label="redub_keep_background")
                speakers = ctx.loc(gr.Checkbox(label=t("redub_speakers", "zh")), label="redub_speakers")
                clone = ctx.loc(gr.Checkbox(label=t("redub_clone", "zh")), label="redub_clone")
                consent = ctx.loc(gr.Checkbox(label=t("redub_consent", "zh")), label="redub_consent")
        with gr.Row():
            start = ctx.loc(gr.Button(t("redub_start", "zh"), variant="primary"), value="redub_start")
            stop = ctx.loc(gr.Button(t("stop", "zh"), variant="stop"), value="stop")
        status = gr.Markdown()
    seen = gr.State(())  #: what the last poll showed (job, status, progress, message)
    timer = gr.Timer(POLL_S)

    def job_args(request: gr.Request) -> dict:
        """What a job needs from this app: the voice library, the hub mirror, the Base model for speakers."""
        from ..settings import Settings

        def embedder():
            from ..speakers import base_model_embedder

            return base_model_embedder(manager=ctx.engine.manager)

        endpoint = Settings.load().endpoint or None
        return {"library": ctx.library(request), "embedder": embedder, "endpoint": endpoint, "owner": "ui"}

    @user_errors
    def do_redub(lang, folder_value, file, spoken, keep_background, tell_speakers, clone_voice, agreed,
                 request: gr.Request):  # fmt: skip
        from ..redub_job_file import RedubOptions

        target = resolve_folder(folder_value)
        if not file:  # Start again after Stop (or a crash): the job's own copy of the video and its options
            job = registry().resume(target, **job_args(request))
            if job is None:
                raise InputError(zh=t("redub_no_video", "zh"), en=t("redub_no_video", "en"))
            return redub_text(job, lang)
        path = Path(getattr(file, "name", file))
        options = RedubOptions(
            language=spoken,
            keep_background=bool(keep_background),
            clone_voice=path.stem if clone_voice else None,
            consent=bool(agreed),
            speakers=bool(tell_speakers),
        )
        job = registry().submit(target, path, options, take="link", **job_args(request))
        return redub_text(job, lang)

    @user_errors
    def do_stop(lang, folder_value):
        jobs = registry()
        job = jobs.active_for(resolve_folder(folder_value))
        if job is None:
            return t("redub_no_job", lang)
        return redub_text(jobs.cancel(job), lang)

    def do_status(lang, folder_value, last, request: gr.Request):
        """The poll: the folder's job when it changed; resumes a run a crash left (not one a Stop left).

        Quiet about a folder still being typed (no error every second) and when nothing changed."""
        try:
            path = resolve_folder(folder_value)
            jobs = registry()
            job = jobs.latest_for(path) or jobs.resume(path, stopped=False, **job_args(request))
        except StudioError:
            return gr.update(), ()
        if job is None:
            return gr.update(), ()
        key = (job.id, job.status, round(job.progress, 2), progress_text(job.message, lang), lang)
        if key == tuple(last or ()):
            return gr.update(), key
        return redub_text(job, lang), key

    inputs = [lang_state, folder, video, language, keep, speakers, clone, consent]
    quick = {"concurrency_limit": None, "api_visibility": "undocumented"}
    start.click(do_redub, inputs, [status], api_name="redub_video", concurrency_limit=None)
    stop.click(do_stop, [lang_state, folder], [status], api_name="redub_stop", concurrency_limit=None)
    timer.tick(
        do_status, [lang_state, folder, seen], [status, seen], api_name="redub_status", show_progress="hidden", **quick
    )
