"""Print polyphone accuracy of the studio beside plain pypinyin, with per-character errors.

Usage: python bench/polyphone_accuracy.py [gold.tsv ...]
(default: tests/data/polyphones.tsv and tests/data/polyphones_heldout.tsv)
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from studio.text.evaluate import evaluate, load_gold  # noqa: E402

DEFAULT_FILES = [ROOT / "tests/data/polyphones.tsv", ROOT / "tests/data/polyphones_heldout.tsv"]


def report(path: Path) -> None:
    """Print the accuracy table and errors for one gold file."""
    sentences = load_gold(path)
    acc = evaluate(sentences)
    chars = {char for s in sentences for _, char, _ in s.labels}
    print(f"== {path.name}: {len(sentences)} sentences, {acc.total} labels, {len(chars)} polyphone characters")
    print(f"{'':10}{'studio':>10}{'pypinyin':>10}")
    print(f"{'accuracy':10}{acc.studio:>10.4f}{acc.pypinyin:>10.4f}")
    print(f"{'errors':10}{acc.total - acc.studio_correct:>10}{acc.total - acc.pypinyin_correct:>10}")
    studio_errors = Counter(e[2] for e in acc.errors if e[4] != e[3])
    plain_errors = Counter(e[2] for e in acc.errors if e[5] != e[3])
    print("per character (studio / pypinyin errors):")
    for char in sorted(set(studio_errors) | set(plain_errors), key=lambda c: (-studio_errors[c], -plain_errors[c], c)):
        print(f"  {char}  {studio_errors[char]:>3} / {plain_errors[char]:<3}")
    print("studio errors:")
    for text, index, char, gold, got, plain in acc.errors:
        if got != gold:
            print(f"  {char}@{index} gold {gold}, studio {got}, pypinyin {plain}: {text}")
    print()


def main(argv: list[str]) -> None:
    """Report on each gold file named in ``argv`` (or the default ones)."""
    for path in [Path(a) for a in argv] or DEFAULT_FILES:
        report(path)


if __name__ == "__main__":
    main(sys.argv[1:])
