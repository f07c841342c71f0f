"""A thin layer over ``qwen_tts.Qwen3TTSModel``: caps, seeds, progress, timing, acceleration.

It always hands the model decoded audio as ``(np.ndarray, sr)`` and never a
user string, caps ``max_new_tokens`` by the text's length (upstream, short
texts sometimes never stop), and reports each talker step so a UI can show a
bar and a user can cancel mid-generation.

Generation goes through :mod:`studio.accel`'s exact accelerations (same seed,
same codes, same audio to float rounding) unless :data:`ACCELERATE` is False or
``STUDIO_ACCEL=0``. The approximate int8 weights are opt-in only
(``STUDIO_INT8=1``), and results made with them say so in their timings.
Where this CPU's self-check kept bf16 layers unpacked (see :mod:`studio.accel.exactness`),
the timings count them; :func:`accel_notes` turns both into notes shown with a result.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from . import config
from .backend import FRAME_RATE
from .progress import CancelToken, ProgressFn, Status, no_progress
from .timing import FitReport

#: Hard ceiling of talker steps for one segment (the official config allows 8192 ≈ 11 min).
MAX_STEPS = 4096
MIN_STEPS = 24

#: Use studio.accel's exact accelerations; the STUDIO_ACCEL environment variable (0/1) overrides this.
ACCELERATE = True
#: Opt-in, approximate: int8 weights for the talker (other codes than the exact model). Env: STUDIO_INT8.
INT8 = False

#: Where a streamed generation sends its audio chunks (see :func:`streaming`); None: no streaming.
_STREAM: contextvars.ContextVar[tuple[Callable[[np.ndarray], None], object] | None] = contextvars.ContextVar(
    "studio_stream", default=None
)

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_WORDISH = re.compile(r"[A-Za-z0-9\u00c0-\u024f\u0400-\u04ff]")
_PAUSE = re.compile(r"[,.;:!?，。；：！？、…—\n]")


def max_steps_for(text: str, slack: float = 1.0) -> int:
    """The most talker steps (12.5 a second) a reading of ``text`` may take.

    Budget per unit, generous enough for slow, careful speech: a CJK syllable
    0.5 s, a Latin letter or digit 0.15 s, a pause 0.6 s, plus 2 s of margin.
    ``slack`` scales it (e.g. for a deliberately slowed target duration).
    """
    seconds = 2.0 + 0.5 * len(_CJK.findall(text)) + 0.15 * len(_WORDISH.findall(text)) + 0.6 * len(_PAUSE.findall(text))
    return int(min(MAX_STEPS, max(MIN_STEPS, math.ceil(seconds * slack * FRAME_RATE))))


def accelerated() -> bool:
    """Whether generation uses the exact accelerations (:data:`ACCELERATE`, overridden by ``STUDIO_ACCEL``)."""
    return config.switch("STUDIO_ACCEL", ACCELERATE)


def int8_enabled() -> bool:
    """Whether the approximate int8 talker is on (:data:`INT8`, overridden by ``STUDIO_INT8``; needs acceleration)."""
    return config.switch("STUDIO_INT8", INT8) and accelerated()


def seed_everything(seed: int | None) -> int:
    """Seed Python, NumPy and torch (CPU and GPU); draw a seed when ``seed`` is None or negative."""
    import torch

    if seed is None or seed < 0:
        seed = random.SystemRandom().randrange(0, 2**31 - 1)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return seed


@dataclass
class Sampling:
    """Sampling knobs; None keeps the checkpoint's generation_config.json value."""

    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    repetition_penalty: float | None = None
    subtalker_temperature: float | None = None
    subtalker_top_k: int | None = None
    subtalker_top_p: float | None = None
    max_new_tokens: int | None = None
    #: Generate exactly this many steps, ignoring end-of-speech (benchmarks and tests of timing).
    force_steps: int | None = None

    def kwargs(self) -> dict:
        """The non-None values as qwen-tts keyword arguments."""
        skip = ("max_new_tokens", "force_steps")
        return {k: v for k, v in asdict(self).items() if v is not None and k not in skip}


