"""Takes checked by ear in the dubbing run: retakes, best-of-N, what the job, CLI and HTTP status show, settings.

The generator is the tiny random CustomVoice checkpoint; the checker is a scripted fake (what it "hears" is
set by the test), except in the last tests, which run the tiny random Whisper through the real loading code.
"""

from pathlib import Path

import numpy as np
import pytest

from studio.dubbing import listening
from studio.dubbing.job import DubJob, LineState
from studio.dubbing.project import Line, Project
from studio.dubbing.runner import run_project
from studio.engine import Delivery, Engine
from studio.errors import NotFoundError
from studio.models import ModelManager
from studio.settings import Settings
from studio.takecheck import FLAG_KINDS, Flag, TakeCheck, checker

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine():
    return Engine(ModelManager(Settings(dtype="float32")))


def scripted(*results: TakeCheck):
    """A checker answering ``results`` in turn (the last one again when they run out); logs its calls."""
    calls = []

    def check(samples, sr, text):
        calls.append((len(samples), sr, text))
        return results[min(len(calls), len(results)) - 1]

    check.calls = calls
    return check


GOOD = TakeCheck(1.0, 0.0, [], "我是薇薇安。")
DROPPED = TakeCheck(0.6, 0.25, [Flag("dropped", 2, "薇薇")], "我是安。")
WORSE = TakeCheck(0.2, 0.75, [Flag("unintelligible")], "")


def project(tmp_path: Path, tiny_custom, retakes: int = 2) -> Project:
    p = Project(name="p", lines=[Line(scene="s1", speaker="A", text="我是薇薇安。")], voices={"A": "preset:vivian"})
    s = p.settings
    s.model_custom, s.max_new_tokens, s.loudness, s.seed, s.retakes = str(tiny_custom), 8, None, 5, retakes
    p.save(tmp_path / "p")
    return p


def test_a_take_heard_wrong_is_made_again_until_one_is_right(tmp_path, engine, tiny_custom):
    p = project(tmp_path, tiny_custom)
    check = scripted(DROPPED, GOOD)
    report = run_project(p, engine, checker=check)
    line = p.lines[0]
    assert len(check.calls) == 2 and len(line.takes) == 2 and line.chosen == 1
    assert check.calls[0][2] == "我是薇薇安。" and check.calls[0][1] == 24_000
    assert check.calls[1][0] == round(line.takes[1].seconds * 24_000)
    assert report.results[0].status == "generated" and report.results[0].check["ok"] is True
    reopened = Project.load(p.folder)
    assert reopened.lines[0].takes[0].check["flags"][0][0] == "dropped"
    assert reopened.lines[0].chosen == 1


def test_a_line_whose_best_take_is_still_wrong_is_marked_with_what_was_heard(tmp_path, engine, tiny_custom, capsys):
    p = project(tmp_path, tiny_custom, retakes=1)
    check = scripted(DROPPED, WORSE)
    report = run_project(p, engine, checker=check)
    line = p.lines[0]
    assert len(line.takes) == 2 and line.chosen == 0  # the better of the two by score, not the last
    result = report.results[0]
    assert result.check["ok"] is False and result.check["heard"] == "我是安。"
    assert listening.heard_cell(line.take.check).startswith("⚠ 25%") and "我是安。" in listening.heard_cell(
        line.take.check
    )

    from studio.dubbing.cli import print_checks

    print_checks(p, report, "en")
    out = capsys.readouterr().out
    assert "still wrong: 1" in out and "line 1" in out and "dropped '薇薇'" in out and "我是安。" in out
    print_checks(p, report, "zh")
    assert "漏读“薇薇”" in capsys.readouterr().out

    job = DubJob("j1", "p", p.folder, lines=[LineState(1, line.id, "s1", "", line.text)])
    job.on_line(result)
    data = job.to_dict("en")
    assert data["heard_wrong"] == [1]
    assert data["lines"][0]["check"]["flags"] == ["dropped"] and data["lines"][0]["check"]["heard"] == "我是安。"
    assert job.to_dict("zh")["lines"][0]["check"]["problems"] == ["漏读“薇薇”"]
    from studio.api.dubbing.jobs import job_json
    from studio.api.dubbing.routes import JobStatus

    shown = JobStatus.model_validate(job_json(job, "en")).model_dump()
    assert shown["heard_wrong"] == [1] and shown["lines"][0]["check"]["cer"] == 0.25


def test_without_a_checker_nothing_is_heard_and_a_reused_take_is_checked_once_later(tmp_path, engine, tiny_custom):
    p = project(tmp_path, tiny_custom)
    report = run_project(p, engine, checker=None)
    assert len(p.lines[0].takes) == 1 and p.lines[0].take.check is None and report.results[0].check is None
    check = scripted(GOOD)
    report = run_project(p, engine, checker=check)
    assert report.results[0].status == "reused" and len(check.calls) == 1
    assert Project.load(p.folder).lines[0].take.check["ok"] is True
    run_project(p, engine, checker=check)
    assert len(check.calls) == 1  # already heard


