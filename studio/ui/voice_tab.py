"""The Voice tab: record or upload a reference, check and trim it, save it to the voice library, manage voices."""

from __future__ import annotations

import gradio as gr
import numpy as np

from .. import asr
from ..audio import Audio, load_audio
from ..errors import InputError, StudioError
from .alias_panel import build_alias_panel
from .clip_views import (  # noqa: F401  (the plain helpers behind this tab, re-exported)
    analyse_clip,
    library_rows,
    trimmed_reference,
    waveform_image,
)
from .common import UiContext, audio_output, escape_md, user_errors
from .files import scratch_folder
from .i18n import t
from .i18n_tables import columns


def build_voice_tab(ctx: UiContext, lang_state: gr.State) -> gr.Dataframe:
    """Record/upload -> check -> trim -> save; and the library's list, rename, delete, restore, export, import.

    Returns the library table, for the app to fill when a page loads.
    """
    with gr.Row():
        with gr.Column():
            recording = ctx.loc(
                gr.Audio(label=t("ref_audio", "zh"), type="filepath", sources=["upload", "microphone"]),
                label="ref_audio",
            )
            analyse = ctx.loc(gr.Button(t("analyse_clip", "zh")), value="analyse_clip")
            picture = ctx.loc(gr.Image(label=t("waveform", "zh"), interactive=False, height=160), label="waveform")
            report = gr.Markdown()
            with gr.Row():
                start = ctx.loc(gr.Number(value=0.0, label=t("trim_start", "zh")), label="trim_start")
                end = ctx.loc(gr.Number(value=0.0, label=t("trim_end", "zh")), label="trim_end")
            apply_trim = ctx.loc(gr.Button(t("apply_trim", "zh"), size="sm"), value="apply_trim")
            preview = ctx.loc(gr.Audio(label=t("kept_clip", "zh"), interactive=False), label="kept_clip")
        with gr.Column():
            name = ctx.loc(gr.Textbox(label=t("voice_name", "zh")), label="voice_name")
            recogniser = asr.status()
            asr_key = "asr_ready" if recogniser.available else "asr_missing"
            transcript = ctx.loc(
                gr.Textbox(label=t("ref_text", "zh"), lines=2, info=t(asr_key, "zh")),
                label="ref_text",
                info=asr_key,
            )
            fill = ctx.loc(
                gr.Button(t("asr_fill", "zh"), size="sm", interactive=recogniser.available), value="asr_fill"
            )
            with gr.Row():
                language = ctx.loc(gr.Textbox(value="auto", label=t("language", "zh")), label="language")
                tags = ctx.loc(gr.Textbox(label=t("voice_tags", "zh")), label="voice_tags")
            consent = ctx.loc(gr.Checkbox(label=t("consent", "zh")), label="consent")
            save = ctx.loc(gr.Button(t("save_voice", "zh"), variant="primary"), value="save_voice")
            clip_tag = ctx.loc(gr.Textbox(label=t("clip_tag", "zh"), placeholder="happy"), label="clip_tag")
            add_clip = ctx.loc(gr.Button(t("add_clip", "zh"), size="sm"), value="add_clip")
            status = gr.Markdown()
    with ctx.loc(gr.Accordion(t("library", "zh"), open=True), label="library"):
        search = ctx.loc(gr.Textbox(label=t("search_voices", "zh")), label="search_voices")
        voice_columns = ("col_name", "col_language", "col_clips", "col_transcript", "col_consent", "col_updated")
        table = ctx.loc(
            gr.Dataframe(headers=columns(voice_columns, "zh"), interactive=False, wrap=True), headers=voice_columns
        )
        with gr.Row():
            chosen = ctx.loc(gr.Textbox(label=t("voice_name", "zh")), label="voice_name")
            new_name = ctx.loc(gr.Textbox(label=t("new_name", "zh")), label="new_name")
        with gr.Row():
            rename = ctx.loc(gr.Button(t("rename", "zh"), size="sm"), value="rename")
            duplicate = ctx.loc(gr.Button(t("duplicate", "zh"), size="sm"), value="duplicate")
            delete = ctx.loc(gr.Button(t("delete_voice", "zh"), size="sm", variant="stop"), value="delete_voice")
            restore = ctx.loc(gr.Button(t("restore", "zh"), size="sm"), value="restore")
            export = ctx.loc(gr.Button(t("export_voice", "zh"), size="sm"), value="export_voice")
        voice_preview = ctx.loc(gr.Audio(label=t("voice_preview", "zh"), interactive=False), label="voice_preview")
        archive = ctx.loc(gr.File(label=t("voice_archive", "zh"), file_types=[".zip"]), label="voice_archive")
        import_button = ctx.loc(gr.Button(t("import_voice", "zh"), size="sm"), value="import_voice")
    build_alias_panel(ctx, lang_state, chosen, status, table, library_rows)
    prepared = gr.State(None)

    @user_errors
    def on_analyse(lang, path):
        if not path:
            raise gr.Error(t("need_ref", lang))
        return (*analyse_clip(path, lang), None)

    @user_errors
    def on_trim(lang, path, s, e):
        if not path:
            raise gr.Error(t("need_ref", lang))
        ref = trimmed_reference(path, s, e)
        return audio_output(ref.audio.samples, ref.audio.sr), (ref.audio.samples, ref.audio.sr)

    def _clip(path, kept):
        if kept is not None:
            samples, sr = kept
            return Audio(np.asarray(samples, dtype=np.float32), int(sr))
        if not path:
            raise InputError(zh="请先上传或录制一段参考音频。", en="Upload or record a reference clip first.")
        return path

    @user_errors
    def on_save(lang, path, kept, voice_name, text, lang_code, tag_text, agreed, request: gr.Request = None):
        library = ctx.library(request)
        voice = library.create(
            voice_name,
            _clip(path, kept),
            text,
            language=lang_code or "auto",
            tags=[s.strip() for s in (tag_text or "").split(",") if s.strip()],
            consent=bool(agreed),
        )
        return t("voice_saved", lang, name=escape_md(voice.name)), library_rows(library)

    @user_errors
    def on_add_clip(lang, path, kept, voice_name, text, tag, request: gr.Request = None):
        library = ctx.library(request)
        voice = library.add_clip(voice_name, _clip(path, kept), tag, text)
        return t(
            "clip_added", lang, name=escape_md(voice.name), tags=escape_md(", ".join(c.tag for c in voice.clips))
        ), library_rows(library)

    @user_errors
    def on_rename(lang, old, new, request: gr.Request = None):
        library = ctx.library(request)
        voice = library.rename(old, new)
        return t("voice_renamed", lang, name=escape_md(voice.name)), library_rows(library)

    @user_errors
    def on_duplicate(lang, old, new, request: gr.Request = None):
        library = ctx.library(request)
        voice = library.duplicate(old, new)
        return t("voice_saved", lang, name=escape_md(voice.name)), library_rows(library)

    def on_preview(voice_name, request: gr.Request = None):
        try:
            library = ctx.library(request)
            audio = load_audio(library.clip_path(voice_name))
        except StudioError:
            return None
        return audio_output(audio.samples, audio.sr)

    @user_errors
    def on_search(lang, query, request: gr.Request = None):
        return library_rows(ctx.library(request), query)

    @user_errors
    def on_delete(lang, voice_name, request: gr.Request = None):
        library = ctx.library(request)
        library.delete(voice_name)
        return t("voice_deleted", lang, name=escape_md(voice_name)), library_rows(library)

    @user_errors
    def on_restore(lang, voice_name, request: gr.Request = None):
        library = ctx.library(request)
        voice = library.restore(voice_name)
        return t("voice_restored", lang, name=escape_md(voice.name)), library_rows(library)

    @user_errors
    def on_export(lang, voice_name, request: gr.Request = None):
        library = ctx.library(request)
        folder = scratch_folder(request, "voice-export-")
        return str(library.export(voice_name, folder / f"{library.get(voice_name).slug}.zip"))

    @user_errors
    def on_import(lang, upload, as_name, request: gr.Request = None):
        if not upload:
            raise gr.Error(t("need_archive", lang))
        library = ctx.library(request)
        voice = library.import_(upload, name=(as_name or "").strip() or None)
        return t("voice_imported", lang, name=escape_md(voice.name)), library_rows(library)

    def on_select(evt: gr.SelectData, rows):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        try:
            return rows.iloc[row, 0] if hasattr(rows, "iloc") else rows[row][0]
        except (IndexError, KeyError, StudioError):
            return gr.update()

    @user_errors
    def on_fill(lang, path):
        if not path:
            raise gr.Error(t("need_ref", lang))
        return asr.transcribe(path)

    private = {"api_visibility": "private"}
    fill.click(on_fill, [lang_state, recording], [transcript], **private)
    analyse.click(on_analyse, [lang_state, recording], [picture, report, start, end, prepared], **private)
    recording.change(lambda: None, None, [prepared], **private)
    apply_trim.click(on_trim, [lang_state, recording, start, end], [preview, prepared], **private)
    save.click(
        on_save,
        [lang_state, recording, prepared, name, transcript, language, tags, consent],
        [status, table],
        api_name="save_voice",
    )
    add_clip.click(
        on_add_clip, [lang_state, recording, prepared, name, transcript, clip_tag], [status, table], **private
    )
    duplicate.click(on_duplicate, [lang_state, chosen, new_name], [status, table], **private)
    search.change(on_search, [lang_state, search], [table], **private)
    chosen.change(on_preview, [chosen], [voice_preview], **private)
    rename.click(on_rename, [lang_state, chosen, new_name], [status, table], **private)
    delete.click(on_delete, [lang_state, chosen], [status, table], api_name="delete_voice")
    restore.click(on_restore, [lang_state, chosen], [status, table], **private)
    export.click(on_export, [lang_state, chosen], [archive], **private)
    import_button.click(on_import, [lang_state, archive, new_name], [status, table], **private)
    table.select(on_select, [table], [chosen], **private)
    return table
