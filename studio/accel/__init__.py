"""Exact accelerations of qwen-tts generation on CPU (and harmless elsewhere).

One entry point, :func:`generate`: ``generate(tts, "generate_voice_clone", text=..., ...)``
returns what ``tts.generate_voice_clone(text=..., ...)`` returns, for the same
seed the same codes and the same audio to float rounding, faster:

- the code predictor's 15 sub-codes per frame run in a lean loop instead of a
  transformers ``generate`` call per frame (:mod:`.code_predictor`), its layers
  with stacked q/k/v and gate/up weights (:mod:`.layers`; ~100 MB more for 0.6B);
- bf16 linear weights are packed once in oneDNN's blocked layout, without the
  per-call reorder (:mod:`.packing`), for the weight shapes and call sizes where
  a self-check on this CPU found them bit-identical (:mod:`.exactness`);
- in-context clones decode only the new frames plus the convolutions' reach
  into the reference, instead of the whole reference again (:mod:`.decode`);
- the talker's key/value cache is allocated once per call instead of growing
  by a copy every step (:mod:`.kv_cache`);
- the talker's layers run with fewer small operations, the rotary tables merged
  once per step for all of them (:mod:`.talker_layers`).

On CUDA (not exact, said in the result): the talker's decode step on fixed
buffers, replayed as a CUDA graph (:mod:`.static_talker`), as is the code
predictor's loop (:mod:`.cuda_graphs`).

Nothing global is patched: the code predictor's ``generate`` and the speech
tokenizer's ``decode`` are replaced on those instances for the duration of one
call. Packing stays for the model's lifetime (see :func:`prepare`).

Approximate, opt-in only: :func:`quantize_int8` (int8 weights; other codes).
:func:`configure_threads` sets torch's CPU threads once per process.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .. import config

__all__ = [
    "Options",
    "accelerated",
    "configure_threads",
    "exactness_report",
    "fast_generate_voice_clone",
    "generate",
    "graphed_talker",
    "prepare",
    "quantize_int8",
]
_THREADS: dict[str, int] = {}


@dataclass(frozen=True)
class Options:
    """Which exact accelerations to use (all on by default; switches exist for benchmarks and bisecting)."""

    lean_code_predictor: bool = True
    pack_bf16: bool = True
    icl_tail_decode: bool = True
    preallocated_kv: bool = True
    fast_talker_layers: bool = True
    #: The talker's decode step on fixed buffers (:mod:`.static_talker`); None: where it runs as a CUDA graph.
    static_talker: bool | None = None


def configure_threads() -> int:
    """Set torch's CPU threads once per process; returns the count in use.

    ``STUDIO_THREADS`` wins; otherwise torch's default is capped at the physical
    cores available to the process: one-token generation is bound by memory
    bandwidth, and hyper-threads sharing a core only add synchronisation.
    """
    import torch

    if "threads" in _THREADS:
        return torch.get_num_threads()
    wanted = 0
    with contextlib.suppress(ValueError):
        wanted = config.threads()
    if wanted <= 0:
        wanted = torch.get_num_threads()
        try:
            import psutil

            physical = psutil.cpu_count(logical=False) or wanted
        except ImportError:
            physical = wanted
        available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else wanted
        wanted = max(1, min(wanted, physical, available))
    if wanted != torch.get_num_threads():
        torch.set_num_threads(wanted)
    _THREADS["threads"] = wanted
    return wanted


def quantize_int8(tts) -> int:
    """APPROXIMATE, opt-in: int8 weights for ``tts``'s talker layers (see :mod:`.int8`); returns how many are int8.

    Packed bf16 weights are unpacked first so every projection is quantized.
    Irreversible: reload the model to get the exact one back.
    """
    from .int8 import is_quantized, quantize_talker
    from .packing import unpack_linears

    talker = tts.model.talker
    done = sum(1 for module in talker.modules() if is_quantized(module))
    if done:
        return done
    unpack_linears(talker)
    return quantize_talker(tts)


def prepare(tts, options: Options = Options()) -> int:
    """Pack the talker's (and code predictor's) bf16 linear weights, once per model; returns how many are packed.

    In place and memory-neutral; a no-op for float32 or without oneDNN bf16.
    Shapes that fail this CPU's self-check stay plain (:func:`exactness_report` says why).
    ``packing.unpack_linears(tts.model.talker)`` undoes it.
    """
    import torch

    from ..mapped_weights import release_model_pages
    from .packing import is_packed, pack_linears

    talker = tts.model.talker
    if options.pack_bf16:
        # Layer by layer, dropping the originals' file pages as their packed copies
        # replace them, so the weights are never held twice (peak +1 GB for 0.6B otherwise).
        layers = [layer for m in talker.modules() if isinstance(m, torch.nn.ModuleList) for layer in m]
        for part in [*layers, talker]:
            if pack_linears(part):
                release_model_pages(tts)
    return sum(1 for module in talker.modules() if is_packed(module))


def graphed_talker(tts) -> bool:
    """Whether the talker's decode step runs as a CUDA graph for ``tts`` (a CUDA model, ``STUDIO_CUDA_GRAPHS`` on).

    Such results are not bit-identical to qwen-tts (see :mod:`.static_talker`).
    """
    if tts.model.talker.device.type != "cuda":
        return False
    from .cuda_graphs import enabled

    return enabled()


def exactness_report(tts) -> dict[str, int]:
    """Why this CPU's self-check kept some of ``tts``'s bf16 layers (or their long inputs) unpacked: reason -> layers.

    Empty when every bf16 layer is packed for every call size (or nothing is bf16).
    """
    from .packing import plain_reasons

    return plain_reasons(tts.model.talker)


def _clone_prompt(tts, kwargs: dict) -> dict:
    """Build the voice-clone prompt up front (exactly as the wrapper would) so its reference codes are known."""
    if kwargs.get("voice_clone_prompt") is not None or kwargs.get("ref_audio") is None:
        return kwargs
    kwargs = dict(kwargs)
    kwargs["voice_clone_prompt"] = tts.create_voice_clone_prompt(
        ref_audio=kwargs.pop("ref_audio"),
        ref_text=kwargs.pop("ref_text", None),
        x_vector_only_mode=kwargs.pop("x_vector_only_mode", False),
    )
    return kwargs


def _reference_codes(kwargs: dict) -> list:
    """Per batch item, the reference codes qwen-tts will prepend before decoding (None: none)."""
    prompt = kwargs.get("voice_clone_prompt")
    if prompt is None:
        return []
    if isinstance(prompt, dict):
        return list(prompt.get("ref_code") or [])
    texts = kwargs.get("text")
    count = len(texts) if isinstance(texts, list) else 1
    items = prompt * count if len(prompt) == 1 and count > 1 else prompt
    return [item.ref_code for item in items]


@contextlib.contextmanager
def _icl_decoder(speech_tokenizer, ref_codes: Sequence) -> Iterator[None]:
    """Within the block, ``speech_tokenizer.decode`` skips re-decoding the reference of each ICL item.

    It checks that each item really starts with its reference codes, and hands
    anything else to the original ``decode``.
    """
    from .decode import decode_clone

    original = speech_tokenizer.decode

    def decode(encoded):
        items = [entry.get("audio_codes") for entry in encoded] if isinstance(encoded, list) else None
        if items is None or len(items) != len(ref_codes) or any(c is None for c in items):
            return original(encoded)
        frames = []
        for codes, ref in zip(items, ref_codes, strict=True):
            if ref is None:
                frames.append(0)
                continue
            ref = ref.to(codes.device)
            if codes.shape[0] < ref.shape[0] or not bool((codes[: ref.shape[0]] == ref).all()):
                return original(encoded)
            frames.append(int(ref.shape[0]))
        return decode_clone(speech_tokenizer, items, frames), int(speech_tokenizer.model.get_output_sample_rate())

    previous = speech_tokenizer.__dict__.get("decode")
    speech_tokenizer.decode = decode
    try:
        yield
    finally:
        if previous is None:
            speech_tokenizer.__dict__.pop("decode", None)
        else:
            speech_tokenizer.decode = previous


@contextlib.contextmanager
def accelerated(tts, ref_codes: Sequence = (), options: Options = Options()) -> Iterator[None]:
    """Switch the per-call accelerations on for ``tts`` within the block.

    ``ref_codes`` are the reference codes of an in-context clone's batch items
    (see :func:`generate`); without them, decoding is untouched.
    """
    from .code_predictor import lean_code_predictor

    with contextlib.ExitStack() as stack:
        if options.lean_code_predictor:
            stack.enter_context(lean_code_predictor(tts.model.talker))
        if options.preallocated_kv:
            from .kv_cache import preallocated_talker_cache

            stack.enter_context(preallocated_talker_cache(tts.model.talker))
        if options.fast_talker_layers:
            from .talker_layers import fast_talker_layers

            stack.enter_context(fast_talker_layers(tts.model.talker))
        static = graphed_talker(tts) if options.static_talker is None else options.static_talker
        if static and options.preallocated_kv:  # the fixed buffers are the pre-allocated cache's
            from .static_talker import static_talker_steps

            stack.enter_context(static_talker_steps(tts.model.talker, graphs=graphed_talker(tts)))
        if options.icl_tail_decode and any(code is not None for code in ref_codes):
            stack.enter_context(_icl_decoder(tts.model.speech_tokenizer, ref_codes))
        yield


def generate(tts, method: str, /, options: Options = Options(), **kwargs) -> tuple[list[np.ndarray], int]:
    """``getattr(tts, method)(**kwargs)`` with the exact accelerations; same contract and return value.

    ``method`` is generate_voice_clone, generate_custom_voice or generate_voice_design.
    """
    prepare(tts, options)
    ref_codes: list = []
    if method == "generate_voice_clone":
        kwargs = _clone_prompt(tts, kwargs)
        ref_codes = _reference_codes(kwargs)
    with accelerated(tts, ref_codes, options):
        return getattr(tts, method)(**kwargs)


def fast_generate_voice_clone(tts, options: Options = Options(), **kwargs) -> tuple[list[np.ndarray], int]:
    """Drop-in for ``tts.generate_voice_clone(**kwargs)``: same arguments, same (wavs, sample_rate)."""
    return generate(tts, "generate_voice_clone", options=options, **kwargs)
