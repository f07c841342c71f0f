"""The three generating tabs: Clone (Base), Custom voice and Voice design."""

from __future__ import annotations

import os

import gradio as gr

from .. import space_mode as space
from ..errors import StudioError
from ..finetune.library import trained_choices
from ..registry import SPEAKERS
from .common import (
    UiContext,
    user_errors,
)
from .controls import (
    build_emotion_controls,
    build_text_panel,
)
from .generate_shared import (
    emotion_args,
    generate_and_keep,
    is_small_custom,
    saved_voice_choices,
    shared_controls,
    wire,
)
from .i18n import t

# Each ``generate`` below spells out its parameters although most are shared: gradio_client sees them
# by name and default (``/info``), and Gradio reads names only up to a ``*args`` parameter, so taking the
# shared values as ``*settings`` (as the private Dubbing handlers do) would rename them ``param_N`` and
# make optional ones (the clip) required. What they share is built by ``shared_controls``, wired by
# ``wire`` and run by ``generate_and_keep``.


def build_clone_tab(ctx: UiContext, lang_state: gr.State) -> gr.Dropdown:
    """The Clone tab: reference clip + transcript + text -> cloned speech. Returns its saved-voice list."""
    with gr.Row():
        with gr.Column():
            ref_audio = ctx.loc(
                gr.Audio(label=t("ref_audio", "zh"), type="filepath", sources=["upload", "microphone"]),
                label="ref_audio",
            )
            ref_text = ctx.loc(gr.Textbox(label=t("ref_text", "zh"), lines=2), label="ref_text")
            xvec = ctx.loc(gr.Checkbox(label=t("xvec", "zh")), label="xvec")
            with gr.Row():
                voice = ctx.loc(
                    gr.Dropdown(
                        saved_voice_choices(ctx),
                        value="",
                        allow_custom_value=True,
                        label=t("saved_voice", "zh"),
                        info=t("saved_voice_info", "zh"),
                    ),
                    label="saved_voice",
                    info="saved_voice_info",
                )
                clip = ctx.loc(
                    gr.Dropdown(
                        [],
                        value=None,
                        allow_custom_value=True,
                        label=t("voice_clip", "zh"),
                        info=t("voice_clip_info", "zh"),
                    ),
                    label="voice_clip",
                    info="voice_clip_info",
                )
            clip_intensity = ctx.loc(
                gr.Slider(0.0, 1.0, value=1.0, step=0.05, label=t("intensity", "zh"), info=t("base_intensity", "zh")),
                label="intensity",
                info="base_intensity",
            )
            refresh = ctx.loc(gr.Button(t("refresh", "zh"), size="sm"), value="refresh")
        with gr.Column():
            text = ctx.loc(
                gr.Textbox(label=t("text", "zh"), placeholder=t("text_ph", "zh"), lines=5),
                label="text",
                placeholder="text_ph",
            )
            panel = build_text_panel(ctx, lang_state, text, name="clone")
            shared = shared_controls(ctx, lang_state, "base", panel)

    @user_errors
    @space.gpu
    def generate(
        lang,
        sampling_values,
        ref,
        transcript,
        x_only,
        txt,
        lang_name,
        model_id,
        seed_value,
        voice_name="",
        clip_tag=None,
        normalize=True,
        duration=0,
        ratio=1.0,
        takes=1,
        strength=1.0,
        check_take=False,
        request: gr.Request = None,
        progress=gr.Progress(),
    ):
        txt = space.check_text(txt)
        if not ref and not voice_name:
            raise gr.Error(t("need_ref", lang))
        stored = {
            "transcript": transcript,
            "x_vector_only": bool(x_only),
            "voice": voice_name or None,
            "clip": clip_tag or None,
            "intensity": float(strength if strength is not None else 1.0),
        }
        unstored = {"reference": None if voice_name else ref, "library": ctx.library(request)}
        values = (sampling_values, lang_name, model_id, seed_value, normalize, duration, ratio, takes, check_take)
        label = voice_name or os.path.basename(str(ref))
        return generate_and_keep(ctx, request, progress, lang, "clone", txt, label, (stored, unstored), values)

    def clips_of(name, request: gr.Request = None):
        if not name:
            return gr.update(choices=[], value=None)
        try:
            tags = [c.tag for c in ctx.library(request).get(name).clips]
        except StudioError:
            tags = []
        return gr.update(choices=tags, value=tags[0] if tags else None)

    voice.change(clips_of, [voice], [clip], api_visibility="private")

    def voice_names(request: gr.Request = None):
        return gr.update(choices=saved_voice_choices(ctx, request))

    refresh.click(voice_names, None, [voice], api_visibility="private")
    voice.focus(voice_names, None, [voice], api_visibility="private")
    wire(ctx, lang_state, shared, generate, "clone", [ref_audio, ref_text, xvec, text], [voice, clip], [clip_intensity])
    return voice