def test_best_of_n_in_the_engine_ranks_by_the_check_before_the_length(engine, tiny_custom):
    from studio.synthesis import Sampling

    check = scripted(WORSE, GOOD, DROPPED)
    result = engine.custom(
        "我是薇薇安。",
        "Vivian",
        model=str(tiny_custom),
        seed=3,
        sampling=Sampling(max_new_tokens=8),
        delivery=Delivery(duration=1.0, takes=3, loudness=None, checker=check),
    )
    assert len(check.calls) == 3 and result.check is GOOD


def test_settings_for_checking_round_trip_and_bad_values_fall_back(tmp_path):
    p = Project(name="s", lines=[Line(text="你好。")])
    p.settings.check_takes, p.settings.retakes, p.settings.word_captions = True, 4, False
    p.save(tmp_path / "s")
    again = Project.load(tmp_path / "s").settings
    assert (again.check_takes, again.retakes, again.word_captions) == (True, 4, False)
    raw = (tmp_path / "s" / "project.json").read_text(encoding="utf-8")
    bad = raw.replace('"check_takes": true', '"check_takes": "yes"').replace('"retakes": 4', '"retakes": 99')
    (tmp_path / "s" / "project.json").write_text(bad, encoding="utf-8")
    again = Project.load(tmp_path / "s").settings
    assert again.check_takes is None and again.retakes == 2


def test_a_damaged_check_record_is_refused_naming_the_line(tmp_path):
    from studio.dubbing.project import Take
    from studio.errors import InputError

    p = Project(name="d", lines=[Line(text="你好。")])
    p.lines[0].takes, p.lines[0].chosen = [Take("takes/x/a-1.wav", "h", 1.0, 0, "m", check={"score": "?"})], 0
    p.save(tmp_path / "d")
    with pytest.raises(InputError) as info:
        Project.load(tmp_path / "d")
    assert "line 1" in info.value.en


def test_checking_is_off_unless_asked_or_a_gpu_is_there(monkeypatch, tmp_path):
    p = Project(name="a", lines=[Line(text="你好。")])
    monkeypatch.setattr(listening, "recogniser_folder", lambda: tmp_path)
    monkeypatch.setattr(listening, "_gpu", lambda: False)
    assert listening.take_checker(p) is None and listening.word_transcriber(p) is None
    p.settings.check_takes = True
    assert callable(listening.take_checker(p)) and callable(listening.word_transcriber(p))
    p.settings.word_captions = False
    assert listening.word_transcriber(p) is None
    p.settings.check_takes = None
    monkeypatch.setattr(listening, "_gpu", lambda: True)
    assert callable(listening.take_checker(p))
    monkeypatch.setattr(listening, "recogniser_folder", lambda: None)
    assert listening.take_checker(p) is None
    p.settings.check_takes = False
    assert listening.take_checker(p) is None
    p.settings.check_takes = True
    with pytest.raises(NotFoundError) as info:
        listening.take_checker(p)
    assert "recogniser" in info.value.en and "语音识别" in info.value.zh


# -- the tiny random Whisper, through the real loading code -----------------------------------------


def test_the_real_checker_hears_a_take_and_returns_a_well_formed_result(tiny_asr):
    noise = (np.random.default_rng(0).standard_normal(36_000) * 0.1).astype("float32")
    result = checker(tiny_asr, "zh")(noise, 24_000, "我们今天去北京。")
    assert 0.0 <= result.score <= 1.0 and result.cer >= 0.0 and result.seconds == 1.5
    assert {f.kind for f in result.flags} <= set(FLAG_KINDS)
    assert TakeCheck.from_dict(result.to_dict()) == result


def test_a_dubbing_run_with_the_real_checker_stores_the_check_with_the_take(tmp_path, engine, tiny_custom, tiny_asr):
    p = project(tmp_path, tiny_custom, retakes=1)
    report = run_project(p, engine, checker=checker(tiny_asr, "zh"))
    line = Project.load(p.folder).lines[0]
    assert 1 <= len(line.takes) <= 2 and all(t.check is not None for t in line.takes)
    assert report.results[0].check == line.take.check


def test_http_settings_switch_checking_and_an_explicit_null_means_automatic():
    from pydantic import ValidationError

    from studio.api.dubbing.projects import _apply_settings
    from studio.api.dubbing.routes import DubSettingsBody

    p = Project(name="h", lines=[Line(text="你好。")])
    _apply_settings(None, p, DubSettingsBody(check_takes=True, retakes=3, word_captions=False))
    assert (p.settings.check_takes, p.settings.retakes, p.settings.word_captions) == (True, 3, False)
    _apply_settings(None, p, DubSettingsBody.model_validate({"check_takes": None, "gap_s": 1.0}))
    assert p.settings.check_takes is None and p.settings.retakes == 3 and p.settings.word_captions is False
    with pytest.raises(ValidationError):
        DubSettingsBody(retakes=9)
