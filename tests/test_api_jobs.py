"""The native API's text tools, exact lengths and dubbing jobs, over real HTTP.

One server runs in a background thread over the tiny checkpoints, with its
own voice library and projects folder. Dubbing projects use 8 model steps per
line and no loudness pass, so a line takes a fraction of a second; the cancel
test holds the model inside a line's generation (an event in the engine) and
follows the job through its status, never through sleeps or timing.
"""

from __future__ import annotations

import csv
import io
import os
import threading
import time
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from studio.api import serve_in_thread
from studio.audio import MODEL_SR
from studio.engine import Engine
from studio.models import ModelManager
from studio.settings import Settings
from tests.dubbing_http import QUICK, SRT, finished, poll, wav
from tests.helpers import free_port, voiced_clip

pytestmark = pytest.mark.slow

VOICE = "小明"
KEY = "sk-jobs-key"
TIMEOUT = httpx.Timeout(300.0, connect=10.0)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    from studio.voices import VoiceLibrary

    lib = VoiceLibrary(tmp_path_factory.mktemp("jobs-voices"))
    lib.create(VOICE, (MODEL_SR, voiced_clip(3.0)), transcript="参考文字。", language="Chinese", consent=True)
    lib.add_clip(VOICE, (MODEL_SR, voiced_clip(3.0, seed=1)), "happy", transcript="开心的参考。")
    return lib


@pytest.fixture(scope="module")
def engine():
    return Engine(ModelManager(Settings(dtype="float32")))


@pytest.fixture(scope="module")
def projects_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dubbing")


