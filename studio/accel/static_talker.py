"""The talker's one-token decode step over fixed-shape buffers, so a GPU can replay it as one CUDA graph.

transformers' generate calls the talker's transformer once a frame with a key/value
cache that grows by one position, so every step has new shapes and ~1,100 small
kernel launches (28 layers). :class:`StaticTalkerStep` runs the same layers
(:class:`.layers.FusedLayer` on the layers' own weights) on shapes that never
change: attention always reads the whole pre-allocated cache (the buffers of the
call's :class:`.kv_cache.PreallocatedCache`) with an additive mask that hides
the positions not written yet and the batch's left padding; the step's inputs
(embedding, rotary tables, mask, write position) are copied into fixed buffers
first. On CUDA the step is captured once per generation (:mod:`.cuda_graphs`)
and replayed every frame; elsewhere it runs eagerly, which is how the tests check
it against the growing-cache step on CPU.

Not bit-identical to qwen-tts: attention over a masked longer buffer rounds
differently (masked keys weigh exactly zero; the sums run in another order). So it
is on only where graphs are (CUDA, ``STUDIO_CUDA_GRAPHS`` on), and results made
with it say so. Prompts (several tokens), attention weights and anything
unexpected take the ordinary forward; asked for hidden states, a step gives only
the last one (the layers' own are what qwen-tts never reads).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from transformers.modeling_outputs import BaseModelOutputWithPast

from .kv_cache import PreallocatedCache
from .layers import head_rope
from .talker_layers import FastTalkerLayers, merged_rope


class _BufferKV:
    """The cache's buffers as seen by a static step: written at a position held in a tensor, read whole."""

    def __init__(self, cache: PreallocatedCache) -> None:
        self.buffers = [(layer.key_buffer, layer.value_buffer) for layer in cache.layers]
        self.index = torch.zeros(1, dtype=torch.long, device=self.buffers[0][0].device)
        # Masked keys weigh zero only if they are finite: the buffers were allocated empty (any bits, NaN too).
        written = cache.get_seq_length()
        for keys, values in self.buffers:
            keys[:, :, written:].zero_()
            values[:, :, written:].zero_()

    def update(self, key: torch.Tensor, value: torch.Tensor, layer_idx: int, cache_kwargs=None):
        keys, values = self.buffers[layer_idx]
        keys.index_copy_(2, self.index, key)
        values.index_copy_(2, self.index, value)
        return keys, values


class StaticTalkerStep:
    """One decode step of ``talker.model`` for one generation call's cache, on fixed buffers."""

    def __init__(self, talker, cache: PreallocatedCache, embeds: torch.Tensor) -> None:
        self.model = talker.model
        self.layers = FastTalkerLayers(talker)
        self.kv = _BufferKV(cache)
        batch, _, capacity, head_dim = self.kv.buffers[0][0].shape
        device, dtype = embeds.device, embeds.dtype
        self.capacity = capacity
        self.embeds = torch.zeros_like(embeds)
        self.cos = torch.zeros((batch, 1, 1, head_dim), dtype=dtype, device=device)
        self.sin = torch.zeros_like(self.cos)
        self.mask = torch.zeros((batch, 1, 1, capacity), dtype=dtype, device=device)
        self.positions = torch.arange(capacity, device=device)
        self.cache = cache  # held: its id keys this step and cannot be reused while the step lives
        self.graph = None  # set by cuda_graphs.capture_talker_step
        self.capture_failed = False
        self.output: torch.Tensor | None = None

    @property
    def supported(self) -> bool:
        """False where the layers cannot run fused (another attention kernel, sliding window, no mrope)."""
        return self.layers.supported

    def load(self, embeds: torch.Tensor, position_ids: torch.Tensor, attention_mask, start: int) -> None:
        """Copy this step's inputs into the fixed buffers: write position ``start``, its rotary tables and mask."""
        self.embeds.copy_(embeds)
        cos, sin = self.model.rotary_emb(embeds, position_ids)
        cos, sin = head_rope(*merged_rope(cos, sin, self.layers.sections, self.layers.interleaved))
        self.cos.copy_(cos)
        self.sin.copy_(sin)
        self.kv.index.fill_(start)
        visible = (self.positions <= start).expand(self.mask.shape[0], -1).clone()
        if attention_mask is not None:  # left padding of a batch: 0 where an item has no token
            seen = attention_mask.shape[1]
            visible[:, :seen] &= attention_mask.to(torch.bool)
        hidden = torch.finfo(self.mask.dtype).min
        self.mask.copy_(torch.where(visible, 0.0, hidden)[:, None, None, :])

    def run(self) -> torch.Tensor:
        """The step on the loaded buffers: the normed last hidden state (batch, 1, hidden)."""
        hidden = self.embeds
        rope = (self.cos, self.sin)
        for index, fused in enumerate(self.layers.fused):
            hidden = fused(hidden, rope, self.kv, index, self.mask)
        return self.model.norm(hidden)

    def __call__(self) -> torch.Tensor:
        if self.graph is not None:
            self.graph.replay()
            return self.output.clone()
        return self.run()


