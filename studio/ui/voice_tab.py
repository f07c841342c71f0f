"""The Voice tab: record or upload a reference, check and trim it, save it to the voice library, manage voices."""

from __future__ import annotations

import gradio as gr
import numpy as np

from .. import asr
from ..audio import Audio, load_audio
from ..errors import InputError, StudioError
from ..reference import IDEAL_MAX_S, best_window, detect_speech, prepare_reference, quality_report
from .alias_panel import build_alias_panel
from .common import UiContext, audio_output, escape_md, user_errors
from .files import scratch_folder
from .i18n import t
from .i18n_tables import columns

_LEVEL_ICON = {"error": "❌", "warning": "⚠️", "ok": "✅"}


def waveform_image(audio: Audio, regions: list[tuple[float, float]], window: tuple[float, float] | None):
    """A small PNG-ready picture: the waveform, detected speech in green, the proposed window outlined in blue."""
    from PIL import Image, ImageDraw

    width, height = 900, 140
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    seconds = max(audio.seconds, 1e-6)

    def x(s: float) -> int:
        return round(s / seconds * (width - 1))

    for start, end in regions:
        draw.rectangle([x(start), 0, x(end), height], fill=(214, 245, 214))
    samples = audio.samples
    edges = np.linspace(0, len(samples), width + 1).astype(int)
    mid = height // 2
    for i in range(width):
        chunk = samples[edges[i] : max(edges[i + 1], edges[i] + 1)]
        peak = float(np.max(np.abs(chunk))) if chunk.size else 0.0
        draw.line([i, mid - peak * (mid - 4), i, mid + peak * (mid - 4)], fill=(60, 60, 60))
    if window is not None:
        draw.rectangle([x(window[0]), 1, x(window[1]), height - 2], outline=(30, 90, 220), width=3)
    return image


def analyse_clip(path: str, lang: str) -> tuple[object, str, float, float]:
    """Waveform picture, quality report (markdown) and the proposed start/end of a reference recording."""
    audio = load_audio(path)
    regions = detect_speech(audio)
    report = quality_report(audio, regions)
    if regions:
        window = best_window(audio, regions) if audio.seconds > IDEAL_MAX_S else None
        start, end = window or (max(0.0, regions[0][0] - 0.1), min(audio.seconds, regions[-1][1] + 0.1))
    else:
        window, start, end = None, 0.0, audio.seconds
    lines = [
        t(
            "quality_summary",
            lang,
            duration=report.duration_s,
            speech=report.speech_s,
            ratio=report.speech_ratio * 100,
            snr=report.snr_db,
            clipping=report.clipping_ratio * 100,
            sr=report.sample_rate,
            lufs=report.loudness_lufs if report.loudness_lufs is not None else float("nan"),
        )
    ]
    lines += [f"- {_LEVEL_ICON.get(f.level, '')} {f.message(lang)}" for f in report.findings]
    if window is not None:
        lines.append(t("window_proposed", lang, start=window[0], end=window[1]))
    return waveform_image(audio, regions, (start, end)), "\n".join(lines), round(start, 2), round(end, 2)


def trimmed_reference(path: str, start: float, end: float):
    """The recording cut to ``start``-``end`` seconds and prepared (silence trimmed, loudness, 24 kHz)."""
    audio = load_audio(path)
    start, end = float(start or 0.0), float(end or audio.seconds)
    if not 0 <= start < end <= audio.seconds + 1e-3:
        raise InputError(
            zh=f"裁剪范围无效：{start:.2f}-{end:.2f} 秒（录音共 {audio.seconds:.2f} 秒）。开始必须小于结束。",
            en=f"Invalid trim range {start:.2f}-{end:.2f} s (the recording is {audio.seconds:.2f} s); "
            "start must be before end.",
        )
    cut = Audio(audio.samples[int(start * audio.sr) : int(end * audio.sr)], audio.sr)
    return prepare_reference(cut, window=False)


def library_rows(library, query: str = "") -> list[list]:
    """A voice library as table rows; ``query`` filters by name, tag, notes or transcript."""
    return [
        [
            v.name,
            v.language,
            ", ".join(c.tag for c in v.clips),
            v.transcript[:60],
            v.consent.date[:10] if v.consent.confirmed else "",
            v.updated[:10],
        ]
        for v in library.list(query=(query or "").strip() or None)
    ]


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
