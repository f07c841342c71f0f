"""What every tab shares: localisation, the one error-to-message mapping, progress and cancel."""

from __future__ import annotations

import functools
import html
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import gradio as gr
import numpy as np

from ..engine import Engine
from ..errors import StudioError
from ..progress import CancelToken, ProgressFn
from ..timing import NATURAL_STRETCH
from .i18n import t

log = logging.getLogger(__name__)

#: Generation requests that may run at once in Gradio. They need the model one at a time: the engine's own
#: lock serialises them, and a request waiting there says for what (progress text), instead of sitting
#: silently in Gradio's queue. Input errors come back at once, before any wait.
ENGINE_WAITERS = 8


def engine_waiters() -> int:
    """:data:`ENGINE_WAITERS`; 1 on a Space, where a waiting request would hold a ZeroGPU slot meanwhile."""
    from .. import space

    return 1 if space.enabled() else ENGINE_WAITERS


class Localizer:
    """Remembers which component shows which string, to re-label them all on a language switch."""

    def __init__(self) -> None:
        self._items: list[tuple[gr.components.Component, dict[str, str]]] = []

    def __call__(self, component, **keys: str):
        """Register ``component``; ``keys`` maps an attribute (label, value, info, placeholder) to a string key."""
        self._items.append((component, keys))
        return component

    @property
    def components(self) -> list:
        """The registered components, in order."""
        return [c for c, _ in self._items]

    def updates(self, lang: str) -> list:
        """One ``gr.update`` per component, in :attr:`components` order."""
        return [gr.update(**{attr: t(key, lang) for attr, key in keys.items()}) for _, keys in self._items]


@dataclass
class UiContext:
    """The engine and per-session state behind one Blocks app."""

    engine: Engine
    loc: Localizer = field(default_factory=Localizer)
    _tokens: dict[str, CancelToken] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def cancel_token(self, request: gr.Request | None) -> CancelToken:
        """A fresh cancel token for this browser session (replacing its previous one)."""
        key = getattr(request, "session_hash", None) or "default"
        with self._guard:
            token = self._tokens[key] = CancelToken()
        return token

    def library(self, request: gr.Request | None):
        """The voice library this browser session sees: its own private one on a Space, else the studio's."""
        from .. import space

        if space.enabled():
            return space.storage().voices(request)
        return self.engine.voices

    def takes(self, request: gr.Request | None):
        """The takes history this browser session sees (its own on a Space)."""
        from .. import space
        from ..takes import TakeHistory

        if space.enabled():
            return TakeHistory(space.storage().outputs(request) / "takes")
        return TakeHistory()

    def cancel(self, request: gr.Request | None) -> None:
        """Cancel the running job of this browser session, if any."""
        key = getattr(request, "session_hash", None) or "default"
        with self._guard:
            token = self._tokens.get(key)
        if token is not None:
            token.cancel()


def internal_error_message(lang: str) -> str:
    """What a client is told about an error the studio did not expect: no exception text, where to look."""
    if lang == "zh":
        return "内部错误：操作没有完成，详情已写入日志。请重试；如果再次出现，请把日志附在问题报告里。"
    return "Internal error: the action did not complete; the details are in the log. Try again, and attach the log to a bug report if it happens again."


def user_errors(fn: Callable) -> Callable:
    """Turn a :class:`StudioError` into ``gr.Error`` in the session's language: the UI's one mapping.

    The wrapped handler must take ``lang`` as its first argument. Unexpected
    errors are logged and shown as one fixed message without their text; the app keeps running.
    """

    @functools.wraps(fn)
    def wrapper(lang, *args, **kwargs):
        try:
            return fn(lang, *args, **kwargs)
        except StudioError as exc:
            raise gr.Error(exc.message(lang), print_exception=False) from exc
        except gr.Error:
            raise
        except Exception as exc:
            # The exception's text may name server files or tell whether they exist: it goes to the log only.
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(internal_error_message(lang), print_exception=False) from exc

    return wrapper


def gradio_progress(progress: gr.Progress) -> ProgressFn:
    """Adapt the engine's progress callback to a Gradio progress bar."""

    def report(fraction: float | None, message: str) -> None:
        progress(fraction if fraction is not None else 0.0, desc=message)

    return report


#: Characters that Markdown (or the HTML it may carry) would interpret.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape_md(text: object) -> str:
    """``text`` (a voice name, a transcript, a user's words) shown literally inside ``gr.Markdown``.

    HTML is turned into entities and Markdown punctuation backslash-escaped, so
    a name like ``<img src=x onerror=...>`` or ``![](http://...)`` is shown, never rendered or fetched.
    """
    value = html.escape(str(text), quote=False).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", value)


def audio_output(samples: np.ndarray, sr: int) -> tuple[int, np.ndarray]:
    """Samples as Gradio's ``(sr, int16 array)`` (no float conversion warning)."""
    return sr, (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)


def result_markdown(result, lang: str) -> str:
    """One line describing a generation."""
    text = t(
        "result_info",
        lang,
        seconds=result.seconds,
        seed=result.seed,
        model=result.model,
        gen=result.timings.get("generate", 0.0),
    )
    if "load" in result.timings:
        text += t("loaded_in", lang, load=result.timings["load"])
    if result.fit is not None:
        fit = result.fit
        text += t(
            "fit_info", lang, natural=fit.natural_s, target=fit.target_s, seconds=result.seconds, stretch=fit.stretch
        )
        if fit.warning:
            low, high = NATURAL_STRETCH
            text += "\n- " + t("stretch_warning", lang, stretch=fit.stretch, low=low, high=high)
    if result.segments > 1:
        text += t("segments_info", lang, n=result.segments)
    if result.instruction:
        text += "\n\n" + t("instruction_info", lang, text=escape_md(result.instruction))
    if result.model_text:
        text += "\n\n" + t("sent_to_model", lang, text=escape_md(result.model_text))
    for note in result.notes:
        text += f"\n- {escape_md(note.message(lang))}"
    return text
