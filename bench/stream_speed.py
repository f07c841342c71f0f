"""Benchmark: where a frame's time goes, per path, and how soon streamed audio starts.

Usage: ``python bench/stream_speed.py [--size 0.6b|tiny] [--steps 40] [--reps 1] [--plans 4x12,2x12] [--skip-frames]``

Uses the random-weight Base checkpoint under bench/checkpoints/ (built by
bench/run.py's ``ensure_checkpoint`` when missing; 0.6B takes about a minute).
Prints, for an in-context clone of ``--steps`` forced talker steps:

1. ms per frame and its breakdown (prefill, talker step, code predictor,
   decode) for bare qwen-tts and for the studio's exact path with and without
   the pre-allocated talker cache (same dtype: the studio's default for the
   device). Timing comes from hooks on the talker, its transformer and the
   decoder, so it adds nothing but a clock read per step.
2. Streaming: the HTTP API's streamed answer (``ApiContext.chunks``, chunks of
   codec frames) for a 3-sentence text: time to the first chunk against the
   time to the whole answer unstreamed (target: at most 15 %), for each chunk
   plan of ``--plans`` (frames in the first chunk x in every later one). On
   CPU it writes bench/results/cpu-<date>-<cpu model>-stream-<size>.md/.json.

Random weights: only timings mean anything. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run as B  # noqa: E402  (bench/run.py: checkpoint, reference, engine helpers)


@contextlib.contextmanager
def breakdown(tts):
    """Seconds spent in prefill, talker steps, the code predictor and decoding within the block."""
    import torch

    talker = tts.model.talker
    spent = {"prefill": 0.0, "talker step": 0.0, "code predictor": 0.0, "decode": 0.0, "frames": 0}
    marks: dict[str, float] = {}

    def talker_pre(module, args, kwargs):
        marks["talker"] = marks["inner"] = time.perf_counter()
        embeds = kwargs.get("inputs_embeds")
        marks["prefill"] = embeds is not None and embeds.shape[1] > 1

    def model_pre(module, args, kwargs):
        now = time.perf_counter()
        if not marks["prefill"]:
            spent["code predictor"] += now - marks["inner"]
        marks["inner"] = now

    def talker_post(module, args, kwargs, output):
        now = time.perf_counter()
        key = "prefill" if marks["prefill"] else "talker step"
        spent[key] += now - marks["inner"] + (marks["inner"] - marks["talker"] if marks["prefill"] else 0.0)
        if not marks["prefill"]:
            spent["frames"] += 1
        marks["last"] = now

    handles = [
        talker.register_forward_pre_hook(talker_pre, with_kwargs=True),
        talker.model.register_forward_pre_hook(model_pre, with_kwargs=True),
        talker.register_forward_hook(talker_post, with_kwargs=True),
    ]
    started = time.perf_counter()
    try:
        with torch.inference_mode():
            yield spent
    finally:
        for handle in handles:
            handle.remove()
    total = time.perf_counter() - started
    # Everything after the last talker step is decoding (and the wrapper's cut); with streaming, decoding also
    # happens between steps and is counted in "talker step" (it is measured apart in part 2).
    spent["decode"] = time.perf_counter() - marks.get("last", started)
    spent["total"] = total


def frame_table(args, folder: Path, reference) -> list[dict]:
    """Part 1: bare qwen-tts and the studio's exact path, with and without the pre-allocated cache."""
    from studio import accel
    from studio.synthesis import Sampling, run_generation

    engine = B.studio_engine(args.device)
    B.studio_clone(engine, folder, reference, "预热。", 4, 0)  # load (the studio's dtype) and warm up
    tts = engine.manager.loaded.tts
    dtype = next(tts.model.talker.parameters()).dtype
    prompt = tts.create_voice_clone_prompt(ref_audio=(reference, B.SR), ref_text=B.TRANSCRIPT)
    call = dict(language="Chinese", voice_clone_prompt=prompt)
    rows = []
    paths = {
        "bare qwen-tts": None,
        "studio exact, growing cache": accel.Options(preallocated_kv=False),
        "studio exact, pre-allocated cache": accel.Options(),
    }
    for rep in range(args.reps):
        for name, options in paths.items():
            sampling = Sampling(force_steps=args.steps)
            with breakdown(tts) as spent:
                if options is None:
                    with B.accel_switch(False):
                        run_generation(tts, "generate_voice_clone", [B.TEXT], "bench", 1, sampling, **call)
                else:
                    original = accel.Options
                    accel.Options = lambda chosen=options, **kw: chosen  # run_generation's options: this path's
                    try:
                        run_generation(tts, "generate_voice_clone", [B.TEXT], "bench", 1, sampling, **call)
                    finally:
                        accel.Options = original
            frames = max(spent["frames"], 1)
            row = {"path": name, "rep": rep + 1, "dtype": str(dtype).replace("torch.", ""), "frames": frames}
            row |= {k: round(1000 * spent[k] / frames, 1) for k in ("prefill", "talker step", "code predictor")}
            row |= {
                "decode": round(1000 * spent["decode"] / frames, 1),
                "total": round(1000 * spent["total"] / frames, 1),
            }
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    return rows


