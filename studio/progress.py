"""Progress reporting and cancellation shared by every long job.

The engine reports through a plain callable, so the UI can forward it to a
Gradio progress bar, the CLI to tqdm, and the API to a job record.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .errors import Cancelled


@dataclass(frozen=True)
class Status:
    """What a long job is doing, in no language: :func:`progress_text` words it.

    Engine code sends one as the ``message`` of a progress report; each layer
    adds what it knows (the engine a part of a long text, the dubbing runner a
    line and the time left) with :meth:`with_`.
    """

    #: "loading", "downloading", "waiting", "generating", "writing", "done"; a re-dub's "extracting",
    #: "separating", "transcribing", "speakers"; "muxing" a dub into a video
    kind: str = "generating"
    model: str = ""
    busy: tuple[str, str] = ("", "")  #: what a "waiting" job waits for, as (zh, en)
    line: int = 0  #: 1-based; 0 = not a line of a script
    lines: int = 0
    part: int = 0  #: 1-based piece of a long text; shown when ``parts`` > 1
    parts: int = 0
    eta_s: float | None = None  #: seconds left, from measured speed
    at_s: float = 0.0  #: how far into a recording the job is; shown with ``of_s``
    of_s: float = 0.0  #: the recording's length (0: not a job over a recording)

    def with_(self, **changes) -> Status:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)

    def text(self, lang: str = "zh") -> str:
        """The status in words (:func:`progress_text`)."""
        return progress_text(self, lang)

    def __str__(self) -> str:
        return progress_text(self, "en")


_KIND_WORDS = {
    "loading": ("正在加载模型 {model}", "loading model {model}"),
    "downloading": ("正在下载模型 {model}", "downloading model {model}"),
    "waiting": ("排队等待{busy}完成", "waiting for {busy} to finish"),
    "generating": ("正在生成", "generating"),
    "writing": ("正在写出文件", "writing the outputs"),
    "extracting": ("正在提取视频的声音", "extracting the video's sound"),
    "separating": ("正在分离人声和背景", "separating the voice from the background"),
    "transcribing": ("正在识别语音", "transcribing the speech"),
    "speakers": ("正在区分说话人", "telling the speakers apart"),
    "muxing": ("正在把配音合成进视频", "putting the dub into the video"),
    "done": ("完成", "done"),
}


def duration_text(seconds: float, lang: str = "zh") -> str:
    """``2 分 10 秒`` / ``2 min 10 s`` (whole seconds; hours when over an hour)."""
    total = max(0, math.ceil(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    zh = lang.startswith("zh")
    units = ("小时", "分", "秒") if zh else ("h", "min", "s")
    if hours:
        return f"{hours} {units[0]} {minutes} {units[1]}"
    if minutes:
        return f"{minutes} {units[1]} {secs} {units[2]}"
    return f"{secs} {units[2]}"


def progress_text(status: Status | str, lang: str = "zh") -> str:
    """One line a person can read: ``第 1/8 句 · 第 4/5 段 · 约剩 2 分 10 秒`` / ``line 1/8 · part 4/5 · about 2 min 10 s left``.

    A plain string (from code that has no :class:`Status`) is returned as it is.
    """
    if not isinstance(status, Status):
        return str(status or "")
    zh = lang.startswith("zh")
    words = []
    if status.kind != "generating" or not status.lines:
        pair = _KIND_WORDS.get(status.kind, (status.kind, status.kind))
        busy = status.busy[0 if zh else 1]
        words.append(pair[0 if zh else 1].format(model=status.model, busy=busy).strip())
    if status.lines:
        words.append(f"第 {status.line}/{status.lines} 句" if zh else f"line {status.line}/{status.lines}")
    if status.of_s > 0:
        words.append(f"{status.at_s:.0f}/{status.of_s:.0f} {'秒' if zh else 's'}")
    if status.parts > 1:
        words.append(f"第 {status.part}/{status.parts} 段" if zh else f"part {status.part}/{status.parts}")
    if status.eta_s is not None and status.kind != "done":
        left = duration_text(status.eta_s, lang)
        words.append(f"约剩 {left}" if zh else f"about {left} left")
    return " · ".join(words)


class Eta:
    """Time left from the measured speed: elapsed time / fraction done, once there is enough to measure."""

    def __init__(self, min_fraction: float = 0.02, min_elapsed_s: float = 2.0, clock=time.monotonic) -> None:
        self._clock = clock
        self._started = clock()
        self._min_fraction = min_fraction
        self._min_elapsed = min_elapsed_s

    def left(self, fraction: float | None) -> float | None:
        """Seconds left at ``fraction`` done, or None while the measure would be a guess."""
        elapsed = self._clock() - self._started
        if fraction is None or fraction < self._min_fraction or elapsed < self._min_elapsed:
            return None
        return elapsed * (1.0 - min(fraction, 1.0)) / fraction


#: ``progress(fraction_or_None, message)``; fraction in [0, 1] or None when unknown; message a
#: :class:`Status` (or, from older code, a plain string).
ProgressFn = Callable[[float | None, "Status | str"], None]


def no_progress(fraction: float | None, message: str) -> None:
    """A progress callback that ignores everything."""


#: What this thread is working for, as (zh, en), told to whoever waits for the model meanwhile.
Activity = Callable[[], tuple[str, str]]
_activity: contextvars.ContextVar[Activity | None] = contextvars.ContextVar("studio_activity", default=None)


@contextlib.contextmanager
def doing(describe: Activity) -> Iterator[None]:
    """Name what the current thread does (e.g. a dubbing job and its line) while it holds the model."""
    token = _activity.set(describe)
    try:
        yield
    finally:
        _activity.reset(token)


def current_activity() -> Activity | None:
    """What the current thread said it does (:func:`doing`), or None."""
    return _activity.get()


class CancelToken:
    """Set from any thread; long jobs call :meth:`check` between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._event.set()

    def reset(self) -> None:
        """Clear a previous cancellation so the token can be reused."""
        self._event.clear()

    @property
    def cancelled(self) -> bool:
        """Whether cancellation was requested."""
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled()


class TqdmProgress:
    """A progress callback that drives a tqdm bar (for the command line)."""

    def __init__(self, desc: str = "", lang: str = "en") -> None:
        self._desc = desc
        self._lang = lang
        self._bar = None  # created on the first report, so a job that fails early prints no empty bar
        self._last = 0.0

    def __call__(self, fraction: float | None, message: str) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=100, desc=self._desc, bar_format="{l_bar}{bar}| {postfix}")
        if fraction is not None:
            target = max(0.0, min(1.0, fraction)) * 100
            self._bar.update(max(0.0, target - self._last))
            self._last = max(self._last, target)
        self._bar.set_description_str(progress_text(message, self._lang) or self._desc, refresh=False)
        self._bar.set_postfix_str("", refresh=True)

    def close(self) -> None:
        """Finish the bar."""
        if self._bar is not None:
            self._bar.close()
