"""Benchmark: the studio against the peer engine vox-tts (C++), same checkpoint, same text and reference, one run.

Usage: ``python bench/vs_vox.py VOX_PYTHON [--size 0.6b] [--steps 63] [--reps 3]``

``VOX_PYTHON`` is the Python of a separate environment with ``vox-tts``
installed (``python -m venv venv-vox && venv-vox/bin/pip install vox-tts``);
it never shares this process or environment. vox converts the random-weight
Base checkpoint (bench/checkpoints/, as bench/run.py builds it) with its own
tool, once per variant, into bench/checkpoints/vox/:

    VOX_PYTHON -m vox build --model FOLDER --dtype bf16 --quant q8 -o 0.6b.q8.tmod
    VOX_PYTHON -m vox build --model FOLDER --dtype bf16 -o 0.6b.bf16.tmod

Each vox variant runs in its own worker process (``vox.Engine(..., threads=N)``,
the voice cloned once from the same reference and transcript, then
``engine.stream(text, voice, seed, max_frames=steps)`` per request); random
weights never sample the end token, so every path makes the same number of
frames. The studio paths and bare qwen-tts are those of bench/frame_breakdown.py.
All paths run interleaved, ``--reps`` rounds; the best round of each counts.
vox's own per-stage timings (``engine.stats()``) give its breakdown.

Writes bench/results/cpu-<date>-<cpu model>-vs-vox.md/.json. Not a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import frame_breakdown as F  # noqa: E402
import run as B  # noqa: E402

#: Runs inside the vox environment: one engine, one voice, then one JSON request per stdin line.
WORKER = r"""
import json, sys, time, vox
model, wav, transcript, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
engine = vox.Engine(model, device="cpu", threads=threads)
voice = engine.clone_voice(wav, ref_text=transcript)
print(json.dumps({"ready": vox.__version__, "plan": engine.plan}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    before = engine.stats()["backend"]["seconds"]
    started = time.perf_counter()
    first, samples = None, 0
    for chunk in engine.stream(request["text"], voice, seed=request["seed"], max_frames=request["frames"],
                               language=request["language"]):
        if first is None:
            first = time.perf_counter() - started
        samples += len(chunk)
    seconds = time.perf_counter() - started
    after = engine.stats()["backend"]["seconds"]
    spent = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    print(json.dumps({"seconds": seconds, "first": first, "samples": samples, "spent": spent}), flush=True)
"""


def build(vox_python: str, folder: Path, variant: str) -> tuple[Path, dict]:
    """vox's conversion of ``folder`` (q8 or bf16), cached; the command, its time and its last lines."""
    out = ROOT / "bench" / "checkpoints" / "vox" / f"{folder.name}.{variant}.tmod"
    command = [vox_python, "-m", "vox", "build", "--model", str(folder), "--dtype", "bf16"]
    command += ["--quant", "q8"] if variant == "q8" else []
    command += ["-o", str(out)]
    shown = " ".join(["VOX_PYTHON", *command[1:]]).replace(str(ROOT) + "/", "")
    if out.is_file():
        return out, {"command": shown, "cached": True, "bytes": out.stat().st_size}
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    record = {
        "command": shown,
        "seconds": round(time.perf_counter() - started, 1),
        "returncode": done.returncode,
        "output": (done.stdout + done.stderr).strip().splitlines()[-12:],
    }
    if done.returncode != 0:
        raise SystemExit(f"vox build failed:\n{json.dumps(record, ensure_ascii=False, indent=1)}")
    record["bytes"] = out.stat().st_size
    return out, record


class VoxWorker:
    """One vox engine in the vox environment, answering one synthesis request at a time."""

    def __init__(self, name: str, vox_python: str, model: Path, wav: Path, threads: int) -> None:
        self.name = name
        self.rows: list[dict] = []
        command = [vox_python, "-c", WORKER, str(model), str(wav), B.TRANSCRIPT, str(threads)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.ready = self._answer()

    def _answer(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"{self.name}: the vox worker stopped (exit code {self.process.wait()})")
        return json.loads(line)

    def run(self, text: str, frames: int, seed: int, rep: int) -> dict:
        """One timed synthesis; its row (ms per frame by vox's stages) is kept and returned."""
        request = {"text": text, "frames": frames, "seed": seed, "language": "chinese"}
        self.process.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
        answer = self._answer()
        made = max(round(answer["samples"] / 1920), 1)
        spent = answer["spent"]
        row = {"path": self.name, "rep": rep, "frames": made, "seconds": round(answer["seconds"], 3)}
        row["prefill"] = round(1000 * spent.get("prefill", 0.0) / made, 1)
        row["talker step"] = round(1000 * spent.get("talker", 0.0) / made, 1)
        row["code predictor"] = round(1000 * spent.get("predictor", 0.0) / made, 1)
        row["decode"] = round(1000 * spent.get("codec", 0.0) / made, 1)
        row["total"] = round(1000 * answer["seconds"] / made, 1)
        row["other"] = round(row["total"] - sum(row[p] for p in F.PARTS), 1)
        row["first_audio_s"] = round(answer["first"] or 0.0, 3)
        row["load"] = F.load_average()
        self.rows.append(row)
        return row

    def best(self) -> dict:
        """The fastest row."""
        return min(self.rows, key=lambda r: r["seconds"])

    def close(self) -> None:
        """End the worker."""
        self.process.stdin.close()
        self.process.wait(timeout=60)


def main() -> None:
    parser = F.parser(__doc__.split("\n\n")[0])
    parser.add_argument("vox_python", help="python of the separate environment with vox-tts")
    args = parser.parse_args()
    folder, reference, info = F.start(args)
    import soundfile as sf
    import torch

    threads = torch.get_num_threads()
    builds, workers = {}, []
    with tempfile.TemporaryDirectory(prefix="vs-vox-") as tmp:
        wav = Path(tmp) / "reference.wav"
        sf.write(wav, reference, B.SR)
        for variant in ("q8", "bf16"):
            model, builds[variant] = build(args.vox_python, folder, variant)
            workers.append(VoxWorker(f"vox-tts {variant}", args.vox_python, model, wav, threads))
        paths = F.build_paths(args, folder, reference)
        text = B.TEXT  # both get the same characters; vox tokenizes them itself
        for worker in workers:
            worker.run(text, 4, args.seed, 0)  # warm-up (codec kernels, caches), not counted
            worker.rows.clear()

        def vox_round(rep: int) -> None:
            for worker in workers:
                print(json.dumps(worker.run(text, args.steps - 1, args.seed, rep), ensure_ascii=False), flush=True)

        F.measure(paths, args.reps, args.seed, vox_round)
        for worker in workers:
            worker.close()
    version = workers[0].ready["ready"]
    q8 = workers[0].best()["total"]
    header = [*F.HEADER[:-2], "vs bare bf16", "vs vox q8"]
    base = paths[0].best()["total"]
    rows = []
    for path in [*paths, *workers]:
        best = path.best()
        rows.append(
            [
                path.name,
                *(best[p] for p in F.PARTS),
                best["other"],
                best["total"],
                f"{base / best['total']:.2f}x",
                f"{q8 / best['total']:.2f}x",
            ]
        )
    lines = [f"# `python bench/vs_vox.py VOX_PYTHON --size {args.size} --steps {args.steps} --reps {args.reps}`", ""]
    lines += [*F.header_lines(args, info), f"load average at the end: {F.load_average()}"]
    lines += [f"vox-tts {version} in its own environment and process, {threads} threads, same reference and text", ""]
    lines += [f"vox build ({variant}): {json.dumps(record, ensure_ascii=False)}" for variant, record in builds.items()]
    lines += ["", "ms per generated frame (best round of each path; vox's split from its own engine.stats()):", ""]
    lines += F.markdown_table(header, rows)
    lines += ["", "rounds:"] + [json.dumps(r, ensure_ascii=False) for p in [*paths, *workers] for r in p.rows]
    print("\n".join(lines))
    data = {"machine": info, "args": vars(args) | {"vox_python": "VOX_PYTHON"}, "vox": version, "builds": builds}
    data["rows"] = [r for p in [*paths, *workers] for r in p.rows]
    target = F.write_results("vs-vox", lines, data)
    print(f"written: {target.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
