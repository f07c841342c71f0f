"""prepare_text: validation, warnings, model text; pinyin_report."""

from __future__ import annotations

import pytest

from studio.errors import TextError
from studio.text.dictionary import PronunciationDictionary, PronunciationRule
from studio.text.homophones import homophone_for
from studio.text.prepare import MAX_TEXT_CHARS, pinyin_report, prepare_text


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_refused(text: str) -> None:
    with pytest.raises(TextError) as info:
        prepare_text(text)
    assert "空" in info.value.zh and "empty" in info.value.en


@pytest.mark.parametrize("text", ["。，！？……", "!!! ...", "😀😀👍", "  ，😀\u200b。 "])
def test_nothing_to_speak_is_refused(text: str) -> None:
    with pytest.raises(TextError) as info:
        prepare_text(text)
    assert "标点" in info.value.zh and "punctuation" in info.value.en


def test_too_long_text_names_the_limit() -> None:
    with pytest.raises(TextError) as info:
        prepare_text("好" * (MAX_TEXT_CHARS + 1))
    error = info.value
    assert str(MAX_TEXT_CHARS) in error.zh and str(MAX_TEXT_CHARS) in error.en
    assert error.details == {"length": MAX_TEXT_CHARS + 1, "limit": MAX_TEXT_CHARS}


def test_text_at_the_limit_is_accepted() -> None:
    text = ("他在银行工作了十年，每天都很忙。气温-3.5℃，湿度50%！" * 4000)[:MAX_TEXT_CHARS]
    prepared = prepare_text(text)
    assert len(prepared.readings) > 50_000


def test_not_a_string_is_refused() -> None:
    with pytest.raises(TextError):
        prepare_text(None)  # type: ignore[arg-type]


def test_invalid_syllable_names_its_position() -> None:
    with pytest.raises(TextError) as info:
        prepare_text("今天😀他在银行(hangg9)上班")
    assert info.value.details["position"] == 6
    assert "hangg9" in info.value.zh and "hangg9" in info.value.en


def test_emoji_are_stripped_with_a_warning() -> None:
    prepared = prepare_text("你好😀世界👍🏻！")
    assert prepared.display_text == "你好世界！"
    (warning,) = prepared.warnings
    assert warning.code == "emoji_removed" and warning.position == 2
    assert "2" in warning.zh and "2 emoji" in warning.en


def test_control_characters_are_stripped_with_a_warning() -> None:
    prepared = prepare_text("你\x07好\u200b世界\n第二行\t好")
    assert prepared.display_text == "你好世界\n第二行\t好"
    (warning,) = prepared.warnings
    assert warning.code == "control_removed" and warning.position == 1
    assert "U+0007" in warning.en


def test_pins_become_homophones_in_model_text_only() -> None:
    prepared = prepare_text("他在银行(hang2)工作，长(cháng)")
    assert prepared.display_text == "他在银行工作，长"
    assert prepared.model_text == "他在银" + homophone_for("hang2") + "工作，" + homophone_for("chang2")
    assert len(prepared.model_text) == len(prepared.display_text)
    assert prepared.pins == {3: "hang2", 7: "chang2"}
    assert [s[:3] for s in prepared.substitutions] == [(3, "行", "航"), (7, "长", homophone_for("chang2"))]


def test_unenforceable_and_unusual_pins_warn() -> None:
    prepared = prepare_text("爱好(hao4)，我(ma1)，行(xing)")
    codes = [w.code for w in prepared.warnings]
    assert codes.count("pin_not_enforced") == 1
    assert "pin_unusual" in codes and "pin_without_tone" in codes
    assert prepared.model_text.startswith("爱好，" + homophone_for("ma1"))


def test_dictionary_and_normalisation() -> None:
    d = PronunciationDictionary(
        [PronunciationRule("MSE", "alias", "均方误差"), PronunciationRule("六安", "reading", "lu4 an1")]
    )
    prepared = prepare_text("六安的MSE降到了2%，共3个", dictionary=d)
    assert prepared.display_text == "六安的均方误差降到了百分之二，共三个"
    assert prepared.model_text.startswith(homophone_for("lu4") + homophone_for("an1"))
    assert [(a.start, a.end, a.rule.word) for a in prepared.applied_rules] == [(0, 2, "六安"), (3, 6, "MSE")]
    assert {r.index: r.source for r in prepared.readings}[0] == "dictionary"


def test_normalisation_can_be_switched_off() -> None:
    prepared = prepare_text("2024年涨了50%", normalize=False)
    assert prepared.display_text == "2024年涨了50%"
    assert prepare_text("2024年涨了50%").display_text == "二零二四年涨了百分之五十"


def test_readings_index_the_display_text() -> None:
    prepared = prepare_text("长大了很长(chang2)，2个行")
    for reading in prepared.readings:
        assert prepared.display_text[reading.index] == reading.char
    assert [r.tone3 for r in prepared.readings][-3:] == ["liang3", "ge4", "xing2"]


def test_pinyin_report() -> None:
    report = pinyin_report("长大了很长，行(hang2)")
    assert [e["char"] for e in report] == ["长", "大", "了", "很", "长", "行"]
    last, fifth = report[-1], report[4]
    assert (last["position"], last["index"], last["pinyin"], last["source"]) == (6, 6, "háng", "pinned")
    assert fifth["tone3"] == "chang2" and fifth["is_polyphone"] and "zhǎng" in fifth["candidates"]
    assert set(last) == {
        *("index", "position", "char", "pinyin", "tone3", "is_polyphone", "candidates", "source", "note"),
        *("confidence", "scores", "low_confidence"),
    }
    assert last["confidence"] == 1.0 and not last["low_confidence"]  # a pin is certain
    assert len(fifth["scores"]) == len(fifth["candidates"]) and fifth["scores"] == sorted(fifth["scores"], reverse=True)
