"""Pronunciation dictionary: matching, pins, scopes, TSV files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from studio.errors import InputError, NotFoundError, StorageError
from studio.text.dictionary import DEFAULT_PATH, PronunciationDictionary, PronunciationRule, load_default


def make(*rows: tuple[str, ...]) -> PronunciationDictionary:
    return PronunciationDictionary(PronunciationRule(*row) for row in rows)  # type: ignore[arg-type]


def test_longest_match_wins() -> None:
    d = make(("银行", "reading", "yin2 hang2"), ("银行行长", "alias", "行长大人"), ("行长", "alias", "X"))
    result = d.apply("银行行长和银行")
    assert result.text == "行长大人和银(yin2)行(hang2)"
    assert [(a.start, a.end, a.rule.word) for a in result.applied] == [(0, 4, "银行行长"), (5, 7, "银行")]


def test_alias_and_reading_rules() -> None:
    d = make(("MSE", "alias", "M S E"), ("2%", "alias", "百分之二"), ("重庆", "reading", "chong2 *"))
    assert d.apply("MSE下降了2%，重庆").text == "M S E下降了百分之二，重(chong2)庆"


def test_latin_and_number_words_match_whole() -> None:
    d = make(("MSE", "alias", "M S E"), ("2%", "alias", "百分之二"))
    assert d.apply("MSEs 和 12% 和 1.2%").text == "MSEs 和 12% 和 1.2%"
    assert d.apply("(MSE) 2%").text == "(M S E) 百分之二"


def test_user_pins_win_and_spans_refer_to_the_input() -> None:
    d = make(("六安", "reading", "lu4 an1"), ("行情", "alias", "行(hang2)情"))
    result = d.apply("六(liu4)安的行情")
    assert result.text == "六(liu4)安(an1)的行(hang2)情"
    assert [(a.start, a.end) for a in result.applied] == [(0, 8), (9, 11)]


def test_alias_over_a_user_pin_is_skipped() -> None:
    d = make(("行情", "alias", "市场"))
    result = d.apply("行(xing2)情")
    assert result.text == "行(xing2)情" and result.applied == []


def test_scope() -> None:
    d = make(("行情", "reading", "hang2 qing2", "finance"), ("行情", "alias", "GLOBAL"))
    assert d.apply("行情").text == "GLOBAL"
    assert d.apply("行情", scope="finance").text == "行(hang2)情(qing2)"
    assert d.apply("行情", scope="other").text == "GLOBAL"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("银行", "reading", "yin2"), "2 Chinese characters but 1"),
        (("银行", "reading", "yin2 hangg9"), "hangg9"),
        (("银行", "phoneme", "yin2 hang2"), "kind"),
        (("", "alias", "x"), "non-empty"),
        (("行", "alias", "行(hang9)"), "hang9"),
    ],
)
def test_invalid_rules_are_refused(row: tuple[str, ...], message: str) -> None:
    with pytest.raises(InputError) as info:
        make(row)
    assert message in info.value.en and info.value.zh


def test_tsv_round_trip(tmp_path: Path) -> None:
    d = make(
        ("银行", "reading", "yin2 hang2"), ("MSE", "alias", "M S E"), ("行情", "reading", "hang2 qing2", "finance")
    )
    path = tmp_path / "sub" / "pron.tsv"
    d.save(path)
    loaded = PronunciationDictionary.load(path)
    assert loaded.rules == d.rules
    assert path.read_text(encoding="utf-8").startswith("#")
    assert os.listdir(path.parent) == ["pron.tsv"]  # no temporary file left behind


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "pron.tsv"
    make(("银行", "reading", "yin2 hang2")).save(path)
    before = path.read_text(encoding="utf-8")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StorageError, match="disk full"):
        make(("MSE", "alias", "M S E")).save(path)
    assert path.read_text(encoding="utf-8") == before
    assert os.listdir(tmp_path) == ["pron.tsv"]


def test_malformed_tsv_names_the_line() -> None:
    with pytest.raises(InputError) as info:
        PronunciationDictionary.from_tsv("# c\n银行\treading\tyin2 hang2\n坏行\n", source="x.tsv")
    assert "x.tsv line 3" in info.value.en and "第 3 行" in info.value.zh


def test_add_remove_and_comments() -> None:
    d = PronunciationDictionary.from_tsv("\n# comment\nMSE\talias\tM S E\n")
    assert len(d) == 1
    d.add(PronunciationRule("MSE", "alias", "均方误差"))
    assert len(d) == 1 and d.apply("MSE").text == "均方误差"
    assert d.remove("MSE") and not d.remove("MSE")
    assert d.apply("MSE").text == "MSE"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        PronunciationDictionary.load(tmp_path / "nope.tsv")


def test_global_preset_loads() -> None:
    assert DEFAULT_PATH.exists()
    d = load_default()
    assert len(d) >= 5
    assert d.apply("六安").text == "六(lu4)安(an1)"
