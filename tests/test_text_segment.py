"""Sentence splitting: boundaries, limits, protected spans, speed."""

from __future__ import annotations

import random
import re
import time

import pytest

from studio.errors import InputError
from studio.text.dictionary import PronunciationDictionary, PronunciationRule
from studio.text.segment import split_text


def check_offsets(text: str, segments) -> None:
    """Segments are slices of ``text`` in order, and only whitespace falls between them."""
    previous_end = 0
    for seg in segments:
        assert seg.text == text[seg.start : seg.end]
        assert seg.text and seg.text == seg.text.strip()
        assert seg.start >= previous_end
        assert not text[previous_end : seg.start].strip()
        previous_end = seg.end
    assert not text[previous_end:].strip()


def test_splits_at_chinese_and_english_sentence_ends() -> None:
    text = "今天天气很好。我们去公园吧！好不好？Let us go now. He said “OK.” Then left."
    segments = split_text(text, max_chars=120, min_chars=1)
    assert [s.text for s in segments] == [
        "今天天气很好。", "我们去公园吧！", "好不好？", "Let us go now.", "He said “OK.” Then left.",
    ]  # fmt: skip
    check_offsets(text, segments)


def test_abbreviations_do_not_end_sentences() -> None:
    segments = split_text("例如 e.g. this one. 美国 U.S. 军队来了。", min_chars=1)
    assert [s.text for s in segments] == ["例如 e.g. this one.", "美国 U.S. 军队来了。"]


def test_short_pieces_are_merged() -> None:
    segments = split_text("好。我们出发吧，大家准备好了吗？嗯。", max_chars=120, min_chars=5)
    assert [s.text for s in segments] == ["好。我们出发吧，大家准备好了吗？嗯。"]
    segments = split_text("好。我们出发吧，大家准备好了吗？嗯。", max_chars=10, min_chars=5)
    assert [s.text for s in segments] == ["好。我们出发吧，", "大家准备好了吗？嗯。"]
    segments = split_text("好。我们出发吧，大家准备好了吗？嗯。", max_chars=9, min_chars=5)
    assert [s.text for s in segments] == ["好。我们出发吧，", "大家准备好了吗？", "嗯。"]


def test_long_sentence_is_cut_at_commas_within_the_limit() -> None:
    text = "，".join(["这是一个分句"] * 30) + "。"
    segments = split_text(text, max_chars=40)
    assert all(len(s.text) <= 40 for s in segments)
    assert all(s.text.endswith(("，", "。")) for s in segments)
    check_offsets(text, segments)


def test_never_cuts_inside_pins_numbers_or_terms() -> None:
    d = PronunciationDictionary([PronunciationRule("机器学习模型", "alias", "模型")])
    unit = "银行(hang2)的机器学习模型在2024-03-05 10:30处理了1,234,567.89元"
    text = "".join([unit] * 20)
    protected = ["行(hang2)", "机器学习模型", "2024-03-05", "10:30", "1,234,567.89"]
    for max_chars in range(8, 60, 3):
        segments = split_text(text, max_chars=max_chars, dictionary=d)
        check_offsets(text, segments)
        for seg in segments:
            assert len(seg.text) <= max(max_chars, 12), (max_chars, seg.text)
        cuts = {s.end for s in segments} | {s.start for s in segments}
        for word in protected:
            for m in re.finditer(re.escape(word), text):
                assert not any(m.start() < c < m.end() for c in cuts), (max_chars, word)


@pytest.mark.parametrize("seed", range(5))
def test_random_text_respects_the_maximum(seed: int) -> None:
    rng = random.Random(seed)
    pieces = ["我们", "今天", "，", "。", "好的", "！", " ", "测试", "文本", "长", "？", "\n", "abc", "；"]
    text = "".join(rng.choice(pieces) for _ in range(3000))
    segments = split_text(text, max_chars=50, min_chars=8)
    check_offsets(text, segments)
    assert all(len(s.text) <= 50 for s in segments)


def test_a_100k_text_splits_fast() -> None:
    text = ("他在银行(hang2)工作了十年，每天都很忙。今天的气温是-3.5℃，湿度50%！你知道吗？" * 3000)[:100_000]
    start = time.perf_counter()
    segments = split_text(text)
    print(f"\n100,000 characters split in {time.perf_counter() - start:.3f} s")
    assert all(len(s.text) <= 120 for s in segments)
    check_offsets(text, segments)


def test_empty_and_whitespace() -> None:
    assert split_text("") == []
    assert split_text("  \n ") == []
    with pytest.raises(InputError):
        split_text("文本", max_chars=0)