def first_audio(args, folder: Path, reference) -> dict:
    """Part 2: time to the first streamed chunk of a 3-sentence text against the whole text in one call.

    Each round streams the text once per chunk plan (``--plans``), then makes it
    in one unstreamed engine call; the ratio compares them within the round.
    """
    from studio.accel import stream
    from studio.accel.chunks import ChunkPlan
    from studio.api.app import ApiContext, Job, Reference
    from studio.api.streaming import segments
    from studio.audio import Audio

    engine = B.studio_engine(args.device)
    ctx = ApiContext(engine, models={"base": str(folder)})
    pieces = segments(B.THREE_SENTENCES)
    # "4x12r": the same plan with every chunk recomputing its convolutions' left context (the decoder before
    # it carried them over), to compare in one run.
    plans = [
        (ChunkPlan(*(int(n) for n in plan.rstrip("r").split("x"))), plan.endswith("r"))
        for plan in args.plans.split(",")
    ]
    decode = {"s": 0.0, "recompute": False}
    emit = stream.StreamDecoder._emit

    def timed_emit(self, end):
        self.carried = self.carried and not decode["recompute"]
        started = time.perf_counter()
        emit(self, end)
        decode["s"] += time.perf_counter() - started

    stream.StreamDecoder._emit = timed_emit
    runs = []
    try:
        with B.nominal_lengths():
            B.studio_clone(engine, folder, reference, "预热。", None, 0)  # load, warm up, cache the voice prompt
            for rep in range(args.reps):
                streamed_runs = []
                for plan, recompute in plans:
                    decode["recompute"] = recompute
                    job = Job(
                        kind="clone",
                        segments=pieces,
                        language="Chinese",
                        seed=args.seed,
                        reference=Reference(Audio(reference, B.SR), B.TRANSCRIPT, "bench"),
                        chunk_plan=plan,
                    )
                    ticket = ctx.gate.admit()
                    decode["s"] = 0.0
                    started = time.perf_counter()
                    chunks = ctx.chunks(job, ticket)
                    first_chunk = next(chunks)
                    first = time.perf_counter() - started
                    samples = len(first_chunk) + sum(len(c) for c in chunks)
                    streamed = time.perf_counter() - started
                    ctx.gate.done(ticket)
                    streamed_runs.append(
                        {
                            "plan": f"{plan.first}x{plan.size}" + (" recomputing context" if recompute else ""),
                            "first_audio_s": round(first, 3),
                            "first_chunk_audio_s": round(len(first_chunk) / B.SR, 3),
                            "streamed_total_s": round(streamed, 3),
                            "stream_decode_s": round(decode["s"], 3),
                            "audio_s": round(samples / B.SR, 2),
                        }
                    )
                started = time.perf_counter()
                whole = B.studio_clone(engine, folder, reference, B.THREE_SENTENCES, None, args.seed)
                unstreamed = time.perf_counter() - started
                for run in streamed_runs:
                    run |= {
                        "rep": rep + 1,
                        "whole_text_one_call_s": round(unstreamed, 3),
                        "whole_audio_s": round(whole.seconds, 2),
                        "first_over_whole": round(run["first_audio_s"] / unstreamed, 3),
                        "load": load_average(),
                    }
                    runs.append(run)
                    print(json.dumps(run), flush=True)
    finally:
        stream.StreamDecoder._emit = emit
        ctx.close()
    return {"text": B.THREE_SENTENCES, "segments": pieces, "runs": runs}