@dataclass
class SynthesisResult:
    """Audio and how it was made."""

    samples: np.ndarray
    sr: int
    seed: int
    model: str
    max_new_tokens: int
    timings: dict[str, float] = field(default_factory=dict)
    fit: FitReport | None = None  #: set when the clip was fitted to a target duration
    instruction: str = ""  #: the style instruction sent to the model, if any
    model_text: str = ""  #: the text as sent to the model (readings pinned, numbers spelled out)
    segments: int = 1  #: how many pieces a long text was generated in
    pause_s: float = 0.0  #: seconds of written pauses (exact silence) in the audio
    notes: list = field(default_factory=list)  #: TextWarning items: what text preparation changed
    random_weights: bool = False  #: made by a random-weight test model: the audio is noise
    check: Any = None  #: a :class:`studio.takecheck.TakeCheck` when the take was heard by the recogniser

    @property
    def seconds(self) -> float:
        """Duration of the audio."""
        return len(self.samples) / float(self.sr)


@contextlib.contextmanager
def step_monitor(tts, total_steps: int, progress: ProgressFn, cancel: CancelToken | None, label: str):
    """Report every talker step to ``progress`` and stop when ``cancel`` is set.

    A forward pre-hook on the talker runs once per generated frame; raising
    there is the only way into qwen-tts' generate loop, which drops
    stopping criteria on the way down.
    """
    state = {"steps": 0}

    def hook(module, args, kwargs):
        if cancel is not None:
            cancel.check()
        state["steps"] += 1
        if state["steps"] % 4 == 0:
            progress(min(state["steps"] / total_steps, 1.0), Status(model=label))

    handle = tts.model.talker.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield state
    finally:
        handle.remove()


def step_cap(texts: list[str], sampling: Sampling | None = None, max_seconds: float | None = None) -> int:
    """``max_new_tokens`` for ``texts``: the text's budget, lowered by ``sampling`` and ``max_seconds``.

    The same cap goes to a local model and to a remote engine, so a take can always be fitted.
    """
    cap = max(max_steps_for(t) for t in texts)
    if sampling is not None and sampling.max_new_tokens:
        cap = min(cap, sampling.max_new_tokens)
    if max_seconds:
        cap = min(cap, max(MIN_STEPS, math.ceil(max_seconds * FRAME_RATE)))
    return cap


@contextlib.contextmanager
def streaming(sink: Callable[[np.ndarray], None], plan=None) -> Iterator[None]:
    """Within the block (in this thread), local generations of one text hand ``sink`` their audio chunk by chunk.

    ``plan`` is a :class:`studio.accel.chunks.ChunkPlan` (default:
    :func:`~studio.accel.chunks.chunk_plan`). The chunks are the model's raw
    audio (before any fitting, levelling or watermark); put end to end they are
    the generation's audio. A call that cannot stream (a batch, a remote engine)
    never calls ``sink``: its caller takes the whole result instead.
    """
    if plan is None:
        from .accel.chunks import chunk_plan

        plan = chunk_plan()
    token = _STREAM.set((sink, plan))
    try:
        yield
    finally:
        _STREAM.reset(token)


def _call_model(tts, method: str, fast: bool, kwargs: dict):
    """``tts.<method>(**kwargs)``, accelerated when ``fast``, streamed when :func:`streaming` asks for it."""
    target = _STREAM.get()
    if target is None:
        return accel_generate(tts, method, kwargs) if fast else getattr(tts, method)(**kwargs)
    from .accel import stream

    if not stream.streamable(kwargs):
        return accel_generate(tts, method, kwargs) if fast else getattr(tts, method)(**kwargs)
    sink, plan = target
    with stream.streamed(tts, sink, plan, stream.reference_codes(kwargs)):
        # The streamed chunks already are the decode, so the ICL tail decode has nothing left to save.
        return accel_generate(tts, method, kwargs, icl_tail_decode=False) if fast else getattr(tts, method)(**kwargs)


