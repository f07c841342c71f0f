"""Benchmark: what the packing self-check (studio/accel/exactness.py) costs when a model is prepared.

Usage: ``python bench/self_check.py [--size 0.6b|1.7b] [--threads 2]``

Runs the check for every distinct bf16 linear shape of the real talker and code
predictor (from the bundled configs; random weights, nothing loaded from disk)
and for the code predictor's stacked q/k/v and gate/up weights, as
``studio.accel.prepare`` and the lean code predictor do on a fresh process, and
prints the seconds (wall and CPU) and each verdict (packed for every size, for generation
steps only, or not at all, with the reason). Nothing else is timed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from studio.accel import exactness  # noqa: E402
from studio.accel.packing import can_pack, fused_linear, pack_linears, plain_reasons  # noqa: E402

CONFIGS = {"0.6b": "Qwen3-TTS-12Hz-0.6B-Base", "1.7b": "Qwen3-TTS-12Hz-1.7B-Base"}


def shapes(size: str) -> tuple[set[tuple[int, int, bool]], list[list[int]], int]:
    """(distinct (in, out, bias) linear shapes, stacked output widths, code predictor hidden size)."""
    config = json.loads((ROOT / "assets" / "qwen3-tts-configs" / CONFIGS[size] / "config.json").read_text())
    talker = config["talker_config"]
    found = set()
    stacked = []
    hidden = 0
    for part in (talker, talker["code_predictor_config"]):
        hidden, inter, head = part["hidden_size"], part["intermediate_size"], part["head_dim"]
        q, kv = part["num_attention_heads"] * head, part["num_key_value_heads"] * head
        found |= {(hidden, q, False), (hidden, kv, False), (q, hidden, False), (hidden, inter, False)}
        found |= {(inter, hidden, False), (hidden, part["vocab_size"], False)}
        stacked = [[q, kv, kv], [inter, inter]]
    text = talker["text_hidden_size"]
    found |= {(text, text, True), (text, talker["hidden_size"], True)}
    if talker["hidden_size"] != hidden:
        found.add((talker["hidden_size"], hidden, True))
    return found, stacked, hidden


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="0.6b", choices=sorted(CONFIGS))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not can_pack():
        print("this torch/CPU has no oneDNN bf16: nothing is packed, nothing checked")
        return
    linear_shapes, stacked, hidden = shapes(args.size)
    cpu_started = time.process_time()
    started = time.perf_counter()
    for fan_in, fan_out, bias in sorted(linear_shapes):
        layer = torch.nn.Linear(fan_in, fan_out, bias=bias).to(torch.bfloat16)
        packed = pack_linears(layer)
        reasons = plain_reasons(layer)
        print(f"{fan_in:>5} -> {fan_out:<5} bias={bias!s:<5} packed={packed} {'; '.join(reasons) or 'every size'}")
    linears = time.perf_counter() - started
    started = time.perf_counter()
    for widths in stacked:
        layers = [torch.nn.Linear(hidden, width, bias=False).to(torch.bfloat16) for width in widths]
        for layer in layers:
            pack_linears(layer)
        fused = fused_linear(layers)
        print(f"stacked {hidden} -> {widths}: {'fused' if fused is not None else 'not fused (differs)'}")
    stacked_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    print(
        f"{args.size}, {args.threads} threads: self-check {linears + stacked_s:.2f} s "
        f"({len(linear_shapes)} linear shapes {linears:.2f} s, {len(stacked)} stacked {stacked_s:.2f} s), "
        f"{len(exactness._VERDICTS)} verdicts; CPU time {cpu_s:.2f} s (on a busy machine wall time inflates)"
    )


if __name__ == "__main__":
    main()
