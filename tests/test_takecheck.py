"""The take checker's pure logic: normalisation, alignment, error rate, flags and ranking (no model)."""

import pytest

from studio.takecheck import (
    Flag,
    TakeCheck,
    align,
    check_units,
    error_rate,
    heard_units,
    prepared_units,
    rank_key,
)

TEXT = "银行[停顿 0.5]行(xíng)不行，我们今天去北京。"


@pytest.fixture(scope="module")
def intended():
    return prepared_units(TEXT)


def check(intended, heard: str, seconds=None) -> TakeCheck:
    display, units = intended
    return check_units(units, heard_units(heard), heard, seconds, display)


def kinds(result: TakeCheck) -> list[str]:
    return [f.kind for f in result.flags]


def test_intended_units_drop_pins_pauses_and_punctuation_and_keep_readings(intended):
    display, units = intended
    assert "".join(u.char for u in units) == "银行行不行我们今天去北京"
    pinned = units[2]
    assert display[pinned.position] == "行" and pinned.reading == "xing2" and "hang2" in pinned.candidates
    assert units[1].reading == "hang2"


def test_both_sides_are_normalised_the_same_way():
    display, units = prepared_units("有3个AI，2024年")
    heard = heard_units("有三個 ai, 二零二四年!")
    assert [u.char for u in heard] == [u.char for u in units]
    assert check_units(units, heard, "", None, display).cer == 0.0


def test_a_faithful_take_is_ok_and_homophones_of_the_intended_reading_match(intended):
    assert check(intended, "银行行不行我们今天去北京").ok
    result = check(intended, "银航形不行，我们今天去北京。")
    assert result.cer == 0.0 and result.flags == [] and result.score == 1.0


def test_error_rate_counts_substitutions_deletions_and_insertions():
    _, units = prepared_units("我们今天去北京")
    assert error_rate(units, heard_units("我们明天去北京")) == pytest.approx(1 / 7)
    assert error_rate(units, heard_units("我们去北京")) == pytest.approx(2 / 7)
    assert error_rate(units, heard_units("我们今天要去北京")) == pytest.approx(1 / 7)
    assert error_rate(units, heard_units("")) == 1.0


def test_alignment_pairs_every_unit_once_in_order():
    _, units = prepared_units("甲乙丙丁")
    heard = heard_units("甲丙丁戊")
    pairs = align(units, heard)
    assert [a for a, _ in pairs if a is not None] == [0, 1, 2, 3]
    assert [b for _, b in pairs if b is not None] == [0, 1, 2, 3]
    assert (1, None) in pairs and (None, 3) in pairs


def test_a_misread_polyphone_names_the_expected_and_the_heard_reading(intended):
    result = check(intended, "银行杭不行我们今天去北京")
    flag = next(f for f in result.flags if f.kind == "polyphone")
    display, _ = intended
    assert display[flag.position] == "行" and flag.expected == "xíng" and flag.heard == "杭(háng)"
    assert not result.ok
    assert "xíng" in flag.describe("zh") and "misread" in flag.describe("en")


def test_another_character_at_a_polyphone_is_an_error_but_not_a_misreading(intended):
    result = check(intended, "银行猫不行我们今天去北京")
    assert result.cer > 0 and "polyphone" not in kinds(result)


def test_dropped_repeated_truncated_and_runaway_are_flagged(intended):
    assert kinds(check(intended, "银行行不行我们去北京")) == ["dropped"]
    assert check(intended, "银行行不行我们去北京").flags[0].expected == "今天"
    assert kinds(check(intended, "银行行不行我们我们今天去北京")) == ["repeated"]
    assert kinds(check(intended, "银行行不行我们今天去")) == ["truncated"]
    assert kinds(check(intended, "银行行不行我们今天去北京啊啊啊")) == ["runaway"]
    assert kinds(check(intended, "")) == ["unintelligible"]
    # a single missing character is an error, not a dropped word
    assert kinds(check(intended, "银行行不行我们今天北京")) == []


def test_the_take_length_reveals_runaway_and_cut_endings(intended):
    assert kinds(check(intended, "银行行不行我们今天去北京", seconds=3.5)) == []
    assert kinds(check(intended, "银行行不行我们今天去北京", seconds=40.0)) == ["runaway"]
    assert kinds(check(intended, "银行行不行我们今天去北京", seconds=0.3)) == ["truncated"]


def test_the_score_orders_takes_and_ranking_falls_back_to_the_length_fit(intended):
    good, dropped, bad = (check(intended, h) for h in ("银行行不行我们今天去北京", "银行行不行我们去北京", "北京"))
    assert good.score > dropped.score > bad.score
    ranked = sorted([(dropped, 0.0), (good, 0.5), (good, 0.1), (None, 0.0)], key=lambda x: rank_key(*x))
    assert ranked[0] == (good, 0.1) and ranked[1] == (good, 0.5) and ranked[-1] == (None, 0.0)


def test_the_result_survives_json_and_summarises_in_both_languages(intended):
    result = check(intended, "银行行不行我们我们今天去")
    again = TakeCheck.from_dict(result.to_dict())
    assert again == result and not again.ok
    assert "重复" in result.summary("zh") and "repeated" in result.summary("en")
    assert TakeCheck(1.0, 0.0).summary("en").startswith("✓")
    assert Flag("runaway").describe("en") == "runaway ending"
