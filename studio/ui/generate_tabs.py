"""The three generating tabs: Clone (Base), Custom voice and Voice design."""

from __future__ import annotations

import functools
import logging
import os
import random
from dataclasses import dataclass

import gradio as gr

from .. import space
from ..audio import MODEL_SR
from ..engine import check_seed
from ..errors import StudioError
from ..models import spec_for
from ..registry import LANGUAGE_ZH, LANGUAGES, MODELS, SPEAKERS
from ..speech import SpeechRequest
from .common import (
    UiContext,
    audio_output,
    engine_waiters,
    gradio_progress,
    result_markdown,
    show_last_error,
    user_errors,
)
from .controls import (
    DeliveryControls,
    SamplingControls,
    TextPanel,
    build_delivery_controls,
    build_emotion_controls,
    build_sampling_controls,
    build_text_panel,
    delivery_from,
    sampling_from,
)
from .i18n import t

log = logging.getLogger(__name__)


#: The model kind each generating tab needs.
_KIND = {"clone": "base", "custom": "custom_voice", "design": "voice_design"}


def model_choices(kind: str) -> list[tuple[str, str]]:
    """Dropdown choices for ``kind``: the official ids, plus STUDIO_MODEL when it is a folder."""
    choices = [(s.id, s.id) for s in MODELS if s.kind == kind]
    env = os.environ.get("STUDIO_MODEL", "").strip()
    if env and spec_for(env) is None:
        choices.insert(0, (env, env))
    return choices


def _language_dropdown(ctx: UiContext) -> gr.Dropdown:
    def choices(lang: str) -> list[tuple[str, str]]:
        return [(LANGUAGE_ZH[name] if lang == "zh" else name, name) for name in LANGUAGES]

    return ctx.loc(
        gr.Dropdown(choices("zh"), value="Auto", label=t("language", "zh")), label="language", choices=choices
    )


def _model_dropdown(ctx: UiContext, kind: str) -> gr.Dropdown:
    default = ctx.engine.manager.default_model(kind)
    choices = model_choices(kind)
    if default not in [v for _, v in choices]:
        choices.insert(0, (default, default))
    return ctx.loc(
        gr.Dropdown(
            choices, value=default, allow_custom_value=True, label=t("model", "zh"), info=t("model_info", "zh")
        ),
        label="model",
        info="model_info",
    )


def _seed_box(ctx: UiContext) -> gr.Number:
    seed = ctx.loc(
        gr.Number(value=-1, precision=0, label=t("seed", "zh"), info=t("seed_info", "zh")),
        label="seed",
        info="seed_info",
    )
    dice = gr.Button("🎲", size="sm", scale=0, min_width=40)
    dice.click(lambda: random.randint(0, 2**31 - 1), None, [seed], api_visibility="private", queue=False)
    return seed


def _voice_names(ctx: UiContext, request: gr.Request | None = None) -> list[tuple[str, str]]:
    if request is None and space.enabled():
        return [("—", "")]  # a visitor's voices are listed once their session is known
    try:
        names = [v.name for v in ctx.library(request).list()]
    except StudioError:
        names = []
    return [("—", ""), *[(n, n) for n in names]]


def _is_small_custom(model_id: str | None) -> bool:
    try:
        spec = spec_for((model_id or "").strip())
    except StudioError:
        return False  # an unknown id is reported when generating
    return spec is not None and spec.kind == "custom_voice" and spec.size == "0.6b"


def _seed(value) -> int | None:
    seed = check_seed(value)  # NaN, fractions, huge numbers: a clear message, not an internal error
    return None if seed is None or seed < 0 else seed


def _finish(ctx: UiContext, request, result, lang: str, kind: str, text: str, voice: str, settings: dict):
    """The audio and its description; the take is kept in the history (a failure there only logs)."""
    try:
        ctx.takes(request).add(
            result.samples,
            result.sr,
            kind=kind,
            text=text,
            voice=voice,
            seed=result.seed,
            model=result.model,
            settings=settings,
        )
    except StudioError:
        log.warning("could not keep the take in the history", exc_info=True)
    return audio_output(result.samples, result.sr), result_markdown(result, lang)


@dataclass
class _Shared:
    """The controls every generating tab has below its own: model, seed, timing, sampling, run, result."""

    language: gr.Dropdown
    model: gr.Dropdown
    seed: gr.Number
    normalize: gr.Checkbox
    timing: DeliveryControls
    tuning: SamplingControls
    run: gr.Button
    stop: gr.Button
    audio: gr.Audio
    info: gr.Markdown
    live: gr.Button
    live_audio: gr.Audio


