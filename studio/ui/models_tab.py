"""The Models tab: what is on disk and in memory; download, load, unload, delete; settings."""

from __future__ import annotations

import gradio as gr

from .. import checkpoints
from ..device import DEVICES, DTYPES
from ..registry import MODELS, get_spec
from .common import UiContext, gradio_progress, user_errors
from .i18n import t

_HEADERS = ["id", "kind", "downloaded", "disk MB", "loaded", "path"]


def _table(ctx: UiContext) -> list[list]:
    return [
        [r.id, r.kind, "✓" if r.downloaded else "", r.disk_mb, "✓" if r.loaded else "", r.path]
        for r in ctx.engine.manager.statuses()
    ]


def _runtime(ctx: UiContext) -> str:
    manager = ctx.engine.manager
    placement = manager.placement()
    memory = manager.memory_report()
    loaded = manager.loaded.info.label if manager.loaded else "-"
    parts = [
        f"device **{placement.device}**",
        f"dtype **{placement.dtype}**",
        f"attention {placement.attention}",
        f"RSS {memory['rss_mb']:.0f} MB",
    ]
    if "cuda_allocated_mb" in memory:
        parts.append(f"GPU {memory['cuda_allocated_mb']:.0f} MB")
    return " · ".join(parts) + f"  \nloaded: {loaded}"


def build_models_tab(ctx: UiContext, lang_state: gr.State) -> tuple[gr.Dataframe, gr.Markdown]:
    """Build the tab; return the table and runtime panel so the app can fill them on page load."""
    settings = ctx.engine.manager.settings
    ctx.loc(gr.Markdown(t("models_intro", "zh")), value="models_intro")
    table = gr.Dataframe(headers=_HEADERS, interactive=False, wrap=True)
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

    def refreshed(message: str = ""):
        return _table(ctx), _runtime(ctx), message

    outputs = [table, runtime, status]

    @user_errors
    def do_download(lang, model_id, request: gr.Request, progress=gr.Progress()):
        path = checkpoints.download(
            get_spec(model_id), settings.endpoint or None, gradio_progress(progress), ctx.cancel_token(request)
        )
        return refreshed(t("done_download", lang, path=path))

    @user_errors
    def do_load(lang, model_id, progress=gr.Progress()):
        kind = get_spec(model_id).kind
        loaded = ctx.engine.manager.get(model_id, kind, gradio_progress(progress))
        return refreshed(t("done_load", lang, name=loaded.info.label, seconds=loaded.load_seconds))

    @user_errors
    def do_unload(lang):
        ctx.engine.manager.unload()
        return refreshed(t("done_unload", lang))

    @user_errors
    def do_delete(lang, model_id):
        manager = ctx.engine.manager
        with manager.lock:
            if manager.loaded is not None and manager.loaded.key == model_id:
                manager.unload()
            removed = checkpoints.delete(get_spec(model_id))
        return refreshed(t("done_delete" if removed else "nothing_deleted", lang, name=model_id))

    @user_errors
    def do_use_folder(lang, model_id, path):
        info = checkpoints.validate_checkpoint(path.strip())
        ctx.engine.manager.check_kind(info, get_spec(model_id).kind)
        settings.local_models[model_id] = str(info.path)
        settings.save()
        return refreshed(t("saved", lang))

    @user_errors
    def do_save(lang, endpoint_value, device_value, dtype_value):
        from ..device import choose_placement

        choose_placement(ctx.engine.manager.capabilities, device_value, dtype_value)  # refuse an impossible choice
        settings.endpoint, settings.device, settings.dtype = endpoint_value.strip(), device_value, dtype_value
        settings.save()
        return refreshed(t("saved", lang))

    download.click(do_download, [lang_state, selected], outputs, concurrency_id="downloads", api_visibility="private")
    load.click(do_load, [lang_state, selected], outputs, concurrency_id="engine", api_visibility="private")
    unload.click(do_unload, [lang_state], outputs, concurrency_id="engine", api_visibility="private")
    delete.click(do_delete, [lang_state, selected], outputs, concurrency_id="engine", api_visibility="private")
    refresh.click(lambda: refreshed(), None, outputs, api_visibility="private")
    use_folder.click(do_use_folder, [lang_state, selected, folder], outputs, api_visibility="private")
    save.click(do_save, [lang_state, endpoint, device, dtype], outputs, api_visibility="private")
    return table, runtime
