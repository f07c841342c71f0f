"""What every tab shares: localisation, the one error-to-message mapping, progress and cancel."""

from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import gradio as gr
import numpy as np

from ..engine import Engine
from ..errors import StudioError
from ..progress import CancelToken, ProgressFn, progress_text
from ..timing import NATURAL_STRETCH
from .i18n import t
from .markdown import escape_md

log = logging.getLogger(__name__)

#: Generation requests that may run at once in Gradio. They need the model one at a time: the engine's own
#: lock serialises them, and a request waiting there says for what (progress text), instead of sitting
#: silently in Gradio's queue. Input errors come back at once, before any wait.
ENGINE_WAITERS = 8


def engine_waiters() -> int:
    """:data:`ENGINE_WAITERS`; 1 on a Space, where a waiting request would hold a ZeroGPU slot meanwhile."""
    from .. import space_mode as space

    return 1 if space.enabled() else ENGINE_WAITERS


class Localizer:
    """Remembers which component shows which string, to re-label them all on a language switch."""

    def __init__(self) -> None:
        self._items: list[tuple[gr.components.Component, dict[str, str]]] = []

    def __call__(self, component, **keys: str | tuple[str, ...]):
        """Register ``component``; ``keys`` maps an attribute (label, value, info, placeholder) to a string key,
        or ``headers`` to a tuple of keys (one per column)."""
        self._items.append((component, keys))
        return component

    @property
    def components(self) -> list:
        """The registered components, in order."""
        return [c for c, _ in self._items]

    def updates(self, lang: str) -> list:
        """One ``gr.update`` per component, in :attr:`components` order."""
        return [gr.update(**{attr: _say(key, lang) for attr, key in keys.items()}) for _, keys in self._items]


def _say(key, lang: str):
    """A key's string, a tuple of keys' strings (headers), or what a callable gives for ``lang`` (choices)."""
    if callable(key):
        return key(lang)
    return [t(k, lang) for k in key] if isinstance(key, tuple) else t(key, lang)


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
        from .. import space_mode as space

        if space.enabled():
            return space.storage().voices(request)
        return self.engine.voices

    def takes(self, request: gr.Request | None):
        """The takes history this browser session sees (its own on a Space)."""
        from .. import space_mode as space
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
        request = next((a for a in (*args, *kwargs.values()) if isinstance(a, gr.Request)), None)
        try:
            return fn(lang, *args, **kwargs)
        except StudioError as exc:
            raise _error(exc.message(lang), lang, request) from exc
        except gr.Error as exc:
            raise _error(exc.message, lang, request) from exc
        except Exception as exc:
            # The exception's text may name server files or tell whether they exist: it goes to the log only.
            log.exception("unexpected error in %s", fn.__name__)
            raise _error(internal_error_message(lang), lang, request) from exc

    return wrapper


#: The last error each browser session was shown (bounded), for :func:`show_last_error`.
_LAST_ERRORS: OrderedDict[str, str] = OrderedDict()
_LAST_ERRORS_KEPT = 256


def _error(message: str, lang: str, request: gr.Request | None) -> gr.Error:
    """A toast titled in ``lang``; the message is also kept for the session's result area."""
    session = getattr(request, "session_hash", None)
    if session:
        _LAST_ERRORS[session] = message
        _LAST_ERRORS.move_to_end(session)
        while len(_LAST_ERRORS) > _LAST_ERRORS_KEPT:
            _LAST_ERRORS.popitem(last=False)
    return gr.Error(message, title=t("error_title", lang), print_exception=False)


def show_last_error(lang: str, request: gr.Request) -> str:
    """The session's last error as Markdown, for a result area that keeps it after the toast fades."""
    message = _LAST_ERRORS.pop(getattr(request, "session_hash", "") or "", "")
    return t("error_kept", lang, message=escape_md(message)) if message else ""


def gradio_progress(progress: gr.Progress, lang: str = "zh") -> ProgressFn:
    """Adapt the engine's progress callback to a Gradio progress bar, its words in ``lang``."""

    def report(fraction: float | None, message) -> None:
        progress(fraction if fraction is not None else 0.0, desc=progress_text(message, lang))

    return report


#: Characters that Markdown (or the HTML it may carry) would interpret.


def audio_output(samples: np.ndarray, sr: int) -> tuple[int, np.ndarray]:
    """Samples as Gradio's ``(sr, int16 array)`` (no float conversion warning)."""
    return sr, (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)


def result_markdown(result, lang: str) -> str:
    """One line describing a generation."""
    from ..checkpoints import random_note

    text = t(
        "result_info",
        lang,
        seconds=result.seconds,
        seed=result.seed,
        model=result.model + (random_note(lang) if getattr(result, "random_weights", False) else ""),
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
    check = getattr(result, "check", None)
    if check is not None:
        if check.ok:
            line = t("take_check", lang, summary=check.summary(lang))
        else:
            line = t("take_check_wrong", lang, summary=check.summary(lang), heard=check.heard)
        text += "\n\n" + escape_md(line)
    return text
