"""OPT-IN, APPROXIMATE: int8 weights for the talker's and code predictor's transformer layers.

Not an exact acceleration and never on by default. Each projection weight is
rounded to int8 with one symmetric scale per output channel. Token generation
on CPU is bound by reading weights, so half the bytes could halve a step; how
close a kernel gets depends on it (``python bench/int8_kernels.py``, 2-core AMD
EPYC, a 3072x1024 weight, one token): fbgemm's dynamic int8 matmul runs about
2.1x as fast as the packed bf16 one, torch's weight-only ``_weight_int8pack_mm``
about 1.3x (and 0.5x for 8 rows, a batch). So, where torch has fbgemm
(x86), activations are rounded to 8 bits on the fly, one scale per row (a token
of a prompt or a batch item; see :func:`_dynamic_matmul`), and multiplied in
integers; without fbgemm, activations stay bf16 and ``_weight_int8pack_mm``
serves calls of few rows, a dequantized copy in bf16 those of many (a prompt's
prefill).

The codes, and so the audio, differ from the unquantized model's; whether the
voice quality holds can only be judged with the real weights, which the tests
here never have. Output heads, embeddings and the speech decoder stay as they are.

Quantizing replaces the weights in place and is not reversible: reload the model
to get the exact one back.
"""

from __future__ import annotations

import contextlib
import functools
import types
import warnings

import torch

_QUANTIZED = "_studio_int8"
#: Only the decoder layers' projections: heads (logits) and embeddings keep full precision.
_LAYER_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
#: Without fbgemm, from this many rows on (a prompt's prefill), dequantizing once beats the int8 kernel.
_DEQUANTIZE_ROWS = 16


@functools.cache
def _has_vnni() -> bool:
    """True when the CPU multiplies 8-bit integers into 32-bit sums (VNNI/AMX), so 8-bit activations cannot saturate."""
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            flags = next((line for line in info if line.startswith("flags")), "").split()
        return bool({"avx512_vnni", "avx_vnni", "amx_int8"} & set(flags))
    return False


def _fbgemm_pack(weight: torch.Tensor, scales: torch.Tensor):
    """fbgemm's packed form of an int8 weight with per-row scales, or None where torch has no fbgemm."""
    if "fbgemm" not in torch.backends.quantized.supported_engines or weight.device.type != "cpu":
        return None
    previous = torch.backends.quantized.engine
    try:
        torch.backends.quantized.engine = "fbgemm"
        with warnings.catch_warnings():
            # torch marks its quantized tensor type as deprecated; it is only the carrier of the weight into
            # fbgemm's pack here (torch is pinned), and without it this falls back to the weight-only kernel.
            warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor, torch\.quantize_per_channel")
            zero = torch.zeros(weight.shape[0], dtype=torch.long)
            carrier = torch._make_per_channel_quantized_tensor(weight, scales.double(), zero, 0)
            return torch.ops.quantized.linear_prepack(carrier, None)
    except (RuntimeError, AttributeError):
        return None
    finally:
        torch.backends.quantized.engine = previous


class Int8Weight:
    """A linear layer's weight as int8 rows with one scale each, and the matmul this torch does fastest with it."""

    def __init__(self, weight: torch.Tensor, scales: torch.Tensor, fbgemm: bool = True) -> None:
        self.out_features = weight.shape[0]
        self.scales = scales  # in the layer's dtype: the weight-only kernel multiplies by these
        self.packed = _fbgemm_pack(weight, scales) if fbgemm else None
        self.weight = weight if self.packed is None else None  # fbgemm keeps the only copy
        self.reduce_range = not _has_vnni()

    @property
    def kernel(self) -> str:
        """The matmul in use: ``fbgemm-dynamic`` (8-bit activations) or ``int8pack`` (bf16 activations)."""
        return "int8pack" if self.packed is None else "fbgemm-dynamic"

    def int8(self) -> torch.Tensor:
        """The int8 weight (unpacked from fbgemm's layout when packed)."""
        if self.packed is None:
            return self.weight
        return torch.ops.quantized.linear_unpack(self.packed)[0].int_repr()

    def dequantized(self, dtype: torch.dtype) -> torch.Tensor:
        """The weight rebuilt in ``dtype`` (int8 times scale)."""
        return self.int8().to(dtype) * self.scales.to(dtype)[:, None]

    def matmul(self, hidden: torch.Tensor) -> torch.Tensor:
        """``hidden @ weight.T`` over the last dimension."""
        flat = hidden.reshape(-1, hidden.shape[-1])
        if self.packed is not None:
            out = _dynamic_matmul(flat, self.packed, self.reduce_range).to(flat.dtype)
        elif flat.shape[0] >= _DEQUANTIZE_ROWS:
            out = torch.nn.functional.linear(flat, self.dequantized(flat.dtype))
        else:
            out = torch._weight_int8pack_mm(flat.contiguous(), self.weight, self.scales.to(flat.dtype))
        return out.reshape(*hidden.shape[:-1], self.out_features)


def _dynamic_matmul(flat: torch.Tensor, packed, reduce_range: bool) -> torch.Tensor:
    """fbgemm's int8 matmul with 8-bit activations scaled per row (fbgemm itself takes one scale per call).

    A matmul is linear in each row, so rows divided by their largest magnitude
    share one range, and the product rows are multiplied back: every row (a
    prompt's token, a batch item) keeps its full 8-bit resolution.
    """
    flat = flat.float()
    if flat.shape[0] == 1:
        return torch.ops.quantized.linear_dynamic(flat, packed, reduce_range)
    peaks = flat.abs().amax(dim=1, keepdim=True).clamp(min=1e-30)
    return torch.ops.quantized.linear_dynamic(flat / peaks, packed, reduce_range) * peaks


def _int8_forward(self: torch.nn.Linear, hidden: torch.Tensor) -> torch.Tensor:
    out = getattr(self, _QUANTIZED).matmul(hidden)
    return out if self.bias is None else out + self.bias


def fused_int8(modules: list[torch.nn.Linear]):
    """One int8 matmul for several quantized layers (their outputs concatenated), or None if any is not."""
    if not all(is_quantized(m) for m in modules) or any(m.bias is not None for m in modules):
        return None
    parts = [quantized_weight(m) for m in modules]
    stacked = Int8Weight(torch.cat([p.int8() for p in parts]), torch.cat([p.scales for p in parts]))
    return stacked.matmul


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


def quantized_weight(module: torch.nn.Module) -> Int8Weight | None:
    """The :class:`Int8Weight` of a quantized layer, else None."""
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
            setattr(module, _QUANTIZED, Int8Weight(*quantize_weight(module.weight)))
            module._parameters["weight"] = None
            module.forward = types.MethodType(_int8_forward, module)
            count += 1
    return count
