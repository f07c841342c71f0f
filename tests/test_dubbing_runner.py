"""Generating a dub project on the tiny random checkpoints: voices per line, resume, hashes, locks, cancel."""

import numpy as np
import pytest

from studio.audio import MODEL_SR
from studio.dubbing.project import Line, Project
from studio.dubbing.runner import load_takes, project_lock, run_project, set_locked
from studio.engine import Engine
from studio.errors import BusyError, Cancelled
from studio.models import ModelManager
from studio.progress import CancelToken, progress_text
from studio.settings import Settings
from studio.voices import VoiceLibrary
from tests.helpers import voiced_clip

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine():
    return Engine(ModelManager(Settings(dtype="float32")))


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    lib = VoiceLibrary(tmp_path_factory.mktemp("dub-voices") / "voices")
    lib.create("小明", (MODEL_SR, voiced_clip(4.0)), transcript="这是小明的参考录音。", consent=True)
    return lib


@pytest.fixture
def calls(engine, monkeypatch):
    """The engine's call log: (method, text, voice argument, model) per generation."""
    log = []
    for method in ("clone", "custom", "design"):
        original = getattr(engine, method)

        def spy(text, voice, *args, _method=method, _original=original, **kwargs):
            log.append((_method, text, str(voice), kwargs.get("model")))
            return _original(text, voice, *args, **kwargs)

        monkeypatch.setattr(engine, method, spy)
    return log


def quick(project: Project, tiny_base, tiny_custom, tiny_design) -> Project:
    """Cheap settings: the tiny checkpoints, 8 model steps (0.64 s) per line, no loudness pass."""
    s = project.settings
    s.model_base, s.model_custom, s.model_design = str(tiny_base), str(tiny_custom), str(tiny_design)
    s.max_new_tokens, s.loudness, s.seed = 8, None, 5
    return project


def test_three_speakers_each_get_their_voice_and_bad_lines_are_named(
    tmp_path, engine, library, calls, tiny_base, tiny_custom, tiny_design
):
    lines = [
        Line(scene="s1", speaker="A", text="我是小明。"),
        Line(scene="s2", speaker="B", text="I am Vivian."),
        Line(scene="s3", speaker="C", text="我是设计出来的声音。"),
        Line(scene="s4", speaker="A", text="又是小明。"),
        Line(scene="s5", speaker="D", text="没人认识我。"),
        Line(scene="s6", speaker="A", text="   "),
    ]
    voices = {"A": "小明", "B": "preset:vivian", "C": "design:低沉的中年男声"}
    project = quick(Project(lines=lines, voices=voices), tiny_base, tiny_custom, tiny_design)
    project.save(tmp_path / "p")
    report = run_project(project, engine, library)

    by_text = {text: (method, voice, model) for method, text, voice, model in calls}
    reference = str(library.clip_path("小明"))
    assert by_text["我是小明。"] == ("clone", reference, str(tiny_base))
    assert by_text["又是小明。"] == ("clone", reference, str(tiny_base))
    assert by_text["I am Vivian."] == ("custom", "Vivian", str(tiny_custom))
    assert by_text["我是设计出来的声音。"] == ("design", "低沉的中年男声", str(tiny_design))
    methods = [c[0] for c in calls]
    assert len(calls) == 4 and methods == sorted(methods, key=methods.index)  # grouped: each model loads once

    assert [r.status for r in report.results] == ["generated"] * 4 + ["failed", "failed"]
    unknown, empty = report.failed
    assert unknown.message("en").startswith("line 5 (s5): unknown speaker 'D'") and "第 5 行" in unknown.message("zh")
    assert empty.message("en").startswith("line 6 (s6) is empty")
    takes = load_takes(Project.load(tmp_path / "p"))
    assert set(takes) == {line.id for line in lines[:4]} and all(len(a) > 0 for a in takes.values())

    calls.clear()
    again = run_project(Project.load(tmp_path / "p"), engine, library)
    assert calls == [] and again.count("reused") == 4  # nothing changed: nothing regenerated


