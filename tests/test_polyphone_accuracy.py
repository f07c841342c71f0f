"""Polyphone accuracy on the hand-labelled set: the studio must beat plain pypinyin and reach 97%."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.text.evaluate import evaluate, load_gold
from studio.text.syllables import char_readings, valid_syllables

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def gold():
    return load_gold(DATA / "polyphones.tsv")


def test_gold_set_is_large_and_well_formed(gold) -> None:
    assert len(gold) >= 150
    chars = {char for s in gold for _, char, _ in s.labels}
    assert len(chars) >= 40
    for sentence in gold:
        for _, char, tone3 in sentence.labels:
            assert len(char_readings(char)) > 1, f"{char} is not a polyphone"
            assert tone3 in valid_syllables(), tone3
    assert len({s.text for s in gold}) == len(gold)


def test_studio_accuracy(gold) -> None:
    acc = evaluate(gold)
    misses = [e for e in acc.errors if e[4] != e[3]]
    assert acc.studio >= 0.97, misses
    assert acc.studio > acc.pypinyin


def test_held_out_set_also_improves() -> None:
    acc = evaluate(load_gold(DATA / "polyphones_heldout.tsv"))
    assert acc.total >= 150
    assert acc.studio > acc.pypinyin + 0.1
