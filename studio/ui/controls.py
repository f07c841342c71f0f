"""Controls the generating tabs share: the readings view, the dictionary, timing and emotion."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ..errors import StudioError
from ..style import emotions
from ..text import PronunciationDictionary
from ..text.dictionary import DEFAULT_PATH as DICTIONARY_PATH
from ..text.pins import set_pin
from .common import UiContext, user_errors
from .i18n import t
from .text_views import (  # noqa: F401  (the plain helpers behind these controls, re-exported)
    delivery_from,
    model_text_markdown,
    reading_candidates,
    reading_choices,
    reading_highlights,
)

#: Radio value that removes a pin.
UNPIN = "—"


@dataclass
class TextPanel:
    """The readings view under a text box."""

    normalize: gr.Checkbox


def build_text_panel(ctx: UiContext, lang_state: gr.State, text_box: gr.Textbox, name: str = "") -> TextPanel:
    """Readings view (click a highlighted character to pin its reading), model text, dictionary editor.

    None of it needs a model, so none of it waits behind a generation (``concurrency_limit=None``). With
    ``name``, the check is callable by Gradio clients as ``/<name>_readings``.
    """
    with ctx.loc(gr.Accordion(t("readings", "zh"), open=False), label="readings"):
        normalize = ctx.loc(
            gr.Checkbox(value=True, label=t("normalize", "zh"), info=t("normalize_info", "zh")),
            label="normalize",
            info="normalize_info",
        )
        check = ctx.loc(gr.Button(t("check_readings", "zh"), size="sm"), value="check_readings")
        highlights = ctx.loc(
            gr.HighlightedText(label=t("readings_view", "zh"), combine_adjacent=False, show_legend=False),
            label="readings_view",
        )
        position = gr.State(-1)
        choice = ctx.loc(gr.Radio([], label=t("pin_reading", "zh"), visible=False), label="pin_reading")
        sent = gr.Markdown()
        with ctx.loc(gr.Accordion(t("dictionary", "zh"), open=False), label="dictionary"):
            rules = ctx.loc(
                gr.Code(value=_dictionary_text(), language=None, label=t("dictionary_rules", "zh"), lines=8),
                label="dictionary_rules",
            )
            save_rules = ctx.loc(gr.Button(t("save", "zh"), size="sm"), value="save")
            saved = gr.Markdown()

    @user_errors
    def analyse(lang, text, norm):
        return reading_highlights(ctx.engine, text, lang), model_text_markdown(ctx.engine, text, norm, lang)

    def pick(lang, text, evt: gr.SelectData):
        position = evt.index if isinstance(evt.index, int) else evt.index[0]
        try:
            candidates = reading_choices(ctx.engine, text, position)
        except StudioError:
            candidates = []
        if not candidates:
            return -1, gr.update(visible=False, choices=[])
        return position, gr.update(visible=True, choices=[*candidates, (UNPIN, UNPIN)], value=None)

    @user_errors
    def pin(lang, text, pos, reading, norm):
        if pos < 0 or not reading:
            return gr.update(), gr.update(), gr.update()
        text = set_pin(text, pos, None if reading == UNPIN else reading)
        return text, reading_highlights(ctx.engine, text, lang), model_text_markdown(ctx.engine, text, norm, lang)

    @user_errors
    def save_dictionary(lang, tsv):
        dictionary = PronunciationDictionary.from_tsv(tsv or "", source=DICTIONARY_PATH.name)
        dictionary.save(DICTIONARY_PATH)
        return t("dictionary_saved", lang, count=len(dictionary.rules()))

    free = {"concurrency_limit": None, "api_visibility": "private"}
    named = {"api_name": f"{name}_readings", "api_visibility": "undocumented"} if name else {}
    check.click(analyse, [lang_state, text_box, normalize], [highlights, sent], **{**free, **named})
    text_box.blur(analyse, [lang_state, text_box, normalize], [highlights, sent], **free)
    highlights.select(pick, [lang_state, text_box], [position, choice], **free)
    choice.input(pin, [lang_state, text_box, position, choice, normalize], [text_box, highlights, sent], **free)
    save_rules.click(save_dictionary, [lang_state, rules], [saved], api_visibility="private")
    return TextPanel(normalize=normalize)


def _dictionary_text() -> str:
    return DICTIONARY_PATH.read_text(encoding="utf-8") if DICTIONARY_PATH.exists() else ""


@dataclass
class DeliveryControls:
    """Exact-duration controls."""

    duration: gr.Number
    ratio: gr.Slider
    takes: gr.Slider

    @property
    def inputs(self) -> list:
        return [self.duration, self.ratio, self.takes]


def build_delivery_controls(ctx: UiContext) -> DeliveryControls:
    """Target length in seconds or as a ratio of the natural length, and how many takes to choose from."""
    with ctx.loc(gr.Accordion(t("timing", "zh"), open=False), label="timing"), gr.Row():
        duration = ctx.loc(
            gr.Number(value=0, minimum=0, label=t("duration", "zh"), info=t("duration_info", "zh")),
            label="duration",
            info="duration_info",
        )
        ratio = ctx.loc(
            gr.Slider(0.5, 2.0, value=1.0, step=0.05, label=t("ratio", "zh"), info=t("ratio_info", "zh")),
            label="ratio",
            info="ratio_info",
        )
        takes = ctx.loc(
            gr.Slider(1, 8, value=1, step=1, label=t("takes", "zh"), info=t("takes_info", "zh")),
            label="takes",
            info="takes_info",
        )
    return DeliveryControls(duration, ratio, takes)


def emotion_choices(lang: str = "zh") -> list[tuple[str, str]]:
    """Dropdown choices for the emotion presets ('' = none), named in ``lang``."""
    return [("—", ""), *[(e.zh if lang == "zh" else e.en, e.id) for e in emotions()]]


def build_emotion_controls(ctx: UiContext) -> tuple[gr.Dropdown, gr.Slider]:
    """Emotion preset and its intensity."""
    with gr.Row():
        emotion = ctx.loc(
            gr.Dropdown(emotion_choices(), value="", label=t("emotion", "zh")), label="emotion", choices=emotion_choices
        )
        intensity = ctx.loc(
            gr.Slider(0.0, 1.0, value=0.5, step=0.05, label=t("intensity", "zh"), info=t("intensity_info", "zh")),
            label="intensity",
            info="intensity_info",
        )
    return emotion, intensity


#: The raw sampling settings shown as number boxes (empty = the model's default).
SAMPLING_FIELDS = (
    "temperature",
    "top_k",
    "top_p",
    "repetition_penalty",
    "subtalker_temperature",
    "subtalker_top_k",
    "subtalker_top_p",
    "max_new_tokens",
)


@dataclass
class SamplingControls:
    """Sampling preset and raw settings; ``state`` holds the current values for the generate handler."""

    preset: gr.Dropdown
    boxes: list
    state: gr.State


def preset_choices(lang: str = "zh") -> list[tuple[str, str]]:
    """Dropdown choices for the sampling presets, named in ``lang`` (a user's own preset by its name)."""
    from ..style import sampling_presets

    return [(p.get(lang, key), key) for key, p in sampling_presets().items()]


def build_sampling_controls(ctx: UiContext, lang_state: gr.State) -> SamplingControls:
    """Generation settings: a preset fills the raw boxes; any box left empty keeps the model's default."""
    from ..style import SAMPLING_RANGES, sampling_presets, save_sampling_preset

    with ctx.loc(gr.Accordion(t("sampling", "zh"), open=False), label="sampling"):
        preset = ctx.loc(
            gr.Dropdown(preset_choices(), value="default", label=t("sampling_preset", "zh")),
            label="sampling_preset",
            choices=preset_choices,
        )
        boxes = []
        with gr.Row():
            for name in SAMPLING_FIELDS:
                low, high = SAMPLING_RANGES[name]
                box = gr.Number(value=None, minimum=low, maximum=high, label=t(f"s_{name}", "zh"), min_width=120)
                boxes.append(ctx.loc(box, label=f"s_{name}"))
        with gr.Row():
            preset_name = ctx.loc(gr.Textbox(label=t("preset_name", "zh"), scale=2), label="preset_name")
            save = ctx.loc(gr.Button(t("save_preset", "zh"), size="sm", scale=1), value="save_preset")
        saved = gr.Markdown()
    state = gr.State({})

    def fill(preset_id):
        values = sampling_presets().get(preset_id or "default", {})
        return [values.get(name) for name in SAMPLING_FIELDS]

    def remember(*values):
        return dict(zip(SAMPLING_FIELDS, values, strict=True))

    for box in boxes:
        box.change(remember, boxes, [state], api_visibility="private", queue=False)

    @user_errors
    def store(lang, name, *values):
        save_sampling_preset(name, dict(zip(SAMPLING_FIELDS, values, strict=True)))
        return t("preset_saved", lang, name=name.strip()), gr.update(choices=preset_choices(lang), value=name.strip())

    preset.change(fill, [preset], boxes, api_visibility="private")
    save.click(store, [lang_state, preset_name, *boxes], [saved, preset], api_visibility="private")
    return SamplingControls(preset, boxes, state)


def sampling_from(values: dict | None) -> object:
    """The engine's ``Sampling`` from the raw boxes' values (None when every box is empty)."""
    from ..style import check_sampling

    given = {k: v for k, v in (values or {}).items() if v not in (None, "")}
    return check_sampling(given) if given else None
