"""Readings: pypinyin in context, context rules, traditional characters, pins."""

from __future__ import annotations

import pytest
from pypinyin.pinyin_dict import pinyin_dict

from studio.errors import TextError
from studio.text.evaluate import load_gold, plain_pypinyin
from studio.text.readings import analyze
from studio.text.rules import RULES
from studio.text.syllables import marks_to_tone3, valid_syllables
from studio.text.variants import to_simplified, traditional_map


def tones(text: str) -> list[str]:
    return [r.tone3 for r in analyze(text)]


def reading_at(text: str, index: int) -> str:
    return {r.index: r.tone3 for r in analyze(text)}[index]


def test_phrase_readings_in_context() -> None:
    assert tones("银行行长说行不行") == ["yin2", "hang2", "hang2", "zhang3", "shuo1", "xing2", "bu4", "xing2"]


def test_rule_fixes_the_known_pypinyin_error() -> None:
    text = "长大了很长"
    assert plain_pypinyin(text)[4] == "zhang3"  # the error the rules exist for
    last = analyze(text, use_model=False)[4]
    assert (last.tone3, last.pinyin, last.source) == ("chang2", "cháng", "rule")
    assert last.note
    assert analyze(text)[0].tone3 == "zhang3"
    assert analyze(text)[4].tone3 == "chang2"


@pytest.mark.parametrize(
    ("text", "index", "char", "expected"),
    [
        # Where a rule must fire ...
        ("他跑得比谁都快", 2, "得", "de5"),
        ("时间不早了，我得走了", 7, "得", "dei3"),
        ("这件衣服太长了，得改短一点", 8, "得", "dei3"),
        ("得，就这样吧", 0, "得", "de2"),
        ("这么多菜我们吃得了吗", 8, "了", "liao3"),
        ("这件事还了得", 3, "还", "hai2"),
        ("这条绳子太长了", 5, "长", "chang2"),
        ("请检查第五行", 5, "行", "hang2"),
        ("他是这行里的高手", 3, "行", "hang2"),
        ("他慢慢地走过来", 3, "地", "de5"),
        ("她认真地完成了作业", 3, "地", "de5"),
        ("请稍后重试", 3, "重", "chong2"),
        ("借的钱还了没有", 3, "还", "huan2"),
        ("他被选为组长", 3, "为", "wei2"),
        ("生活中都有困难", 3, "都", "dou1"),
        ("爸爸教我游泳", 2, "教", "jiao1"),
        ("出门小心中暑", 4, "中", "zhong4"),
        ("他手里拿着手机", 4, "着", "zhe5"),
        ("把空调调到制冷模式", 3, "调", "tiao2"),
        ("他背着一个大包", 1, "背", "bei1"),
        ("这点困难难不倒我们", 6, "倒", "dao3"),
        ("她把头发扎了起来", 3, "发", "fa4"),
        # ... and where it must stay away because the other reading is right.
        ("全国各地的游客", 3, "地", "di4"),
        ("他心地善良", 2, "地", "di4"),
        ("科考队在极地工作", 5, "地", "di4"),
        ("这行不行", 1, "行", "xing2"),
        ("我们一行人到了", 3, "行", "xing2"),
        ("孩子越长越高", 3, "长", "zhang3"),
        ("这只是开始", 1, "只", "zhi3"),
        ("银行卡在抽屉里", 2, "卡", "ka3"),
        ("他得了重感冒", 1, "得", "de2"),
        ("我得到了消息", 1, "得", "de2"),
        ("我们应该从小事着手", 7, "着", "zhuo2"),
        ("在学习中了解情况", 3, "中", "zhong1"),
        ("北京是首都", 4, "都", "du1"),
        ("你说得倒轻松", 3, "倒", "dao4"),
        ("他把水倒了", 3, "倒", "dao4"),
        ("他被调到市场部了", 2, "调", "diao4"),
        ("他背着父母去打游戏", 1, "背", "bei4"),
    ],
)
def test_context_rules(text: str, index: int, char: str, expected: str) -> None:
    assert text[index] == char
    assert reading_at(text, index) == expected


def test_without_rules_and_model_the_readings_are_pypinyins_but_for_corrections() -> None:
    for sentence in load_gold("tests/data/polyphones.tsv")[:120]:
        plain = plain_pypinyin(sentence.text)
        for reading in analyze(sentence.text, use_rules=False, use_model=False):
            assert reading.tone3 == plain[reading.index] or reading.source == "correction", sentence.text


def test_rule_readings_are_valid_and_belong_to_the_character() -> None:
    for rule in RULES:
        assert rule.reading in valid_syllables()
        readings = {marks_to_tone3(r) for r in pinyin_dict[ord(rule.char)].split(",")}
        assert rule.reading in readings or rule.reading.endswith("5"), rule


def test_traditional_text_uses_simplified_phrases_and_keeps_its_characters() -> None:
    readings = analyze("銀行行長說長大了很長")
    assert [r.char for r in readings][:4] == ["銀", "行", "行", "長"]
    assert [r.tone3 for r in readings] == [
        "yin2", "hang2", "hang2", "zhang3", "shuo1", "zhang3", "da4", "le5", "hen3", "chang2",
    ]  # fmt: skip


def test_traditional_character_with_one_reading_keeps_it() -> None:
    # 隻 is only zhī and 幹 only gàn, though their simplified forms are polyphones.
    assert reading_at("一隻貓", 1) == "zhi1"
    assert reading_at("幹活", 0) == "gan4"


def test_traditional_table_pairs_share_a_reading() -> None:
    table = traditional_map()
    assert len(table) > 500
    for trad, simp in table.items():
        trad_readings = {marks_to_tone3(r)[:-1] for r in pinyin_dict[ord(trad)].split(",")}
        simp_readings = {marks_to_tone3(r)[:-1] for r in pinyin_dict[ord(simp)].split(",")}
        assert trad_readings & simp_readings, (trad, simp)
    assert to_simplified("abc長") == "abc长"


def test_pins_override_and_indices_skip_the_annotation() -> None:
    readings = analyze("他在银行(xing2)工作，行（háng）")
    by_char = [(r.index, r.char, r.tone3, r.source) for r in readings]
    assert by_char[3] == (3, "行", "xing2", "pinned")
    assert by_char[-1] == (7, "行", "hang2", "pinned")


def test_fields_candidates_and_polyphone_flag() -> None:
    hang, wo = analyze("行我")
    assert hang.is_polyphone and hang.candidates[0] == "xing2" and "hang2" in hang.candidates
    assert not wo.is_polyphone and wo.candidates == ["wo3"]
    assert (wo.pinyin, wo.tone3, wo.source) == ("wǒ", "wo3", "pypinyin")


def test_non_chinese_characters_have_no_reading() -> None:
    assert [r.index for r in analyze("AI 是123好")] == [3, 7]


def test_invalid_pin_raises() -> None:
    with pytest.raises(TextError):
        analyze("行(hangg9)")
