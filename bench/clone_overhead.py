"""Benchmark: the studio's clone path against a bare qwen-tts call doing the same work.

Usage: ``python bench/clone_overhead.py [--size 0.6b] [--dtype float32] [--steps 63]``

Builds a real-size random-weight Base checkpoint under bench/checkpoints/ if it
is missing (~4 GB for 0.6B, about a minute), then in one process:
  1. a bare ``Qwen3TTSModel.generate_voice_clone`` call (ICL, 6.4 s reference),
  2. the studio's ``Engine.clone`` with the same seed, reference, text and step count,
and prints each real-time factor, the studio's overhead ratio, the max abs
difference of the two outputs (same seed -> same codes -> same audio), peak RSS,
and the time from ``python app.py`` to the page answering. Output is noise:
only timings and shapes mean anything.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def app_start_seconds() -> float:
    """Seconds from launching ``python app.py`` until its page answers HTTP 200."""
    import httpx

    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import free_port

    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--no-browser", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="0.6b", choices=["tiny", "0.6b", "1.7b"])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--steps", type=int, default=63, help="talker steps (12.5 a second of audio)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    args = parser.parse_args()

    print(f"app start: {app_start_seconds():.2f} s until the page answers (target <= 5 s)")

    import torch

    from studio.backend import qwen_tts
    from studio.engine import Delivery, Engine
    from studio.models import ModelManager
    from studio.random_checkpoint import build_random_checkpoint
    from studio.settings import Settings
    from studio.synthesis import Sampling

    if args.threads:
        torch.set_num_threads(args.threads)
    folder = ROOT / "bench" / "checkpoints" / f"{args.size}-base"
    if not (folder / "model.safetensors").exists():
        started = time.perf_counter()
        build_random_checkpoint(folder, "base", args.size)
        print(f"built {folder} in {time.perf_counter() - started:.0f} s")

    rng = np.random.default_rng(0)
    t = np.arange(int(6.4 * 24_000)) / 24_000
    reference = (
        0.3 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2 + 0.01 * rng.standard_normal(t.size)
    ).astype(np.float32)
    transcript = "这是一段六秒左右的参考音频，用来测试声音克隆的速度。"
    text = "今天天气很好，我们一起去公园散步吧。"
    seed = 1234
    audio_seconds = args.steps * 1920 / 24_000

    def time_bare(**load_kwargs) -> tuple[float, np.ndarray]:
        bare = qwen_tts().Qwen3TTSModel.from_pretrained(
            str(folder), device_map="cpu", dtype=getattr(torch, args.dtype), **load_kwargs
        )
        eos = bare.model.config.talker_config.vocab_size - 1
        # Warm-up with the same call shape: first-call allocations and lazy inits are not what we measure.
        bare.generate_voice_clone(
            text="热身。",
            language="Chinese",
            ref_audio=(reference, 24_000),
            ref_text=transcript,
            max_new_tokens=4,
            eos_token_id=eos,
        )
        torch.manual_seed(seed)
        started = time.perf_counter()
        wavs, _ = bare.generate_voice_clone(
            text=text,
            language="Chinese",
            ref_audio=(reference, 24_000),
            ref_text=transcript,
            max_new_tokens=args.steps,
            eos_token_id=eos,
        )
        return time.perf_counter() - started, wavs[0]

    # "bare" is what a user of qwen-tts gets by default (transformers picks the attention);
    # "bare+sdpa" loads exactly as the studio does, so studio/bare+sdpa is the studio's own overhead.
    bare_seconds, bare_wav = time_bare()
    sdpa_seconds, sdpa_wav = time_bare(attn_implementation="sdpa")

    engine = Engine(ModelManager(Settings(device="cpu", dtype=args.dtype)))
    engine.clone(
        "热身。",
        (24_000, reference),
        transcript="另一段参考。",
        model=str(folder),
        seed=0,
        sampling=Sampling(force_steps=4),
    )
    started = time.perf_counter()
    result = engine.clone(
        text,
        (24_000, reference),
        transcript=transcript,
        language="Chinese",
        model=str(folder),
        seed=seed,
        sampling=Sampling(force_steps=args.steps),
        delivery=Delivery(loudness=None, watermark=False),  # raw audio, as the bare call returns it
    )
    studio_seconds = time.perf_counter() - started

    same_length = len(result.samples) == len(sdpa_wav)
    diff = float(np.max(np.abs(result.samples - sdpa_wav))) if same_length else float("nan")
    print(
        f"checkpoint: {args.size} Base, random weights, {args.dtype}, {torch.get_num_threads()} threads, "
        f"{args.steps} steps = {audio_seconds:.2f} s of audio, ICL with a 6.4 s reference"
    )
    print(f"{'path':<10}{'seconds':>10}{'RTF':>8}")
    print(f"{'bare':<10}{bare_seconds:>10.2f}{bare_seconds / audio_seconds:>8.2f}")
    print(f"{'bare+sdpa':<10}{sdpa_seconds:>10.2f}{sdpa_seconds / audio_seconds:>8.2f}")
    print(f"{'studio':<10}{studio_seconds:>10.2f}{studio_seconds / audio_seconds:>8.2f}")
    default_diff = float(np.max(np.abs(bare_wav - sdpa_wav))) if len(bare_wav) == len(sdpa_wav) else float("nan")
    print(f"studio overhead, studio / bare+sdpa: {studio_seconds / sdpa_seconds:.3f} (target <= 1.05)")
    print(f"speed-up over default qwen-tts, bare / studio: {bare_seconds / studio_seconds:.2f}x")
    print(f"max |studio - bare+sdpa|: {diff:.2e}; max |bare - bare+sdpa|: {default_diff:.2e} (same seed)")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    print(f"platform: {os.uname().machine}, {os.cpu_count()} cpus")


if __name__ == "__main__":
    main()
