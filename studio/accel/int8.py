"""OPT-IN, APPROXIMATE: int8 weights for the talker's and code predictor's transformer layers.

Not an exact acceleration and never on by default. Each projection weight is
rounded to int8 with one symmetric scale per output channel (weight-only;
activations stay bf16/float32) and multiplied by ``torch._weight_int8pack_mm``.
Token generation on CPU is bound by reading weights, so half the bytes make the
talker and the code predictor about 1.3x faster on a 2-core EPYC. The codes,
and so the audio, differ from the unquantized model's; whether the voice
quality holds can only be judged with the real weights, which the tests here
never have. Output heads, embeddings and the speech decoder stay as they are.

Quantizing replaces the weights in place and is not reversible: reload the model
to get the exact one back.
"""

from __future__ import annotations

import types

import torch

_QUANTIZED = "_studio_int8"
#: Only the decoder layers' projections: heads (logits) and embeddings keep full precision.
_LAYER_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


#: From this many rows on (a prompt's prefill), dequantizing once beats the int8 kernel.
_DEQUANTIZE_ROWS = 16


def _int8_matmul(hidden: torch.Tensor, weight: torch.Tensor, scales: torch.Tensor, bias) -> torch.Tensor:
    flat = hidden.reshape(-1, hidden.shape[-1]).contiguous()
    if flat.shape[0] >= _DEQUANTIZE_ROWS:
        out = torch.nn.functional.linear(flat, weight.to(flat.dtype) * scales.to(flat.dtype)[:, None])
    else:
        out = torch._weight_int8pack_mm(flat, weight, scales.to(flat.dtype))
    if bias is not None:
        out = out + bias
    return out.reshape(*hidden.shape[:-1], weight.shape[0])


def _int8_forward(self: torch.nn.Linear, hidden: torch.Tensor) -> torch.Tensor:
    weight, scales = getattr(self, _QUANTIZED)
    return _int8_matmul(hidden, weight, scales, self.bias)


def fused_int8(modules: list[torch.nn.Linear]):
    """One int8 matmul for several quantized layers (their outputs concatenated), or None if any is not."""
    if not all(is_quantized(m) for m in modules):
        return None
    weight = torch.cat([quantized_weight(m)[0] for m in modules])
    scales = torch.cat([quantized_weight(m)[1] for m in modules])
    biases = [m.bias for m in modules]
    if any(b is not None for b in biases):
        return None
    return lambda hidden: _int8_matmul(hidden, weight, scales, None)


def quantize_weight(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(int8 weight, per-row scale) with ``weight ~= int8 * scale[:, None]``."""
    plain = weight.detach().float()
    # Round the scales to the weight's dtype first: the matmul multiplies by the rounded ones.
    scales = (plain.abs().amax(dim=1).clamp(min=1e-12) / 127).to(weight.dtype)
    quantized = torch.round(plain / scales.float()[:, None]).clamp(-127, 127).to(torch.int8)
    return quantized.contiguous(), scales


def is_quantized(module: torch.nn.Module) -> bool:
    """True for a linear layer replaced by :func:`quantize_talker`."""
    return hasattr(module, _QUANTIZED)


def quantized_weight(module: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(int8 weight, scales) of a quantized layer, else None."""
    return getattr(module, _QUANTIZED, None)


def quantize_talker(tts) -> int:
    """Quantize the talker's and code predictor's layer projections of ``tts`` to int8; returns how many."""
    count = 0
    with torch.no_grad():
        for name, module in tts.model.talker.named_modules():
            if not (isinstance(module, torch.nn.Linear) and name.rsplit(".", 1)[-1] in _LAYER_PROJECTIONS):
                continue
            if is_quantized(module) or "forward" in module.__dict__ or module.weight is None:
                continue  # already quantized, or packed by studio.accel.packing (quantize before packing)
            if module.weight.device.type != "cpu":
                continue
            setattr(module, _QUANTIZED, quantize_weight(module.weight))
            module._parameters["weight"] = None
            module.forward = types.MethodType(_int8_forward, module)
            count += 1
    return count
