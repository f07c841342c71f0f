"""The Takes tab: every generation kept; replay, compare, star, delete, download in any format, regenerate."""

from __future__ import annotations

import gradio as gr

from ..audio import load_audio
from ..errors import InputError, StudioError
from ..export import FORMATS, SAMPLE_RATES, Tags, export_audio
from .common import UiContext, audio_output, engine_waiters, gradio_progress, result_markdown, user_errors
from .controls import sampling_from
from .files import scratch_folder
from .i18n import t
from .i18n_tables import columns

HEADERS = ["id", "time", "kind", "voice", "text", "seconds", "seed", "★"]
_COLUMNS = ("col_id", "col_time", "col_kind", "col_voice", "col_text", "col_seconds", "col_seed", "col_star")


def take_rows(history) -> list[list]:
    """The history as table rows, newest first."""
    return [
        [
            x.id,
            x.created[5:19].replace("T", " "),
            x.kind,
            x.voice,
            x.text[:50],
            x.seconds,
            x.seed,
            "★" if x.starred else "",
        ]
        for x in history.list()
    ]


def regenerate(engine, take, seed: int | None = None, progress=None, cancel=None, library=None, checker=None):
    """Generate ``take`` again with its stored keyword arguments and a new seed (None = random).

    ``library`` is the voice library a cloned take's voice is found in (default: the engine's); ``checker``
    (:func:`studio.asr.take_checker`) hears the new take.
    """
    stored = dict(take.settings)
    sampling = sampling_from(stored.pop("sampling", None))
    if take.kind not in ("clone", "custom", "design"):
        raise InputError(
            zh=f"这条记录的类型“{take.kind}”无法重新生成。", en=f"A take of kind '{take.kind}' cannot be regenerated."
        )
    if take.kind == "clone":
        if not stored.get("voice"):
            raise InputError(
                zh="这条记录用的是临时上传的参考音频，无法重新生成。请先把参考音频保存到声音库，再用它生成。",
                en="This take used an uploaded reference that was not kept. Save the reference to the voice library "
                "and generate with it to be able to regenerate.",
            )
        stored["library"] = library
    if progress is not None:
        stored["progress"] = progress
    if checker is not None:
        from ..delivery import Delivery

        stored["delivery"] = Delivery(checker=checker)
    return getattr(engine, take.kind)(take.text, **stored, seed=seed, sampling=sampling, cancel=cancel)


