"""Dubbing jobs belong to the project: one registry shared by the adapters, a lock and marker across processes,
building refused before any audio, and impossible target lengths refused before generating."""

import os
import subprocess
import sys
import threading
import time

import httpx
import pytest

from studio.api import serve_in_thread
from studio.dubbing.jobs import FINAL, registry
from studio.dubbing.lock import MARKER_FILE, interrupted, project_lock
from studio.dubbing.outputs import build_outputs
from studio.dubbing.project import Line, Project
from studio.dubbing.runner import run_project, unreachable_target
from studio.engine import Delivery, Engine
from studio.errors import InputError
from studio.models import ModelManager
from studio.progress import progress_text
from studio.settings import Settings
from studio.timing import check_target_reachable, text_length_range
from tests.helpers import ROOT, free_port

TWO_SENTENCES = "你好，欢迎收看。今天我们来聊聊配音。"


def wait_for(condition, what: str, limit_s: float = 300.0):
    """Poll ``condition()`` until it is true; fails with ``what`` after the safety limit."""
    deadline = time.monotonic() + limit_s
    while not (value := condition()):
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.05)
    return value


def _lines_with_takes(folder) -> int:
    try:
        return sum(1 for line in Project.load(folder).lines if line.takes)
    except Exception:  # not written yet
        return 0


# -- no model needed -----------------------------------------------------------------------------


def test_building_before_any_line_is_generated_is_refused_and_writes_nothing(tmp_path):
    project = Project(name="p", lines=[Line(scene="s1", text="你好。"), Line(scene="s2", text="再见。")])
    project.save(tmp_path / "p")
    with pytest.raises(InputError) as info:
        build_outputs(project)
    assert "generate the lines first" in info.value.en and "请先生成台词" in info.value.zh
    assert not (tmp_path / "p" / "outputs").exists()


def test_a_target_no_reading_can_meet_is_refused_from_the_text_alone():
    low, high = text_length_range(TWO_SENTENCES)
    assert 0.5 < low < 1.5 and 10 < high < 120
    with pytest.raises(InputError) as info:
        check_target_reachable(TWO_SENTENCES, 0.5)
    assert f"{low:.2f}" in info.value.en and f"{low:.2f}" in info.value.zh
    with pytest.raises(InputError):
        check_target_reachable("你好", 60.0)
    check_target_reachable(TWO_SENTENCES, 4.0)
    check_target_reachable("Hi", 1.3)


def test_an_impossible_target_is_refused_before_any_model_loads(tiny_custom):
    engine = Engine(ModelManager(Settings(dtype="float32")))
    with pytest.raises(InputError, match=r"cannot be read in 0\.50 s"):
        engine.custom(TWO_SENTENCES, "Vivian", model=str(tiny_custom), delivery=Delivery(duration=0.5))
    assert engine.manager.loaded is None


def test_dubbing_lines_whose_slot_their_text_cannot_fit_are_flagged_before_generating():
    squeezed = unreachable_target(2, Line(scene="s3", text=TWO_SENTENCES, start=1.0, end=1.3))
    assert squeezed is not None and squeezed.status == "flagged"
    assert squeezed.message_en.startswith("line 3 (s3): 0.30 s is too short")
    assert "第 3 行" in squeezed.message_zh
    assert unreachable_target(0, Line(text=TWO_SENTENCES, start=0.0, end=4.0)) is None
    assert unreachable_target(0, Line(text="好", duration=90.0)).status == "flagged"
    assert unreachable_target(0, Line(text="好")) is None


def test_a_second_process_is_refused_naming_the_run_that_holds_the_project(tmp_path):
    project = Project(name="busy", lines=[Line(scene="s1", text="你好。"), Line(scene="s2", text="再见。")])
    project.save(tmp_path / "busy")
    with project_lock(project, "job1") as marker:
        marker.start([line.id for line in project.lines])
        marker.at(2, 2)
        out = subprocess.run(
            [sys.executable, "-m", "studio", "dub", str(tmp_path / "busy"), "--out", str(tmp_path / "out")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "STUDIO_HOME": str(tmp_path / "home"), "STUDIO_LANG": "en"},
        )
    assert out.returncode == 2, out.stderr
    assert "being generated in another window or command" in out.stderr
    assert "line 2/2" in out.stderr
    assert not (tmp_path / "busy" / MARKER_FILE).exists()  # the run ended: its marker is gone
    assert Project.load(tmp_path / "busy").lines[0].text == "你好。"  # nothing saved over the running project


# -- on the tiny checkpoints -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine():
    return Engine(ModelManager(Settings(dtype="float32")))


def preset_project(folder, texts, tiny_custom) -> Project:
    project = Project(
        name=folder.name, lines=[Line(scene=f"s{i + 1}", speaker="A", text=t) for i, t in enumerate(texts)]
    )
    project.voices = {"A": "preset:Vivian"}
    s = project.settings
    s.model_custom, s.max_new_tokens, s.loudness, s.seed, s.format = str(tiny_custom), 8, None, 5, "wav"
    project.save(folder)
    return project