def _shared_controls(ctx: UiContext, lang_state: gr.State, kind: str, panel: TextPanel) -> _Shared:
    with gr.Row():
        language = _language_dropdown(ctx)
        model = _model_dropdown(ctx, kind)
        seed = _seed_box(ctx)
    timing = build_delivery_controls(ctx)
    tuning = build_sampling_controls(ctx, lang_state)
    with gr.Row():
        run = ctx.loc(gr.Button(t("generate", "zh"), variant="primary"), value="generate")
        stop = ctx.loc(gr.Button(t("stop", "zh"), variant="stop"), value="stop")
        live = ctx.loc(gr.Button(t("listen_live", "zh")), value="listen_live")
    live_audio = ctx.loc(
        gr.Audio(label=t("live_audio", "zh"), streaming=True, autoplay=True, interactive=False), label="live_audio"
    )
    audio = ctx.loc(gr.Audio(label=t("result", "zh"), type="numpy", interactive=False), label="result")
    info = gr.Markdown()
    return _Shared(language, model, seed, panel.normalize, timing, tuning, run, stop, audio, info, live, live_audio)


def _wire(ctx, lang_state, shared: _Shared, generate, api_name: str, own: list, voice: list, last: list | tuple = ()):
    """Run ``generate`` as ``api_name`` on one engine job at a time; Stop cancels it.

    The inputs, in the order gradio_client callers pass them: the tab's ``own``, language, model, seed,
    the tab's ``voice`` settings, normalize, the timing values, then ``last``.
    """
    inputs = [lang_state, shared.tuning.state, *own, shared.language, shared.model, shared.seed, *voice]
    inputs += [shared.normalize, *shared.timing.inputs, *last]
    event = shared.run.click(
        generate,
        inputs,
        [shared.audio, shared.info],
        api_name=api_name,
        concurrency_id="engine",
        concurrency_limit=engine_waiters(),
        show_progress_on=[shared.audio],  # one bar, over the result, not one over each output
    )
    outputs = [shared.live_audio, shared.audio, shared.info]
    live = shared.live.click(
        _live(ctx, generate),
        inputs,
        outputs,
        api_visibility="private",
        concurrency_id="engine",
        concurrency_limit=engine_waiters(),
        show_progress_on=[shared.audio],  # the live player stays uncovered while it plays
    )
    # The toast fades; the message stays in the result area until the next run.
    for click in (event, live):
        click.failure(_kept_error, [lang_state], [shared.audio, shared.info], api_visibility="private")
    shared.stop.click(ctx.cancel, None, None, cancels=[event, live], api_visibility="private")


def _live(ctx: UiContext, generate):
    """``generate`` with its audio played while it is made: chunks of codec frames to the live player, then
    the finished (levelled, kept) result as the Generate button gives it. Same inputs, so the same call."""
    from types import SimpleNamespace

    from ..live import Outcome, live_chunks

    @functools.wraps(generate)  # Gradio reads the wrapped signature to pass request and progress
    def run(*args, **kwargs):
        outcome = Outcome()
        stop = SimpleNamespace(cancel=lambda: ctx.cancel(kwargs.get("request")))
        for chunk in live_chunks(lambda: generate(*args, **kwargs), stop, None, outcome):
            yield (MODEL_SR, chunk), gr.skip(), gr.skip()
        audio, info = outcome.result
        yield gr.skip(), audio, info

    return run


def _kept_error(lang: str, request: gr.Request):
    """After a failed run: an empty result (no bare "error" badge) and the message under it."""
    return None, show_last_error(lang, request)


