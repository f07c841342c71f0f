"""Written pauses: one parser for three spellings, exact silence in the output, kept out of the stretch."""

import numpy as np
import pytest

from studio.audio import MODEL_SR
from studio.engine import Delivery, Engine
from studio.errors import TextError
from studio.models import ModelManager
from studio.settings import Settings
from studio.silence import around_silences, exact_silences, held_seconds
from studio.text import prepare_text, split_text
from studio.text.pauses import MAX_PAUSE_S, MAX_PAUSES, find_pauses, split_pauses, strip_pauses
from tests.helpers import voiced_clip

REF = (MODEL_SR, voiced_clip(3.0))


@pytest.mark.parametrize(
    ("tag", "seconds"),
    [
        ("[停顿 0.5]", 0.5),
        ("[停顿0.5秒]", 0.5),
        ("【停顿 800毫秒】", 0.8),
        ("[pause 0.5s]", 0.5),
        ("[Pause: 2]", 2.0),
        ("[pause 250ms]", 0.25),
        ('<break time="500ms"/>', 0.5),
        ("<break time='1.5s' />", 1.5),
    ],
)
def test_every_spelling_gives_its_seconds(tag, seconds):
    pauses = find_pauses(f"前面{tag}后面")
    assert [p.seconds for p in pauses] == [seconds]
    assert split_pauses(f"前面{tag}后面") == [("前面", seconds), ("后面", 0.0)]
    assert strip_pauses(f"前面{tag}后面") == "前面后面"


@pytest.mark.parametrize("tag", ["[pause 0]", f"[pause {MAX_PAUSE_S + 1:g}]", '<break time="20000ms"/>'])
def test_zero_or_too_long_pause_is_refused(tag):
    with pytest.raises(TextError) as err:
        find_pauses(f"你好{tag}")
    assert str(MAX_PAUSE_S).rstrip("0").rstrip(".") in err.value.en


def test_too_many_pauses_are_refused():
    with pytest.raises(TextError):
        find_pauses("啊[pause 0.1]" * (MAX_PAUSES + 1))


def test_prepared_text_keeps_pauses_untouched_by_normalisation_and_readings():
    prepared = prepare_text("银行[停顿 0.5]行走2024年")
    # The tag's number is not read out ("零点五"), and the year is.
    assert prepared.model_text == "银行[pause 0.5s]行走二零二四年"
    assert prepared.display_text == prepared.model_text
    chars = {r.index: r.char for r in prepared.readings}
    assert all(prepared.display_text[i] == c for i, c in chars.items())
    # Preparing the prepared text again changes nothing (the dubbing runner prepares twice).
    assert prepare_text(prepared.model_text).model_text == prepared.model_text


def test_a_text_of_only_pauses_is_refused():
    with pytest.raises(TextError):
        prepare_text("[pause 1] [停顿 2]")


def test_segments_never_cut_inside_a_tag():
    text = "一二三四五六七八九十" * 3 + '<break time="500ms"/>' + "十九八七六五四三二一" * 3
    for seg in split_text(text, max_chars=35, min_chars=1):
        assert seg.text.count("<") == seg.text.count(">")


def test_silences_survive_stretching_and_processing():
    sr = 1000
    speech = np.full(400, 0.5, dtype=np.float32)
    samples = np.concatenate([speech, np.zeros(300, np.float32), speech])
    assert exact_silences(samples, sr) == [(400, 700)]
    assert held_seconds(samples, sr) == pytest.approx(0.3)
    doubled = around_silences(samples, sr, lambda x: np.repeat(x, 2) * 0.5)
    assert len(doubled) == 1600 + 300
    assert exact_silences(doubled, sr) == [(800, 1100)]
    assert np.all(doubled[:800] == 0.25)


@pytest.fixture(scope="module")
def engine():
    return Engine(ModelManager(Settings(dtype="float32")))


@pytest.mark.slow
def test_engine_pauses_are_exact_silence_and_never_reach_the_model(engine, tiny_base):
    seen = []
    original = engine._generate_once

    def spy(loaded, method, texts, *args, **kwargs):
        seen.extend(texts)
        return original(loaded, method, texts, *args, **kwargs)

    engine._generate_once = spy
    try:
        result = engine.clone("你好。[停顿 0.7]世界。", REF, transcript="参考。", model=str(tiny_base), seed=1)
    finally:
        del engine._generate_once
    assert seen == ["你好。", "世界。"]
    assert result.pause_s == pytest.approx(0.7)
    gaps = exact_silences(result.samples, result.sr)
    assert [b - a for a, b in gaps] == [round(0.7 * result.sr)]


