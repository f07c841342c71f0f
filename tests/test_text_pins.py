"""Syllable validation, inline pins and pin-preserving edits."""

from __future__ import annotations

import pytest

from studio.errors import TextError
from studio.text.pins import Edit, PinnedText, apply_edits, parse_pins, pin_spans, toneless_pins
from studio.text.syllables import SyllableError, normalize_syllable, tone3_to_marks, valid_syllables


@pytest.mark.parametrize(
    ("raw", "tone3"),
    [("hang2", "hang2"), ("háng", "hang2"), ("HANG2", "hang2"), ("lü4", "lv4"), ("lv4", "lv4"), ("lǜ", "lv4"),
     ("le5", "le5"), ("le", "le5"), ("nǚ", "nv3")],
)  # fmt: skip
def test_normalize_syllable(raw: str, tone3: str) -> None:
    assert normalize_syllable(raw) == tone3


@pytest.mark.parametrize(
    ("raw", "reason"), [("hangg9", "tone"), ("hang6", "tone"), ("hang", "no tone"), ("xx1", "not a")]
)
def test_invalid_syllables_are_refused_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(SyllableError) as info:
        normalize_syllable(raw)
    assert reason in str(info.value) and info.value.zh


def test_valid_syllables_come_from_pypinyin_data() -> None:
    syllables = valid_syllables()
    assert {"hang2", "xing2", "lv4", "le5", "zhang3"} <= syllables
    assert "hang5" not in syllables and "xing9" not in syllables
    assert tone3_to_marks("lv4") == "lǜ"


def test_parse_pins_all_spellings() -> None:
    pinned = parse_pins("银行(hang2)行（xíng）长( zhang3 )")
    assert pinned.text == "银行行长"
    assert pinned.pins == {1: "hang2", 2: "xing2", 3: "zhang3"}
    assert set(pinned.sources.values()) == {"pinned"}
    assert pinned.render() == "银行(hang2)行(xing2)长(zhang3)"
    assert pinned.origin[1] == 1 and pinned.origin[2] == 9


@pytest.mark.parametrize("text", ["人工智能(AI)很火", "视频格式(mp4)", "价格 (hang2)", "abc(hang2)", "行(xing)"])
def test_things_that_are_not_pins_stay_text(text: str) -> None:
    pinned = parse_pins(text)
    assert pinned.text == text and pinned.pins == {}


def test_toneless_pin_is_reported() -> None:
    assert toneless_pins("他行(xing)不行(AI)") == [(1, "xing")]


def test_invalid_pin_names_position_and_syllable() -> None:
    with pytest.raises(TextError) as info:
        parse_pins("他在银行(hangg9)工作")
    error = info.value
    assert error.details == {"position": 3, "syllable": "hangg9"}
    assert "hangg9" in error.zh and "第 4 个字符" in error.zh
    assert "hangg9" in error.en and "index 3" in error.en and "hang2" in error.en


def test_pin_spans_cover_the_annotation() -> None:
    assert pin_spans("我行(hang2)了") == [(1, 9)]


def test_apply_edits_moves_pins_and_protects_them() -> None:
    pinned = parse_pins("2个行(hang2)，3%")
    edits = [Edit(0, 1, "两"), Edit(2, 3, "X"), Edit(4, 6, "百分之三")]
    result, applied = apply_edits(pinned, edits)
    assert result.text == "两个行，百分之三"
    assert result.pins == {2: "hang2"}
    assert [e.new for e in applied] == ["两", "百分之三"]  # the edit over the pinned 行 was skipped
    assert result.origin[4] == result.origin[5] == pinned.origin[4]


def test_same_text_edit_adds_pins_but_user_pins_win() -> None:
    pinned = parse_pins("银行(xing2)")
    result, _ = apply_edits(pinned, [Edit(0, 2, "银行", {0: "yin2", 1: "hang2"})])
    assert result.pins == {0: "yin2", 1: "xing2"}
    assert result.sources == {0: "dictionary", 1: "pinned"}


def test_render_without_pins_is_identity() -> None:
    assert PinnedText("纯文本").render() == "纯文本"


def test_set_pin_inserts_replaces_and_removes_a_reading():
    from studio.text.pins import set_pin

    text = set_pin("银行很长", 1, "hang2")
    assert text == "银行(háng)很长"
    assert set_pin(text, 1, "xíng") == "银行(xíng)很长"
    assert set_pin(text, 1, None) == "银行很长"
    assert set_pin(text, 9, "chang2") == "银行(háng)很长(cháng)"
    assert parse_pins(set_pin(text, 9, "chang2")).text == "银行很长"


@pytest.mark.parametrize(
    ("position", "reading", "fragment"), [(5, "a", "not a Chinese"), (99, "a", "outside"), (0, "hang9", "1-4")]
)
def test_set_pin_refuses_what_cannot_be_pinned(position, reading, fragment):
    from studio.text.pins import set_pin

    with pytest.raises(TextError) as info:
        set_pin("银行(háng)很长", position, reading)
    assert fragment in info.value.message("en")
