"""Keep the voice lists current: a voice saved or trained while the app runs shows up without a restart.

The Clone tab's saved voices, the Custom voice tab's models and speakers (a trained voice brings its own
checkpoint and speaker) and the Voices tab's table are built when the page is; they are read again when
one of those tabs is opened and when a training job in the Train tab finishes.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from .common import UiContext
from .generate_shared import model_dropdown_choices, saved_voice_choices
from .generate_tabs import _speaker_choices as speaker_choices
from .voice_tab import library_rows


@dataclass
class VoiceLists:
    """The components that list voices."""

    clone_voice: gr.Dropdown
    custom_model: gr.Dropdown
    custom_speaker: gr.Dropdown
    voices_table: gr.Dataframe

    @property
    def outputs(self) -> list:
        """The components, in the order :func:`current_lists` answers."""
        return [self.clone_voice, self.custom_model, self.custom_speaker, self.voices_table]


def current_lists(ctx: UiContext, lang: str, request: gr.Request | None = None) -> tuple:
    """Updates with what the lists hold now (choices only: what the user picked stays picked)."""
    return (
        gr.update(choices=saved_voice_choices(ctx, request)),
        gr.update(choices=model_dropdown_choices(ctx, "custom_voice")),
        gr.update(choices=speaker_choices(lang)),
        library_rows(ctx.library(request)),
    )


def wire_voice_lists(ctx: UiContext, lang_state: gr.State, lists: VoiceLists, triggers: list) -> None:
    """Refresh ``lists`` on each of ``triggers`` (a tab's ``select``, a state's ``change``)."""

    def refresh(lang, request: gr.Request):
        return current_lists(ctx, lang, request)

    gr.on(triggers, refresh, [lang_state], lists.outputs, api_visibility="private", queue=False)