def accel_generate(tts, method: str, kwargs: dict, icl_tail_decode: bool = True):
    """``studio.accel.generate`` with the default options (or the ICL tail decode off)."""
    from . import accel

    return accel.generate(tts, method, options=accel.Options(icl_tail_decode=icl_tail_decode), **kwargs)


def run_generation(
    tts,
    method: str,
    texts: list[str],
    model_label: str,
    seed: int | None,
    sampling: Sampling | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    max_seconds: float | None = None,
    **model_kwargs,
) -> tuple[list[np.ndarray], int, int, dict[str, float]]:
    """Call ``tts.<method>`` for ``texts`` with a length cap, a seed and step progress.

    ``max_seconds`` lowers the cap further (e.g. to what a target duration can use).
    Returns (wavs, sample_rate, seed_used, timings).
    """
    sampling = sampling or Sampling()
    cap = step_cap(texts, sampling, max_seconds)
    if sampling.force_steps:
        cap = sampling.force_steps
        # An id inside the suppressed control band can never be sampled, so EOS never comes.
        model_kwargs["eos_token_id"] = tts.model.config.talker_config.vocab_size - 1
    kwargs = dict(text=texts if len(texts) > 1 else texts[0], max_new_tokens=cap, **sampling.kwargs(), **model_kwargs)
    timings: dict[str, float] = {}
    fast = accelerated()
    if fast:
        from . import accel

        accel.configure_threads()
        if int8_enabled():
            accel.quantize_int8(tts)  # in place, once per model; irreversible until the model is reloaded
            timings["int8_approximate"] = 1.0
        if accel.graphed_talker(tts):
            timings["cuda_graph_talker"] = 1.0
    seed = seed_everything(seed)
    started = time.perf_counter()
    with step_monitor(tts, cap, progress, cancel, model_label):
        wavs, sr = _call_model(tts, method, fast, kwargs)
    elapsed = time.perf_counter() - started
    if fast:
        plain = sum(accel.exactness_report(tts).values())
        if plain:
            timings["bf16_plain_layers"] = float(plain)
    wavs = [np.asarray(w, dtype=np.float32).reshape(-1) for w in wavs]
    return wavs, int(sr), seed, {"generate": elapsed, "max_new_tokens": float(cap), **timings}


#: Keys of run_generation's timings that are counts or flags, not seconds.
NOT_SECONDS = frozenset({"max_new_tokens", "int8_approximate", "bf16_plain_layers", "cuda_graph_talker"})


def accel_notes(timings: dict[str, float]) -> list:
    """Notes for a result about how it was computed: approximate int8, CUDA-graph steps, bf16 packing left off."""
    from .text import TextWarning

    notes = []
    if timings.get("int8_approximate"):
        notes.append(
            TextWarning(
                "int8_approximate",
                zh="使用了近似的 int8 权重：结果与原模型（及 qwen-tts）不同。",
                en="Made with the approximate int8 weights: not the same result as the exact model (or qwen-tts).",
            )
        )
    if timings.get("cuda_graph_talker"):
        notes.append(
            TextWarning(
                "cuda_graph_talker",
                zh="GPU 上用 CUDA 图重放了声学模型的每一步：同一种子结果可复现，但与 qwen-tts 不逐位相同。",
                en="The talker's steps ran as a CUDA graph on the GPU: the same seed gives the same result again, "
                "but not bit-identical to qwen-tts.",
            )
        )
    if timings.get("bf16_plain_layers"):
        notes.append(
            TextWarning(
                "bf16_packing_off",
                zh="此 CPU 上打包的 bf16 权重与未打包时的结果不能逐位一致，部分层（或其长输入）已改用未打包的权重："
                "结果与 qwen-tts 相同，速度稍慢。",
                en="On this CPU, packed bf16 weights are not bit-identical to plain ones, so some layers (or their "
                "long inputs) used the plain weights: same result as qwen-tts, a little slower.",
            )
        )
    return notes
