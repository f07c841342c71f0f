"""The Dubbing tab's "Re-dub a video" panel: a video's speech becomes the project in the tab's folder.

The work is :func:`studio.redub.create_project` (transcription, and optionally
separation, cloning and speakers), cached in the project's ``redub`` folder, so
Stop followed by a new start resumes. The lines are then opened and edited in
the tab's table like any project.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ..errors import InputError
from .common import UiContext, escape_md, gradio_progress, user_errors
from .i18n import t

_VIDEO_TYPES = [".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"]


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

    @user_errors
    def do_redub(lang, folder_value, file, spoken, keep_background, tell_speakers, clone_voice, agreed,
                 request: gr.Request, progress=gr.Progress()):  # fmt: skip
        from ..redub import create_project
        from ..settings import Settings

        if not file:
            raise InputError(zh=t("redub_no_video", "zh"), en=t("redub_no_video", "en"))
        path = Path(getattr(file, "name", file))
        target = resolve_folder(folder_value)
        cancel = ctx.cancel_token(request)
        embedder = None
        if tell_speakers:
            from ..speakers import base_model_embedder

            def embedder():
                return base_model_embedder(manager=ctx.engine.manager)

        result = create_project(
            path,
            target,
            language=spoken,
            endpoint=Settings.load().endpoint or None,
            progress=gradio_progress(progress, lang),
            cancel=cancel,
            keep_background=bool(keep_background),
            clone_voice=path.stem if clone_voice else None,
            consent=bool(agreed),
            library=ctx.library(request),
            speakers=embedder,
        )
        where = escape_md(result.project.folder)
        parts = [t("redub_done" if result.created else "redub_kept", lang, lines=len(result.project.lines), path=where)]
        if result.separation is not None:
            parts.append(t("redub_background", lang))
        if result.cloned is not None:
            parts.append(t("redub_cloned", lang, name=escape_md(result.cloned.name)))
        return "\n\n".join(parts)

    def do_stop(request: gr.Request):
        ctx.cancel(request)

    inputs = [lang_state, folder, video, language, keep, speakers, clone, consent]
    start.click(do_redub, inputs, [status], api_name="redub_video", concurrency_limit=1)
    stop.click(do_stop, None, None, api_name="redub_stop", concurrency_limit=None)
