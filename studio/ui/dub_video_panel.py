"""The Dubbing tab's "Put the dub into the video" panel: the built track in a copy of the video.

The work is :func:`studio.dubbing.service.dub_into_video` (ffmpeg copies the
picture and encodes the sound, so it takes seconds to minutes); it reports
ffmpeg's position and stops on Stop, leaving no half-written file. A project
re-dubbed from a video uses the video kept in its ``redub/input``.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ..dubbing.mux import MUX_MODES
from .common import UiContext, escape_md, gradio_progress, user_errors
from .i18n import t

_VIDEO_TYPES = [".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"]


def _mode_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(f"mix_{mode}", lang), mode) for mode in MUX_MODES]


def build_dub_video_panel(ctx: UiContext, lang_state: gr.State, folder: gr.Textbox, open_project) -> None:
    """The panel; ``open_project(folder_value)`` opens the tab's project (confined like the tab's own folder)."""
    with ctx.loc(gr.Accordion(t("dub_video_title", "zh"), open=False), label="dub_video_title"):
        ctx.loc(gr.Markdown(t("dub_video_intro", "zh")), value="dub_video_intro")
        with gr.Row():
            video = ctx.loc(gr.File(label=t("dub_video_file", "zh"), file_types=_VIDEO_TYPES), label="dub_video_file")
            with gr.Column():
                mode = ctx.loc(
                    gr.Radio(_mode_choices("zh"), value="duck", label=t("dub_video_mode", "zh")),
                    label="dub_video_mode",
                    choices=_mode_choices,
                )
                duck = ctx.loc(
                    gr.Slider(-60.0, 0.0, value=-14.0, step=1.0, label=t("dub_video_duck", "zh")),
                    label="dub_video_duck",
                )
        with gr.Row():
            start = ctx.loc(gr.Button(t("dub_video_start", "zh"), variant="primary"), value="dub_video_start")
            stop = ctx.loc(gr.Button(t("stop", "zh"), variant="stop"), value="stop")
        result = ctx.loc(gr.File(label=t("dub_video_result", "zh"), interactive=False), label="dub_video_result")
        status = gr.Markdown()

    @user_errors
    def do_mux(lang, folder_value, file, mode_value, duck_db, request: gr.Request, progress=gr.Progress()):
        from ..dubbing.jobs import registry
        from ..dubbing.service import dub_into_video

        project = open_project(folder_value)
        chosen = Path(getattr(file, "name", file)) if file else None
        with registry().hold(project.folder):  # no generation rewrites the track meanwhile
            path = dub_into_video(
                project,
                chosen,
                mode_value or "duck",
                float(duck_db),
                progress=gradio_progress(progress, lang),
                cancel=ctx.cancel_token(request),
            )
        label = t(f"mix_{mode_value or 'duck'}", lang)
        return str(path), t("dub_video_done", lang, name=escape_md(path.name), mode=label)

    def do_stop(request: gr.Request):
        ctx.cancel(request)

    inputs = [lang_state, folder, video, mode, duck]
    start.click(do_mux, inputs, [result, status], api_name="dub_video", concurrency_limit=1)
    stop.click(do_stop, None, None, api_name="dub_video_stop", concurrency_limit=None)
