"""The Voices tab's panel for aliases and importing a GPT-SoVITS client's config."""

from __future__ import annotations

import gradio as gr

from ..gsv_config import import_gsv_config
from .common import UiContext, escape_md, user_errors
from .i18n import t


def alias_text(library, voice_name: str, lang: str) -> str:
    """Markdown listing the aliases of ``voice_name`` ("" when there is no such voice)."""
    if not (voice_name or "").strip() or not library.exists(voice_name):
        return ""
    voice = library.get(voice_name)
    listed = "; ".join(escape_md(a) for a in voice.aliases) or t("no_aliases", lang)
    return t("aliases_of", lang, name=escape_md(voice.name), aliases=listed)


def build_alias_panel(ctx: UiContext, lang_state: gr.State, chosen, status, table, rows) -> None:
    """Alias add/remove for the chosen voice, and "import from a GPT-SoVITS config".

    ``rows(library)`` gives the library table's rows after a change.
    """
    with ctx.loc(gr.Accordion(t("aliases_panel", "zh"), open=False), label="aliases_panel"):
        ctx.loc(gr.Markdown(t("aliases_intro", "zh")), value="aliases_intro")
        listing = gr.Markdown()
        alias = ctx.loc(gr.Textbox(label=t("alias", "zh"), max_length=260), label="alias")
        with gr.Row():
            add = ctx.loc(gr.Button(t("add_alias", "zh"), size="sm"), value="add_alias")
            remove = ctx.loc(gr.Button(t("remove_alias", "zh"), size="sm"), value="remove_alias")
        with gr.Row():
            config = ctx.loc(
                gr.File(label=t("gsv_config", "zh"), file_types=[".yaml", ".yml", ".py"]), label="gsv_config"
            )
            audio = ctx.loc(
                gr.Audio(label=t("gsv_audio", "zh"), type="filepath", sources=["upload"]), label="gsv_audio"
            )
        with gr.Row():
            block = ctx.loc(gr.Textbox(label=t("gsv_block", "zh")), label="gsv_block")
            new_name = ctx.loc(gr.Textbox(label=t("voice_name", "zh")), label="voice_name")
        to_chosen = ctx.loc(gr.Checkbox(label=t("gsv_to_chosen", "zh")), label="gsv_to_chosen")
        agreed = ctx.loc(gr.Checkbox(label=t("consent", "zh")), label="consent")
        run = ctx.loc(gr.Button(t("gsv_import", "zh"), variant="primary"), value="gsv_import")

    @user_errors
    def on_add(lang, voice_name, text, request: gr.Request = None):
        library = ctx.library(request)
        voice = library.add_alias(voice_name, text)
        return alias_text(library, voice.name, lang), ""

    @user_errors
    def on_remove(lang, voice_name, text, request: gr.Request = None):
        library = ctx.library(request)
        voice = library.remove_alias(voice_name, text)
        return alias_text(library, voice.name, lang), ""

    @user_errors
    def on_import(lang, upload, clip, block_name, name, into_chosen, consent, voice_name, request: gr.Request = None):
        if not upload:
            raise gr.Error(t("need_config", lang))
        library = ctx.library(request)
        done = import_gsv_config(
            library,
            upload,
            block=(block_name or "").strip() or None,
            audio=clip or None,
            name=(name or "").strip() or None,
            voice=voice_name if into_chosen else None,
            consent=bool(consent),
            search_local=False,  # the page may serve others: never open a path a config names
        )
        key = "gsv_created" if done.created else "gsv_aliased"
        text = escape_md(done.reference.prompt_text) or t("no_aliases", lang)
        message = t(key, lang, name=escape_md(done.voice), alias=escape_md(done.alias), text=text)
        return message, rows(library), done.voice, alias_text(library, done.voice, lang)

    def on_chosen(lang, voice_name, request: gr.Request = None):
        return alias_text(ctx.library(request), voice_name, lang)

    private = {"api_visibility": "private"}
    add.click(on_add, [lang_state, chosen, alias], [listing, alias], api_name="add_alias")
    remove.click(on_remove, [lang_state, chosen, alias], [listing, alias], api_name="remove_alias")
    run.click(
        on_import,
        [lang_state, config, audio, block, new_name, to_chosen, agreed, chosen],
        [status, table, chosen, listing],
        api_name="import_gsv_config",
    )
    chosen.change(on_chosen, [lang_state, chosen], [listing], **private)
