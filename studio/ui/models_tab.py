"""The Models tab: what is on disk and in memory; download, load, unload, delete; settings."""

from __future__ import annotations

import gradio as gr

from .. import checkpoints, config
from .. import space_mode as space
from ..device import DEVICES, DTYPES
from ..errors import StudioError
from ..registry import MODELS, get_spec
from .common import UiContext, engine_waiters, escape_md, gradio_progress, user_errors
from .i18n import t
from .i18n_tables import columns

_COLUMNS = ("col_model_id", "col_kind", "col_downloaded", "col_disk_mb", "col_loaded", "col_path")


def _table(ctx: UiContext, lang: str = "zh") -> list[list]:
    return [
        [r.id, t(f"kind_{r.kind}", lang), "✓" if r.downloaded else "", r.disk_mb, "✓" if r.loaded else "", r.path]
        for r in ctx.engine.manager.statuses()
    ]


def _runtime(ctx: UiContext, lang: str = "zh") -> str:
    manager = ctx.engine.manager
    placement = manager.placement()
    memory = manager.memory_report()
    loaded = manager.loaded.info.describe(lang) if manager.loaded else "-"
    parts = [
        t("runtime_device", lang, device=placement.device, dtype=placement.dtype, attention=placement.attention),
        t("runtime_memory", lang, rss=memory["rss_mb"]),
    ]
    if "cuda_allocated_mb" in memory:
        parts.append(t("runtime_gpu", lang, mb=memory["cuda_allocated_mb"]))
    text = " · ".join(parts) + "  \n" + t("runtime_loaded", lang, name=loaded)
    remote = ctx.engine.remote
    if remote is not None:
        text += "  \n" + t("runtime_remote", lang, url=escape_md(remote.url))
    return text


def build_models_tab(ctx: UiContext, lang_state: gr.State) -> tuple[gr.Dataframe, gr.Markdown]:
    """Build the tab; return the table and runtime panel so the app can fill them on page load."""
    settings = ctx.engine.manager.settings
    ctx.loc(gr.Markdown(t("models_intro", "zh")), value="models_intro")
    table = ctx.loc(gr.Dataframe(headers=columns(_COLUMNS, "zh"), interactive=False, wrap=True), headers=_COLUMNS)
    runtime = gr.Markdown()
    with gr.Row():
        selected = ctx.loc(
            gr.Dropdown([s.id for s in MODELS], value=MODELS[0].id, label=t("model_select", "zh")), label="model_select"
        )
        download = ctx.loc(gr.Button(t("download", "zh")), value="download")
        load = ctx.loc(gr.Button(t("load", "zh"), variant="primary"), value="load")
        unload = ctx.loc(gr.Button(t("unload", "zh")), value="unload")
        delete = ctx.loc(gr.Button(t("delete", "zh"), variant="stop"), value="delete")
        refresh = ctx.loc(gr.Button(t("refresh", "zh")), value="refresh")
    with gr.Row():
        folder = ctx.loc(gr.Textbox(label=t("local_folder", "zh")), label="local_folder")
        use_folder = ctx.loc(gr.Button(t("use_folder", "zh")), value="use_folder")
    with gr.Row():
        endpoint = ctx.loc(gr.Textbox(value=settings.endpoint, label=t("endpoint", "zh")), label="endpoint")
        device = ctx.loc(gr.Dropdown(list(DEVICES), value=settings.device, label=t("device", "zh")), label="device")
        dtype = ctx.loc(gr.Dropdown(list(DTYPES), value=settings.dtype, label=t("dtype", "zh")), label="dtype")
        save = ctx.loc(gr.Button(t("save_settings", "zh")), value="save_settings")
    status = gr.Markdown()

    def refreshed(message: str = "", lang: str = "zh"):
        return _table(ctx, lang), _runtime(ctx, lang), message

    outputs = [table, runtime, status]

    @user_errors
    def do_download(lang, model_id, request: gr.Request, progress=gr.Progress()):
        path = checkpoints.download(
            get_spec(model_id), settings.endpoint or None, gradio_progress(progress, lang), ctx.cancel_token(request)
        )
        return refreshed(t("done_download", lang, path=path), lang)

    @user_errors
    def do_load(lang, model_id, progress=gr.Progress()):
        kind = get_spec(model_id).kind
        manager = ctx.engine.manager
        with manager.turn(gradio_progress(progress, lang)):  # while a generation holds the model, say which
            loaded = manager.get(model_id, kind, gradio_progress(progress, lang))
        return refreshed(t("done_load", lang, name=loaded.info.describe(lang), seconds=loaded.load_seconds), lang)

    @user_errors
    def do_unload(lang):
        ctx.engine.manager.unload()
        return refreshed(t("done_unload", lang), lang)

    @user_errors
    def do_delete(lang, model_id):
        space.check_operator_only()
        manager = ctx.engine.manager
        with manager.lock:
            if manager.loaded is not None and manager.loaded.key == model_id:
                manager.unload()
            removed = checkpoints.delete(get_spec(model_id))
        return refreshed(t("done_delete" if removed else "nothing_deleted", lang, name=model_id), lang)

    @user_errors
    def do_use_folder(lang, model_id, path):
        space.check_operator_only()
        info = checkpoints.validate_checkpoint(path.strip())
        ctx.engine.manager.check_kind(info, get_spec(model_id).kind)
        settings.local_models[model_id] = str(info.path)
        settings.save()
        return refreshed(t("saved", lang), lang)

    @user_errors
    def do_save(lang, endpoint_value, device_value, dtype_value):
        space.check_operator_only()
        from ..device import choose_placement

        choose_placement(ctx.engine.manager.capabilities, device_value, dtype_value)  # refuse an impossible choice
        settings.endpoint, settings.device, settings.dtype = endpoint_value.strip(), device_value, dtype_value
        settings.save()
        return refreshed(t("saved", lang), lang)

    download.click(do_download, [lang_state, selected], outputs, concurrency_id="downloads", api_visibility="private")
    load.click(
        do_load,
        [lang_state, selected],
        outputs,
        concurrency_id="engine",
        concurrency_limit=engine_waiters(),
        api_visibility="private",
    )
    unload.click(
        do_unload,
        [lang_state],
        outputs,
        concurrency_id="engine",
        concurrency_limit=engine_waiters(),
        api_visibility="private",
    )
    delete.click(
        do_delete,
        [lang_state, selected],
        outputs,
        concurrency_id="engine",
        concurrency_limit=engine_waiters(),
        api_visibility="private",
    )
    refresh.click(lambda lang: refreshed("", lang), [lang_state], outputs, api_visibility="private")
    use_folder.click(do_use_folder, [lang_state, selected, folder], outputs, api_visibility="private")
    save.click(do_save, [lang_state, endpoint, device, dtype], outputs, api_visibility="private")
    if not space.enabled():  # a Space's visitors must not redirect its engine
        build_remote_group(ctx, lang_state, runtime)
    return table, runtime