def _positions(position_ids, cache_position: torch.Tensor, batch: int) -> torch.Tensor:
    """The (3, batch, 1) rotary positions ``Qwen3TTSTalkerModel.forward`` would use."""
    if position_ids is None:
        return cache_position.view(1, 1, -1).expand(3, batch, -1)
    if position_ids.ndim == 2:
        return position_ids[None, ...].expand(3, position_ids.shape[0], -1)
    if position_ids.shape[0] == 4:
        return position_ids[1:]
    return position_ids


@contextlib.contextmanager
def static_talker_steps(talker, graphs: bool) -> Iterator[dict[str, int]]:
    """Within the block, ``talker.model``'s one-token calls run a :class:`StaticTalkerStep` (CUDA graph if ``graphs``).

    An instance attribute, restored on exit. Yields call counts (``static`` /
    ``original``); one step object per cache (one per generation call).
    """
    model = talker.model
    calls = {"static": 0, "original": 0}
    if "forward" in model.__dict__:  # already inside such a block
        yield calls
        return
    original = model.forward
    steps: dict[int, StaticTalkerStep] = {}

    def forward(
        input_ids=None,
        attention_mask=None,
        position_ids=None,
        past_key_values=None,
        inputs_embeds=None,
        use_cache=None,
        output_attentions=None,
        output_hidden_states=None,
        cache_position=None,
        **kwargs,
    ):
        layers = getattr(past_key_values, "layers", None)
        usable = (
            isinstance(past_key_values, PreallocatedCache)
            and input_ids is None
            and inputs_embeds is not None
            and inputs_embeds.shape[1] == 1
            and cache_position is not None
            and not (output_attentions or kwargs)
            and layers
            and all(layer.key_buffer is not None and layer.keys is not None for layer in layers)
            and layers[0].key_buffer.shape[0] == inputs_embeds.shape[0]
            and past_key_values.get_seq_length() < layers[0].key_buffer.shape[2]
        )
        step = steps.get(id(past_key_values)) if usable else None
        if usable and step is None:
            for old in list(steps):  # one generation at a time: an older cache's step is done
                steps.pop(old)
            step = steps[id(past_key_values)] = StaticTalkerStep(talker, past_key_values, inputs_embeds)
        if step is None or not step.supported:
            calls["original"] += 1
            return original(
                input_ids=input_ids,
                attention_mask=attention_mask,
                position_ids=position_ids,
                past_key_values=past_key_values,
                inputs_embeds=inputs_embeds,
                use_cache=use_cache,
                output_attentions=output_attentions,
                output_hidden_states=output_hidden_states,
                cache_position=cache_position,
                **kwargs,
            )
        calls["static"] += 1
        start = past_key_values.get_seq_length()
        batch = inputs_embeds.shape[0]
        step.load(inputs_embeds, _positions(position_ids, cache_position, batch), attention_mask, start)
        if graphs and step.graph is None and not step.capture_failed:
            from .cuda_graphs import capture_talker_step

            capture_talker_step(step)
        hidden = step()
        for layer, (keys, values) in zip(layers, step.kv.buffers, strict=True):
            layer.keys, layer.values = keys[:, :, : start + 1], values[:, :, : start + 1]
        # Asked for hidden states, only the last (normed) one is given: all qwen-tts reads (``hid[0][-1]``).
        states = (hidden,) if output_hidden_states else None
        return BaseModelOutputWithPast(last_hidden_state=hidden, past_key_values=past_key_values, hidden_states=states)

    model.forward = forward
    try:
        yield calls
    finally:
        model.__dict__.pop("forward", None)
        steps.clear()
