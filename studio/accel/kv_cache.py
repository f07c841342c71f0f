"""A pre-allocated key/value cache for the talker's ``generate``: no growing copies per step.

transformers' ``DynamicCache`` appends each step's keys and values with
``torch.cat``: every step of every layer copies the whole cache so far (for
0.6B at 300 frames about 17 MB a step in bf16). :class:`PreallocatedCache`
is the same cache with each layer's buffers allocated once for the whole
generation (prefill + ``max_new_tokens``): a step writes one position in place
and hands attention a view of the filled part, so attention sees exactly the
keys and values the dynamic cache would give it (same values, same length:
same results), without the copies.

It *is* a ``DynamicCache`` to transformers (masks, ``get_seq_length``, the
generation loop treat it as one), so nothing else changes. A generation that
outgrows the buffers (it cannot, given ``max_new_tokens``) falls back to growing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from transformers.cache_utils import Cache, DynamicCache, DynamicLayer


class PreallocatedLayer(DynamicLayer):
    """A ``DynamicLayer`` whose keys and values are views of buffers of ``capacity`` positions."""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity
        self.key_buffer: torch.Tensor | None = None
        self.value_buffer: torch.Tensor | None = None

    def lazy_initialization(self, key_states: torch.Tensor) -> None:
        super().lazy_initialization(key_states)
        batch, heads, _, dim = key_states.shape
        shape = (batch, heads, max(self.capacity, key_states.shape[-2]), dim)
        self.key_buffer = key_states.new_empty(shape)
        self.value_buffer = key_states.new_empty(shape)

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, cache_kwargs=None):
        """Write the new positions in place; return views of everything cached so far."""
        if not self.is_initialized:
            self.lazy_initialization(key_states)
        start = self.get_seq_length()
        end = start + key_states.shape[-2]
        buffers = self.key_buffer, self.value_buffer
        if buffers[0] is None or end > buffers[0].shape[-2] or key_states.shape[0] != buffers[0].shape[0]:
            return super().update(key_states, value_states, cache_kwargs)  # outgrown: grow like DynamicLayer
        buffers[0][:, :, start:end].copy_(key_states)
        buffers[1][:, :, start:end].copy_(value_states)
        self.keys = buffers[0][:, :, :end]
        self.values = buffers[1][:, :, :end]
        return self.keys, self.values


class PreallocatedCache(DynamicCache):
    """A ``DynamicCache`` of :class:`PreallocatedLayer` layers, each holding up to ``capacity`` positions."""

    def __init__(self, layers: int, capacity: int) -> None:
        Cache.__init__(self, layers=[PreallocatedLayer(capacity) for _ in range(layers)])


#: The talker.generate keyword arguments qwen-tts passes; with any other one the call is left alone.
_TALKER_CALL = {
    "inputs_embeds",
    "attention_mask",
    "trailing_text_hidden",
    "tts_pad_embed",
    "max_new_tokens",
    "min_new_tokens",
    "do_sample",
    "top_k",
    "top_p",
    "temperature",
    "subtalker_dosample",
    "subtalker_top_k",
    "subtalker_top_p",
    "subtalker_temperature",
    "eos_token_id",
    "repetition_penalty",
    "suppress_tokens",
    "output_hidden_states",
    "return_dict_in_generate",
}


@contextlib.contextmanager
def preallocated_talker_cache(talker) -> Iterator[dict[str, int]]:
    """Within the block, ``talker.generate`` runs on a :class:`PreallocatedCache` sized for the call.

    An instance attribute, restored on exit; re-entrant. Yields call counts
    (``preallocated`` / ``original``) for tests and benchmarks.
    """
    calls = {"preallocated": 0, "original": 0}
    previous = talker.__dict__.get("generate")
    if previous is not None and getattr(previous, "_studio_preallocated", False):
        yield previous.calls
        return
    original = type(talker).generate.__get__(talker)
    layers = talker.config.num_hidden_layers

    def generate(*args, **kwargs):
        embeds = kwargs.get("inputs_embeds")
        steps = kwargs.get("max_new_tokens")
        if args or not set(kwargs) <= _TALKER_CALL or embeds is None or not isinstance(steps, int):
            calls["original"] += 1
            return original(*args, **kwargs)
        calls["preallocated"] += 1
        cache = PreallocatedCache(layers, embeds.shape[1] + steps)
        return original(*args, past_key_values=cache, **kwargs)

    generate._studio_preallocated = True  # type: ignore[attr-defined]
    generate.calls = calls  # type: ignore[attr-defined]
    talker.generate = generate
    try:
        yield calls
    finally:
        if previous is None:
            talker.__dict__.pop("generate", None)
        else:
            talker.generate = previous
