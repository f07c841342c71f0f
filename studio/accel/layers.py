"""A decoder layer's forward with fewer, larger operations, bit for bit the same.

The code predictor runs its 5 small layers on one token at a time, 15 times a
frame, and the talker its 28 once a frame, so the ~80 small tensor operations of
each layer's forward cost a good part of a step besides its matmuls.
:class:`FusedLayer` computes the same values with fewer: q, k and v in one
matmul (and gate and up in another) over stacked weights where a second copy is
affordable (the code predictor's, ~100 MB for 0.6B and 1.7B in bf16), one RMSNorm
and one rotary embedding over q and k together (per-head normalisation and
elementwise rotation do not mix heads), the rotation as a roll by a sign-folded
table made once per step (:func:`head_rope`), sdpa called directly, in-place
residual adds. Each output element is the same arithmetic on the same values as
in ``Qwen3TTSDecoderLayer`` / ``Qwen3TTSTalkerDecoderLayer``; tests/test_accel.py
checks layer outputs and codes are identical.
"""

from __future__ import annotations

import sys

import torch
from transformers.activations import SiLUActivation
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

from .int8 import fused_int8, is_quantized, quantized_weight
from .packing import fused_linear, is_packed, packed_weight


def rms_norm(hidden: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """``Qwen3TTSRMSNorm.forward``, with ``weight`` broadcast over any leading dims (in place where it may be)."""
    dtype = hidden.dtype
    hidden = hidden.to(torch.float32)
    scale = hidden.pow(2).mean(-1, keepdim=True).add_(eps).rsqrt_()
    return weight * (hidden * scale).to(dtype)


def head_rope(cos: torch.Tensor, sin: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(batch, length, head_dim) rotary tables in the form :class:`FusedLayer` takes, made once per step.

    ``rotate_half(x) * sin`` equals ``x.roll(half, -1) * signed`` with the first
    half of ``sin`` negated, value for value (negation is exact and commutes with
    a rounded product), in two operations instead of five; the tables get a heads axis.
    """
    half = sin.shape[-1] // 2
    signed = torch.cat((-sin[..., :half], sin[..., half:]), dim=-1)
    return cos.unsqueeze(2), signed.unsqueeze(2)


def norm_of(module) -> tuple[torch.Tensor, float] | None:
    """(weight, eps) of a Qwen3-TTS RMSNorm, to run it as :func:`rms_norm` (None for anything else)."""
    if type(module).__name__ != "Qwen3TTSRMSNorm" or module._forward_hooks or module._forward_pre_hooks:
        return None
    return module.weight.detach(), module.variance_epsilon


def _weight_source(linear: torch.nn.Module):
    """The object holding ``linear``'s weight: identity changes when it is packed, unpacked or replaced."""
    for source in (quantized_weight(linear), packed_weight(linear)):
        if source is not None:
            return source
    return linear.weight


def can_fuse(layer) -> bool:
    """True when ``layer``'s projections are linears (plain, packed or int8) and its q/k norms share eps."""
    attn, mlp = layer.self_attn, layer.mlp
    linears = [attn.q_proj, attn.k_proj, attn.v_proj, attn.o_proj, mlp.gate_proj, mlp.up_proj, mlp.down_proj]
    return (
        all(isinstance(m, torch.nn.Linear) and _weight_source(m) is not None for m in linears)
        and all("forward" not in m.__dict__ or is_packed(m) or is_quantized(m) for m in linears)
        and attn.q_norm.variance_epsilon == attn.k_norm.variance_epsilon
    )


def _fused(modules: list):
    return fused_int8(modules) if any(is_quantized(m) for m in modules) else fused_linear(modules)


class FusedLayer:
    """Single-layer forward for a decoder layer: fused projections (``stacked``) and fewer small operations.

    ``stacked=False`` keeps the projections as they are (no second copy of the
    weights, as for the talker's 28 layers) and still saves the small operations.
    """

    def __init__(self, layer, stacked: bool = True) -> None:
        attn, mlp = layer.self_attn, layer.mlp
        self.layer, self.attn, self.mlp = layer, attn, mlp
        self.head_dim = attn.head_dim
        self.q_heads = attn.q_proj.out_features // attn.head_dim
        self.kv_heads = attn.k_proj.out_features // attn.head_dim
        self.qk_width = (self.q_heads + self.kv_heads) * self.head_dim
        self.intermediate = mlp.gate_proj.out_features
        self.stacked = stacked
        if stacked:
            self.qkv = _fused([attn.q_proj, attn.k_proj, attn.v_proj])
            self.gate_up = _fused([mlp.gate_proj, mlp.up_proj])
            if self.qkv is None or self.gate_up is None:
                raise ValueError("projections of mixed kinds cannot be fused")
        else:
            self.qkv = lambda hidden: torch.cat([attn.q_proj(hidden), attn.k_proj(hidden), attn.v_proj(hidden)], -1)
        self.qk_weight = torch.cat(
            [
                attn.q_norm.weight.detach().expand(self.q_heads, self.head_dim),
                attn.k_norm.weight.detach().expand(self.kv_heads, self.head_dim),
            ]
        )
        self.eps = attn.q_norm.variance_epsilon
        self.norms = (norm_of(layer.input_layernorm), norm_of(layer.post_attention_layernorm))
        implementation = attn.config._attn_implementation
        if implementation == "eager":
            self.attention = sys.modules[type(attn).__module__].eager_attention_forward
        else:
            self.attention = ALL_ATTENTION_FUNCTIONS[implementation]
        # transformers' sdpa wrapper without a mask is this one call (grouped-query attention, causal for several
        # queries): made directly it skips the wrapper's checks and a copy.
        self.direct_sdpa = implementation == "sdpa" and hasattr(attn, "num_key_value_groups")
        self.silu = isinstance(mlp.act_fn, (torch.nn.SiLU, SiLUActivation))
        # Strong references: while held, a changed weight cannot reuse an old object's id.
        self.sources = [_weight_source(m) for m in self._fused_linears()]

    def _fused_linears(self) -> list:
        if not self.stacked:
            return []  # calls the layer's own projections: nothing to go stale
        return [self.attn.q_proj, self.attn.k_proj, self.attn.v_proj, self.mlp.gate_proj, self.mlp.up_proj]

    def is_current(self) -> bool:
        """False once the layer's weights were packed, unpacked or replaced since this was built."""
        current = [_weight_source(m) for m in self._fused_linears()]
        return all(a is b for a, b in zip(current, self.sources, strict=True))

    def _norm(self, which: int, hidden: torch.Tensor) -> torch.Tensor:
        norm = self.norms[which]
        if norm is None:
            module = self.layer.input_layernorm if which == 0 else self.layer.post_attention_layernorm
            return module(hidden)
        return rms_norm(hidden, *norm)

    def _attend(self, query, key, value, mask, batch: int, length: int) -> torch.Tensor:
        attn = self.attn
        if self.direct_sdpa and mask is None:
            out = torch.nn.functional.scaled_dot_product_attention(
                query,
                key,
                value,
                attn_mask=None,
                dropout_p=0.0,
                scale=attn.scaling,
                is_causal=query.shape[2] > 1 and getattr(attn, "is_causal", True),
                enable_gqa=True,
            )
            return out.transpose(1, 2).reshape(batch, length, -1)
        out, _ = self.attention(
            attn, query, key, value, mask, dropout=0.0, scaling=attn.scaling, sliding_window=attn.sliding_window
        )
        return out.reshape(batch, length, -1).contiguous()

    def __call__(self, hidden: torch.Tensor, rope, kv, layer_idx: int, mask: torch.Tensor | None) -> torch.Tensor:
        """The layer's output for ``hidden``; ``rope`` from :func:`head_rope`, ``kv`` a cache with ``update``."""
        batch, length, _ = hidden.shape
        qkv = self.qkv(self._norm(0, hidden))
        qk = qkv[..., : self.qk_width].view(batch, length, self.q_heads + self.kv_heads, self.head_dim)
        qk = rms_norm(qk, self.qk_weight, self.eps)
        cos, signed_sin = rope
        qk = (qk * cos).add_(qk.roll(self.head_dim // 2, -1) * signed_sin)
        query = qk[:, :, : self.q_heads].transpose(1, 2)
        key = qk[:, :, self.q_heads :].transpose(1, 2)
        value = qkv[..., self.qk_width :].view(batch, length, self.kv_heads, self.head_dim).transpose(1, 2)
        key, value = kv.update(key, value, layer_idx)
        hidden = self.attn.o_proj(self._attend(query, key, value, mask, batch, length)).add_(hidden)
        normed = self._norm(1, hidden)
        mlp = self.mlp
        if self.stacked:
            gate_up = self.gate_up(normed)
            gate, up = gate_up[..., : self.intermediate], gate_up[..., self.intermediate :]
        else:
            gate, up = mlp.gate_proj(normed), mlp.up_proj(normed)
        activated = torch.nn.functional.silu(gate).mul_(up) if self.silu else mlp.act_fn(gate) * up
        return mlp.down_proj(activated).add_(hidden)