@pytest.fixture(scope="module")
def server(engine, library, projects_root, tiny_base, tiny_custom, tiny_design):
    srv = serve_in_thread(
        engine,
        port=free_port(),
        models={"base": str(tiny_base), "custom_voice": str(tiny_custom), "voice_design": str(tiny_design)},
        voices_root=library.root,
        projects_root=projects_root,
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def url(server) -> str:
    return server.url


def create(url: str, **body) -> httpx.Response:
    return httpx.post(f"{url}/api/dubbing/projects", json=body, timeout=60)


# -- readings, pins, normalisation -----------------------------------------------------------------


def test_readings_show_candidates_for_polyphones(url):
    text = "银行行长说行不行"
    r = httpx.post(f"{url}/api/readings", json={"text": text})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["text"] == text and body["model_text"] == text and body["warnings"] == []
    chars = {c["position"]: c for c in body["characters"]}
    assert [chars[i]["char"] for i in range(len(text))] == list(text)
    for i in (1, 2, 5, 7):  # every 行
        assert chars[i]["is_polyphone"] and {"háng", "xíng"} <= set(chars[i]["candidates"])
    assert chars[1]["pinyin"] == "háng" and chars[5]["pinyin"] == "xíng"  # 银行 vs 说行
    assert not chars[0]["is_polyphone"] and chars[0]["candidates"] == ["yín"]
    assert {1, 2, 5, 7} <= set(body["polyphones"]) and 0 not in body["polyphones"]
    # the context model's confidence, candidates ordered by it, and its load time
    assert body["model_load_seconds"] > 0
    assert 0.5 < chars[5]["confidence"] <= 1 and chars[5]["candidates"][0] == "xíng" and not chars[5]["low_confidence"]
    assert len(chars[5]["scores"]) == len(chars[5]["candidates"])


def test_pin_round_trip(url):
    text = "银行行长说行不行"
    r = httpx.post(f"{url}/api/readings/pin", json={"text": text, "position": 5, "reading": "hang2"})
    assert r.status_code == 200, r.text
    pinned = r.json()
    assert pinned["text"] == "银行行长说行(háng)不行"
    assert pinned["display_text"] == text  # what is spoken, in the user's characters
    assert pinned["model_text"][5] != "行" and pinned["model_text"][:5] == text[:5]  # an unambiguous homophone
    entry = next(c for c in pinned["characters"] if c["position"] == 5)
    assert (entry["pinyin"], entry["source"]) == ("háng", "pinned")
    again = httpx.post(f"{url}/api/readings", json={"text": pinned["text"]}).json()
    assert again["characters"] == pinned["characters"] and again["model_text"] == pinned["model_text"]
    # "index" is accepted for the position; an empty reading removes the pin
    r = httpx.post(f"{url}/api/readings/pin", json={"text": pinned["text"], "index": 5, "reading": None})
    assert r.status_code == 200, r.text
    assert r.json()["text"] == text and r.json()["model_text"] == text
    r = httpx.post(f"{url}/api/readings/pin", json={"text": pinned["text"], "position": 5, "reading": "xing2"})
    assert r.json()["text"] == "银行行长说行(xíng)不行"  # a pin is replaced, not stacked


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": "银行", "position": 9, "reading": "hang2"}, 400),  # outside the text
        ({"text": "AB行", "position": 0, "reading": "hang2"}, 400),  # not a Chinese character
        ({"text": "银行", "position": 1, "reading": "qqq7"}, 400),  # not pinyin
        ({"text": "", "position": 0, "reading": "hang2"}, 400),
        ({"text": "银行", "reading": "hang2"}, 400),  # no position
        ({"text": "银行", "position": 1, "reading": "hang2", "extra": 1}, 400),
    ],
)
def test_bad_pins_are_400(url, body, status):
    r = httpx.post(f"{url}/api/readings/pin", json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"] and r.json()["message"]


def test_normalize_and_readings_of_numbers(url):
    r = httpx.post(f"{url}/api/normalize", json={"text": "利率是 2%"})
    assert r.status_code == 200 and "百分之二" in r.json()["text"]
    body = httpx.post(f"{url}/api/readings", json={"text": "利率是 2%"}).json()
    assert "百分之二" in body["display_text"]
    assert (
        "2%" in httpx.post(f"{url}/api/readings", json={"text": "利率是 2%", "normalize": False}).json()["model_text"]
    )
    assert httpx.post(f"{url}/api/readings", json={"text": "  "}).status_code == 400


# -- the pronunciation dictionary ------------------------------------------------------------------


@pytest.fixture
def dictionary_file(tmp_path, monkeypatch) -> Path:
    """A copy of the shipped dictionary that the server's engine and routes use for one test."""
    import studio.text
    import studio.text.dictionary

    path = tmp_path / "pronunciation.tsv"
    path.write_text(Path(studio.text.dictionary.DEFAULT_PATH).read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(studio.text.dictionary, "DEFAULT_PATH", path)
    monkeypatch.setattr(studio.text, "DEFAULT_DICTIONARY_PATH", path)
    return path


def test_dictionary_add_change_remove_keeps_comments(url, dictionary_file):
    before = httpx.get(f"{url}/api/dictionary").json()
    assert {"word": "六安", "kind": "reading", "value": "lu4 an1", "scope": ""} in before["rules"]
    assert before["tsv"] == dictionary_file.read_text(encoding="utf-8")

    reading = httpx.post(f"{url}/api/readings", json={"text": "行长来了"}).json()
    assert reading["characters"][0]["pinyin"] == "háng" and reading["applied_rules"] == []
    r = httpx.post(f"{url}/api/dictionary/rules", json={"word": "行长", "kind": "reading", "value": "xing2 zhang3"})
    assert r.status_code == 200, r.text
    assert {"word": "行长", "kind": "reading", "value": "xing2 zhang3", "scope": ""} in r.json()["rules"]
    text = dictionary_file.read_text(encoding="utf-8")
    assert "# 容易读错的地名" in text and "行长\treading\txing2 zhang3" in text  # comments stay
    reading = httpx.post(f"{url}/api/readings", json={"text": "行长来了"}).json()
    assert (reading["characters"][0]["pinyin"], reading["characters"][0]["source"]) == ("xíng", "dictionary")
    assert reading["applied_rules"][0]["word"] == "行长"

    r = httpx.post(f"{url}/api/dictionary/rules", json={"word": "行长", "kind": "reading", "value": "hang2 zhang3"})
    assert dictionary_file.read_text(encoding="utf-8").count("行长\t") == 1  # changed in place
    assert len(r.json()["rules"]) == len(before["rules"]) + 1

    r = httpx.request("DELETE", f"{url}/api/dictionary/rules", params={"word": "行长"})
    assert r.status_code == 200 and r.json()["rules"] == before["rules"]
    assert httpx.request("DELETE", f"{url}/api/dictionary/rules", params={"word": "行长"}).status_code == 404

    bad = httpx.post(f"{url}/api/dictionary/rules", json={"word": "行长", "kind": "reading", "value": "hang2"})
    assert bad.status_code == 400 and "行长" in bad.json()["message"]  # two characters, one syllable
    bad = httpx.put(f"{url}/api/dictionary", json={"tsv": "甲\treading\n"})
    assert bad.status_code == 400 and "line 1" in bad.json()["message"]
    assert httpx.get(f"{url}/api/dictionary").json() == before  # nothing was written

    r = httpx.put(f"{url}/api/dictionary", json={"rules": [{"word": "MSE", "kind": "alias", "value": "M S E"}]})
    assert r.status_code == 200 and r.json()["rules"] == [
        {"word": "MSE", "kind": "alias", "value": "M S E", "scope": ""}
    ]
    r = httpx.put(f"{url}/api/dictionary", json={"tsv": before["tsv"]})
    assert r.status_code == 200 and r.json() == before
    assert httpx.put(f"{url}/api/dictionary", json={}).status_code == 400


# -- exact length, emotion -------------------------------------------------------------------------


def test_duration_lands_on_the_target_to_the_sample(url):
    body = {"text": "Hello there, my friend.", "speaker": "Vivian", "seed": 3, "duration": 2.0}
    r = httpx.post(f"{url}/api/custom", json=body, timeout=TIMEOUT)
    assert len(wav(r)) == 2 * MODEL_SR
    assert float(r.headers["x-target-seconds"]) == 2.0 and float(r.headers["x-final-seconds"]) == 2.0
    natural = float(r.headers["x-natural-seconds"])
    assert natural > 2.0 and float(r.headers["x-stretch"]) == pytest.approx(2.0 / natural, abs=0.05)
    assert r.headers["x-segments"] == "1" and r.headers["x-takes"] == "1"

    body = {"text": "Hi", "voice": VOICE, "duration": 1.3, "takes": 2, "seed": 1, "format": "wav"}
    r = httpx.post(f"{url}/api/clone", json=body, timeout=TIMEOUT)
    assert len(wav(r)) == round(1.3 * MODEL_SR) and r.headers["x-takes"] == "2"


def test_ratio_stretches_the_natural_length(url):
    body = {"text": "Hi", "description": "温柔的女声", "seed": 2, "ratio": 1.25, "emotion": "calm"}
    r = httpx.post(f"{url}/api/design", json=body, timeout=TIMEOUT)
    n = len(wav(r))
    natural, target = float(r.headers["x-natural-seconds"]), float(r.headers["x-target-seconds"])
    assert target == pytest.approx(natural * 1.25, abs=1e-3)
    assert abs(n - target * MODEL_SR) <= 2  # headers carry 4 decimals


def test_emotion_on_a_preset_speaker(url):
    body = {"text": "Hi", "speaker": "Vivian", "seed": 4, "emotion": "happy", "intensity": 0.9, "format": "wav"}
    r = httpx.post(f"{url}/api/custom", json=body, timeout=TIMEOUT)
    assert len(wav(r)) > 0 and "x-stretch" not in r.headers


def test_clone_with_an_emotion_clip_and_intensity(url, engine, monkeypatch):
    seen = []
    original = engine.speak

    def speak(request, *args, **kwargs):
        seen.append(request)
        return original(request, *args, **kwargs)

    monkeypatch.setattr(engine, "speak", speak)
    body = {"text": "Hi", "voice": VOICE, "emotion": "happy", "seed": 1, "format": "wav"}
    assert len(wav(httpx.post(f"{url}/api/clone", json=body, timeout=TIMEOUT))) > 0
    request = seen[-1]
    # the emotion clip with its own transcript, in context
    assert request.reference is not None and request.transcript == "开心的参考。" and not request.x_vector_only
    r = httpx.post(f"{url}/api/clone", json={**body, "intensity": 0.25}, timeout=TIMEOUT)
    assert len(wav(r)) > 0
    request = seen[-1]
    assert (request.voice, request.clip, request.intensity) == (VOICE, "happy", 0.25)  # blended by the engine


@pytest.mark.parametrize(
    ("path", "body", "status", "param"),
    [
        ("/api/custom", {"duration": 2.0, "ratio": 1.2}, 400, None),
        ("/api/custom", {"duration": 2.0, "speed": 1.5}, 400, "speed"),
        ("/api/custom", {"duration": 0.1}, 400, None),  # below the shortest target
        ("/api/custom", {"duration": 2.0, "takes": 9}, 400, "takes"),
        ("/api/custom", {"takes": 2}, 400, "takes"),  # takes without a duration
        ("/api/custom", {"ratio": 3.0}, 400, "ratio"),
        ("/api/custom", {"emotion": "grumpy"}, 404, "emotion"),
        ("/api/custom", {"intensity": 1.5, "emotion": "happy"}, 400, "intensity"),
        ("/api/clone", {"voice": VOICE, "intensity": 0.5}, 400, "intensity"),  # blending needs an emotion clip
        ("/api/clone", {"voice": VOICE, "emotion": "angry", "intensity": 0.5}, 404, None),  # no angry clip
        ("/api/clone", {"voice": VOICE, "emotion": "angry"}, 404, None),
        ("/api/clone", {"ref_audio_path": VOICE, "emotion": "happy"}, 400, "emotion"),
        ("/api/clone", {"voice": VOICE, "emotion": "happy", "clip_tag": "neutral"}, 400, "emotion"),
    ],
)
def test_bad_delivery_is_refused_before_generation(url, path, body, status, param):
    full = {"text": "Hi", **({"speaker": "Vivian"} if path == "/api/custom" else {}), **body}
    r = httpx.post(url + path, json=full, timeout=30)
    assert r.status_code == status, r.text
    assert r.json()["message"]
    if param is not None:
        assert r.json().get("param") == param, r.json()


# -- dubbing ---------------------------------------------------------------------------------------


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    def seconds(stamp: str) -> float:
        h, m, rest = stamp.strip().split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    cues = []
    for block in text.strip().split("\n\n"):
        number, times, *words = block.split("\n")
        start, end = times.split(" --> ")
        assert int(number) == len(cues) + 1
        cues.append((seconds(start), seconds(end), "\n".join(words)))
    return cues


def test_a_project_from_a_script_is_dubbed_over_http(url):
    r = create(url, name="demo", format="srt", script=SRT, voice="Vivian", settings=QUICK)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/api/dubbing/projects/demo"
    project = r.json()
    assert project["lines"] == 3 and project["mode"] == "timed" and project["warnings"] == []
    assert project["settings"]["max_new_tokens"] == 8 and project["settings"]["loudness"] is None
    assert [line["text"] for line in project["script_lines"]] == ["Good morning.", "我是小明。", "See you soon."]
    assert "demo" in [p["name"] for p in httpx.get(f"{url}/api/dubbing/projects").json()]

    r = httpx.post(f"{url}/api/dubbing/jobs", json={"project": "demo"})
    assert r.status_code == 202, r.text
    job_url = r.headers["location"]
    assert job_url == f"/api/dubbing/jobs/{r.json()['id']}" and r.json()["status"] in ("queued", "running")
    status = poll(url, job_url, finished, "the end of the job")
    assert status["status"] == "done", status
    assert status["progress"] == 1.0 and status["current_line"] is None and status["errors"] == []
    assert [line["status"] for line in status["lines"]] == ["generated"] * 3
    assert status["counts"] == {"generated": 3} and status["track"]["mode"] == "timed"

    files = {f["file"]: f for f in httpx.get(f"{url}{job_url}/outputs").json()}
    assert {"demo-track.wav", "demo-track.mp3", "demo.srt", "demo.vtt", "demo-dub.zip"} <= set(files)
    assert {f["file"] for f in httpx.get(f"{url}/api/dubbing/projects/demo/outputs").json()} == set(files)
    assert files["demo-track.wav"]["kind"] == "track" and files["demo.srt"]["kind"] == "captions"
    for name, media in (("demo-timeline.xml", "xml"), ("demo.fcpxml", "xml"), ("demo.otio", "json")):
        assert files[name]["kind"] == "timeline", name
        timeline = httpx.get(url + files[name]["url"])
        assert timeline.status_code == 200 and media in timeline.headers["content-type"]
        assert timeline.text.count("-audio.") >= 3  # every line's clip names its file

    track = httpx.get(url + files["demo-track.wav"]["url"])
    assert track.status_code == 200 and track.headers["content-type"] == "audio/wav"
    samples, sr = sf.read(io.BytesIO(track.content), dtype="float32")
    assert sr == MODEL_SR and len(samples) == round(3.1 * MODEL_SR)  # the track ends where the last slot ends
    assert status["track"]["seconds"] == pytest.approx(3.1, abs=1e-3)
    assert np.abs(samples[: MODEL_SR // 2]).max() < 1e-4 < np.abs(samples[MODEL_SR // 2 : round(1.1 * MODEL_SR)]).max()

    srt = httpx.get(f"{url}{job_url}/outputs/demo.srt")
    assert srt.status_code == 200
    cues = parse_srt(srt.text)
    assert [c[2] for c in cues] == ["Good morning.", "我是小明。", "See you soon."]
    for (start, end, _), (slot_start, slot_end) in zip(cues, [(0.5, 1.1), (1.5, 2.1), (2.5, 3.1)], strict=True):
        assert slot_start - 1e-3 <= start < end <= slot_end + 1e-3
    vtt = httpx.get(f"{url}/api/dubbing/projects/demo/outputs/demo.vtt").text
    assert vtt.startswith("WEBVTT") and vtt.count(" --> ") == 3
    archive = zipfile.ZipFile(io.BytesIO(httpx.get(url + files["demo-dub.zip"]["url"]).content))
    assert {"demo-track.wav", "demo.srt", "demo.vtt", "demo-timeline.xml", "demo.fcpxml"} <= set(archive.namelist())

    detail = httpx.get(f"{url}/api/dubbing/projects/demo").json()
    assert [line["takes"] for line in detail["script_lines"]] == [1, 1, 1] and detail["job"] is None
    again = poll(
        url, httpx.post(f"{url}/api/dubbing/jobs", json={"project": "demo", "lines": [2]}).headers["location"], finished
    )
    assert [(line["number"], line["status"]) for line in again["lines"]] == [(2, "reused")]


def test_upload_a_csv_script_with_speaker_mapping(url):
    rows = [["scene", "speaker", "text"], ["s1", "A", "Hello."], ["s2", "B", "你好。"], ["s3", "C", "Who am I?"]]
    data = io.StringIO()
    csv.writer(data).writerows(rows)
    files = {"file": ("clip script.csv", data.getvalue().encode("utf-8"))}
    form = {"speaker": ["A=Vivian", f"B=saved:{VOICE}"], "settings": '{"max_new_tokens": 8, "loudness": null}'}
    r = httpx.post(f"{url}/api/dubbing/projects/upload", files=files, data=form, timeout=60)
    assert r.status_code == 201, r.text
    project = r.json()
    assert project["name"] == "clip script" and project["mode"] == "scene"
    assert project["voices"] == {"A": "Vivian", "B": f"saved:{VOICE}"}
    assert len(project["warnings"]) == 1 and "line 3" in project["warnings"][0]  # C has no voice
    status = poll(
        url, httpx.post(f"{url}/api/dubbing/jobs", json={"project": "clip script"}).headers["location"], finished
    )
    assert status["status"] == "done"
    assert [line["status"] for line in status["lines"]] == ["generated", "generated", "failed"]
    assert len(status["errors"]) == 1 and "line 3" in status["errors"][0]["message"]
    zh = httpx.get(f"{url}{status['url']}", headers={"Accept-Language": "zh-CN"}).json()
    assert "第 3 行" in zh["errors"][0]["message"]
    assert "clip-script-track.wav" in [f["file"] for f in status["outputs"]]


@pytest.fixture
def held_engine(engine, monkeypatch):
    """Preset-speaker generations of texts in ``held`` wait inside the model call until ``release`` is set."""
    state = {"held": set(), "release": threading.Event(), "entered": threading.Event(), "calls": []}
    original = engine.custom

    def custom(text, *args, **kwargs):
        state["calls"].append(text)
        if text in state["held"]:
            state["entered"].set()
            assert state["release"].wait(300), "the test never released the model"
        return original(text, *args, **kwargs)

    monkeypatch.setattr(engine, "custom", custom)
    yield state
    state["release"].set()


def test_cancel_a_running_job_then_resume(url, held_engine):
    texts = ["Line one.", "Line two.", "Line three.", "Line four."]
    script = "scene,speaker,text\n" + "".join(f"s{i + 1},A,{t}\n" for i, t in enumerate(texts))
    r = create(url, name="long", format="csv", script=script, voices={"A": "Vivian"}, settings=QUICK)
    assert r.status_code == 201, r.text
    held_engine["held"].update(texts[1:])

    job_url = httpx.post(f"{url}/api/dubbing/jobs", json={"project": "long"}).headers["location"]
    status = poll(url, job_url, lambda s: s["lines"][0]["status"] == "generated", "the first line")
    assert held_engine["entered"].wait(300)  # line 2 is inside the model now, holding the queue
    status = httpx.get(url + job_url).json()
    assert status["status"] == "running" and status["current_line"]["number"] == 2
    assert 0 < status["progress"] < 1

    # one job per project at a time; the project cannot be replaced under it
    second = httpx.post(f"{url}/api/dubbing/jobs", json={"project": "long"})
    assert second.status_code == 409 and second.json()["error"] == "conflict"
    assert create(url, name="long", format="csv", script=script, replace=True).status_code == 409

    # a speech request waits for the job's line: the two never use the model together
    assert httpx.get(f"{url}/api/health").json()["queue"]["pending"] == 1
    reply: dict = {}
    speech = threading.Thread(
        target=lambda: reply.update(
            r=httpx.post(
                f"{url}/api/custom", json={"text": "Hi", "speaker": "Vivian", "format": "wav"}, timeout=TIMEOUT
            )
        )
    )
    speech.start()
    deadline = time.monotonic() + 120
    while httpx.get(f"{url}/api/health").json()["queue"]["pending"] < 2:
        assert time.monotonic() < deadline and speech.is_alive()
        time.sleep(0.05)
    assert "r" not in reply

    cancelled = httpx.delete(url + job_url)
    assert cancelled.status_code == 202 and cancelled.json()["id"] == status["id"]
    held_engine["release"].set()
    status = poll(url, job_url, finished, "the cancellation")
    assert status["status"] == "cancelled"
    assert [line["status"] for line in status["lines"]] == ["generated", "cancelled", "pending", "pending"]
    speech.join(300)
    assert reply["r"].status_code == 200, reply["r"].text
    assert httpx.delete(url + job_url).json()["status"] == "cancelled"  # cancelling again changes nothing

    detail = httpx.get(f"{url}/api/dubbing/projects/long").json()
    assert [line["takes"] for line in detail["script_lines"]] == [1, 0, 0, 0] and detail["job"] is None
    assert detail["outputs"] == []  # a cancelled job writes no outputs
    assert httpx.get(f"{url}{job_url}/outputs").json()["error"] == "conflict"

    before = len(held_engine["calls"])
    resumed_url = httpx.post(f"{url}/api/dubbing/jobs", json={"project": "long"}).headers["location"]
    resumed = poll(url, resumed_url, finished, "the second job")
    assert resumed["status"] == "done", resumed
    assert [line["status"] for line in resumed["lines"]] == ["reused", "generated", "generated", "generated"]
    assert held_engine["calls"][before:] == texts[1:]  # the finished line was not generated again
    detail = httpx.get(f"{url}/api/dubbing/projects/long").json()
    assert [line["takes"] for line in detail["script_lines"]] == [1, 1, 1, 1]
    assert "long-dub.zip" in detail["outputs"]


def test_cancel_a_queued_job(url, held_engine):
    r = create(
        url, name="first", format="txt", script="[A] One more.\n\n[A] Two more.", voices={"A": "Vivian"}, settings=QUICK
    )
    assert r.status_code == 201, r.text
    assert (
        create(url, name="second", format="txt", script="[A] Three.", voice="Vivian", settings=QUICK).status_code == 201
    )
    held_engine["held"].add("Two more.")
    first = httpx.post(f"{url}/api/dubbing/jobs", json={"project": "first"}).headers["location"]
    assert held_engine["entered"].wait(300)
    queued = httpx.post(f"{url}/api/dubbing/jobs", json={"project": "second"})
    assert queued.status_code == 202 and queued.json()["status"] == "queued"  # one job at a time
    r = httpx.post(f"{url}{queued.headers['location']}/cancel")
    assert r.status_code == 202 and r.json()["status"] == "cancelled"
    held_engine["release"].set()
    assert poll(url, first, finished)["status"] == "done"
    status = httpx.get(url + queued.headers["location"]).json()
    assert status["status"] == "cancelled" and status["started"] is None
    assert held_engine["calls"].count("Three.") == 0  # never ran
    ids = [j["id"] for j in httpx.get(f"{url}/api/dubbing/jobs").json()]
    assert queued.json()["id"] in ids


# -- refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("get", "/api/dubbing/jobs/nope", None, 404, "not_found"),
        ("delete", "/api/dubbing/jobs/nope", None, 404, "not_found"),
        ("post", "/api/dubbing/jobs/nope/cancel", None, 404, "not_found"),
        ("get", "/api/dubbing/jobs/nope/outputs", None, 404, "not_found"),
        ("post", "/api/dubbing/jobs", {"project": "nobody"}, 404, "not_found"),
        ("post", "/api/dubbing/jobs", {"project": "../etc"}, 400, "invalid_input"),
        ("post", "/api/dubbing/jobs", {"project": "refusals", "lines": "7"}, 400, "invalid_input"),
        ("post", "/api/dubbing/jobs", {"project": "refusals", "forse": True}, 400, "invalid_input"),
        ("get", "/api/dubbing/projects/nobody", None, 404, "not_found"),
        ("get", "/api/dubbing/projects/nobody/outputs/a.wav", None, 404, "not_found"),
        ("get", "/api/dubbing/projects/refusals/outputs/refusals-track.wav", None, 404, "not_found"),
        ("post", "/api/dubbing/projects", {"name": "a/b", "script": "Hi."}, 400, "invalid_input"),
        ("post", "/api/dubbing/projects", {"name": "..", "script": "Hi."}, 400, "invalid_input"),
        ("post", "/api/dubbing/projects", {"name": ".hidden", "script": "Hi."}, 400, "invalid_input"),
        ("post", "/api/dubbing/projects", {"name": "C:x", "script": "Hi."}, 400, "invalid_input"),
        ("post", "/api/dubbing/projects", {"name": "refusals", "script": "Hi."}, 409, "conflict"),
        ("post", "/api/dubbing/projects", {"name": "x", "script": "Hi.", "format": "doc"}, 400, "invalid_input"),
        ("post", "/api/dubbing/projects", {"name": "x", "script": "1\nnot a time\nHi\n", "format": "srt"}, 400, None),
        ("post", "/api/dubbing/projects", {"name": "x", "script": "Hi.", "voices": {"A": "design:"}}, 400, None),
        (
            "post",
            "/api/dubbing/projects",
            {"name": "x", "script": "Hi.", "settings": {"model_base": "gpt-4"}},
            404,
            None,
        ),
        ("post", "/api/dubbing/projects", {"name": "x", "script": "Hi.", "settings": {"max_stretch": 3}}, 400, None),
    ],
)
def test_dubbing_refusals_are_json(url, method, path, body, status, code):
    if create(url, name="refusals", script="[A] Hi.", voice="Vivian").status_code not in (200, 201, 409):
        pytest.fail("could not create the project the refusals use")
    r = httpx.request(method.upper(), url + path, json=body, timeout=30)
    assert r.status_code == status, r.text
    assert r.json()["message"]
    if code is not None:
        assert r.json()["error"] == code


def test_output_downloads_stay_inside_the_output_folder(url, projects_root, tmp_path):
    r = create(url, name="safe", format="txt", script="[A] Safe.", voice="Vivian", settings=QUICK)
    assert r.status_code == 201, r.text
    assert (
        poll(url, httpx.post(f"{url}/api/dubbing/jobs", json={"project": "safe"}).headers["location"], finished)[
            "status"
        ]
        == "done"
    )
    outputs = projects_root / "safe" / "outputs"
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    os.symlink(secret, outputs / "link.srt")
    base = f"{url}/api/dubbing/projects/safe/outputs/"
    assert httpx.get(base + "safe.srt").status_code == 200
    for name in [
        "..%2Fproject.json",
        "%2E%2E",
        "%2E%2E%2F%2E%2E%2Fsafe%2Fproject.json",
        "link.srt",
        ".lock",
        "..%5Cproject.json",
    ]:
        r = httpx.get(base + name)
        assert r.status_code in (400, 404), (name, r.status_code)
        assert "secret" not in r.text and '"lines"' not in r.text, name
    assert httpx.get(base + "link.srt").status_code == 400
    assert httpx.get(base + "%2E%2E").status_code in (400, 404)
    assert httpx.get(base + "project.json").status_code == 404  # beside the outputs, not in them
    assert "link.srt" not in [f["file"] for f in httpx.get(f"{url}/api/dubbing/projects/safe/outputs").json()]
    assert httpx.get(f"{url}/api/dubbing/projects/..%2F..%2Fetc").status_code in (400, 404)


def test_dubbing_and_text_routes_need_the_key(engine, library, projects_root):
    srv = serve_in_thread(engine, port=free_port(), api_key=KEY, voices_root=library.root, projects_root=projects_root)
    try:
        for method, path, body in [
            ("GET", "/api/dubbing/projects", None),
            ("POST", "/api/dubbing/jobs", {"project": "demo"}),
            ("GET", "/api/dubbing/jobs/x", None),
            ("POST", "/api/readings", {"text": "行"}),
            ("GET", "/api/dictionary", None),
        ]:
            r = httpx.request(method, srv.url + path, json=body)
            assert r.status_code == 401 and r.json()["error"] == "invalid_api_key", path
        r = httpx.get(srv.url + "/api/dubbing/projects", headers={"Authorization": f"Bearer {KEY}"})
        assert r.status_code == 200
        schema = httpx.get(srv.url + "/openapi.json").json()  # the documentation needs no key
    finally:
        srv.stop()
    paths = schema["paths"]
    for path in [
        "/api/readings",
        "/api/readings/pin",
        "/api/normalize",
        "/api/dictionary",
        "/api/dictionary/rules",
        "/api/dubbing/projects",
        "/api/dubbing/projects/upload",
        "/api/dubbing/projects/{name}",
        "/api/dubbing/projects/{name}/outputs/{file}",
        "/api/dubbing/jobs",
        "/api/dubbing/jobs/{job_id}",
        "/api/dubbing/jobs/{job_id}/cancel",
        "/api/dubbing/jobs/{job_id}/outputs",
    ]:
        assert path in paths, path
        assert all(op.get("summary") for op in paths[path].values()), path
    assert "duration" in schema["components"]["schemas"]["CustomRequest"]["properties"]
    assert "JobStatus" in schema["components"]["schemas"]