def _speaker_choices(lang: str) -> list[tuple[str, str]]:
    """Preset speakers with their description in ``lang`` (the registry writes "中文 / English")."""
    side = 0 if lang == "zh" else 1
    presets = [(f"{n} · {d.split(' / ')[side] if ' / ' in d else d}", n) for n, _, d in SPEAKERS]
    return presets + [(f"{speaker} · {t('tab_train', lang)}", speaker) for _, _, speaker in trained_choices()]


def build_custom_tab(ctx: UiContext, lang_state: gr.State) -> tuple[gr.Dropdown, gr.Dropdown]:
    """The Custom voice tab: a preset speaker, optionally with a style instruction. Returns its model and
    speaker lists."""
    with gr.Row():
        with gr.Column():
            text = ctx.loc(gr.Textbox(label=t("text", "zh"), lines=5), label="text")
            speaker = ctx.loc(
                gr.Dropdown(_speaker_choices("zh"), value="Vivian", label=t("speaker", "zh")),
                label="speaker",
                choices=_speaker_choices,
            )
            instruct = ctx.loc(
                gr.Textbox(label=t("instruct", "zh"), placeholder=t("instruct_ph", "zh")),
                label="instruct",
                placeholder="instruct_ph",
            )
            emotion, intensity = build_emotion_controls(ctx)
            reason = gr.Markdown()
            panel = build_text_panel(ctx, lang_state, text, name="custom")
        with gr.Column():
            shared = shared_controls(ctx, lang_state, "custom_voice", panel)

    @user_errors
    @space.gpu
    def generate(
        lang,
        sampling_values,
        txt,
        spk,
        ins,
        lang_name,
        model_id,
        seed_value,
        emotion_id="",
        strength=0.5,
        normalize=True,
        duration=0,
        ratio=1.0,
        takes=1,
        check_take=False,
        request: gr.Request = None,
        progress=gr.Progress(),
    ):
        txt = space.check_text(txt)
        stored = {"speaker": spk, "instruct": ins, **emotion_args(emotion_id, strength)}
        values = (sampling_values, lang_name, model_id, seed_value, normalize, duration, ratio, takes, check_take)
        return generate_and_keep(ctx, request, progress, lang, "custom", txt, spk, (stored, {}), values)

    def instruct_allowed(lang, model_id):
        """A control the model cannot honour is disabled, with the reason."""
        allowed = not is_small_custom(model_id)
        note = "" if allowed else t("no_instruct_small", lang)
        return [gr.update(interactive=allowed)] * 3 + [note]

    if is_small_custom(shared.model.value):
        for control in (instruct, emotion, intensity):
            control.interactive = False
        reason.value = t("no_instruct_small", "zh")
    shared.model.change(
        instruct_allowed, [lang_state, shared.model], [instruct, emotion, intensity, reason], api_visibility="private"
    )
    wire(ctx, lang_state, shared, generate, "custom", [text, speaker, instruct], [emotion, intensity])
    return shared.model, speaker


def build_design_tab(ctx: UiContext, lang_state: gr.State) -> None:
    """The Voice design tab: a description of the voice -> speech in that voice."""
    with gr.Row():
        with gr.Column():
            description = ctx.loc(
                gr.Textbox(label=t("description", "zh"), placeholder=t("description_ph", "zh"), lines=2),
                label="description",
                placeholder="description_ph",
            )
            text = ctx.loc(gr.Textbox(label=t("text", "zh"), lines=5), label="text")
            emotion, intensity = build_emotion_controls(ctx)
            panel = build_text_panel(ctx, lang_state, text, name="design")
        with gr.Column():
            shared = shared_controls(ctx, lang_state, "voice_design", panel)

    @user_errors
    @space.gpu
    def generate(
        lang,
        sampling_values,
        desc,
        txt,
        lang_name,
        model_id,
        seed_value,
        emotion_id="",
        strength=0.5,
        normalize=True,
        duration=0,
        ratio=1.0,
        takes=1,
        check_take=False,
        request: gr.Request = None,
        progress=gr.Progress(),
    ):
        txt = space.check_text(txt)
        stored = {"description": desc, **emotion_args(emotion_id, strength)}
        values = (sampling_values, lang_name, model_id, seed_value, normalize, duration, ratio, takes, check_take)
        return generate_and_keep(ctx, request, progress, lang, "design", txt, desc[:40], (stored, {}), values)

    wire(ctx, lang_state, shared, generate, "design", [description, text], [emotion, intensity])