def test_a_crash_loses_nothing_and_the_next_run_makes_only_what_is_missing(
    tmp_path, engine, library, calls, tiny_base, tiny_custom, tiny_design, monkeypatch
):
    # Designed voices: the last test left the VoiceDesign model loaded, so nothing loads again.
    lines = [Line(scene=f"s{i}", speaker="N", text=f"第{n}句台词。") for i, n in enumerate("一二三", 1)]
    project = quick(Project(lines=lines, voices={"N": "design:温和的旁白"}), tiny_base, tiny_custom, tiny_design)
    project.save(tmp_path / "p")

    real_design = engine.design

    def crash_on_third(text, *args, **kwargs):
        if text == "第三句台词。":
            raise RuntimeError("power cut")
        return real_design(text, *args, **kwargs)

    monkeypatch.setattr(engine, "design", crash_on_third)
    with pytest.raises(RuntimeError, match="power cut"):
        run_project(project, engine, library)
    monkeypatch.setattr(engine, "design", real_design)
    calls.clear()

    reopened = Project.load(tmp_path / "p")
    assert [len(line.takes) for line in reopened.lines] == [1, 1, 0]
    report = run_project(reopened, engine, library)
    assert [c[1] for c in calls] == ["第三句台词。"]
    assert [r.status for r in report.results] == ["reused", "reused", "generated"]

    # An edited line, and only it, is made again; a locked line never is.
    calls.clear()
    reopened.lines[1].text = "第二句改过了。"
    reopened.lines[2].text = "锁定的这句也改了。"
    set_locked(reopened, reopened.lines[2].id, True)
    report = run_project(reopened, engine, library)
    assert [c[1] for c in calls] == ["第二句改过了。"]
    assert [r.status for r in report.results] == ["reused", "generated", "locked"]
    assert len(reopened.lines[1].takes) == 2 and reopened.lines[1].chosen == 1

    # Regenerating one line adds a take and keeps the old one to pick from.
    calls.clear()
    run_project(reopened, engine, library, only=[reopened.lines[0].id], force=True)
    assert len(calls) == 1 and len(reopened.lines[0].takes) == 2
    latest = load_takes(reopened)[reopened.lines[0].id]
    reopened.lines[0].chosen = 0
    older = load_takes(reopened)[reopened.lines[0].id]
    assert not np.array_equal(latest, older)  # seed + take number: a different take


def test_progress_is_per_line_and_overall_and_cancel_stops(
    tmp_path, engine, library, tiny_base, tiny_custom, tiny_design
):
    lines = [Line(scene="a", speaker="N", text="进度。"), Line(scene="b", speaker="N", text="取消。")]
    project = quick(Project(lines=lines, voices={"N": "design:温和的旁白"}), tiny_base, tiny_custom, tiny_design)
    project.save(tmp_path / "p")
    token = CancelToken()
    seen = []

    def progress(fraction, message):
        seen.append((fraction, message))
        if fraction is not None and fraction >= 0.5:
            token.cancel()

    with pytest.raises(Cancelled):
        run_project(project, engine, library, progress=progress, cancel=token)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and 0 < max(fractions) <= 0.75
    words = [progress_text(m, "en") for _, m in seen]
    assert "line 1/2" in words and all("line 1/2" in w for w in words)  # cancelled inside line 1
    assert any(progress_text(m, "zh").startswith("第 1/2 句") for _, m in seen)
    assert [len(line.takes) for line in Project.load(tmp_path / "p").lines] == [1, 0]


def test_a_second_run_on_the_same_project_is_refused(tmp_path, engine, library):
    project = Project(lines=[Line(scene="a", speaker="Vivian", text="锁。")])
    project.save(tmp_path / "p")
    with project_lock(project), pytest.raises(BusyError) as info:
        run_project(Project.load(tmp_path / "p"), engine, library)
    assert "another window" in info.value.en and info.value.zh
