"""bf16 linear weights pre-packed in oneDNN's blocked layout, in place.

On CPU, ``F.linear`` in bfloat16 runs a oneDNN matmul that reorders the plain
weight into its blocked layout on every call. Generation is one token at a time,
so every call streams each weight from memory, and the reorder costs about a
quarter of the time: prepacked, a talker step or a code-predictor pass reads
its weights once. Whether the prepacked call rounds exactly like the plain one
depends on the CPU (on an AMD EPYC it does for every size; on an Intel Xeon
with AMX not for prompt-sized calls), so :func:`pack_linears` runs a self-check
per weight shape first (:mod:`.exactness`): a shape is packed only where the
packed result was bit-identical, calls larger than the checked-exact sizes use
the plain weight, and the reason for anything left plain is recorded
(:func:`plain_reasons`). float32 is left alone: MKL's packed sgemm rounds
differently from the plain one.

Packing replaces the plain weight (no extra memory) and is reversible with
:func:`unpack_linears`; while packed, a module's ``weight`` is None, so save the
model only after unpacking.
"""

from __future__ import annotations

import types

import torch

from .exactness import check

_PACKED = "_studio_packed_weight"
_MAX_ROWS = "_studio_packed_rows"  # largest call served packed (None: any); larger ones take the plain weight
_PLAIN_REASON = "_studio_plain_reason"  # why the self-check left a layer (or its prefill) plain


def _linear(hidden: torch.Tensor, packed: torch.Tensor, bias, max_rows: int | None) -> torch.Tensor:
    """The packed matmul, or the plain one (exactly bare torch's) for calls above ``max_rows`` rows."""
    if max_rows is not None and hidden.numel() > max_rows * hidden.shape[-1]:
        return torch.nn.functional.linear(hidden, packed.to_dense(), bias)
    return torch.ops.mkldnn._linear_pointwise(hidden, packed, bias, "none", [], "")


def _packed_forward(self: torch.nn.Linear, hidden: torch.Tensor) -> torch.Tensor:
    return _linear(hidden, getattr(self, _PACKED), self.bias, getattr(self, _MAX_ROWS))


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


def _reorder(weight: torch.Tensor) -> torch.Tensor:
    return torch.ops.mkldnn._reorder_linear_weight(weight, 1)


def _verdict(weight: torch.Tensor, bias):
    """The self-check's verdict for packing a weight of this shape (cached per shape)."""
    out_features, in_features = weight.shape
    key = ("packed linear", out_features, in_features, bias is not None)
    label = f"packed bf16 {in_features}->{out_features} linear"

    packed: list[torch.Tensor] = []  # reordered on the first probe, and only if one runs

    def candidate(hidden):
        if not packed:
            packed.append(_reorder(weight))
        return _linear(hidden, packed[0], bias, None)

    def reference(hidden):
        return torch.nn.functional.linear(hidden, weight, bias)

    return check(key, reference, candidate, in_features, weight.dtype, label)


def pack_linears(root: torch.nn.Module) -> int:
    """Pack every bf16 CPU ``nn.Linear`` under ``root`` that packs exactly here; returns how many were packed.

    0 when unsupported. A layer whose shape failed the self-check stays plain,
    with the reason kept (:func:`plain_reasons`).
    """
    if not can_pack():
        return 0
    count = 0
    with torch.no_grad():
        for module in root.modules():
            if not _packable(module):
                continue
            bias = None if module.bias is None else module.bias.detach()
            verdict = _verdict(module.weight.detach(), bias)
            if verdict.reason:
                setattr(module, _PLAIN_REASON, verdict.reason)
            if verdict.max_rows == 0:
                continue
            packed = _reorder(module.weight.detach())
            setattr(module, _PACKED, packed)
            setattr(module, _MAX_ROWS, verdict.max_rows)
            module._studio_requires_grad = module.weight.requires_grad
            module._parameters["weight"] = None
            module.forward = types.MethodType(_packed_forward, module)
            count += 1
    return count


def unpack_linears(root: torch.nn.Module) -> int:
    """Undo :func:`pack_linears` under ``root`` (plain weights back, bit for bit); returns how many."""
    count = 0
    for module in root.modules():
        module.__dict__.pop(_PLAIN_REASON, None)
        if not is_packed(module):
            continue
        plain = getattr(module, _PACKED).to_dense()
        module._parameters["weight"] = torch.nn.Parameter(plain, requires_grad=module._studio_requires_grad)
        delattr(module, _PACKED)
        delattr(module, _MAX_ROWS)
        delattr(module, "_studio_requires_grad")
        module.__dict__.pop("forward", None)
        count += 1
    return count


def plain_reasons(root: torch.nn.Module) -> dict[str, int]:
    """Why the self-check left layers under ``root`` plain, or packed only for small calls: reason -> layers."""
    reasons: dict[str, int] = {}
    for module in root.modules():
        reason = getattr(module, _PLAIN_REASON, "")
        if reason:
            reasons[reason] = reasons.get(reason, 0) + 1
    return reasons


def plain_weight(module: torch.nn.Linear) -> torch.Tensor:
    """The weight of ``module`` in the plain layout, packed or not."""
    packed = getattr(module, _PACKED, None)
    return module.weight.detach() if packed is None else packed.to_dense()


def fused_linear(modules: list[torch.nn.Linear]):
    """One callable computing ``torch.cat([m(x) for m in modules], -1)`` with a single matmul (None if mixed).

    The rows of a linear layer's output are independent dot products, so one
    matmul over the stacked weights can give the same values for fewer, larger
    calls; whether it does on this CPU is checked (:mod:`.exactness`) against
    the layers' plain matmuls for calls of up to ``exactness.SMALL_ROWS`` rows
    (the code predictor's). None where they differ; larger calls run the layers
    one by one. Packed when the modules are.
    """
    weight = torch.cat([plain_weight(m) for m in modules])
    biases = [m.bias for m in modules]
    if any(b is None for b in biases) and not all(b is None for b in biases):
        return None
    bias = None if biases[0] is None else torch.cat([b.detach() for b in biases])
    if any(is_packed(m) for m in modules) and not all(is_packed(m) for m in modules):
        return None
    if all(is_packed(m) for m in modules):
        packed = _reorder(weight)

        def stacked(hidden):
            return _linear(hidden, packed, bias, None)
    else:

        def stacked(hidden):
            return torch.nn.functional.linear(hidden, weight, bias)

    plain = [(plain_weight(m), None if m.bias is None else m.bias.detach()) for m in modules]

    def reference(hidden):
        return torch.cat([torch.nn.functional.linear(hidden, w, b) for w, b in plain], -1)

    shapes = tuple(tuple(w.shape) for w, _ in plain)
    kind = "packed" if all(is_packed(m) for m in modules) else "plain"
    label = f"stacked {kind} {weight.dtype} linears {shapes}"
    # Only small calls are checked and fused: the code predictor's (one token per batch item, two at its prefill).
    key = ("stacked", kind, shapes, bias is not None)
    verdict = check(key, reference, stacked, weight.shape[1], weight.dtype, label, large=False)
    if verdict.max_rows == 0:
        return None
    limit = verdict.max_rows

    def call(hidden):
        if hidden.numel() > limit * hidden.shape[-1]:
            return torch.cat([m(hidden) for m in modules], -1)
        return stacked(hidden)

    return call