@pytest.mark.slow
def test_a_timed_line_keeps_its_slot_and_the_pause_keeps_its_length(engine, tiny_base):
    text = "你好[pause 1.2s]世界[pause 0.5s]"
    result = engine.clone(text, REF, transcript="参考。", model=str(tiny_base), seed=2, delivery=Delivery(duration=8.0))
    assert len(result.samples) == round(8.0 * result.sr)
    lengths = [b - a for a, b in exact_silences(result.samples, result.sr)]
    # The first pause exactly; the trailing one at least its length (the fit may pad the speech's end with silence).
    assert lengths[0] == round(1.2 * result.sr)
    assert lengths[-1] >= round(0.5 * result.sr)
    assert result.fit is not None and result.fit.target_s == pytest.approx(8.0 - 1.7, abs=1e-3)


# -- scripts, dubbing timeline, captions, the Dubbing tab's table ---------------------------------


def test_pause_after_is_a_script_field_in_every_format():
    from studio.dubbing.scripts import parse_script, script_text

    csv = "scene,speaker,text,pause_after\n1,A,第一句。,0.8\n2,A,第二句。,\n"
    project = parse_script(csv, "csv")
    assert [line.pause_after for line in project.lines] == [0.8, 0.0]
    yaml_text = script_text(project, "yaml")
    assert "pause_after: 0.8" in yaml_text
    assert [line.pause_after for line in parse_script(yaml_text, "yaml").lines] == [0.8, 0.0]
    chinese = parse_script("场景,文本,停顿\n1,你好。,1.5\n", "csv")
    assert chinese.lines[0].pause_after == 1.5


@pytest.mark.parametrize("value", ["-1", "11", "soon"])
def test_a_bad_pause_after_is_refused_naming_the_line(value):
    from studio.dubbing.scripts import parse_script
    from studio.errors import InputError

    with pytest.raises(InputError) as err:
        parse_script(f"text,pause_after\n你好。,{value}\n", "csv")
    assert "pause after" in err.value.en.lower() and "line 1" in err.value.en.lower()


def test_the_runner_speaks_the_words_then_the_pause():
    from studio.dubbing.project import Line
    from studio.dubbing.voicing import spoken_text

    assert spoken_text(Line(text="你好。", pause_after=0.75)) == "你好。[pause 0.75s]"
    assert spoken_text(Line(text="你好。")) == "你好。"
    assert find_pauses(spoken_text(Line(text="你好。", pause_after=0.75)))[0].seconds == 0.75


def test_a_timed_line_keeps_its_slot_its_pause_and_its_caption_ends_at_the_words():
    from studio.dubbing import captions
    from studio.dubbing.scripts import parse_script
    from studio.dubbing.timeline import assemble

    sr = 24_000
    project = parse_script("1\n00:00:01,000 --> 00:00:05,000\n你好[pause 1s]世界。\n", "srt")
    words = voiced_clip(1.2, sr)[int(0.2 * sr) : -int(0.2 * sr)]
    take = np.concatenate([words, np.zeros(sr, np.float32), words, np.zeros(sr // 2, np.float32)])
    track = assemble(project, {project.lines[0].id: take}, sr)
    clip = track.clips[project.lines[0].id]
    assert len(clip) == 4 * sr  # the slot, to the sample
    lengths = [b - a for a, b in exact_silences(clip, sr)]
    assert lengths[0] == sr and lengths[-1] >= sr // 2  # both pauses at least as written, the first exactly
    placement = track.placements[0]
    # The stretch compares speech with the slot less the pauses: 1.6 s of words for 2.5 s.
    assert placement.stretch == pytest.approx((4.0 - 1.5) / (len(take) / sr - 1.5), rel=1e-6)
    cue = captions.line_cues(project, track)[0]
    assert cue.text == "你好世界。"
    assert cue.end_s <= 5.0 - 0.5 + 0.05  # the caption ends with the words, not with the trailing pause


def test_the_dubbing_table_carries_pause_after():
    from studio.dubbing.project import Project
    from studio.ui.dubbing_tab import _HEADERS, _rows, apply_table

    row = dict.fromkeys(_HEADERS, "")
    row.update({"#": 1, "id": "", "text": "你好。", "pause_after": 1.25, "locked": False, "intensity": 0.5})
    project = apply_table(Project(), [[row[h] for h in _HEADERS]], [])
    assert project.lines[0].pause_after == 1.25
    assert _rows(project)[0][_HEADERS.index("pause_after")] == 1.25


def test_the_readings_panel_shows_each_pause_in_the_ui_language():
    from studio.ui.text_views import model_text_markdown, reading_highlights

    engine = Engine()
    text = "银行[停顿 0.5]好"
    labels = [label for _, label in reading_highlights(engine, text, "en")]
    tag = text.index("[")
    assert labels[tag] == "⏸ pause 0.5 s"
    assert all(label is None for label in labels[tag + 1 : text.index("]") + 1])  # no reading for 停顿 in the tag
    zh = model_text_markdown(engine, "你好[pause 2s]再见", True, "zh")
    assert "停顿 2 秒" in zh and "[pause" not in zh
