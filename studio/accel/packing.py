"""bf16 linear weights pre-packed in oneDNN's blocked layout, in place.

On CPU, ``F.linear`` in bfloat16 runs a oneDNN matmul that reorders the plain
weight into its blocked layout on every call. Generation is one token at a time,
so every call streams each weight from memory, and the reorder costs about a
quarter of the time: prepacked, a talker step or a code-predictor pass reads
its weights once. The prepacked call is the same oneDNN kernel on the same
values, so outputs are bit-identical (checked for every shape the model uses in
``tests/test_accel.py``). float32 is left alone: MKL's packed sgemm rounds
differently from the plain one.

Packing replaces the plain weight (no extra memory) and is reversible with
:func:`unpack_linears`; while packed, a module's ``weight`` is None, so save the
model only after unpacking.
"""

from __future__ import annotations

import types

import torch

_PACKED = "_studio_packed_weight"


def _packed_forward(self: torch.nn.Linear, hidden: torch.Tensor) -> torch.Tensor:
    return torch.ops.mkldnn._linear_pointwise(hidden, getattr(self, _PACKED), self.bias, "none", [], "")


def can_pack() -> bool:
    """True when this torch has oneDNN (mkldnn) with bf16 support on CPU."""
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _packable(module: torch.nn.Module) -> bool:
    weight = getattr(module, "weight", None)
    return (
        isinstance(module, torch.nn.Linear)
        and weight is not None
        and weight.dtype == torch.bfloat16
        and weight.device.type == "cpu"
        and "forward" not in module.__dict__
        and not module._forward_hooks
        and not module._forward_pre_hooks
    )


def is_packed(module: torch.nn.Module) -> bool:
    """True when ``module`` is a linear layer packed by :func:`pack_linears`."""
    return hasattr(module, _PACKED)


def packed_weight(module: torch.nn.Module) -> torch.Tensor | None:
    """The oneDNN-layout weight of a packed layer, else None."""
    return getattr(module, _PACKED, None)


def pack_linears(root: torch.nn.Module) -> int:
    """Pack every bf16 CPU ``nn.Linear`` under ``root``; returns how many were packed (0 when unsupported)."""
    if not can_pack():
        return 0
    count = 0
    with torch.no_grad():
        for module in root.modules():
            if not _packable(module):
                continue
            packed = torch.ops.mkldnn._reorder_linear_weight(module.weight.detach(), 1)
            setattr(module, _PACKED, packed)
            module._studio_requires_grad = module.weight.requires_grad
            module._parameters["weight"] = None
            module.forward = types.MethodType(_packed_forward, module)
            count += 1
    return count


def unpack_linears(root: torch.nn.Module) -> int:
    """Undo :func:`pack_linears` under ``root`` (plain weights back, bit for bit); returns how many."""
    count = 0
    for module in root.modules():
        if not is_packed(module):
            continue
        plain = getattr(module, _PACKED).to_dense()
        module._parameters["weight"] = torch.nn.Parameter(plain, requires_grad=module._studio_requires_grad)
        delattr(module, _PACKED)
        delattr(module, "_studio_requires_grad")
        module.__dict__.pop("forward", None)
        count += 1
    return count


def plain_weight(module: torch.nn.Linear) -> torch.Tensor:
    """The weight of ``module`` in the plain layout, packed or not."""
    packed = getattr(module, _PACKED, None)
    return module.weight.detach() if packed is None else packed.to_dense()


def fused_linear(modules: list[torch.nn.Linear]):
    """One callable computing ``torch.cat([m(x) for m in modules], -1)`` with a single matmul (None if mixed).

    The rows of a linear layer's output are independent dot products, so one
    matmul over the stacked weights gives the same values (checked bit for bit
    in tests/test_accel.py) for fewer, larger calls. Packed when the modules are.
    """
    weight = torch.cat([plain_weight(m) for m in modules])
    biases = [m.bias for m in modules]
    if any(b is None for b in biases) and not all(b is None for b in biases):
        return None
    bias = None if biases[0] is None else torch.cat([b.detach() for b in biases])
    if any(is_packed(m) for m in modules) and not all(is_packed(m) for m in modules):
        return None
    if all(is_packed(m) for m in modules):
        packed = torch.ops.mkldnn._reorder_linear_weight(weight, 1)
        return lambda hidden: torch.ops.mkldnn._linear_pointwise(hidden, packed, bias, "none", [], "")
    return lambda hidden: torch.nn.functional.linear(hidden, weight, bias)