@pytest.mark.slow
def test_a_job_started_in_one_adapter_is_seen_and_stopped_in_another(tmp_path, engine, tiny_custom, monkeypatch):
    root = tmp_path / "projects"
    texts = ["Line one.", "Line two.", "Line three.", "Line four."]
    project = preset_project(root / "shared", texts, tiny_custom)
    release, entered = threading.Event(), threading.Event()
    original = engine._generate

    def held(loaded, method, model_texts, *args, **kwargs):  # line 2 stays inside its model turn until released
        if model_texts == ["Line two."]:
            entered.set()
            assert release.wait(300), "the test never released the model"
        return original(loaded, method, model_texts, *args, **kwargs)

    monkeypatch.setattr(engine, "_generate", held)
    srv = serve_in_thread(engine, port=free_port(), projects_root=root)
    try:
        job = registry().submit(project, engine, owner="ui")  # what the Dubbing tab's "Generate all" does
        assert entered.wait(300)

        listed = httpx.get(f"{srv.url}/api/dubbing/jobs").json()
        assert [(j["id"], j["status"]) for j in listed] == [(job.id, "running")]
        seen = httpx.get(f"{srv.url}/api/dubbing/jobs/{job.id}").json()
        assert seen["current_line"]["number"] == 2 and seen["lines"][0]["status"] == "generated"
        assert httpx.post(f"{srv.url}/api/dubbing/jobs", json={"project": "shared"}).status_code == 409

        # a second generation waits for the model, and says for what
        messages: list[str] = []
        answer: dict = {}

        def speak():
            answer["result"] = engine.custom(
                "Hi.", "Vivian", model=str(tiny_custom), progress=lambda f, m: messages.append(m)
            )

        second = threading.Thread(target=speak)
        second.start()
        told = "waiting for the dubbing job of project 'shared' (line 2/4)"
        wait_for(lambda: any(told in progress_text(m, "en") for m in messages), "it")
        assert any(progress_text(m, "zh") == "排队等待项目 “shared” 的配音任务（第 2/4 行）完成" for m in messages)

        assert httpx.delete(f"{srv.url}/api/dubbing/jobs/{job.id}").status_code == 202
        release.set()
        wait_for(lambda: job.status in FINAL, "the cancellation")
        assert job.status == "cancelled"
        assert [line.status for line in job.lines] == ["generated", "cancelled", "pending", "pending"]
        second.join(300)
        assert answer["result"].seconds > 0
        assert not (root / "shared" / MARKER_FILE).exists()  # cancelled, not crashed: nothing to resume
    finally:
        release.set()
        srv.stop()


@pytest.mark.slow
def test_a_run_killed_mid_way_is_resumed_with_only_its_remaining_lines(tmp_path, tiny_design, monkeypatch):
    from tests.fault_helpers import kill_when, start

    script, out = tmp_path / "s.txt", tmp_path / "out"
    script.write_text("".join(f"[A] 第{i}句话。\n\n" for i in range(1, 7)), encoding="utf-8")
    args = ["-m", "studio", "dub", str(script), "--out", str(out), "--voice", "design:温柔的声音"]
    args += ["--design-model", str(tiny_design), "--max-new-tokens", "6", "--format", "wav", "--seed", "1"]
    proc = start([*args, "--dtype", "float32"], tmp_path / "home")
    folder = out / "project"
    kill_when(proc, lambda _: _lines_with_takes(folder) >= 2)

    left = interrupted(folder)
    assert left is not None, "a killed run leaves its marker, and its lock is free"
    project = Project.load(folder)
    missing = [line.id for line in project.lines if not line.takes]
    assert 0 < len(missing) < 6
    assert set(missing) <= set(left["pending"]) and len(left["pending"]) <= len(missing) + 1

    engine = Engine(ModelManager(Settings(dtype="float32")))
    srv = serve_in_thread(engine, port=free_port(), projects_root=out)
    try:  # over HTTP, the project says a crashed run left lines to make
        detail = httpx.get(f"{srv.url}/api/dubbing/projects/project").json()
    finally:
        srv.stop()
    assert detail["interrupted_lines"] == len(left["pending"]) and detail["generating_process"] is None
    made: list[str] = []
    original = engine.design
    monkeypatch.setattr(engine, "design", lambda text, *a, **k: made.append(text) or original(text, *a, **k))
    job = registry().resume(folder, engine)
    assert job is not None and [s.id for s in job.lines] == left["pending"]
    wait_for(lambda: job.status in FINAL, "the resumed job")
    assert job.status == "done", job.error
    assert len(made) == len(missing)  # finished lines were not made again
    assert all(line.takes for line in Project.load(folder).lines)
    assert interrupted(folder) is None and not (folder / MARKER_FILE).exists()
    assert registry().resume(folder, engine) is None


@pytest.mark.slow
def test_flagged_lines_are_still_generated_and_reported(tmp_path, engine, tiny_custom):
    project = preset_project(tmp_path / "flag", ["Hello.", TWO_SENTENCES], tiny_custom)
    project.lines[1].duration = 0.3
    project.save()
    report = run_project(project, engine)
    assert [r.index for r in report.flagged] == [1]
    assert [r.status for r in report.results] == ["generated", "generated"]
