"""The polyphone context model, word data and corrections: readings with confidence, the known misreadings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.text import model as context_model
from studio.text.evaluate import load_cpp
from studio.text.phrases import CORRECTIONS_PATH, corrections, phrase_readings
from studio.text.prepare import prepare_text
from studio.text.readings import LOW_CONFIDENCE, analyze
from studio.text.syllables import char_readings

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"


def reading(text: str, index: int) -> str:
    return {r.index: r.tone3 for r in analyze(text)}[index]


@pytest.mark.parametrize(
    ("text", "index", "char", "expected"),
    [
        # the three misreadings the issue found on a real narration script
        ("这盘棋他落子很快。", 4, "落", "luo4"),
        ("文本分类是自然语言处理的基础任务。", 2, "分", "fen1"),
        # pypinyin phrase data that is wrong or missing, fixed by the corrections file
        ("他的生活很简朴。", 6, "朴", "pu3"),
        ("旋律庄重而质朴。", 6, "朴", "pu3"),
        ("朝鲜半岛", 0, "朝", "chao2"),
        ("朝鲜半岛", 1, "鲜", "xian3"),
        # rules that used to break on the public benchmark
        ("这座城市因河流得名。", 7, "得", "de2"),
        ("诺贝尔奖得主", 4, "得", "de2"),
        ("他去过圣彼得堡。", 5, "得", "de2"),
        ("这场比赛很精彩。", 1, "场", "chang3"),
        ("旋转木马转个不停", 1, "转", "zhuan3"),
        ("来参加活动的人大都是大学生。", 8, "都", "dou1"),
        ("上海是一座国际大都市。", 8, "都", "du1"),
        # everyday readings the word data keeps right where the model alone errs
        ("他很着急。", 2, "着", "zhao2"),
        ("我完全了解你的意思。", 3, "了", "liao3"),
        ("你明天下午有空吗？", 6, "空", "kong4"),
        ("银行行长说行不行", 2, "行", "hang2"),
    ],
)
def test_readings_in_context(text: str, index: int, char: str, expected: str) -> None:
    assert text[index] == char
    assert reading(text, index) == expected


def test_l1_is_not_read_l_yi() -> None:
    prepared = prepare_text("L1 损失和 L2 正则")
    assert "一" not in prepared.model_text and "二" not in prepared.model_text
    assert prepared.model_text.startswith("L one")


def test_candidates_are_ordered_by_the_model_and_scored() -> None:
    for r in analyze("银行行长说行不行，长大了很长。"):
        if r.scores and r.scores[0] is not None:
            scored = [s for s in r.scores if s is not None]
            assert scored == sorted(scored, reverse=True)
            assert abs(sum(scored) - 1.0) < 1e-4
            assert r.confidence == pytest.approx(r.scores[r.candidates.index(r.tone3)])
            assert r.low_confidence == (r.source in ("model", "phrase") and r.confidence < LOW_CONFIDENCE)
        assert r.tone3 in r.candidates
        if r.is_polyphone:
            assert set(char_readings(r.char)) <= set(r.candidates)


def test_a_pin_always_wins() -> None:
    for text, expected in (("他落(lao4)子很快", "lao4"), ("文本分(fen4)类", "fen4"), ("简朴(piao2)", "piao2")):
        pinned = [r for r in analyze(text) if r.source == "pinned"]
        assert [r.tone3 for r in pinned] == [expected]
        assert pinned[0].confidence == 1.0 and not pinned[0].low_confidence


def test_low_confidence_is_flagged() -> None:
    flagged = [r for r in analyze("银行行长说行不行") if r.low_confidence]
    # the model reads 行长 as xíng, the word data says háng: the user is asked to look
    assert [(r.index, r.tone3) for r in flagged] == [(2, "hang2")]


def test_phrases_do_not_match_across_word_boundaries() -> None:
    readings = phrase_readings("文本分类")
    assert 2 not in readings  # 本分 (fèn) and 分类 (fēn) disagree: no phrase reading
    assert phrase_readings("分类")[0] == "fen1"


def test_corrections_file_is_well_formed() -> None:
    fixed = corrections()
    assert len(fixed) >= 15
    for line in CORRECTIONS_PATH.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            word, syllables, source = line.split("\t")
            assert source.strip(), word
            for char, syllable in zip(word, syllables.split(), strict=True):
                assert syllable in char_readings(char) or syllable.endswith("5"), (word, syllable)


def test_model_scores_only_the_readings_of_the_character() -> None:
    model = context_model.get_model()
    assert model.load_seconds > 0 and context_model.model_load_seconds() == model.load_seconds
    predictions = model.predict("他把借来的钱都还清了。")
    assert set(predictions) >= {6, 7}  # 都, 还
    for index, prediction in predictions.items():
        assert set(prediction.readings) == set(model.readings_of("他把借来的钱都还清了。"[index]))
        assert prediction.probs == tuple(sorted(prediction.probs, reverse=True))


def test_studio_beats_pypinyin_and_the_bare_model_on_a_cpp_sample() -> None:
    sample = load_cpp(DATA, "cpp_dev_sample")
    assert len(sample) == 198
    model = context_model.get_model()
    studio = bare = 0
    for sentence in sample:
        (index, _, gold) = sentence.labels[0]
        studio += reading(sentence.text, index) == gold
        bare += model.predict(sentence.text, [index])[index].readings[0] == gold
    assert studio >= bare
    assert studio / len(sample) >= 0.95


def test_the_model_is_not_loaded_at_ui_start() -> None:
    code = (
        "import sys; from studio.ui.app import build_app; build_app(); "
        "from studio.text import model; print(model.loaded(), 'g2pM' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.stdout.split()[-2:] == ["False", "False"], out.stderr


def test_cli_pinyin_json_has_confidence_and_load_time() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "studio", "pinyin", "文本分类，他落子很快", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(out.stdout)
    assert report["model_load_seconds"] > 0
    fen = next(r for r in report["readings"] if r["char"] == "分")
    assert (fen["tone3"], fen["is_polyphone"], fen["candidates"][0]) == ("fen1", True, "fen1")
    assert 0.5 < fen["confidence"] <= 1.0 and len(fen["scores"]) == len(fen["candidates"])
