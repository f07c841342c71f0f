"""The talker's decoder layers with fewer small operations per step, bit for bit the same.

Each of the talker's 28 (0.6B/1.7B) layers merges the three rotary sections
(time, height, width) of the step's cos/sin tables again, normalises q and k
separately and goes through four nested modules. Within :func:`fast_talker_layers`
each layer runs :class:`.layers.FusedLayer` instead, on its own projections
(``stacked=False``: stacking them would copy most of the talker's weights), with
the rotary tables merged once per step for all layers. Every output element is
the same arithmetic on the same values as in ``Qwen3TTSTalkerDecoderLayer``;
tests/test_accel.py checks the codes against bare qwen-tts. Anything unusual
(attention weights asked for, no cache, training, another rotary layout) runs
the original forward.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from .layers import FusedLayer, can_fuse, head_rope

_ATTENTION = ("sdpa", "eager")


def merged_rope(cos: torch.Tensor, sin: torch.Tensor, sections: list[int], interleaved: bool):
    """The (batch, length, head_dim) cos/sin that ``apply_multimodal_rotary_pos_emb`` multiplies q and k by.

    ``cos``/``sin`` are the talker's (3, batch, length, head_dim) tables, one per
    position kind; each channel takes its values from the kind its section says.
    """

    def merge(table: torch.Tensor) -> torch.Tensor:
        if interleaved:
            half = table[..., : table.shape[-1] // 2]
            kinds = len(sections)
            merged = half[0].clone()
            for kind, count in enumerate(sections[1:], 1):
                merged[..., kind : count * kinds : kinds] = half[kind, ..., kind : count * kinds : kinds]
            return torch.cat([merged, merged], dim=-1)
        parts = table.split(list(sections) * 2, dim=-1)
        return torch.cat([part[index % 3] for index, part in enumerate(parts)], dim=-1)

    return merge(cos), merge(sin)


class FastTalkerLayers:
    """Per-step state of the talker's fast layers: the layers, and the rotary tables merged for this step."""

    def __init__(self, talker) -> None:
        self.layers = list(talker.model.layers)
        config = talker.config
        scaling = getattr(config, "rope_scaling", None) or {}
        self.sections = scaling.get("mrope_section")
        self.interleaved = bool(scaling.get("interleaved", False))
        self.supported = (
            self.sections is not None
            and config._attn_implementation in _ATTENTION
            and getattr(config, "sliding_window", None) is None
            and all(can_fuse(layer) for layer in self.layers)
        )
        self.fused = [FusedLayer(layer, stacked=False) for layer in self.layers] if self.supported else []
        self._tables: tuple | None = None  # (the step's cos, sin) and their merged forms
        self.calls = {"fast": 0, "original": 0}

    def rope(self, position_embeddings) -> tuple[torch.Tensor, torch.Tensor]:
        """This step's merged tables in :func:`.layers.head_rope` form (made by the first layer, reused by the others)."""
        cos, sin = position_embeddings
        cached = self._tables
        if cached is None or cached[0] is not cos or cached[1] is not sin:  # holding them: ids cannot be reused
            cached = self._tables = (cos, sin, *head_rope(*merged_rope(cos, sin, self.sections, self.interleaved)))
        return cached[2], cached[3]

    def forward_of(self, index: int):
        """The replacement ``forward`` of layer ``index``."""
        layer, fused, original = self.layers[index], self.fused[index], self.layers[index].forward

        def forward(hidden_states, attention_mask=None, position_ids=None, past_key_values=None, **kwargs):
            embeddings = kwargs.get("position_embeddings")
            if kwargs.get("output_attentions") or past_key_values is None or embeddings is None or layer.training:
                self.calls["original"] += 1
                return original(hidden_states, attention_mask, position_ids, past_key_values, **kwargs)
            self.calls["fast"] += 1
            rope = self.rope(embeddings)
            return (fused(hidden_states, rope, past_key_values, layer.self_attn.layer_idx, attention_mask),)

        return forward


@contextlib.contextmanager
def fast_talker_layers(talker) -> Iterator[dict[str, int]]:
    """Within the block, the talker's layers run :class:`FusedLayer` (instance attributes, restored on exit).

    Yields call counts (``fast`` / ``original``). Does nothing where the layers
    cannot be fused; re-entrant.
    """
    layers = list(talker.model.layers)
    if layers and "forward" in layers[0].__dict__:  # already inside such a block
        yield {"fast": 0, "original": 0}
        return
    fast = FastTalkerLayers(talker)
    if not fast.supported:
        yield fast.calls
        return
    for index, layer in enumerate(layers):
        layer.forward = fast.forward_of(index)
    try:
        yield fast.calls
    finally:
        for layer in layers:
            layer.__dict__.pop("forward", None)
