"""Benchmark: ms per frame and where it goes, for bare qwen-tts, the studio's exact path and its int8 option.

Usage: ``python bench/frame_breakdown.py [--size 0.6b] [--steps 63] [--reps 3] [--bare-fp32]``

One process, one random-weight Base checkpoint (bench/checkpoints/, built by
bench/run.py's ``ensure_checkpoint`` when missing), one in-context clone of
``--steps`` forced talker steps with a voice prompt made once beforehand (a
saved voice), through:

- bare qwen-tts: ``Qwen3TTSModel.from_pretrained(..., dtype=bfloat16)`` and
  ``generate_voice_clone`` as a user calls it (``--bare-fp32`` adds the
  default-dtype model);
- the studio's default, exact path: ``Engine.clone`` (bf16 where the CPU has it,
  :mod:`studio.accel`);
- the studio's opt-in int8 weights (``STUDIO_INT8=1``; a second engine, since
  quantizing is irreversible).

Paths run interleaved, ``--reps`` rounds; the best round of each path counts
(the machine may be shared: the load average is printed with every round).
Hooks on the talker, its transformer and the decoder split the time into
prefill, talker step, code predictor and decode (see bench/stream_speed.py's
``breakdown``). Also says whether each path's codes equal bare bf16's.

Writes bench/results/cpu-<date>-<cpu model>-frame-breakdown.md/.json. Not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run as B  # noqa: E402  (bench/run.py: checkpoint, reference, engine helpers)
from stream_speed import breakdown  # noqa: E402

PARTS = ("prefill", "talker step", "code predictor", "decode")


def load_average() -> str:
    """The 1/5/15-minute load averages as ``uptime`` prints them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


@contextlib.contextmanager
def env(name: str, value: str):
    """An environment variable set for the duration of the block."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@contextlib.contextmanager
def codes_of(tts, into: list):
    """Collect each generated frame's codes (batch 1) into ``into`` within the block."""
    from studio.accel.stream import frame_tap

    with frame_tap(tts.model.talker, lambda codes: into.append(codes[0].detach().cpu().clone())):
        yield


class Path_:
    """One way of running the clone: a model, a call, and its timed runs."""

    def __init__(self, name: str, tts, call: Callable[[int], None]) -> None:
        self.name, self.tts, self.call = name, tts, call
        self.rows: list[dict] = []
        self.codes: list = []

    def run(self, seed: int, rep: int) -> dict:
        """One timed call; its row (ms per frame by part) is kept and returned."""
        import torch

        codes: list = []
        torch.manual_seed(seed)
        started = time.perf_counter()
        with codes_of(self.tts, codes), breakdown(self.tts) as spent:
            self.call(seed)
        wall = time.perf_counter() - started
        frames = max(spent["frames"], 1)
        row = {"path": self.name, "rep": rep, "frames": frames, "seconds": round(wall, 3)}
        row |= {part: round(1000 * spent[part] / frames, 1) for part in PARTS}
        row["total"] = round(1000 * wall / frames, 1)
        row["other"] = round(row["total"] - sum(row[p] for p in PARTS), 1)
        row["load"] = load_average()
        self.rows.append(row)
        self.codes = codes
        return row

    def best(self) -> dict:
        """The fastest row."""
        return min(self.rows, key=lambda r: r["seconds"])


def build_paths(args, folder: Path, reference) -> list[Path_]:
    """Load the models and warm each path up once; returns them in run order."""
    import torch

    steps, text = args.steps, B.TEXT
    engine = B.studio_engine("cpu")
    B.studio_clone(engine, folder, reference, text, 4, 0)  # load, pack, cache the voice prompt
    model_text = engine.prepare_text(text).model_text  # the bare call gets exactly what the engine sends
    paths: list[Path_] = []

    def bare(tts):
        prompt = tts.create_voice_clone_prompt(ref_audio=(reference, B.SR), ref_text=B.TRANSCRIPT)
        eos = tts.model.config.talker_config.vocab_size - 1  # never sampled: forces the length

        def call(seed, n=steps):
            tts.generate_voice_clone(
                text=model_text, language="Chinese", voice_clone_prompt=prompt, max_new_tokens=n, eos_token_id=eos
            )

        call(0, 4)
        return call

    with torch.inference_mode():
        dtypes = ["bfloat16"] + (["float32"] if args.bare_fp32 else [])
        for dtype in dtypes:
            tts = B.load_bare(folder, "cpu", dtype)
            paths.append(Path_(f"bare qwen-tts {dtype.replace('bfloat', 'bf').replace('float', 'fp')}", tts, bare(tts)))
    paths.append(
        Path_(
            "studio default (exact)",
            engine.manager.loaded.tts,
            lambda seed: B.studio_clone(engine, folder, reference, text, steps, seed),
        )
    )
    if not args.no_int8:
        int8 = B.studio_engine("cpu")

        def int8_call(seed, n=steps):
            with env("STUDIO_INT8", "1"):
                B.studio_clone(int8, folder, reference, text, n, seed)

        int8_call(0, 4)  # load, quantize, cache the voice prompt
        paths.append(Path_("studio int8 (opt-in, approximate)", int8.manager.loaded.tts, int8_call))
    return paths


