"""Homophone table and substitution of pinned characters."""

from __future__ import annotations

import json

from pypinyin.pinyin_dict import pinyin_dict

from studio.text import build_homophones
from studio.text.homophones import _DATA, homophone_for, homophone_table, substitute, substitute_pinned
from studio.text.pins import parse_pins
from studio.text.syllables import char_readings, marks_to_tone3, valid_syllables


def test_every_homophone_has_exactly_that_one_reading() -> None:
    table = homophone_table()
    assert len(table) > 800
    for tone3, char in table.items():
        assert pinyin_dict[ord(char)].count(",") == 0, (tone3, char)
        assert marks_to_tone3(pinyin_dict[ord(char)]) == tone3
        assert build_homophones.gb2312_level(char) == 1


def test_data_file_is_what_the_script_builds() -> None:
    on_disk = json.loads(_DATA.read_text(encoding="utf-8"))
    assert on_disk == build_homophones.build()
    assert set(on_disk["homophones"]) | set(on_disk["none"]) == valid_syllables()


def test_substitute_swaps_pinned_characters() -> None:
    assert substitute("他在银行(hang2)工作") == "他在银" + homophone_for("hang2") + "工作"
    assert homophone_for("hang2") == "航"
    assert substitute("长(cháng)大") == homophone_for("chang2") + "大"
    assert substitute("没有注音") == "没有注音"


def test_every_substituted_character_reads_as_pinned() -> None:
    # Pin 行 (and 长, 重...) to every reading the table can enforce.
    text = "".join(f"行({tone3})" for tone3 in sorted(homophone_table()))
    result = substitute_pinned(parse_pins(text))
    assert len(result.replaced) == len(homophone_table())
    for index, old, new, tone3 in result.replaced:
        assert old == "行"
        assert char_readings(new) == (tone3,)
        assert result.text[index] == new


def test_unenforceable_pin_keeps_the_character_and_is_reported() -> None:
    assert homophone_for("hao4") is None
    result = substitute_pinned(parse_pins("爱好(hao4)"))
    assert result.text == "爱好"
    assert result.kept == [(1, "好", "hao4")]
    assert result.replaced == []


def test_unambiguous_character_is_left_alone() -> None:
    result = substitute_pinned(parse_pins("航(hang2)"))
    assert result.text == "航" and result.kept == [] and result.replaced == []
