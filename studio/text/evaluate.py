"""Polyphone accuracy: the studio's readings against hand-labelled sentences, beside plain pypinyin.

Gold files are UTF-8 TSV: ``sentence<TAB>char=tone3@index ...`` (index is the
0-based character offset); lines starting with ``#`` are comments. The public
CPP benchmark (Park & Lee 2020) is read by :func:`load_cpp`: ``<split>.sent``
marks one character per line with U+2581 on both sides, ``<split>.lb`` gives
its reading (``u:`` for ü). Used by ``tests/test_polyphone_accuracy.py`` and
``bench/polyphone_accuracy.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pypinyin import Style, lazy_pinyin

from studio.text.readings import analyze


@dataclass
class GoldSentence:
    """One labelled sentence: ``labels`` holds (index, char, tone3)."""

    text: str
    labels: list[tuple[int, str, str]]


@dataclass
class Accuracy:
    """Counts over all labels; ``errors`` holds (sentence, index, char, gold, studio, pypinyin) for each miss."""

    total: int = 0
    studio_correct: int = 0
    pypinyin_correct: int = 0
    errors: list[tuple[str, int, str, str, str, str]] = field(default_factory=list)

    @property
    def studio(self) -> float:
        """Share of labels the studio reads right."""
        return self.studio_correct / self.total if self.total else 0.0

    @property
    def pypinyin(self) -> float:
        """Share of labels plain ``pypinyin.lazy_pinyin`` reads right."""
        return self.pypinyin_correct / self.total if self.total else 0.0


def load_gold(path: str | Path) -> list[GoldSentence]:
    """Read a gold TSV file; raises ValueError naming the line of a malformed or misplaced label."""
    sentences = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        text, _, raw_labels = line.partition("\t")
        labels = []
        for item in raw_labels.split():
            char, _, rest = item.partition("=")
            tone3, _, index = rest.partition("@")
            if not index.isdigit() or int(index) >= len(text) or text[int(index)] != char:
                raise ValueError(f"{path}:{number}: label {item!r} does not point at {char!r} in the sentence")
            labels.append((int(index), char, tone3))
        if not labels:
            raise ValueError(f"{path}:{number}: no labels")
        sentences.append(GoldSentence(text, labels))
    return sentences


def load_cpp(folder: str | Path, split: str = "dev", limit: int | None = None) -> list[GoldSentence]:
    """Read a CPP split (``dev.sent`` + ``dev.lb``) as gold sentences with one label each."""
    folder = Path(folder)
    sents = (folder / f"{split}.sent").read_text(encoding="utf-8").splitlines()
    labels = (folder / f"{split}.lb").read_text(encoding="utf-8").splitlines()
    if len(sents) != len(labels):
        raise ValueError(f"{folder}: {len(sents)} sentences but {len(labels)} labels")
    out = []
    for marked, label in list(zip(sents, labels, strict=True))[:limit]:
        index = marked.find("\u2581")
        text = marked.replace("\u2581", "")
        if index < 0 or index >= len(text):
            raise ValueError(f"{folder}: no marked character in {marked!r}")
        out.append(GoldSentence(text, [(index, text[index], label.strip().replace("u:", "v"))]))
    return out


def plain_pypinyin(text: str) -> list[str]:
    """``lazy_pinyin`` in tone3 (neutral tone 5), one item per character of ``text``."""
    return lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda chars: list(chars))


def evaluate(sentences: list[GoldSentence]) -> Accuracy:
    """Score the studio (:func:`~studio.text.readings.analyze`) and plain pypinyin on ``sentences``."""
    result = Accuracy()
    for sentence in sentences:
        studio = {r.index: r.tone3 for r in analyze(sentence.text)}
        plain = plain_pypinyin(sentence.text)
        for index, char, gold in sentence.labels:
            result.total += 1
            got = studio.get(index, "")
            result.studio_correct += got == gold
            result.pypinyin_correct += plain[index] == gold
            if got != gold or plain[index] != gold:
                result.errors.append((sentence.text, index, char, gold, got, plain[index]))
    return result
