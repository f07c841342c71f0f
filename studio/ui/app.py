"""Assemble the Blocks app from its tabs, and launch it."""

from __future__ import annotations

import logging
from collections.abc import Callable

import gradio as gr

from .. import space_mode as space
from .. import startup
from ..engine import Engine
from ..quiet import quiet_library_warnings
from .common import UiContext, user_errors
from .dubbing_tab import build_dubbing_tab
from .files import StudioBlocks
from .generate_tabs import build_clone_tab, build_custom_tab, build_design_tab
from .i18n import LANG_CHOICES, t
from .models_tab import _runtime, _table, build_models_tab
from .takes_tab import build_takes_tab, take_rows
from .train_tab import build_train_tab
from .voice_lists import VoiceLists, wire_voice_lists
from .voice_tab import build_voice_tab, library_rows

log = logging.getLogger(__name__)

#: Requests waiting beyond this are refused with a "queue full" message.
QUEUE_SIZE = 32


def build_api_switch(ctx: UiContext, lang_state: gr.State, serve_api: Callable) -> None:
    """Start or stop the HTTP API (GPT-SoVITS / OpenAI compatible) beside the UI, on this computer only.

    ``serve_api(engine, host, port)`` starts it in the background (the launcher hands in
    :func:`studio.api.serve_in_thread`: the UI does not import the HTTP adapter).
    """
    with gr.Row():
        port = ctx.loc(gr.Number(value=9880, precision=0, label=t("api_port", "zh"), scale=0), label="api_port")
        switch = ctx.loc(gr.Checkbox(label=t("api_switch", "zh")), label="api_switch")
    status = gr.Markdown()
    running: dict = {}

    @user_errors
    def toggle(lang, on, number):
        if running.get("server") is not None:
            running.pop("server").stop()
        if not on:
            return t("api_stopped", lang)
        try:
            running["server"] = serve_api(ctx.engine, "127.0.0.1", int(number))
        except (OSError, RuntimeError, SystemExit) as exc:
            log.warning("could not start the HTTP API on port %s", number, exc_info=True)
            raise gr.Error(t("api_failed", lang, port=int(number)), print_exception=False) from exc
        return t("api_running", lang, url=running["server"].url)

    switch.input(toggle, [lang_state, switch, port], [status], api_visibility="private")


def build_app(engine: Engine | None = None, serve_api: Callable | None = None) -> gr.Blocks:
    """Build the studio's Blocks app over ``engine`` (a new one if None). Loads no model.

    ``serve_api`` (see :func:`build_api_switch`) adds the switch that serves the HTTP API beside the UI.
    """
    quiet_library_warnings()
    ctx = UiContext(engine or Engine())
    default_lang = (
        ctx.engine.manager.settings.language if ctx.engine.manager.settings.language in ("zh", "en") else "zh"
    )
    with StudioBlocks(title="Qwen Voice Studio", analytics_enabled=False) as demo:
        lang_state = gr.State(default_lang)
        demo.language_state, demo.default_language = lang_state, default_lang
        with gr.Row():
            ctx.loc(gr.Markdown(t("title", "zh")), value="title")
            switch = ctx.loc(
                gr.Radio(LANG_CHOICES, value=default_lang, label=t("ui_language", "zh"), scale=0), label="ui_language"
            )
        ctx.loc(gr.Markdown(t("lawful_use", "zh")), value="lawful_use")
        first_run = gr.Markdown(visible=False)
        with gr.Tabs():
            with ctx.loc(gr.Tab(t("tab_clone", "zh")), label="tab_clone") as clone_tab:
                clone_voice = build_clone_tab(ctx, lang_state)
            with ctx.loc(gr.Tab(t("tab_voices", "zh")), label="tab_voices") as voices_tab:
                voice_table = build_voice_tab(ctx, lang_state)
            with ctx.loc(gr.Tab(t("tab_custom", "zh")), label="tab_custom") as custom_tab:
                custom_model, custom_speaker = build_custom_tab(ctx, lang_state)
            with ctx.loc(gr.Tab(t("tab_design", "zh")), label="tab_design"):
                build_design_tab(ctx, lang_state)
            with ctx.loc(gr.Tab(t("tab_takes", "zh")), label="tab_takes"):
                takes_table = build_takes_tab(ctx, lang_state)
            with ctx.loc(gr.Tab(t("tab_dubbing", "zh")), label="tab_dubbing"):
                build_dubbing_tab(ctx, lang_state)
            with ctx.loc(gr.Tab(t("tab_train", "zh")), label="tab_train"):
                trained = build_train_tab(ctx, lang_state)
            with ctx.loc(gr.Tab(t("tab_models", "zh")), label="tab_models"):
                table, runtime = build_models_tab(ctx, lang_state)
                if not space.enabled() and serve_api is not None:
                    build_api_switch(ctx, lang_state, serve_api)
                    logs = ctx.loc(gr.Button(t("open_logs", "zh"), size="sm"), value="open_logs")
                    logs_message = gr.Markdown()
                    logs.click(
                        startup.open_logs_folder, [lang_state], [logs_message], api_visibility="private", queue=False
                    )

        lists = VoiceLists(clone_voice, custom_model, custom_speaker, voice_table)
        triggers = [clone_tab.select, custom_tab.select, voices_tab.select, trained.change]
        wire_voice_lists(ctx, lang_state, lists, triggers)  # a voice trained or saved meanwhile shows up

        def switch_language(lang):
            # The first-run banner follows the language too (its text is built, not a catalogue key).
            return [lang, *ctx.loc.updates(lang), gr.update(value=startup.first_run_markdown(lang))]

        switch.change(
            switch_language,
            [switch],
            [lang_state, *ctx.loc.components, first_run],
            api_name="set_language",
            queue=False,
        )
        demo.load(
            lambda lang: (_table(ctx, lang), _runtime(ctx, lang)),
            [lang_state],
            [table, runtime],
            api_visibility="private",
        )

        def fill_library(request: gr.Request):
            return library_rows(ctx.library(request))

        demo.load(fill_library, None, [voice_table], api_visibility="private")

        def fill_takes(request: gr.Request):
            return take_rows(ctx.takes(request))

        demo.load(fill_takes, None, [takes_table], api_visibility="private")
        demo.load(
            lambda lang: gr.update(value=startup.first_run_markdown(lang), visible=startup.needs_first_run()),
            [lang_state],
            [first_run],
            api_visibility="private",
        )
        if default_lang != "zh":
            demo.load(switch_language, [switch], [lang_state, *ctx.loc.components, first_run], api_visibility="private")
    demo.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE)
    return demo
