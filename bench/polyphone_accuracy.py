"""Polyphone accuracy and readings speed: plain pypinyin, the bare context model (g2pM) and the studio, one run.

Usage:
    python bench/polyphone_accuracy.py [--cpp DIR] [--errors] [gold.tsv ...]

Sets: the CPP dev split (Park & Lee 2020; ``--cpp DIR`` or the STUDIO_CPP_DEV
environment variable, default ``../shared/data/cpp-dev`` beside the repository;
skipped with a message when absent) and the project's own gold files (default
tests/data/polyphones.tsv and tests/data/polyphones_heldout.tsv). Accuracy is
on the labelled characters. Speed: ms to refresh the readings of a 200- and a
5,000-character text (the studio's ``analyze``) beside ``pypinyin.lazy_pinyin``,
median of several runs, after the model's one-off load (reported).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from studio.text import model as context_model  # noqa: E402
from studio.text.evaluate import GoldSentence, load_cpp, load_gold, plain_pypinyin  # noqa: E402
from studio.text.readings import analyze  # noqa: E402

DEFAULT_FILES = [ROOT / "tests/data/polyphones.tsv", ROOT / "tests/data/polyphones_heldout.tsv"]
DEFAULT_CPP = ROOT.parent / "shared/data/cpp-dev"


def bare_g2pm():
    """g2pM's own ``G2pM`` class (argmax over all its readings), or None when the package is missing."""
    try:
        from g2pM import G2pM
    except ImportError:
        return None
    model = G2pM()
    return lambda text: [p.replace("u:", "v") if len(p) > 1 else p for p in model(text, char_split=True)]


def score(sentences: list[GoldSentence], systems: dict) -> tuple[int, dict[str, int], list[tuple]]:
    """Labels, correct labels per system, and (text, index, char, gold, {system: reading}) for each studio miss."""
    total, correct, misses = 0, Counter(), []
    for sentence in sentences:
        got = {name: fn(sentence.text) for name, fn in systems.items()}
        for index, char, gold in sentence.labels:
            total += 1
            readings = {name: (r[index] if index < len(r) else "") for name, r in got.items()}
            for name, reading in readings.items():
                correct[name] += reading == gold
            if readings.get("studio") != gold:
                misses.append((sentence.text, index, char, gold, readings))
    return total, correct, misses


def studio_readings(text: str) -> list[str]:
    """The studio's reading per character of ``text`` ("" where it has none)."""
    out = [""] * len(text)
    for r in analyze(text):
        out[r.index] = r.tone3
    return out


def report(name: str, sentences: list[GoldSentence], systems: dict, show_errors: bool) -> None:
    """Print accuracy per system on one set (and the studio's misses with ``show_errors``)."""
    start = time.perf_counter()
    total, correct, misses = score(sentences, systems)
    chars = {char for s in sentences for _, char, _ in s.labels}
    print(f"== {name}: {len(sentences)} sentences, {total} labels, {len(chars)} polyphone characters")
    print("  " + "".join(f"{system:>12}" for system in systems))
    print("  " + "".join(f"{100 * correct[system] / total:>11.2f}%" for system in systems))
    print(f"  ({time.perf_counter() - start:.1f} s)")
    if show_errors:
        by_char = Counter(m[2] for m in misses)
        print("  studio errors per character: " + " ".join(f"{c}{n}" for c, n in by_char.most_common()))
        for text, index, char, gold, readings in misses:
            others = ", ".join(f"{k} {v}" for k, v in readings.items())
            print(f"  {char}@{index} gold {gold}: {others}: {text}")
    print()


def speed(sentences: list[GoldSentence]) -> None:
    """Print ms to read a 200- and a 5,000-character text, studio vs plain pypinyin."""
    corpus = "".join(s.text for s in sentences)
    while len(corpus) < 5000:
        corpus += corpus
    print("== readings refresh speed (median of runs; model already loaded)")
    for size, runs in ((200, 21), (5000, 5)):
        text = corpus[:size]
        for label, fn in (("studio", analyze), ("pypinyin", plain_pypinyin)):
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                fn(text)
                times.append(time.perf_counter() - start)
            print(f"  {size:>5} characters  {label:<9} {1000 * statistics.median(times):8.1f} ms")
    print()


def main(argv: list[str]) -> None:
    """Run the benchmark (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="*", type=Path, help="gold TSV files (default: the project's two sets)")
    parser.add_argument("--cpp", type=Path, default=Path(os.environ.get("STUDIO_CPP_DEV", DEFAULT_CPP)))
    parser.add_argument("--errors", action="store_true", help="list the studio's misses")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    context_model.get_model()
    print(f"polyphone model (g2pM weights, own numpy code) loaded in {1000 * (time.perf_counter() - start):.0f} ms")
    systems = {"pypinyin": plain_pypinyin}
    bare = bare_g2pm()
    if bare is None:
        print("g2pM package not installed: no bare-model column")
    else:
        systems["g2pM"] = bare
    systems["studio"] = studio_readings
    print()

    if (args.cpp / "dev.sent").exists():
        report(f"CPP dev ({args.cpp})", load_cpp(args.cpp), systems, args.errors)
    else:
        print(f"CPP dev split not found at {args.cpp}: skipped (give --cpp DIR or set STUDIO_CPP_DEV)\n")
    own = [load_gold(path) for path in args.gold or DEFAULT_FILES]
    for path, sentences in zip(args.gold or DEFAULT_FILES, own, strict=True):
        report(path.name, sentences, systems, args.errors)
    speed([s for sentences in own for s in sentences])


if __name__ == "__main__":
    main(sys.argv[1:])
