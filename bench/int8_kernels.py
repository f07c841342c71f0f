"""Benchmark: one token through one projection weight, per matmul kernel the int8 option could use.

Usage: ``python bench/int8_kernels.py [--rows 1] [--weights 60] [--rounds 5]``

Token generation reads every weight once per step, so what matters is how many
bytes of weight a kernel streams per second with one activation row. Each
kernel runs over ``--weights`` different 3072x1024 weights (the 0.6B MLP's
shape; together larger than any cache) and the best of ``--rounds`` passes
counts:

- packed bf16: oneDNN's prepacked bf16 matmul, the studio's exact path;
- int8pack: torch's weight-only ``_weight_int8pack_mm`` (bf16 activations);
- fbgemm dynamic: ``quantized::linear_dynamic`` (8-bit activations per row),
  the int8 option where torch has fbgemm (:mod:`studio.accel.int8`).

Prints microseconds per call, GB/s of weight read and each kernel's speed
against packed bf16 in the same run. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.accel.int8 import Int8Weight, quantize_weight

OUT, IN = 3072, 1024


def best_seconds(call, items: list, rounds: int) -> float:
    """Best time of one pass over ``items`` (after one warm-up pass)."""
    for item in items:
        call(item)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for item in items:
            call(item)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("--rows", type=int, default=1)
    args.add_argument("--weights", type=int, default=60)
    args.add_argument("--rounds", type=int, default=5)
    args = args.parse_args()
    torch.manual_seed(0)
    weights = [torch.randn(OUT, IN).to(torch.bfloat16) for _ in range(args.weights)]
    hidden = torch.randn(args.rows, IN).to(torch.bfloat16)
    packed = [torch.ops.mkldnn._reorder_linear_weight(w, 1) for w in weights]
    int8pack = [Int8Weight(*quantize_weight(w), fbgemm=False) for w in weights]
    fbgemm = [Int8Weight(*quantize_weight(w)) for w in weights]
    kernels = [
        ("packed bf16", 2, packed, lambda p: torch.ops.mkldnn._linear_pointwise(hidden, p, None, "none", [], "")),
        ("int8pack", 1, int8pack, lambda w: w.matmul(hidden)),
    ]
    if fbgemm[0].kernel == "fbgemm-dynamic":
        kernels.append(("fbgemm dynamic", 1, fbgemm, lambda w: w.matmul(hidden)))
    else:
        print("this torch has no fbgemm: the int8 option uses int8pack")
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    print(f"{cpu}, torch {torch.__version__}, {torch.get_num_threads()} threads, {args.rows} row(s), {OUT}x{IN}")
    baseline = None
    for name, width, items, call in kernels:
        seconds = best_seconds(call, items, args.rounds) / len(items)
        baseline = baseline or seconds
        gbps = OUT * IN * width / seconds / 1e9
        print(f"{name:16s} {seconds * 1e6:7.0f} us/call {gbps:6.1f} GB/s  {baseline / seconds:5.2f}x packed bf16")


if __name__ == "__main__":
    main()