def _generate_and_keep(ctx: UiContext, request, progress, lang: str, kind: str, text: str, voice: str, own, shared):
    """Run ``Engine.speak`` on a ``kind`` request and keep the take with the keyword arguments that can make it again.

    ``own`` is (the tab's stored arguments, arguments not kept: an uploaded reference, the session's voice
    library); ``shared`` the values of the shared controls: (sampling values, language, model, seed box,
    normalize, duration, ratio, takes).
    """
    stored, unstored = own
    sampling_values, language, model, seed_value, normalize, duration, ratio, takes = shared
    # On a Space a visitor picks from the list: a typed folder would load (or probe) a folder of the server.
    offered = {value for _, value in model_choices(_KIND[kind])} | {ctx.engine.manager.default_model(_KIND[kind])}
    space.check_operator_only((model or "").strip() in offered)
    stored = {**stored, "language": language, "model": model, "normalize": bool(normalize)}
    speech = SpeechRequest(
        kind,
        [text],
        **stored,
        **unstored,
        seed=_seed(seed_value),
        sampling=sampling_from(sampling_values),
        delivery=delivery_from(duration, ratio, takes),
    )
    result = next(iter(ctx.engine.speak(speech, gradio_progress(progress, lang), ctx.cancel_token(request))))
    return _finish(ctx, request, result, lang, kind, text, voice, {**stored, "sampling": sampling_values})


def _emotion(emotion_id, strength) -> dict:
    return {"emotion": emotion_id or None, "intensity": float(strength)}


# Each ``generate`` below spells out its parameters although most are shared: gradio_client sees them
# by name and default (``/info``), and Gradio reads names only up to a ``*args`` parameter, so taking the
# shared values as ``*settings`` (as the private Dubbing handlers do) would rename them ``param_N`` and
# make optional ones (the clip) required. What they share is built by ``_shared_controls``, wired by
# ``_wire`` and run by ``_generate_and_keep``.


def build_clone_tab(ctx: UiContext, lang_state: gr.State) -> None:
    """The Clone tab: reference clip + transcript + text -> cloned speech."""
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
                        _voice_names(ctx),
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
            shared = _shared_controls(ctx, lang_state, "base", panel)

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
        values = (sampling_values, lang_name, model_id, seed_value, normalize, duration, ratio, takes)
        label = voice_name or os.path.basename(str(ref))
        return _generate_and_keep(ctx, request, progress, lang, "clone", txt, label, (stored, unstored), values)

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
        return gr.update(choices=_voice_names(ctx, request))

    refresh.click(voice_names, None, [voice], api_visibility="private")
    voice.focus(voice_names, None, [voice], api_visibility="private")
    _wire(
        ctx, lang_state, shared, generate, "clone", [ref_audio, ref_text, xvec, text], [voice, clip], [clip_intensity]
    )


def _speaker_choices(lang: str) -> list[tuple[str, str]]:
    """Preset speakers with their description in ``lang`` (the registry writes "中文 / English")."""
    side = 0 if lang == "zh" else 1
    return [(f"{n} · {d.split(' / ')[side] if ' / ' in d else d}", n) for n, _, d in SPEAKERS]


def build_custom_tab(ctx: UiContext, lang_state: gr.State) -> None:
    """The Custom voice tab: a preset speaker, optionally with a style instruction."""
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
            shared = _shared_controls(ctx, lang_state, "custom_voice", panel)

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
        request: gr.Request = None,
        progress=gr.Progress(),
    ):
        txt = space.check_text(txt)
        stored = {"speaker": spk, "instruct": ins, **_emotion(emotion_id, strength)}
        values = (sampling_values, lang_name, model_id, seed_value, normalize, duration, ratio, takes)
        return _generate_and_keep(ctx, request, progress, lang, "custom", txt, spk, (stored, {}), values)

    def instruct_allowed(lang, model_id):
        """A control the model cannot honour is disabled, with the reason."""
        allowed = not _is_small_custom(model_id)
        note = "" if allowed else t("no_instruct_small", lang)
        return [gr.update(interactive=allowed)] * 3 + [note]

    if _is_small_custom(shared.model.value):
        for control in (instruct, emotion, intensity):
            control.interactive = False
        reason.value = t("no_instruct_small", "zh")
    shared.model.change(
        instruct_allowed, [lang_state, shared.model], [instruct, emotion, intensity, reason], api_visibility="private"
    )
    _wire(ctx, lang_state, shared, generate, "custom", [text, speaker, instruct], [emotion, intensity])


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
            shared = _shared_controls(ctx, lang_state, "voice_design", panel)

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
        request: gr.Request = None,
        progress=gr.Progress(),
    ):
        txt = space.check_text(txt)
        stored = {"description": desc, **_emotion(emotion_id, strength)}
        values = (sampling_values, lang_name, model_id, seed_value, normalize, duration, ratio, takes)
        return _generate_and_keep(ctx, request, progress, lang, "design", txt, desc[:40], (stored, {}), values)

    _wire(ctx, lang_state, shared, generate, "design", [description, text], [emotion, intensity])
