"""Benchmark: what hearing a take costs next to generating it (the take checker of the dubbing run).

Usage: ``python bench/take_check_cost.py [--tts-size tiny|0.6b] [--asr-size tiny|small] [--steps 63]
[--repeats 3] [--device auto|cpu|cuda]``

Builds random-weight checkpoints under bench/checkpoints/ when missing (a Qwen3-TTS CustomVoice of
``--tts-size`` and a Whisper of ``--asr-size``, converted for faster-whisper), then in one process, for
each repeat: generates one line of ``--steps`` model steps (12.5 a second) with the studio's engine, and
checks that take with :func:`studio.takecheck.checker` (greedy decoding, token budget from the text).
Prints the median seconds of each and the ratio check / generate, which decides whether checking is on by
default (it is on with a GPU, off on a CPU). Random weights: the recogniser decodes its whole token
budget (a real model stops when the speech ends), so the check time is an upper bound. Output is noise:
only timings mean anything.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEXT = "今天我们来聊聊配音，银行的行长说这件事行不行。"


def checkpoints(tts_size: str, asr_size: str) -> tuple[Path, Path]:
    """The random TTS and recogniser folders, built when missing."""
    from studio.random_checkpoint import build_random_checkpoint
    from studio.random_recogniser import build_random_recogniser
    from studio.recogniser import is_model_folder

    root = ROOT / "bench" / "checkpoints"
    tts = root / f"random-custom_voice-{tts_size}"
    if not (tts / "model.safetensors").exists():
        build_random_checkpoint(tts, "custom_voice", tts_size, seed=0)
    asr = root / f"random-whisper-{asr_size}"
    if not is_model_folder(asr):
        build_random_recogniser(asr, size=asr_size)
    return tts, asr


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tts-size", default="tiny", choices=["tiny", "0.6b"])
    parser.add_argument("--asr-size", default="tiny", choices=["tiny", "small"])
    parser.add_argument("--steps", type=int, default=63, help="model steps per take (12.5 a second of audio)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    args = parser.parse_args()

    from studio import recogniser
    from studio.engine import Delivery, Engine
    from studio.models import ModelManager
    from studio.settings import Settings
    from studio.synthesis import Sampling
    from studio.takecheck import checker

    tts, asr = checkpoints(args.tts_size, args.asr_size)
    settings = Settings(device=args.device) if args.device != "auto" else Settings()
    engine = Engine(ModelManager(settings))
    recogniser.get(asr).device = args.device
    check = checker(asr, "zh")
    sampling = Sampling(force_steps=args.steps)
    delivery = Delivery(loudness=None, watermark=False)

    def generate():
        return engine.custom(TEXT, "Vivian", model=str(tts), seed=1, sampling=sampling, delivery=delivery)

    started = time.perf_counter()
    take = generate()  # warm-up: loads both models, as a dubbing run does before its first line
    check(take.samples, take.sr, TEXT)
    print(f"warm-up (both models loaded, one take made and checked): {time.perf_counter() - started:.1f} s", flush=True)
    gen_s, check_s, audio_s = [], [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        take = generate()
        gen_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = check(take.samples, take.sr, TEXT)
        check_s.append(time.perf_counter() - started)
        audio_s.append(take.seconds)
        print(f"repeat {len(gen_s)}: generate {gen_s[-1]:.3f} s, check {check_s[-1]:.3f} s", flush=True)
    g, c = statistics.median(gen_s), statistics.median(check_s)
    print(f"TTS {args.tts_size} ({tts.name}), recogniser {args.asr_size} ({asr.name}), device {args.device}")
    print(f"take: {statistics.median(audio_s):.2f} s of audio, {args.steps} steps; text {len(TEXT)} characters")
    print(f"generate: {g:.3f} s   check: {c:.3f} s   check/generate: {c / g:.2f}x   (median of {args.repeats})")
    print(f"checked take: cer {result.cer:.2f}, {len(result.flags)} flag(s) (noise: random weights)")


if __name__ == "__main__":
    main()
