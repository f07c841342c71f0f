"""What the three generating tabs share: the model, language and seed controls, the run/stop/live wiring,
and the one call that builds a :class:`~studio.speech.SpeechRequest`, runs it and keeps the take."""

from __future__ import annotations

import functools
import logging
import random
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from .. import config
from .. import space_mode as space
from ..audio import MODEL_SR
from ..engine import check_seed
from ..errors import StudioError
from ..finetune.library import trained_choices
from ..models import spec_for
from ..registry import LANGUAGE_ZH, LANGUAGES, MODELS
from ..speech import SpeechRequest
from .common import (
    UiContext,
    audio_output,
    engine_waiters,
    gradio_progress,
    result_markdown,
    show_last_error,
)
from .controls import (
    DeliveryControls,
    SamplingControls,
    TextPanel,
    build_delivery_controls,
    build_sampling_controls,
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
    env = config.model()
    if env and spec_for(env) is None:
        choices.insert(0, (env, env))
    if kind == "custom_voice":  # voices trained in the Train tab speak with their own checkpoints
        choices += [(f"{name} · {Path(model).name}", model) for name, model, _ in trained_choices()]
    return choices


def _language_dropdown(ctx: UiContext) -> gr.Dropdown:
    def choices(lang: str) -> list[tuple[str, str]]:
        return [(LANGUAGE_ZH[name] if lang == "zh" else name, name) for name in LANGUAGES]

    return ctx.loc(
        gr.Dropdown(choices("zh"), value="Auto", label=t("language", "zh")), label="language", choices=choices
    )


def model_dropdown_choices(ctx: UiContext, kind: str) -> list[tuple[str, str]]:
    """:func:`model_choices` with the default model first when it is not one of them."""
    default = ctx.engine.manager.default_model(kind)
    choices = model_choices(kind)
    if default not in [v for _, v in choices]:
        choices.insert(0, (default, default))
    return choices


def _model_dropdown(ctx: UiContext, kind: str) -> gr.Dropdown:
    default = ctx.engine.manager.default_model(kind)
    choices = model_dropdown_choices(ctx, kind)
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


def saved_voice_choices(ctx: UiContext, request: gr.Request | None = None) -> list[tuple[str, str]]:
    if request is None and space.enabled():
        return [("—", "")]  # a visitor's voices are listed once their session is known
    try:
        names = [v.name for v in ctx.library(request).list()]
    except StudioError:
        names = []
    return [("—", ""), *[(n, n) for n in names]]


def is_small_custom(model_id: str | None) -> bool:
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
    check: gr.Checkbox  #: hear the take with the recogniser (loaded on the first checked run, never at start)


def shared_controls(ctx: UiContext, lang_state: gr.State, kind: str, panel: TextPanel) -> _Shared:
    with gr.Row():
        language = _language_dropdown(ctx)
        model = _model_dropdown(ctx, kind)
        seed = _seed_box(ctx)
    timing = build_delivery_controls(ctx)
    tuning = build_sampling_controls(ctx, lang_state)
    check = ctx.loc(
        gr.Checkbox(value=False, label=t("check_take", "zh"), info=t("check_take_info", "zh")),
        label="check_take",
        info="check_take_info",
    )
    with gr.Row():
        run = ctx.loc(gr.Button(t("generate", "zh"), variant="primary"), value="generate")
        stop = ctx.loc(gr.Button(t("stop", "zh"), variant="stop"), value="stop")
        live = ctx.loc(gr.Button(t("listen_live", "zh")), value="listen_live")
    live_audio = ctx.loc(
        gr.Audio(label=t("live_audio", "zh"), streaming=True, autoplay=True, interactive=False), label="live_audio"
    )
    audio = ctx.loc(gr.Audio(label=t("result", "zh"), type="numpy", interactive=False), label="result")
    info = gr.Markdown()
    return _Shared(
        language, model, seed, panel.normalize, timing, tuning, run, stop, audio, info, live, live_audio, check
    )


def wire(ctx, lang_state, shared: _Shared, generate, api_name: str, own: list, voice: list, last: list | tuple = ()):
    """Run ``generate`` as ``api_name`` on one engine job at a time; Stop cancels it.

    The inputs, in the order gradio_client callers pass them: the tab's ``own``, language, model, seed,
    the tab's ``voice`` settings, normalize, the timing values, ``last``, then the check-by-ear box (added
    last so that callers passing the earlier values by position are unchanged).
    """
    inputs = [lang_state, shared.tuning.state, *own, shared.language, shared.model, shared.seed, *voice]
    inputs += [shared.normalize, *shared.timing.inputs, *last, shared.check]
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


def generate_and_keep(ctx: UiContext, request, progress, lang: str, kind: str, text: str, voice: str, own, shared):
    """Run ``Engine.speak`` on a ``kind`` request and keep the take with the keyword arguments that can make it again.

    ``own`` is (the tab's stored arguments, arguments not kept: an uploaded reference, the session's voice
    library); ``shared`` the values of the shared controls: (sampling values, language, model, seed box,
    normalize, duration, ratio, takes, check by ear).
    """
    stored, unstored = own
    sampling_values, language, model, seed_value, normalize, duration, ratio, takes, check_take = shared
    # On a Space a visitor picks from the list: a typed folder would load (or probe) a folder of the server.
    offered = {value for _, value in model_choices(_KIND[kind])} | {ctx.engine.manager.default_model(_KIND[kind])}
    space.check_operator_only((model or "").strip() in offered)
    stored = {**stored, "language": language, "model": model, "normalize": bool(normalize)}
    delivery = delivery_from(duration, ratio, takes)
    if check_take:  # the recogniser's folder is found now (a clear refusal when there is none), loaded later
        from ..asr import take_checker

        delivery.checker = take_checker(language)
    speech = SpeechRequest(
        kind,
        [text],
        **stored,
        **unstored,
        seed=_seed(seed_value),
        sampling=sampling_from(sampling_values),
        delivery=delivery,
    )
    result = next(iter(ctx.engine.speak(speech, gradio_progress(progress, lang), ctx.cancel_token(request))))
    return _finish(ctx, request, result, lang, kind, text, voice, {**stored, "sampling": sampling_values})


def emotion_args(emotion_id, strength) -> dict:
    return {"emotion": emotion_id or None, "intensity": float(strength)}