def build_remote_group(ctx: UiContext, lang_state: gr.State, runtime: gr.Markdown) -> None:
    """URL and key of the remote engine (an OpenAI-compatible speech server), Save, Test connection, back to local.

    The saved key is never sent to the page: an empty key box keeps it.
    """
    from ..config import URL_ENV
    from ..remote import RemoteModel, normalize_url, remote_config

    settings = ctx.engine.manager.settings
    with gr.Group():
        ctx.loc(gr.Markdown(t("remote_title", "zh")), value="remote_title")
        with gr.Row():
            url = ctx.loc(
                gr.Textbox(
                    value=settings.remote_url, label=t("remote_url", "zh"), placeholder=t("remote_url_ph", "zh")
                ),
                label="remote_url",
                placeholder="remote_url_ph",
            )
            key = ctx.loc(
                gr.Textbox(type="password", label=t("remote_key", "zh"), placeholder=t("remote_key_ph", "zh")),
                label="remote_key",
                placeholder="remote_key_ph",
            )
        with gr.Row():
            save = ctx.loc(gr.Button(t("remote_save", "zh")), value="remote_save")
            test = ctx.loc(gr.Button(t("remote_test", "zh")), value="remote_test")
            clear = ctx.loc(gr.Button(t("remote_clear", "zh")), value="remote_clear")
        status = gr.Markdown()

    def in_use(lang: str, message: str) -> str:
        if config.is_set(URL_ENV):
            active = remote_config(settings)[0] or t("remote_local", lang)
            message += "\n\n" + t("remote_env", lang, url=escape_md(active))
        return message

    @user_errors
    def do_save(lang, url_value, key_value):
        url_value = (url_value or "").strip()
        settings.remote_url = normalize_url(url_value) if url_value else ""
        if (key_value or "").strip():
            settings.remote_key = key_value.strip()
        settings.save()
        message = t("remote_on", lang, url=escape_md(settings.remote_url)) if url_value else t("remote_off", lang)
        return settings.remote_url, "", in_use(lang, message), _runtime(ctx, lang)

    @user_errors
    def do_clear(lang):
        settings.remote_url = settings.remote_key = ""
        settings.save()
        return "", "", in_use(lang, t("remote_off", lang)), _runtime(ctx, lang)

    def do_test(lang, url_value, key_value):
        """Try the URL and key in the boxes (the saved key when the box is empty); report OK or the error."""
        url_value = (url_value or "").strip()
        if not url_value:
            return t("remote_none", lang)
        try:
            report = RemoteModel(url_value, (key_value or "").strip() or settings.remote_key).check()
        except StudioError as exc:
            return f"❌ {escape_md(exc.message(lang))}"
        models = ", ".join(report["models"][:5]) or "-"
        voices = ", ".join(report["voices"][:12]) or "-"
        return "✅ " + t(
            "remote_ok", lang, url=escape_md(report["url"]), models=escape_md(models), voices=escape_md(voices)
        )

    outputs = [url, key, status, runtime]
    save.click(do_save, [lang_state, url, key], outputs, api_visibility="private")
    clear.click(do_clear, [lang_state], outputs, api_visibility="private")
    test.click(do_test, [lang_state, url, key], [status], api_visibility="private")