def load_average() -> str:
    """The 1/5/15-minute load averages as ``uptime`` prints them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def report(args, results: dict) -> list[str]:
    """The streaming part as Markdown: every round, and the best first audio against the best whole call."""
    runs = results["streaming"]["runs"]
    lines = [
        f"# `python bench/stream_speed.py --size {args.size} --reps {args.reps} --plans {args.plans}"
        + (" --skip-frames`" if args.skip_frames else "`"),
        "",
        f"machine: {results['cpu']}, {os.cpu_count()} CPUs; torch {results['torch']} ({results['threads']} threads); "
        f"load average (1, 5, 15 min) at start {results['load_start']}, at the end {load_average()} "
        "(a shared machine: absolute times are inflated by other work; each ratio compares runs of the same round)",
        f"text: {results['streaming']['text']} (segments: {' | '.join(results['streaming']['segments'])}), "
        "in-context clone through the HTTP API's streamed answer (ApiContext.chunks), each segment forced to a "
        "nominal reading length; whole: the same text in one unstreamed engine call",
        "",
        "| chunk plan (first x later frames) | first audio s (best) | streamed answer s (best) | first / streamed "
        "| whole text, one call s (best) | first / whole (best) | first / whole per round |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for plan in dict.fromkeys(r["plan"] for r in runs):
        mine = [r for r in runs if r["plan"] == plan]
        first = min(r["first_audio_s"] for r in mine)
        whole = min(r["whole_text_one_call_s"] for r in mine)
        ratios = ", ".join(f"{100 * r['first_over_whole']:.1f} %" for r in mine)
        streamed = min(r["streamed_total_s"] for r in mine)
        lines.append(
            f"| {plan} | {first:.2f} | {streamed:.2f} | {100 * first / streamed:.1f} % | {whole:.2f} "
            f"| {100 * first / whole:.1f} % | {ratios} |"
        )
    lines += ["", "rounds:"] + [json.dumps(r, ensure_ascii=False) for r in runs]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="0.6b", choices=["tiny", "0.6b", "1.7b"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-frames", action="store_true", help="only the streaming part")
    parser.add_argument(
        "--plans",
        default="4x12",
        help="chunk plans to compare, first x later frames, comma-separated (e.g. 4x12,2x12; 4x12r: recompute"
        " each chunk's convolution context)",
    )
    args = parser.parse_args()

    import torch

    from studio import accel

    threads = accel.configure_threads()
    folder = B.ensure_checkpoint(args.size)
    reference = B.reference_clip()
    print(f"# {args.size}, {args.device}, torch {torch.__version__}, {threads} threads, {platform.processor()}")
    cpu = B.machine(args.device)["cpu"]
    results = {"size": args.size, "device": args.device, "torch": torch.__version__, "threads": threads, "cpu": cpu}
    results["load_start"] = load_average()
    if not args.skip_frames:
        results["frames"] = frame_table(args, folder, reference)
    results["streaming"] = first_audio(args, folder, reference)
    print(json.dumps(results, ensure_ascii=False))
    if args.device == "cpu":
        from frame_breakdown import write_results

        lines = report(args, results)
        print("\n".join(lines))
        print("written:", write_results(f"stream-{args.size}", lines, {"machine": {"cpu": cpu}, **results}))


if __name__ == "__main__":
    main()