def measure(paths: list[Path_], reps: int, seed: int, extra: Callable[[int], None] | None = None) -> None:
    """``reps`` interleaved rounds over ``paths`` (and ``extra(rep)``, e.g. peers in other processes)."""
    for rep in range(1, reps + 1):
        for path in paths:
            print(json.dumps(path.run(seed, rep), ensure_ascii=False), flush=True)
            gc.collect()
        if extra is not None:
            extra(rep)


def same_codes(a: list, b: list) -> str:
    """Whether two runs made the same frames' codes."""
    import torch

    if len(a) != len(b) or not a:
        return f"no ({len(a)} vs {len(b)} frames)"
    return "yes" if all(bool(torch.equal(x, y)) for x, y in zip(a, b, strict=True)) else "no"


def table_rows(paths: list[Path_]) -> list[list]:
    """Markdown rows: best run of each path, ms per frame by part, and its speed against the first path."""
    base = paths[0].best()["total"]
    rows = []
    for path in paths:
        best = path.best()
        parts = [best[p] for p in PARTS]
        rows.append(
            [
                path.name,
                *parts,
                best["other"],
                best["total"],
                f"{base / best['total']:.2f}x",
                same_codes(path.codes, paths[0].codes),
            ]
        )
    return rows


HEADER = ["path", *PARTS, "other", "ms/frame", "vs bare bf16", "same codes as bare bf16"]


def header_lines(args, info: dict) -> list[str]:
    """The machine and workload lines every result file starts with."""
    return [
        f"machine: {info['cpu']}, {info['cpus']} CPUs, native bf16: {info['cpu_native_bf16']}; "
        f"torch {info['torch']} ({info['torch_threads']} threads), qwen-tts {info.get('qwen_tts')}, "
        f"transformers {info.get('transformers')}, Python {info['python']}",
        f"workload: {args.size} Base, random weights, in-context clone (6.4 s reference, saved voice prompt), "
        f"{args.steps} forced talker steps, seed {args.seed}, best of {args.reps} interleaved rounds",
        f"load average (1, 5, 15 min) at start: {info['load']}; the machine is shared with other work, "
        "so absolute figures are inflated by that load; ratios come from the same rounds",
    ]


def write_results(name: str, lines: list[str], data: dict) -> Path:
    """bench/results/cpu-<date>-<cpu model>-<name>.md and .json."""
    out = ROOT / "bench" / "results"
    cpu = re.sub(r"[^a-z0-9]+", "-", str(data.get("machine", {}).get("cpu", "")).lower()).strip("-")
    stem = "-".join(part for part in ("cpu", datetime.date.today().isoformat(), cpu, name) if part)
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / f"{stem}.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out / f"{stem}.md"


def markdown_table(header: list[str], rows: list[list]) -> list[str]:
    """A Markdown table, first column left-aligned."""
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def parser(description: str) -> argparse.ArgumentParser:
    """The options shared with bench/vs_vox.py."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--size", default="0.6b", choices=["tiny", "0.6b", "1.7b"])
    p.add_argument("--steps", type=int, default=63)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--bare-fp32", action="store_true", help="also bare qwen-tts in float32 (its default dtype)")
    p.add_argument("--no-int8", action="store_true", help="leave the int8 option out")
    return p


def start(args) -> tuple[Path, object, dict]:
    """Threads, checkpoint, reference clip and machine info."""
    from studio import accel

    accel.configure_threads()
    folder = B.ensure_checkpoint(args.size)
    info = B.machine("cpu") | {"load": load_average()}
    return folder, B.reference_clip(), info


def main() -> None:
    args = parser(__doc__.split("\n\n")[0]).parse_args()
    folder, reference, info = start(args)
    paths = build_paths(args, folder, reference)
    measure(paths, args.reps, args.seed)
    lines = [f"# `python bench/frame_breakdown.py --size {args.size} --steps {args.steps} --reps {args.reps}`", ""]
    lines += [*header_lines(args, info), f"load average at the end: {load_average()}", ""]
    lines += ["ms per generated frame (best round of each path):", ""]
    lines += markdown_table(HEADER, table_rows(paths))
    lines += ["", "rounds:"] + [json.dumps(r, ensure_ascii=False) for p in paths for r in p.rows]
    print("\n".join(lines))
    target = write_results(
        "frame-breakdown", lines, {"machine": info, "args": vars(args), "rows": [r for p in paths for r in p.rows]}
    )
    print(f"written: {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