def build_takes_tab(ctx: UiContext, lang_state: gr.State) -> gr.Dataframe:
    """The history table and what can be done with one take. Returns the table, filled when a page loads."""
    table = ctx.loc(gr.Dataframe(headers=columns(_COLUMNS, "zh"), interactive=False, wrap=True), headers=_COLUMNS)
    with gr.Row():
        chosen = ctx.loc(gr.Textbox(label=t("take_id", "zh")), label="take_id")
        refresh = ctx.loc(gr.Button(t("refresh", "zh"), size="sm"), value="refresh")
    with gr.Row():
        player = ctx.loc(gr.Audio(label=t("take_audio", "zh"), interactive=False), label="take_audio")
        compare = ctx.loc(gr.Audio(label=t("take_compare", "zh"), interactive=False), label="take_compare")
    with gr.Row():
        star = ctx.loc(gr.Button(t("star", "zh"), size="sm"), value="star")
        delete = ctx.loc(gr.Button(t("delete_take", "zh"), size="sm", variant="stop"), value="delete_take")
        again = ctx.loc(gr.Button(t("regenerate", "zh"), size="sm", variant="primary"), value="regenerate")
        by_ear = ctx.loc(gr.Checkbox(value=False, label=t("check_take", "zh")), label="check_take")
    with gr.Row():
        fmt = ctx.loc(gr.Dropdown(list(FORMATS), value="mp3", label=t("format", "zh")), label="format")
        rate = ctx.loc(
            gr.Dropdown(list(SAMPLE_RATES), value=SAMPLE_RATES[0], label=t("sample_rate", "zh")), label="sample_rate"
        )
        export = ctx.loc(gr.Button(t("download_take", "zh"), size="sm"), value="download_take")
    download = ctx.loc(gr.File(label=t("download_take", "zh")), label="download_take")
    status = gr.Markdown()
    shown = gr.State("")  # the id of the take in the player
    with ctx.loc(gr.Accordion(t("check_file", "zh"), open=False), label="check_file"):
        suspect = ctx.loc(gr.File(label=t("check_file_input", "zh")), label="check_file_input")
        check = ctx.loc(gr.Button(t("check_file", "zh"), size="sm"), value="check_file")
        verdict = gr.Markdown()
    private = {"api_visibility": "private"}

    @user_errors
    def check_upload(lang, path):
        from ..watermark import check_file

        if not path:
            raise gr.Error(t("need_ref", lang))
        report = check_file(path)
        return report["message_zh"] if lang == "zh" else report["message_en"]

    check.click(check_upload, [lang_state, suspect], [verdict], api_name="check_file")

    def rows(request: gr.Request):
        return take_rows(ctx.takes(request))

    def take_audio(history, take_id):
        audio = load_audio(history.path(take_id))
        return audio_output(audio.samples, audio.sr)

    @user_errors
    def play(lang, take_id, before, request: gr.Request):
        """Show the chosen take; the one shown before moves to the comparison player.

        The take shown before is remembered by id on the server, never taken back from the browser as a file.
        """
        history = ctx.takes(request)
        compared = None
        if (before or "").strip() and before != take_id:
            try:
                compared = take_audio(history, before)
            except StudioError:
                compared = None  # deleted meanwhile
        if not (take_id or "").strip():
            return None, compared, before
        return take_audio(history, take_id), compared, take_id

    def on_select(evt: gr.SelectData, current):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        try:
            return current.iloc[row, 0] if hasattr(current, "iloc") else current[row][0]
        except (IndexError, KeyError):
            return gr.update()

    @user_errors
    def toggle_star(lang, take_id, request: gr.Request):
        history = ctx.takes(request)
        take = history.star(take_id, not history.get(take_id).starred)
        return t("starred" if take.starred else "unstarred", lang), take_rows(history)

    @user_errors
    def remove(lang, take_id, request: gr.Request):
        history = ctx.takes(request)
        history.delete(take_id)
        return t("take_deleted", lang), take_rows(history), None

    @user_errors
    def export_take(lang, take_id, file_format, sample_rate, request: gr.Request):
        history = ctx.takes(request)
        take = history.get(take_id)
        audio = load_audio(history.path(take_id))
        folder = scratch_folder(request, "take-")
        tags = Tags(title=take.text[:60], voice=take.voice, model=take.model)
        path = export_audio(
            audio.samples, audio.sr, folder / f"{take.id}.{file_format}", sample_rate=int(sample_rate), tags=tags
        )
        return str(path)

    @user_errors
    def redo(lang, take_id, check_take=False, request: gr.Request = None, progress=gr.Progress()):
        history = ctx.takes(request)
        take = history.get(take_id)
        checker = None
        if check_take:  # found now (a clear refusal when there is none), loaded on the first check
            from ..asr import take_checker

            checker = take_checker(take.settings.get("language"))
        cancel, library = ctx.cancel_token(request), ctx.library(request)
        result = regenerate(ctx.engine, take, None, gradio_progress(progress, lang), cancel, library, checker)
        new = history.add(
            result.samples,
            result.sr,
            kind=take.kind,
            text=take.text,
            voice=take.voice,
            seed=result.seed,
            model=result.model,
            settings=take.settings,
        )
        return audio_output(result.samples, result.sr), result_markdown(result, lang), take_rows(history), new.id

    table.select(on_select, [table], [chosen], **private)
    chosen.change(play, [lang_state, chosen, shown], [player, compare, shown], **private)
    refresh.click(rows, None, [table], **private)
    star.click(toggle_star, [lang_state, chosen], [status, table], **private)
    delete.click(remove, [lang_state, chosen], [status, table, player], **private)
    export.click(export_take, [lang_state, chosen, fmt, rate], [download], **private)
    again.click(
        redo,
        [lang_state, chosen, by_ear],
        [player, status, table, chosen],
        api_name="regenerate_take",
        concurrency_id="engine",
        concurrency_limit=engine_waiters(),
    )
    return table
