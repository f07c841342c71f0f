"""Experiment: does ``torch.compile`` make the code predictor's 15-step loop faster on CPU, and is it still exact?

Usage: ``python bench/compile_try.py [--size 0.6b] [--calls 40] [--reps 3] [--mode default]``

Loads the random-weight Base checkpoint the way the studio does (bf16 where the
CPU has it, packed weights, :mod:`studio.accel`'s lean code-predictor loop) and
runs that loop (one frame's 15 sub-codes, greedy) on ``--calls`` random talker
states, eager and through ``torch.compile`` (inductor), interleaved, best of
``--reps``. Prints the compile time, ms per frame of each, and whether every
call gave the same codes (greedy, so exactness means identical codes) and the
largest difference in the first step's logits. Writes
bench/results/cpu-<date>-<cpu model>-compile.md/.json. Not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import frame_breakdown as F  # noqa: E402
import run as B  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", default="0.6b", choices=["tiny", "0.6b", "1.7b"])
    p.add_argument("--calls", type=int, default=40)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--mode", default="default", help="torch.compile mode (default, reduce-overhead, max-autotune)")
    p.add_argument("--dynamic", action="store_true", help="torch.compile(dynamic=True)")
    p.add_argument("--plain", action="store_true", help="unpack the studio's packed bf16 weights first")
    args = p.parse_args()
    import torch

    from studio import accel
    from studio.accel.code_predictor import lean_for
    from studio.backend import qwen_tts

    qwen_tts()  # imported before the machine info reads its version
    folder, reference, info = F.start(argparse.Namespace(size=args.size))
    engine = B.studio_engine("cpu")
    B.studio_clone(engine, folder, reference, "预热。", 4, 0)  # load and pack as the studio does
    tts = engine.manager.loaded.tts
    accel.prepare(tts)
    if args.plain:
        from studio.accel.packing import unpack_linears

        unpack_linears(tts.model.talker)
    lean = lean_for(tts.model.talker.code_predictor)
    dtype = next(tts.model.talker.code_predictor.parameters()).dtype
    width = tts.model.talker.config.hidden_size
    generator = torch.Generator().manual_seed(0)
    states = [torch.randn(1, 2, width, generator=generator).to(dtype) for _ in range(args.calls)]

    def eager(embeds):
        return lean.run(embeds, 15, False, 50, 1.0, 1.0)

    compiled_run = torch.compile(lean.run, mode=None if args.mode == "default" else args.mode, dynamic=args.dynamic)

    def compiled(embeds):
        return compiled_run(embeds, 15, False, 50, 1.0, 1.0)

    lines = [
        f"# `python bench/compile_try.py --size {args.size} --calls {args.calls} --reps {args.reps} --mode {args.mode}"
    ]
    lines[0] += (" --dynamic" if args.dynamic else "") + (" --plain" if args.plain else "") + "`"
    lines += ["", *F.header_lines(argparse.Namespace(size=args.size, steps=15, seed=0, reps=args.reps), info)[:1]]
    lines.append(f"load average at start: {info['load']} (shared machine)")
    with torch.inference_mode():
        eager(states[0])  # builds the fused layers (and runs the exactness probes) outside the compiled code
        started = time.perf_counter()
        error = None
        try:
            compiled(states[0])
        except Exception as exc:  # the experiment records why compiling failed
            error = f"{type(exc).__name__}: " + " / ".join(str(exc).splitlines()[:6])[:600]
        compile_s = time.perf_counter() - started
        lines.append(f"first compiled call (compiling): {compile_s:.1f} s")
        results = {"compile_s": compile_s, "error": error, "rows": []}
        if error:
            lines.append(f"compile failed: {error}")
        else:
            times = {"eager": [], "compiled": []}
            same = True
            for rep in range(args.reps):
                outputs = {}
                for name, fn in (("eager", eager), ("compiled", compiled)):
                    begin = time.perf_counter()
                    outputs[name] = [fn(s).clone() for s in states]
                    times[name].append(1000 * (time.perf_counter() - begin) / len(states))
                same = same and all(
                    torch.equal(a, b) for a, b in zip(outputs["eager"], outputs["compiled"], strict=True)
                )
                row = {"rep": rep + 1, **{k: round(v[-1], 2) for k, v in times.items()}, "load": F.load_average()}
                results["rows"].append(row)
                print(json.dumps(row), flush=True)
            differing = sum(not torch.equal(a, b) for a, b in zip(outputs["eager"], outputs["compiled"], strict=True))
            best = {k: min(v) for k, v in times.items()}
            lines += [
                "",
                "| loop | ms per frame (15 sub-codes, best round) | vs eager |",
                "|---|---:|---:|",
                f"| eager ({'plain weights' if args.plain else 'studio default, packed weights'}) | {best['eager']:.2f} | 1.00x |",
                f"| torch.compile ({args.mode}) | {best['compiled']:.2f} | {best['eager'] / best['compiled']:.2f}x |",
                "",
                f"same greedy codes as eager in every round: {'yes' if same else 'no'} "
                f"(last round: {differing} of {len(states)} frames differ)",
            ]
            results |= {"best_ms": best, "same_codes": same, "differing_last_round": differing}
    lines.append(f"load average at the end: {F.load_average()}")
    print("\n".join(lines))
    F.write_results(f"compile-{args.size}", lines, {"machine": info, "args": vars(args), **results})


if __name__ == "__main__":
    main()
