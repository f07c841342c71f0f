"""A lean loop for the code predictor: the 15 sub-codes of every talker frame.

For each frame, qwen-tts calls ``code_predictor.generate(...)`` (transformers'
GenerationMixin) for 15 tokens. That call rebuilds its generation config, logits
processors, stopping criteria, masks and a DynamicCache every frame, and runs
the model's full forward on every step. :class:`LeanCodePredictor` does the same
arithmetic with none of that: pre-allocated key/value buffers, rotary tables
computed once, the decoder layers called directly (fused, see :mod:`.layers`,
when their weights allow), and the same warpers
(temperature, top-k, top-p from transformers itself) and the same
``torch.multinomial`` call per step, so a seed gives the same codes.

Only the call shape the talker uses is accelerated; anything else (another
attention kernel, sliding layers, extra generate arguments, a generation config
that would add logits processors) goes to the original ``generate``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import SimpleNamespace

import torch
from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from .layers import FusedLayer, can_fuse, head_rope, norm_of, rms_norm

#: The keyword arguments qwen-tts' talker passes; any other one means a call we do not mirror.
_TALKER_CALL = {
    "inputs_embeds",
    "max_new_tokens",
    "do_sample",
    "top_p",
    "top_k",
    "temperature",
    "output_hidden_states",
    "return_dict_in_generate",
}
_ATTENTION = ("sdpa", "eager")


class _StaticKV:
    """Key/value buffers for every layer, written in place; the one Cache method the layers call."""

    def __init__(self, layers: int, batch: int, heads: int, length: int, head_dim: int, like: torch.Tensor) -> None:
        shape = (layers, batch, heads, length, head_dim)
        self.keys = like.new_empty(shape)
        self.values = like.new_empty(shape)
        self.layer_buffers = list(zip(self.keys.unbind(0), self.values.unbind(0), strict=True))  # views, made once
        self.start = 0

    def update(self, key: torch.Tensor, value: torch.Tensor, layer_idx: int, cache_kwargs=None):
        keys, values = self.layer_buffers[layer_idx]
        length = key.shape[2]
        keys.narrow(2, self.start, length).copy_(key)
        values.narrow(2, self.start, length).copy_(value)
        end = self.start + length
        return keys.narrow(2, 0, end), values.narrow(2, 0, end)


def _plain_generation_config(config) -> bool:
    """True when ``config`` adds no logits processor besides the sampling warpers."""
    neutral = {
        "repetition_penalty": (None, 1.0),
        "encoder_repetition_penalty": (None, 1.0),
        "no_repeat_ngram_size": (None, 0),
        "encoder_no_repeat_ngram_size": (None, 0),
        "bad_words_ids": (None,),
        "sequence_bias": (None,),
        "guidance_scale": (None, 1.0),
        "forced_bos_token_id": (None,),
        "forced_eos_token_id": (None,),
        "eos_token_id": (None,),
        "suppress_tokens": (None,),
        "begin_suppress_tokens": (None,),
        "exponential_decay_length_penalty": (None,),
        "min_p": (None,),
        "typical_p": (None, 1.0),
        "epsilon_cutoff": (None, 0.0),
        "eta_cutoff": (None, 0.0),
        "remove_invalid_values": (None, False),
        "renormalize_logits": (None, False),
        "watermarking_config": (None,),
        "num_beams": (None, 1),
        "prefill_chunk_size": (None,),
        "cache_implementation": (None,),
    }
    return all(getattr(config, name, None) in allowed for name, allowed in neutral.items())


class LeanCodePredictor:
    """Replaces ``code_predictor.generate`` for the talker's per-frame call; same codes for the same seed."""

    def __init__(self, code_predictor) -> None:
        self.cp = code_predictor
        self.original = type(code_predictor).generate.__get__(code_predictor)
        config = code_predictor.model.config
        self.layers = list(code_predictor.model.layers[: config.num_hidden_layers])
        self.attention = config._attn_implementation
        self.supported = (
            self.attention in _ATTENTION
            and not code_predictor.model.has_sliding_layers
            and _plain_generation_config(code_predictor.generation_config)
        )
        self.kv_heads = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", config.hidden_size // config.num_attention_heads)
        self._rope: tuple[torch.Tensor, ...] | None = None
        self._kv: _StaticKV | None = None
        self._fused: list[FusedLayer] | None = None
        self.calls = {"lean": 0, "original": 0}

    def generate(self, *args, **kwargs):
        """Same signature as ``GenerationMixin.generate`` for the talker's call; anything else is delegated."""
        embeds = kwargs.get("inputs_embeds")
        usable = (
            self.supported
            and not args
            and set(kwargs) <= _TALKER_CALL
            and embeds is not None
            and embeds.shape[1] == 2  # the talker's prefill: (past hidden, first code's embedding)
            and isinstance(kwargs.get("max_new_tokens"), int)
            and kwargs["max_new_tokens"] >= 1
            and all(kwargs.get(name) is not None for name in ("do_sample", "top_k", "top_p", "temperature"))
        )
        if not usable:
            self.calls["original"] += 1
            return self.original(*args, **kwargs)
        self.calls["lean"] += 1
        args = (kwargs["max_new_tokens"], bool(kwargs["do_sample"]), kwargs["top_k"], kwargs["top_p"])
        args += (kwargs["temperature"],)
        sequences = None
        if embeds.is_cuda:  # one graph launch instead of 15 passes' kernels (never imported on CPU or MPS)
            from . import cuda_graphs

            if cuda_graphs.enabled():
                sequences = cuda_graphs.graphed_run(self, embeds, *args)
        if sequences is None:
            sequences = self.run(embeds, *args)
        return SimpleNamespace(sequences=sequences)

    @staticmethod
    def _warpers(do_sample: bool, top_k: int, top_p: float, temperature: float) -> list:
        """The warpers transformers' ``_get_logits_processor`` builds for these values, in its order."""
        if not do_sample:
            return []
        warpers = []
        if temperature != 1.0:
            warpers.append(TemperatureLogitsWarper(temperature))
        if top_k != 0:
            warpers.append(TopKLogitsWarper(top_k=top_k, min_tokens_to_keep=1))
        if top_p < 1.0:
            warpers.append(TopPLogitsWarper(top_p=top_p, min_tokens_to_keep=1))
        return warpers

    def _rope_tables(self, length: int, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(cos, sin) for positions 0..length-1, and the same in :func:`.layers.head_rope` form."""
        # Positions restart at 0 every frame, so one table serves the whole generation.
        cached = self._rope
        if cached is None or cached[0].shape[1] < length or cached[0].dtype != like.dtype:
            positions = torch.arange(length, device=like.device)[None]
            cos, sin = self.cp.model.rotary_emb(like, positions)
            cached = self._rope = (cos, sin, *head_rope(cos, sin))
        return cached

    def _cache(self, batch: int, length: int, like: torch.Tensor) -> _StaticKV:
        kv = self._kv
        if (
            kv is None
            or kv.keys.shape[1] != batch
            or kv.keys.shape[3] < length
            or kv.keys.dtype != like.dtype
            or kv.keys.device != like.device
        ):
            kv = self._kv = _StaticKV(len(self.layers), batch, self.kv_heads, length, self.head_dim, like)
        return kv

    def fused_layers(self) -> list[FusedLayer] | None:
        """The layers with fused projections (rebuilt when weights changed), or None when they cannot be fused."""
        if self._fused is not None and all(layer.is_current() for layer in self._fused):
            return self._fused
        self._fused = None  # drop the old weights before building new ones
        if all(can_fuse(layer) for layer in self.layers):
            try:
                self._fused = [FusedLayer(layer) for layer in self.layers]
            except ValueError:  # e.g. some projections packed or quantized and others not
                self._fused = None
        return self._fused

    def run(
        self, embeds: torch.Tensor, steps: int, do_sample: bool, top_k: int, top_p: float, temperature: float
    ) -> torch.Tensor:
        """The ``steps`` sub-codes after the 2-position prefill ``embeds``, as a (batch, steps) long tensor."""
        cp = self.cp
        batch, prefill = embeds.shape[:2]
        hidden = cp.small_to_mtp_projection(embeds)
        total = prefill + steps - 1
        cos, sin, head_cos, head_sin = self._rope_tables(total, hidden)
        kv = self._cache(batch, total, hidden)
        positions = torch.arange(total, device=hidden.device)
        warpers = self._warpers(do_sample, top_k, top_p, temperature)
        fused = self.fused_layers()
        norm = norm_of(cp.model.norm)
        final_norm = cp.model.norm if norm is None else (lambda hidden: rms_norm(hidden, *norm))
        causal = None
        if self.attention == "eager":
            # sdpa needs no mask (it is causal by itself for a multi-token query); eager adds this one,
            # the same values transformers' create_causal_mask gives. One-token steps see every key.
            causal = torch.full((1, 1, prefill, prefill), torch.finfo(hidden.dtype).min, dtype=hidden.dtype)
            causal = causal.triu(1).to(hidden.device)
        sequences = torch.empty((batch, 0), dtype=torch.long, device=embeds.device)
        start = 0
        for step in range(steps):
            length = hidden.shape[1]
            kv.start = start
            span = slice(start, start + length)
            rope = (cos[:, span], sin[:, span])
            head = (head_cos[:, span], head_sin[:, span])
            mask = causal if length > 1 else None
            for index, layer in enumerate(self.layers):
                if fused is not None:
                    hidden = fused[index](hidden, head, kv, index, mask)
                    continue
                hidden = layer(
                    hidden,
                    attention_mask=mask,
                    position_ids=positions[span][None],
                    past_key_values=kv,
                    use_cache=True,
                    cache_position=positions[span],
                    position_embeddings=rope,
                )[0]
            logits = cp.lm_head[step](final_norm(hidden))
            # From here on, exactly transformers' _sample: float32 copy, warpers, softmax, one multinomial draw.
            scores = logits[:, -1, :].to(copy=True, dtype=torch.float32)
            for warper in warpers:
                scores = warper(sequences, scores)
            if do_sample:
                token = torch.multinomial(torch.nn.functional.softmax(scores, dim=-1), num_samples=1).squeeze(1)
            else:
                token = torch.argmax(scores, dim=-1)
            sequences = torch.cat([sequences, token[:, None]], dim=-1)
            start += length
            if step + 1 < steps:
                hidden = cp.small_to_mtp_projection(cp.model.codec_embedding[step](token[:, None]))
        return sequences


_LEAN = "_studio_lean"


def lean_for(code_predictor) -> LeanCodePredictor:
    """The (cached) lean loop of ``code_predictor``; its buffers and tables survive between calls.

    Kept on the instance itself (not in a module-level table, whose entries would
    keep the model alive): it goes when the model goes.
    """
    lean = code_predictor.__dict__.get(_LEAN)
    if lean is None:
        lean = code_predictor.__dict__[_LEAN] = LeanCodePredictor(code_predictor)
    return lean


@contextlib.contextmanager
def lean_code_predictor(talker) -> Iterator[LeanCodePredictor]:
    """Within the block, ``talker.code_predictor.generate`` is the lean loop: an instance attribute,
    restored on exit, so the class and other instances are untouched. Re-entrant."""
    cp = talker.code_predictor
    lean = lean_for(cp)
    previous = cp.__dict__.get("generate")
    if previous is not None and previous == lean.generate:
        yield lean
        return
    cp.generate = lean.generate
    try:
        yield lean
    finally:
        if previous is None:
            cp.__dict__.pop("generate", None)
        else:
            cp.generate = previous
