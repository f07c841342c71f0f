"""Benchmark: the studio's 0.6B clone with torch on 2 threads against 1, interleaved, on the same engine.

Usage: ``python bench/threads_under_load.py [--reps 2] [--steps 20]``

For a shared or busy machine: the per-frame work is hundreds of small
operations, and with 2 threads each waits for both; prints seconds, ms per
frame (prefill and decode included) and the load average of every run. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run as B  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    import torch

    from studio import accel

    accel.configure_threads()
    folder, reference = B.ensure_checkpoint("0.6b"), B.reference_clip()
    engine = B.studio_engine("cpu")
    B.studio_clone(engine, folder, reference, B.TEXT, 4, 0)  # load, pack, cache the voice prompt
    for rep in range(args.reps):
        for threads in (2, 1):
            torch.set_num_threads(threads)
            started = time.perf_counter()
            B.studio_clone(engine, folder, reference, B.TEXT, args.steps, 1234)
            seconds = time.perf_counter() - started
            row = {"rep": rep + 1, "threads": threads, "seconds": round(seconds, 2)}
            row |= {"ms_per_frame": round(1000 * seconds / (args.steps - 1), 1)}
            row["load"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
