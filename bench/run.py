"""Benchmark: the studio's generation path against bare qwen-tts, ratios measured in one process.

Usage: ``python bench/run.py [--size 0.6b] [--device cpu|cuda] [--steps 63] [--reps 2]``

Builds the random-weight Base checkpoint under bench/checkpoints/ if missing
(stored in bf16 like the official release: 2.5 GB for 0.6B, under a minute) and measures, on CPU:

1. Clone speed: the same in-context clone (6.4 s reference, ``--steps`` forced
   talker steps, one seed) as a bare ``Qwen3TTSModel.generate_voice_clone``
   call with default settings (float32), and through ``studio.engine.Engine``,
   what users get (bf16 where the CPU has it, ``studio.accel``, cached voice
   prompts). Also bare bf16 and the studio in float32, whose codes and audio
   must match bare float32 (max abs diff printed), with ``STUDIO_ACCEL=0`` as a
   control. Paths are interleaved per repetition; the best one counts.
2. Cost against text length (10 ... 5,000 characters) through the engine, which
   splits long text into segments; each segment's length is forced at a nominal
   reading rate (random weights never stop). ``--lengths-size`` picks the
   checkpoint (tiny by default: 5,000 characters at real size take hours here).
3. Streaming: time to the first audio of the HTTP API's streamed answer
   (``ApiContext.chunks``, sentence by sentence) against the whole text unstreamed.
4. Memory: peak RSS of the studio's model (load and generation) and RSS after
   ``ModelManager.unload`` against before loading, for two load-clone-unload
   cycles in a fresh process (``--size`` picks the model: 0.6b or 1.7b).
5. UI start: ``python app.py --no-browser --port N`` until it answers HTTP 200.

With ``--device cuda`` it times bare qwen-tts and the studio at batch 1, 4 and
8 (throughput: audio seconds per wall second) and time to first streamed audio.

Writes the printed tables and a JSON file to bench/results/<device>-<date>.md/.json.
Output audio is noise (random weights): only timings, shapes and differences mean anything.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("STUDIO_HOME", tempfile.mkdtemp(prefix="studio-bench-home-"))  # never the user's library
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

SR = 24_000
FRAME_RATE = 12.5
TRANSCRIPT = "这是一段六秒左右的参考音频，用来测试声音克隆的速度。"
TEXT = "今天天气很好，我们一起去公园散步吧。"
THREE_SENTENCES = "今天天气很好。我们一起去公园散步吧。晚上再回家吃饭。"
PARAGRAPH = (
    "清晨的阳光洒在小镇的石板路上，街角的面包店已经飘出了香气。老板笑着和每一位路过的邻居打招呼，"
    "孩子们背着书包跑向学校，远处传来自行车清脆的铃声。河边的柳树随风轻轻摆动，几只白鹭在浅水里慢慢踱步。"
    "市场里人来人往，卖菜的阿姨把新鲜的青菜整整齐齐地摆好，还不忘给熟客多放一把葱。图书馆刚刚开门，"
    "几位老人已经坐在窗边读报，年轻人则戴着耳机安静地写作业。中午时分，饭馆里坐满了客人，服务员端着热腾腾的"
    "面条穿梭在桌子之间。下午下了一场小雨，空气变得清新起来，屋檐下的水滴敲出好听的节奏。"
)
LENGTHS = (10, 50, 200, 1000, 5000)
#: A nominal Mandarin reading rate: the forced length of each segment (random weights never stop by themselves).
CHARS_PER_SECOND = 4.5

LINES: list[str] = []


def say(line: str = "") -> None:
    """Print a line and keep it for the results file."""
    print(line, flush=True)
    LINES.append(line)


def table(header: list[str], rows: list[list], align: str = "") -> None:
    """A Markdown table; ``align`` has one l/r per column (default: first left, rest right)."""
    align = align or "l" + "r" * (len(header) - 1)
    say("| " + " | ".join(header) + " |")
    say("|" + "|".join("---" if a == "l" else "---:" for a in align) + "|")
    for row in rows:
        say("| " + " | ".join(str(c) for c in row) + " |")


def reference_clip() -> np.ndarray:
    """A 6.4 s voiced test reference (harmonics, syllable envelope, a little noise)."""
    rng = np.random.default_rng(0)
    t = np.arange(int(6.4 * SR)) / SR
    f0 = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
    wave = sum(np.sin(k * 2 * np.pi * np.cumsum(f0) / SR) / k for k in range(1, 12))
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 4 * t)) * (t > 0.2) * (t < 6.2)
    clip = 0.3 * wave * envelope / np.max(np.abs(wave)) + 0.003 * rng.standard_normal(t.size)
    return clip.astype(np.float32)


# -- memory and machine ----------------------------------------------------------------------------


def _status_mb(key: str) -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    """Resident memory now (MB)."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """Peak resident memory since start or the last :func:`reset_peak` (VmHWM)."""
    peak = _status_mb("VmHWM")
    return peak if peak == peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    """Start a new peak-RSS window (Linux only; elsewhere the peak stays the process's)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def machine(device: str) -> dict:
    """The machine the figures come from."""
    import torch

    from studio.device import cpu_has_native_bf16

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info = {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "cpu_native_bf16": cpu_has_native_bf16(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        import qwen_tts  # noqa: F401  (imported through studio.backend already)

        info["qwen_tts"] = version("qwen-tts")
        info["transformers"] = version("transformers")
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
    return info


# -- the paths ----------------------------------------------------------------------------------


@dataclass
class Run:
    """One timed call and where its time went."""

    seconds: float
    wav: np.ndarray
    codes: list
    parts: dict[str, float] = field(default_factory=dict)


class Meter:
    """Times a qwen-tts model's phases through hooks on its own instances only.

    prep: before the core ``generate`` (prompt encoding, tokenizing); talker:
    the talker transformer's forwards; code predictor + loop: the rest of
    ``generate``; decode: after ``generate`` (speech decoder, cut), plus the
    engine's own work for studio paths.
    """

    def __init__(self, tts) -> None:
        self.marks: dict[str, float] = {}
        self.talker = {"t": 0.0}
        self.codes: list = []
        original = tts.model.generate

        def generate(*args, **kwargs):
            self.marks["generate"] = time.perf_counter()
            result = original(*args, **kwargs)
            self.marks["generated"] = time.perf_counter()
            self.codes = [c.clone() for c in result[0]]
            return result

        tts.model.generate = generate
        started = {}

        def before(module, args, kwargs):
            started["t"] = time.perf_counter()

        def after(module, args, kwargs, output):
            self.talker["t"] += time.perf_counter() - started["t"]

        tts.model.talker.model.register_forward_pre_hook(before, with_kwargs=True)
        tts.model.talker.model.register_forward_hook(after, with_kwargs=True)

    def run(self, call, seed: int) -> Run:
        import torch

        self.talker["t"] = 0.0
        torch.manual_seed(seed)
        begin = time.perf_counter()
        wav = call(seed)
        end = time.perf_counter()
        generate = self.marks["generated"] - self.marks["generate"]
        parts = {
            "prep": self.marks["generate"] - begin,
            "talker": self.talker["t"],
            "code predictor + loop": generate - self.talker["t"],
            "decode + rest": end - self.marks["generated"],
        }
        return Run(end - begin, np.asarray(wav, dtype=np.float32).reshape(-1), self.codes, parts)


def ensure_checkpoint(size: str) -> Path:
    """The random-weight Base checkpoint of ``size``, built under bench/checkpoints/ when missing."""
    from studio.random_checkpoint import MARKER_FILE, build_random_checkpoint

    folder = ROOT / "bench" / "checkpoints" / f"{size}-base"
    marker = folder / MARKER_FILE
    current = json.loads(marker.read_text()) if marker.is_file() else {}
    wanted = "float32" if size == "tiny" else "bfloat16"  # as the official release stores them
    if not (folder / "model.safetensors").exists() or current.get("weights_dtype", "float32") != wanted:
        say(f"building {folder.relative_to(ROOT)} (random weights, stored in {wanted}) ...")
        started = time.perf_counter()
        shutil.rmtree(folder, ignore_errors=True)
        build_random_checkpoint(folder, "base", size, weights_dtype=wanted)
        say(f"built in {time.perf_counter() - started:.0f} s")
    return folder


def load_bare(folder: Path, device: str, dtype: str):
    """``Qwen3TTSModel.from_pretrained`` as a user calls it (default attention)."""
    import torch

    from studio.backend import qwen_tts

    return qwen_tts().Qwen3TTSModel.from_pretrained(str(folder), device_map=device, dtype=getattr(torch, dtype))


def studio_engine(device: str, dtype: str = "auto"):
    """A studio engine with its own model manager (one resident model)."""
    from studio.engine import Engine
    from studio.models import ModelManager
    from studio.settings import Settings

    return Engine(ModelManager(Settings(device=device, dtype=dtype)))


@contextlib.contextmanager
def accel_switch(on: bool):
    """``STUDIO_ACCEL`` for the duration of the block."""
    previous = os.environ.get("STUDIO_ACCEL")
    os.environ["STUDIO_ACCEL"] = "1" if on else "0"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("STUDIO_ACCEL", None)
        else:
            os.environ["STUDIO_ACCEL"] = previous


@contextlib.contextmanager
def nominal_lengths(chars_per_second: float = CHARS_PER_SECOND):
    """Within the block, every engine segment generates exactly as many steps as reading it at a nominal rate takes."""
    import studio.backends as engine_module  # the local backend calls run_generation
    from studio.synthesis import Sampling

    original = engine_module.run_generation

    def run_generation(tts, method, texts, label, seed, sampling=None, *args, **kwargs):
        steps = max(round(max(len(t) for t in texts) / chars_per_second * FRAME_RATE), 4)
        forced = Sampling(**{**(sampling.__dict__ if sampling else {}), "force_steps": steps})
        return original(tts, method, texts, label, seed, forced, *args, **kwargs)

    engine_module.run_generation = run_generation
    try:
        yield
    finally:
        engine_module.run_generation = original


def studio_clone(engine, folder: Path, reference: np.ndarray, text: str, steps: int | None, seed: int, **kwargs):
    """One clone through the engine (loudness untouched, so the audio compares with bare qwen-tts)."""
    from studio.audio import Audio
    from studio.engine import Delivery
    from studio.synthesis import Sampling

    return engine.clone(
        text,
        Audio(reference, SR),
        TRANSCRIPT,
        language="Chinese",
        model=str(folder),
        seed=seed,
        sampling=Sampling(force_steps=steps) if steps else None,
        delivery=Delivery(loudness=None, watermark=False),
        **kwargs,
    )


def difference(a: Run, b: Run) -> dict:
    """Codes identical? and the max / rms difference of the audio."""
    same = len(a.codes) == len(b.codes) and all(
        x.shape == y.shape and bool((x.cpu() == y.cpu()).all()) for x, y in zip(a.codes, b.codes, strict=True)
    )
    if len(a.wav) != len(b.wav):
        return {"codes_identical": same, "length": [len(a.wav), len(b.wav)]}
    d = a.wav - b.wav
    return {"codes_identical": same, "max_abs": float(np.abs(d).max()), "rms": float(np.sqrt(np.mean(d**2)))}


# -- 1. clone speed ---------------------------------------------------------------------------------


def clone_speed(args, folder: Path, reference: np.ndarray, results: dict) -> None:
    """Bare qwen-tts against the studio engine, interleaved repetitions."""
    from studio.accel.packing import is_packed

    steps = args.steps
    engines = {"studio": studio_engine(args.device), "studio fp32": studio_engine(args.device, "float32")}
    model_text = engines["studio"].prepare_text(TEXT).model_text  # the bare call gets exactly what the engine sends
    bare = {"bare fp32": load_bare(folder, args.device, "float32")}
    if not args.quick:
        bare["bare bf16"] = load_bare(folder, args.device, "bfloat16")

    def bare_call(tts):
        eos = tts.model.config.talker_config.vocab_size - 1  # never sampled: forces the length

        def call(seed):
            wavs, _ = tts.generate_voice_clone(
                text=model_text,
                language="Chinese",
                ref_audio=(reference, SR),
                ref_text=TRANSCRIPT,
                max_new_tokens=steps,
                eos_token_id=eos,
            )
            return wavs[0]

        return call

    def engine_call(engine, new_voice: bool, accel: bool = True):
        def call(seed):
            if new_voice:
                engine._prompts.clear()  # a voice not seen before: its prompt is encoded in the call
            with accel_switch(accel):
                return studio_clone(engine, folder, reference, TEXT, steps, seed).samples

        return call

    # Warm-up: loads, first-call allocations, packing; not measured.
    load_seconds = {}
    for name, engine in engines.items():
        result = studio_clone(engine, folder, reference, TEXT, 4, 0)
        load_seconds[name] = result.timings.get("load", float("nan"))
    meters = {name: Meter(tts) for name, tts in bare.items()}
    for name, engine in engines.items():
        meters[name] = Meter(engine.manager.loaded.tts)
    for tts in bare.values():
        tts.generate_voice_clone(
            text=model_text, language="Chinese", ref_audio=(reference, SR), ref_text=TRANSCRIPT, max_new_tokens=4
        )

    paths = {name: (meters[name], bare_call(tts)) for name, tts in bare.items()}
    paths["studio, new voice"] = (meters["studio"], engine_call(engines["studio"], True))
    paths["studio, cached voice"] = (meters["studio"], engine_call(engines["studio"], False))
    paths["studio fp32, cached voice"] = (meters["studio fp32"], engine_call(engines["studio fp32"], False))
    if not args.quick:
        paths["studio, STUDIO_ACCEL=0 (control)"] = (meters["studio"], engine_call(engines["studio"], False, False))

    placement = engines["studio"].manager.loaded.placement
    studio_tts = engines["studio"].manager.loaded.tts
    packed = sum(1 for m in studio_tts.model.talker.modules() if is_packed(m))
    audio_seconds = (steps - 1) * 1920 / SR  # the last sampled step is never decoded
    say(
        f"\nworkload: {args.size} Base, random weights, in-context clone, 6.4 s reference, {steps} forced talker steps "
        f"= {audio_seconds:.2f} s of audio, seed {args.seed}"
    )
    say(
        f"studio placement: {placement.device} {placement.dtype} {placement.attention}; "
        f"packed bf16 linears: {packed}; load {load_seconds['studio']:.1f} s (reported apart from generation)"
    )

    runs: dict[str, list[Run]] = {name: [] for name in paths}
    for rep in range(args.reps):
        for name, (meter, call) in paths.items():
            runs[name].append(meter.run(call, args.seed))
            gc.collect()
        line = ", ".join(f"{name} {runs[name][-1].seconds:.1f} s" for name in paths)
        say(f"repetition {rep + 1}: {line} (load average {os.getloadavg()[0]:.1f})")

    best = {name: min(rs, key=lambda r: r.seconds) for name, rs in runs.items()}
    same_dtype = "bare bf16" if placement.dtype == "bfloat16" and "bare bf16" in best else "bare fp32"
    against = {
        "studio, new voice": same_dtype,
        "studio, cached voice": same_dtype,
        "studio, STUDIO_ACCEL=0 (control)": same_dtype,
        "studio fp32, cached voice": "bare fp32",
    }
    say(f"\n## Clone speed: {args.size} Base, {steps} steps ({audio_seconds:.2f} s of audio), {args.device}\n")
    rows, record = [], {}
    for name, run in best.items():
        per_rep = "; ".join(f"{a.seconds / b.seconds:.2f}" for a, b in zip(runs["bare fp32"], runs[name], strict=True))
        speedup = best["bare fp32"].seconds / run.seconds
        diff = difference(run, best[against[name]]) if name in against else None
        if diff is None:
            shown = "(reference)"
        elif placement.dtype != "float32" and against[name] == "bare fp32" and "fp32" not in name:
            shown = f"other dtype ({placement.dtype} vs float32): not comparable; exactness: see bare bf16 row when run"
        elif "max_abs" in diff:
            codes = "identical" if diff["codes_identical"] else "DIFFER"
            shown = f"{diff['max_abs']:.1e} (rms {diff['rms']:.1e}) vs {against[name]}; codes {codes}"
        else:
            shown = f"lengths differ {diff['length']}"
        rows.append(
            [name, f"{run.seconds:.2f}", f"{run.seconds / audio_seconds:.2f}", f"{speedup:.2f}x ({per_rep})", shown]
        )
        record[name] = {
            "best_s": run.seconds,
            "all_s": [r.seconds for r in runs[name]],
            "rtf": run.seconds / audio_seconds,
            "speedup_vs_bare_fp32": speedup,
            "speedup_per_repetition": [
                a.seconds / b.seconds for a, b in zip(runs["bare fp32"], runs[name], strict=True)
            ],
            "difference": diff,
            "parts_s": run.parts,
        }
    table(
        ["path", "best s", "RTF", "speed-up vs bare fp32 (best; per rep.)", "max abs diff, same dtype"], rows, "lrrll"
    )
    say("\n## Where the time goes (best repetition, seconds)\n")
    parts = list(best["bare fp32"].parts)
    table(["path", *parts], [[name, *(f"{run.parts[p]:.2f}" for p in parts)] for name, run in best.items()])
    results["clone"] = {
        "steps": steps,
        "audio_s": audio_seconds,
        "placement": placement.__dict__,
        "studio_load_s": load_seconds["studio"],
        "paths": record,
    }
    del bare, engines, paths, meters
    gc.collect()


# -- 2. cost against text length --------------------------------------------------------------------


def length_growth(args, reference: np.ndarray, results: dict) -> None:
    """Engine time against text length; segmentation should keep the growth linear."""
    from studio.engine import SEGMENT_CHARS

    lengths = [int(n) for n in args.lengths.split(",") if n.strip()]
    folder = ensure_checkpoint(args.lengths_size)
    engine = studio_engine(args.device)
    text = (PARAGRAPH * (max(lengths) // len(PARAGRAPH) + 1))[: max(lengths)]
    with nominal_lengths():
        studio_clone(engine, folder, reference, text[:20], None, 0)  # load and warm up
        rows, points = [], []
        for chars in lengths:
            started = time.perf_counter()
            result = studio_clone(engine, folder, reference, text[:chars], None, args.seed)
            seconds = time.perf_counter() - started
            segments = int(getattr(result, "segments", 1) or 1)
            points.append((chars, seconds, result.seconds, segments))
            rows.append(
                [
                    chars,
                    segments,
                    f"{result.seconds:.1f}",
                    f"{seconds:.2f}",
                    f"{seconds / result.seconds:.2f}",
                    f"{1000 * seconds / chars:.1f}",
                ]
            )
            if args.verbose:
                print(f"  {chars} chars: {seconds:.1f} s, {segments} segments", flush=True)
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points])
    slope, intercept = np.polyfit(x, y, 1)
    fitted = slope * x + intercept
    r2 = 1 - np.sum((y - fitted) ** 2) / np.sum((y - y.mean()) ** 2)
    large = [p for p in points if p[0] >= 200]
    marginal = (large[-1][1] - large[0][1]) / (large[-1][0] - large[0][0]) if len(large) > 1 else float("nan")
    say(
        f"\n## Cost against text length ({args.lengths_size} checkpoint, engine path, segments of <= {SEGMENT_CHARS} "
        f"chars, each forced to {CHARS_PER_SECOND} chars/s)\n"
    )
    table(["chars", "segments", "audio s", "generate s", "RTF", "ms per char"], rows)
    say(
        f"\nleast-squares fit: {1000 * slope:.1f} ms per char + {intercept:.2f} s (R^2 {r2:.4f}); "
        f"{large[0][0] if large else 200}->{max(lengths)} chars: {1000 * marginal:.1f} ms per extra char"
    )
    results["lengths"] = {
        "checkpoint": args.lengths_size,
        "chars_per_second_forced": CHARS_PER_SECOND,
        "points": [{"chars": c, "seconds": s, "audio_s": a, "segments": n} for c, s, a, n in points],
        "slope_s_per_char": slope,
        "intercept_s": intercept,
        "r2": r2,
    }
    engine.manager.unload()


# -- 3. streaming: time to first audio ----------------------------------------------------------------


def first_audio(args, folder: Path, reference: np.ndarray, results: dict, engine=None) -> None:
    """The HTTP API's streamed answer (``ApiContext.chunks``) against the whole text in one call."""
    from studio.api.app import ApiContext, Job, Reference
    from studio.api.streaming import segments
    from studio.audio import Audio

    engine = engine or studio_engine(args.device)
    ctx = ApiContext(engine, models={"base": str(folder)})
    pieces = segments(THREE_SENTENCES)
    rows, record = [], {}
    try:
        with nominal_lengths():
            studio_clone(engine, folder, reference, "预热。", None, 0)  # load, warm up and cache the voice prompt
            for rep in range(args.reps):
                job = Job(
                    kind="clone",
                    segments=pieces,
                    language="Chinese",
                    seed=args.seed,
                    reference=Reference(Audio(reference, SR), TRANSCRIPT, "bench"),
                )
                ticket = ctx.gate.admit()
                started = time.perf_counter()
                chunks = ctx.chunks(job, ticket)
                next(chunks)
                first = time.perf_counter() - started
                for _ in chunks:
                    pass
                streamed = time.perf_counter() - started
                ctx.gate.done(ticket)
                started = time.perf_counter()
                whole = studio_clone(engine, folder, reference, THREE_SENTENCES, None, args.seed)
                unstreamed = time.perf_counter() - started
                rows.append(
                    [
                        rep + 1,
                        f"{first:.2f}",
                        f"{streamed:.2f}",
                        f"{unstreamed:.2f}",
                        f"{whole.seconds:.1f}",
                        f"{100 * first / unstreamed:.0f}%",
                    ]
                )
                record.setdefault("runs", []).append(
                    {"first_audio_s": first, "streamed_total_s": streamed, "whole_text_s": unstreamed}
                )
    finally:
        ctx.close()
    worst = max(record["runs"], key=lambda r: r["first_audio_s"] / r["whole_text_s"])
    say(
        f"\n## Streaming: first audio of a 3-sentence text ({len(THREE_SENTENCES)} chars, {len(pieces)} segments: "
        f"{' | '.join(pieces)}), {args.device}\n"
    )
    table(
        ["rep.", "first audio s (API stream)", "stream done s", "whole text, one call s", "audio s", "first / whole"],
        rows,
    )
    say(
        f"\nworst repetition: first audio after {100 * worst['first_audio_s'] / worst['whole_text_s']:.0f}% of the "
        f"whole text's time ({100 * worst['first_audio_s'] / worst['streamed_total_s']:.0f}% of the streamed answer's)"
    )
    results["streaming"] = {"text": THREE_SENTENCES, "segments": pieces, **record}


# -- 4. memory -----------------------------------------------------------------------------------


def memory_probe(args) -> None:
    """Child process: two cycles of load, clone, unload through the model manager; print RSS figures as JSON.

    The baseline is an idle studio: torch and qwen-tts imported, text tools
    (pypinyin's dictionaries) loaded by one text preparation, no model.
    """
    import torch  # noqa: F401

    from studio.backend import qwen_tts

    qwen_tts()
    folder = ensure_checkpoint(args.size)
    reference = reference_clip()
    engine = studio_engine(args.device)
    engine.prepare_text(TEXT)
    cycles = []
    for _ in range(2):
        gc.collect()
        before = rss_mb()
        reset_peak()
        started = time.perf_counter()
        engine.manager.get(str(folder), "base")
        load_s = time.perf_counter() - started
        loaded, load_peak = rss_mb(), peak_rss_mb()
        reset_peak()
        studio_clone(engine, folder, reference, TEXT, args.steps, args.seed)
        generate_peak = peak_rss_mb()
        engine._prompts.clear()
        engine.manager.unload()
        gc.collect()
        cycles.append(
            {
                "before_load_mb": before,
                "load_s": load_s,
                "load_peak_mb": load_peak,
                "loaded_mb": loaded,
                "generate_peak_mb": generate_peak,
                "after_unload_mb": rss_mb(),
            }
        )
    print(json.dumps({"dtype": engine.manager.placement().dtype, "cycles": cycles}))


def memory(args, results: dict) -> None:
    """Run :func:`memory_probe` in a fresh process."""
    command = [sys.executable, __file__, "--size", args.size, "--device", args.device, "--steps", str(args.steps)]
    proc = subprocess.run([*command, "--memory-probe"], cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        say(f"\nmemory probe failed: {proc.stderr[-500:]}")
        return
    mem = json.loads(lines[-1])
    first, second = mem["cycles"]
    say(f"\n## Memory: {args.size} Base in {mem['dtype']} through the model manager, fresh process (MB)\n")
    rows = [
        [label, f"{first[key]:.0f}", f"{second[key]:.0f}"]
        for label, key in [
            ("before load (idle studio: torch, qwen-tts, text tools)", "before_load_mb"),
            ("peak while loading", "load_peak_mb"),
            ("after load", "loaded_mb"),
            ("peak while generating", "generate_peak_mb"),
            ("after ModelManager.unload()", "after_unload_mb"),
        ]
    ]
    table(["moment", "cycle 1", "cycle 2"], rows)
    say(
        f"\nafter unload vs before load: cycle 1 {100 * (first['after_unload_mb'] / first['before_load_mb'] - 1):+.1f}% "
        "(includes one-time costs of the first generation: library code paged in, kernel caches), "
        f"cycle 2 {100 * (second['after_unload_mb'] / second['before_load_mb'] - 1):+.1f}%; "
        f"peak {max(c[k] for c in (first, second) for k in ('load_peak_mb', 'generate_peak_mb')) / 1024:.2f} GiB"
    )
    results[f"memory_{args.size}"] = mem


# -- 5. UI start ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ui_start(results: dict, timeout: float = 120.0) -> None:
    """Seconds from ``python app.py --no-browser --port N`` to an HTTP 200 on /."""
    port = _free_port()
    env = dict(os.environ, STUDIO_HOME=tempfile.mkdtemp(prefix="studio-bench-ui-"))
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--no-browser", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    seconds = None
    try:
        while time.perf_counter() - started < timeout and proc.poll() is None:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response,
            ):
                if response.status == 200:
                    seconds = time.perf_counter() - started
                    break
            time.sleep(0.05)
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    if seconds is None:
        say(f"\nUI start: no HTTP 200 within {timeout:.0f} s ({(err or b'')[-300:]!r})")
    else:
        say(f"\nUI start: `python app.py --no-browser` answered HTTP 200 after {seconds:.2f} s")
    results["ui_start_s"] = seconds


# -- GPU --------------------------------------------------------------------------------------------


def gpu_batches(args, folder: Path, reference: np.ndarray, results: dict) -> None:
    """Bare qwen-tts (bf16, its own defaults otherwise) against the studio engine at batch 1, 4 and 8."""
    import torch

    steps = args.steps
    engine = studio_engine(args.device)
    studio_clone(engine, folder, reference, TEXT, 4, 0)  # load and warm up
    bare = load_bare(folder, args.device, "bfloat16")
    eos = bare.model.config.talker_config.vocab_size - 1
    prompt = bare.create_voice_clone_prompt(ref_audio=(reference, SR), ref_text=TRANSCRIPT)
    model_text = engine.prepare_text(TEXT).model_text
    bare.generate_voice_clone(text=model_text, language="Chinese", voice_clone_prompt=prompt, max_new_tokens=4)
    rows, record = [], {}
    for batch in (1, 4, 8):
        texts = [TEXT] * batch
        timings = {}
        for name in ("bare bf16", "studio"):
            best = float("inf")
            for _ in range(args.reps):
                torch.cuda.synchronize()
                started = time.perf_counter()
                if name == "studio":
                    from studio.audio import Audio
                    from studio.engine import Delivery
                    from studio.synthesis import Sampling

                    engine.clone_batch(
                        texts,
                        Audio(reference, SR),
                        TRANSCRIPT,
                        language="Chinese",
                        model=str(folder),
                        seed=args.seed,
                        sampling=Sampling(force_steps=steps),
                        delivery=Delivery(loudness=None, watermark=False),
                    )
                else:
                    torch.manual_seed(args.seed)
                    bare.generate_voice_clone(
                        text=[model_text] * batch,
                        language=["Chinese"] * batch,
                        voice_clone_prompt=prompt,
                        max_new_tokens=steps,
                        eos_token_id=eos,
                    )
                torch.cuda.synchronize()
                best = min(best, time.perf_counter() - started)
            timings[name] = best
        audio = batch * (steps - 1) * 1920 / SR
        rows.append(
            [
                batch,
                f"{timings['bare bf16']:.2f}",
                f"{audio / timings['bare bf16']:.2f}",
                f"{timings['studio']:.2f}",
                f"{audio / timings['studio']:.2f}",
                f"{timings['bare bf16'] / timings['studio']:.2f}x",
            ]
        )
        record[str(batch)] = {"bare_s": timings["bare bf16"], "studio_s": timings["studio"], "audio_s": audio}
    say(f"\n## GPU throughput, {args.size} Base, {steps} steps per line (x real time = audio s / wall s)\n")
    table(["batch", "bare bf16 s", "bare x real time", "studio s", "studio x real time", "speed-up"], rows)
    results["gpu_batches"] = record
    del bare
    first_audio(args, folder, reference, results, engine)


# -- main -------------------------------------------------------------------------------------------


def write_results(args, results: dict) -> None:
    """bench/results/<device>-<date>.md and .json."""
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{args.device.split(':')[0]}-{datetime.date.today().isoformat()}" + (f"-{args.tag}" if args.tag else "")
    (out / f"{stem}.md").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    (out / f"{stem}.json").write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote bench/results/{stem}.md and .json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="0.6b", choices=["tiny", "0.6b", "1.7b"])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--steps", type=int, default=63, help="forced talker steps (12.5 a second of audio)")
    parser.add_argument("--reps", type=int, default=2, help="repetitions of every path, interleaved")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--lengths-size", default="tiny", choices=["tiny", "0.6b", "1.7b"])
    parser.add_argument(
        "--lengths", default=",".join(map(str, LENGTHS)), help="text lengths (characters) of the cost-growth run"
    )
    parser.add_argument(
        "--only", default="clone,lengths,streaming,memory,ui", help="comma-separated parts to run (CPU)"
    )
    parser.add_argument("--quick", action="store_true", help="only bare fp32 and the studio paths, no control run")
    parser.add_argument("--no-write", action="store_true", help="print only; write no results files")
    parser.add_argument("--tag", default="", help="suffix of the results files' names")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(args)
        return

    from studio.backend import qwen_tts

    qwen_tts()
    import torch

    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    folder = ensure_checkpoint(args.size)
    reference = reference_clip()
    info = machine(args.device)
    results: dict = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "machine": info, "args": vars(args)}
    say(f"# Benchmark, {datetime.date.today().isoformat()}: `python bench/run.py {' '.join(sys.argv[1:])}`\n")
    say(
        f"machine: {info['cpu']}, {info['cpus']} CPUs, {info['memory_gb']} GB, native bf16: {info['cpu_native_bf16']}; "
        f"torch {info['torch']} ({info['torch_threads']} threads), qwen-tts {info.get('qwen_tts', '?')}, "
        f"transformers {info.get('transformers', '?')}; load average at start {info['load_average_at_start']}"
        + (f"; GPU {info['gpu']}, CUDA {info['cuda']}" if "gpu" in info else "")
    )
    if args.device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: no CUDA device here")
        clone_speed(args, folder, reference, results)
        gpu_batches(args, folder, reference, results)
    else:
        if "clone" in parts:
            clone_speed(args, folder, reference, results)
        if "streaming" in parts:
            first_audio(args, folder, reference, results)
        if "lengths" in parts:
            length_growth(args, reference, results)
        if "memory" in parts:
            memory(args, results)
        if "ui" in parts:
            ui_start(results)
    say(f"\nload average at the end: {os.getloadavg()[0]:.1f} (other work on this machine makes timings noisy)")
    if not args.no_write:
        write_results(args, results)


if __name__ == "__main__":
    main()
