"""Everything the Dubbing tab does, over real HTTP: line edits, locks, takes, deleting, muxing into a video.

One server runs in a background thread over the tiny CustomVoice checkpoint,
with its own projects folder. Lines use 8 model steps and no loudness pass.
Which lines a job generated is read from the job's line statuses and from a
spy on the engine (the texts it was asked to speak); a job that must stay
running holds the model inside a line (an event), never a sleep.
"""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from studio.api import serve_in_thread
from studio.dubbing.mux import probe_streams
from studio.engine import Engine
from studio.models import ModelManager
from studio.settings import Settings
from tests.dubbing_http import QUICK, SRT, poll, wav
from tests.helpers import free_port

pytestmark = pytest.mark.slow

KEY = "sk-edit-key"


@pytest.fixture(scope="module")
def engine():
    return Engine(ModelManager(Settings(dtype="float32")))


@pytest.fixture(scope="module")
def projects_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dubbing-edit")


@pytest.fixture(scope="module")
def server(engine, projects_root, tmp_path_factory, tiny_custom):
    srv = serve_in_thread(
        engine,
        port=free_port(),
        models={"custom_voice": str(tiny_custom)},
        voices_root=tmp_path_factory.mktemp("edit-voices"),
        projects_root=projects_root,
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def url(server) -> str:
    return server.url


@pytest.fixture
def spoken(engine, monkeypatch) -> list[str]:
    """The texts the engine is asked to speak with a preset speaker, in order."""
    calls: list[str] = []
    original = engine.custom

    def custom(text, *args, **kwargs):
        calls.append(text)
        return original(text, *args, **kwargs)

    monkeypatch.setattr(engine, "custom", custom)
    return calls


@pytest.fixture
def held(engine, monkeypatch):
    """Preset-speaker generations of texts in ``held`` wait inside the model call until ``release`` is set."""
    state = {"held": set(), "release": threading.Event(), "entered": threading.Event()}
    original = engine.custom

    def custom(text, *args, **kwargs):
        if text in state["held"]:
            state["entered"].set()
            assert state["release"].wait(300), "the test never released the model"
        return original(text, *args, **kwargs)

    monkeypatch.setattr(engine, "custom", custom)
    yield state
    state["release"].set()


def run_job(url: str, project: str, **options) -> dict:
    r = httpx.post(f"{url}/api/dubbing/jobs", json={"project": project, **options}, timeout=60)
    assert r.status_code == 202, r.text
    status = poll(url, r.headers["location"])
    assert status["status"] == "done", status
    return status


def create(url: str, name: str, script: str, fmt: str = "txt") -> dict:
    body = {"name": name, "format": fmt, "script": script, "voice": "Vivian", "settings": QUICK}
    r = httpx.post(f"{url}/api/dubbing/projects", json=body, timeout=60)
    assert r.status_code == 201, r.text
    return r.json()


def patch_line(url: str, project: str, line: str | int, body: dict, **headers) -> httpx.Response:
    return httpx.patch(f"{url}/api/dubbing/projects/{project}/lines/{line}", json=body, headers=headers, timeout=60)


def statuses(status: dict) -> list[str]:
    return [line["status"] for line in status["lines"]]


# -- line edits, locks, takes ----------------------------------------------------------------------


def test_an_edited_line_is_the_only_one_generated_again(url, spoken):
    create(url, "edits", "[A] First line.\n\n[A] Second line.\n\n[A] Third line.")
    assert statuses(run_job(url, "edits")) == ["generated"] * 3

    r = patch_line(url, "edits", 2, {"text": "The second line, changed."})
    assert r.status_code == 200, r.text
    line = r.json()
    assert (line["number"], line["id"], line["text"]) == (2, "l002", "The second line, changed.")
    assert line["takes"] == 1 and line["chosen"] == 0 and line["warning"] is None
    # a new scene name (by line id) changes no audio: the line is reused
    r = patch_line(url, "edits", "l001", {"scene": "opening"})
    assert r.status_code == 200 and r.json()["scene"] == "opening" and r.json()["number"] == 1
    assert httpx.get(f"{url}/api/dubbing/projects/edits/lines/l002").json() == line

    del spoken[:]
    status = run_job(url, "edits")
    assert statuses(status) == ["reused", "generated", "reused"]
    assert spoken == ["The second line, changed."]
    detail = httpx.get(f"{url}/api/dubbing/projects/edits").json()
    assert [(x["scene"], x["takes"], x["chosen"]) for x in detail["script_lines"]] == [
        ("opening", 1, 0),
        ("scene2", 2, 1),
        ("scene3", 1, 0),
    ]
    assert "opening-audio.wav" in detail["outputs"]  # the outputs follow the edit


def test_a_locked_line_keeps_its_take_through_a_forced_job(url, spoken):
    create(url, "locks", "[A] Keep this one.\n\n[A] Redo this one.")
    run_job(url, "locks")
    r = patch_line(url, "locks", 1, {"locked": True, "text": "Keep this one, edited."})
    assert r.status_code == 200, r.text
    assert r.json()["locked"] is True and r.json()["takes"] == 1

    del spoken[:]
    status = run_job(url, "locks", force=True)
    assert statuses(status) == ["locked", "generated"]
    assert spoken == ["Redo this one."]
    lines = httpx.get(f"{url}/api/dubbing/projects/locks").json()["script_lines"]
    assert [(x["locked"], x["takes"]) for x in lines] == [(True, 1), (False, 2)]

    assert patch_line(url, "locks", 1, {"locked": False}).json()["locked"] is False
    del spoken[:]
    assert statuses(run_job(url, "locks")) == ["generated", "reused"]  # unlocked, its edit is voiced now
    assert spoken == ["Keep this one, edited."]


def test_the_chosen_take_is_the_one_in_the_track(url):
    create(url, "takes", "[A] Which take is it?")
    run_job(url, "takes")
    status = run_job(url, "takes", lines=[1], force=True)
    assert statuses(status) == ["generated"]
    line = httpx.get(f"{url}/api/dubbing/projects/takes/lines/1").json()
    assert line["takes"] == 2 and line["chosen"] == 1
    assert [(t["index"], t["chosen"]) for t in line["take_list"]] == [(0, False), (1, True)]
    first, second = (wav(httpx.get(url + t["url"])) for t in line["take_list"])
    assert len(first) != len(second) or not np.allclose(first, second, atol=1e-3)  # two readings (seeds 5 and 6)

    def track() -> np.ndarray:
        return wav(httpx.get(f"{url}/api/dubbing/projects/takes/outputs/takes-track.wav"))

    def same(a: np.ndarray, b: np.ndarray) -> bool:
        return len(a) == len(b) and np.allclose(a, np.clip(b, -1, 1), atol=2e-4)  # the track is 16-bit

    assert same(track(), second) and not same(track(), first)
    r = patch_line(url, "takes", 1, {"chosen": 0})
    assert r.status_code == 200, r.text
    assert r.json()["chosen"] == 0 and r.json()["seconds"] == line["take_list"][0]["seconds"]
    assert statuses(run_job(url, "takes")) == ["reused"]  # the chosen take is up to date: kept, not replaced
    assert same(track(), first) and not same(track(), second)
    assert httpx.get(f"{url}/api/dubbing/projects/takes/lines/1").json()["chosen"] == 0


@pytest.mark.parametrize(
    ("line", "body", "status", "words"),
    [
        ("0", {"text": "x"}, 404, "line number"),
        ("4", {"text": "x"}, 404, "line number"),
        ("nope", {"text": "x"}, 404, "line id"),
        ("..%2Fx", {"text": "x"}, 404, None),
        ("2", {"intensity": 1.5}, 400, "line 2"),
        ("2", {"intensity": "loud"}, 400, "intensity"),
        ("2", {"start": 3.0}, 400, "end time"),  # 3.0 -> 2.1: backwards
        ("2", {"start": 1.0, "end": 1.4}, 400, "overlaps"),  # line 1 ends at 1.1
        ("2", {"start": None, "end": None}, 400, "has no start and end time"),  # a timed project cannot mix modes
        ("2", {"end": -1}, 400, "non-negative"),
        ("2", {"text": "   "}, 400, "empty"),
        ("2", {"chosen": 3}, 400, "take"),
        ("2", {"chosen": True}, 400, "chosen"),
        ("2", {"txt": "typo"}, 400, "txt"),
        ("2", {"locked": "sometimes"}, 400, "locked"),
    ],
)
def test_bad_line_edits_change_nothing(url, line, body, status, words):
    if httpx.get(f"{url}/api/dubbing/projects/checks").status_code == 404:
        create(url, "checks", SRT, "srt")
    before = httpx.get(f"{url}/api/dubbing/projects/checks").json()
    r = patch_line(url, "checks", line, body)
    assert r.status_code == status, r.text
    assert r.json()["error"] == ("not_found" if status == 404 else "invalid_input")
    if words is not None:
        assert words in r.json()["message"], r.json()
    assert httpx.get(f"{url}/api/dubbing/projects/checks").json() == before  # all or nothing


def test_line_edit_messages_speak_chinese_and_good_edits_pass(url):
    if httpx.get(f"{url}/api/dubbing/projects/checks").status_code == 404:
        create(url, "checks", SRT, "srt")
    r = patch_line(url, "checks", 2, {"intensity": 2}, **{"Accept-Language": "zh-CN"})
    assert r.status_code == 400 and "第 2 行" in r.json()["message"] and "强度" in r.json()["message"]
    r = patch_line(url, "checks", 9, {}, **{"Accept-Language": "zh-CN"})
    assert r.status_code == 404 and "没有台词" in r.json()["message"]
    body = {"start": 1.3, "end": 2.2, "emotion": "happy", "intensity": 0.8, "speaker": "Ryan"}
    r = patch_line(url, "checks", 2, body)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in body} == body
    r = patch_line(url, "checks", 2, {"emotion": None, "intensity": None, "speaker": "nobody known"})
    assert r.status_code == 200, r.text
    line = r.json()
    assert (line["emotion"], line["intensity"], line["speaker"]) == ("", 0.5, "nobody known")
    assert line["warning"] is None  # the project's default voice reads unknown speakers
    assert httpx.patch(f"{url}/api/dubbing/projects/nobody/lines/1", json={}).status_code == 404


def test_project_voices_and_settings_change_without_touching_the_lines(url):
    create(url, "voices", "[A] Hello.\n\n[B] Hi.")
    r = httpx.patch(f"{url}/api/dubbing/projects/voices", json={"voices": {"A": "Ryan"}, "voice": ""})
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["voices"] == {"A": "Ryan"} and detail["default_voice"] == ""
    assert len(detail["warnings"]) == 1 and "line 2" in detail["warnings"][0]  # B has no voice now
    assert patch_line(url, "voices", 2, {}).json()["warning"] == detail["warnings"][0]
    r = httpx.patch(
        f"{url}/api/dubbing/projects/voices", json={"voices": {"A": None, "B": "Vivian"}, "settings": {"gap_s": 1.5}}
    )
    assert r.status_code == 200 and r.json()["voices"] == {"B": "Vivian"} and r.json()["settings"]["gap_s"] == 1.5
    assert [x["text"] for x in r.json()["script_lines"]] == ["Hello.", "Hi."]
    for body in ({"voices": {"A": "design:"}}, {"settings": {"max_stretch": 5}}, {"lines": []}):
        assert httpx.patch(f"{url}/api/dubbing/projects/voices", json=body).status_code == 400, body


# -- deleting --------------------------------------------------------------------------------------


def test_changes_wait_for_a_running_job_then_delete(url, held, projects_root, video):
    create(url, "busy", "[A] One.\n\n[A] Two, held.")
    held["held"].add("Two, held.")
    job = httpx.post(f"{url}/api/dubbing/jobs", json={"project": "busy"})
    assert job.status_code == 202, job.text
    assert held["entered"].wait(300)  # the job is inside line 2 now
    base = f"{url}/api/dubbing/projects/busy"
    refused = [
        httpx.delete(base),
        patch_line(url, "busy", 1, {"text": "Changed."}),
        patch_line(url, "busy", 1, {"locked": True}),
        httpx.patch(base, json={"voice": "Ryan"}),
        httpx.post(f"{base}/mux", files={"file": ("clip.mp4", video.read_bytes(), "video/mp4")}),
    ]
    for r in refused:
        assert r.status_code == 409 and r.json()["error"] == "conflict", r.text
        assert r.json()["job"] == job.json()["id"]
    assert httpx.delete(url + job.headers["location"]).status_code == 202
    held["release"].set()
    assert poll(url, job.headers["location"])["status"] == "cancelled"
    assert httpx.get(base).json()["script_lines"][0]["text"] == "One."  # nothing was changed meanwhile

    r = httpx.delete(base)
    assert r.status_code == 200, r.text
    assert r.json() == {"name": "busy", "deleted": True}
    assert httpx.get(base).status_code == 404
    assert httpx.delete(base).status_code == 404
    assert patch_line(url, "busy", 1, {}).status_code == 404
    assert not (projects_root / "busy").exists()
    assert [p.name for p in projects_root.iterdir() if p.name.startswith(".deleted")] == []
    assert "busy" not in [p["name"] for p in httpx.get(f"{url}/api/dubbing/projects").json()]
    assert httpx.post(f"{url}/api/dubbing/jobs", json={"project": "busy"}).status_code == 404


@pytest.mark.parametrize("name", ["..", "..%2Fedits", ".hidden", "a%5Cb", "nobody"])
def test_delete_refuses_names_outside_the_projects_folder(url, projects_root, name):
    create_if_missing = httpx.get(f"{url}/api/dubbing/projects/edits").status_code == 404
    if create_if_missing:
        create(url, "edits", "[A] Still here.")
    r = httpx.delete(f"{url}/api/dubbing/projects/{name}")
    assert r.status_code in (400, 404), r.text
    assert (projects_root / "edits" / "project.json").is_file()


# -- muxing into a video ---------------------------------------------------------------------------


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def audio_seconds(path: Path, tmp_path: Path) -> float:
    """The length of ``path``'s audio stream, decoded by ffmpeg."""
    out = tmp_path / f"{path.stem}-audio.wav"
    subprocess.run([_ffmpeg(), "-v", "error", "-y", "-i", str(path), "-vn", str(out)], check=True, timeout=120)
    return sf.info(str(out)).duration


def container_seconds(path: Path) -> float:
    stderr = subprocess.run([_ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    h, m, s = re.search(r"Duration: (\d+):(\d+):([\d.]+)", stderr).groups()
    return int(h) * 3600 + int(m) * 60 + float(s)


def mux(url: str, project: str, video: Path, name: str = "clip.mp4", **form) -> httpx.Response:
    files = {"file": (name, video.read_bytes(), "video/mp4")}
    return httpx.post(f"{url}/api/dubbing/projects/{project}/mux", files=files, data=form, timeout=300)


def test_mux_the_track_into_a_video(url, server, video, tmp_path):
    create(url, "film", SRT, "srt")
    r = mux(url, "film", video)
    assert r.status_code == 409 and "no track" in r.json()["message"]  # no job has made the track yet
    run_job(url, "film")

    r = mux(url, "film", video, mix="replace")
    assert r.status_code == 201, r.text
    result = r.json()
    assert (result["file"], result["kind"], result["mix"]) == ("clip-dubbed.mp4", "video", "replace")
    assert r.headers["location"] == result["url"] == "/api/dubbing/projects/film/outputs/clip-dubbed.mp4"
    download = httpx.get(url + result["url"])
    assert download.status_code == 200 and download.headers["content-type"] == "video/mp4"
    assert len(download.content) == result["bytes"]
    replaced = tmp_path / "replaced.mp4"
    replaced.write_bytes(download.content)
    assert probe_streams(replaced) == (True, True)
    assert audio_seconds(replaced, tmp_path) == pytest.approx(3.1, abs=0.1)  # the dub track, not the tone
    assert container_seconds(replaced) == pytest.approx(3.1, abs=0.1)

    r = mux(url, "film", video, name="take two.mp4")  # duck (default): the original audio stays under the dub
    assert r.status_code == 201, r.text
    assert (r.json()["file"], r.json()["mix"]) == ("take-two-dubbed.mp4", "duck")
    ducked = tmp_path / "ducked.mp4"
    ducked.write_bytes(httpx.get(url + r.json()["url"]).content)
    assert probe_streams(ducked) == (True, True)
    assert audio_seconds(ducked, tmp_path) == pytest.approx(2.0, abs=0.1)  # mixed over the original's length
    outputs = {f["file"]: f["kind"] for f in httpx.get(f"{url}/api/dubbing/projects/film/outputs").json()}
    assert outputs["clip-dubbed.mp4"] == outputs["take-two-dubbed.mp4"] == "video"
    assert outputs["film-track.wav"] == "track"

    upload_dir = server.server.config.app.state.studio.upload_dir
    assert [p.name for p in upload_dir.iterdir() if p.name.startswith("mux-")] == []  # the upload area is clean


def test_mux_refusals(url, server, video, tmp_path):
    if httpx.get(f"{url}/api/dubbing/projects/film").status_code == 404:
        create(url, "film", SRT, "srt")
        run_job(url, "film")
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video", encoding="utf-8")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    for project, path, form, status, words in [
        ("film", fake, {}, 400, "is not a video"),
        ("film", empty, {}, 400, "empty"),
        ("film", video, {"mix": "loud"}, 400, "mix mode"),
        ("film", video, {"duck_db": "5"}, 400, "duck_db"),
        ("nobody", video, {}, 404, "nobody"),
        ("%2E%2E", video, {}, 400, "Invalid project name"),
    ]:
        r = mux(url, project, path, name=path.name, **form)
        assert r.status_code == status, (form, r.text)
        if words is not None:
            assert words in r.json()["message"], r.json()
    r = httpx.post(f"{url}/api/dubbing/projects/film/mux", data={"mix": "duck"})
    assert r.status_code == 400 and r.json()["param"] == "file"
    upload_dir = server.server.config.app.state.studio.upload_dir
    assert [p.name for p in upload_dir.iterdir() if p.name.startswith("mux-")] == []


def test_new_routes_need_the_key_are_documented_and_keep_the_body_limit(engine, projects_root, video):
    srv = serve_in_thread(
        engine, port=free_port(), api_key=KEY, projects_root=projects_root, max_body_bytes=len(video.read_bytes()) // 2
    )
    try:
        for method, path in [
            ("PATCH", "/api/dubbing/projects/edits/lines/1"),
            ("GET", "/api/dubbing/projects/edits/lines/1"),
            ("GET", "/api/dubbing/projects/edits/lines/1/takes/0"),
            ("PATCH", "/api/dubbing/projects/edits"),
            ("DELETE", "/api/dubbing/projects/edits"),
            ("POST", "/api/dubbing/projects/edits/mux"),
        ]:
            r = httpx.request(method, srv.url + path, json={})
            assert r.status_code == 401 and r.json()["error"] == "invalid_api_key", path
        r = httpx.post(
            f"{srv.url}/api/dubbing/projects/edits/mux",
            files={"file": ("clip.mp4", video.read_bytes(), "video/mp4")},
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert r.status_code == 413 and r.json()["error"] == "request_too_large"
        schema = httpx.get(srv.url + "/openapi.json").json()
    finally:
        srv.stop()
    paths = schema["paths"]
    for path, methods in [
        ("/api/dubbing/projects/{name}", {"get", "patch", "delete"}),
        ("/api/dubbing/projects/{name}/lines/{line}", {"get", "patch"}),
        ("/api/dubbing/projects/{name}/lines/{line}/takes/{take}", {"get"}),
        ("/api/dubbing/projects/{name}/mux", {"post"}),
    ]:
        assert methods <= set(paths[path]), path
        assert all(op.get("summary") for op in paths[path].values()), path
    assert {"locked", "chosen", "text", "start", "end"} <= set(
        schema["components"]["schemas"]["LineEdit"]["properties"]
    )


def test_pauses_over_http_are_exact_silence_in_the_take(url, spoken):
    from studio.silence import exact_silences

    create(url, "pauses", "[A] Good[pause 0.4s] morning.")
    r = patch_line(url, "pauses", 1, {"pause_after": 0.8})
    assert r.status_code == 200 and r.json()["pause_after"] == 0.8
    assert patch_line(url, "pauses", 1, {"pause_after": 30}).status_code == 400
    run_job(url, "pauses")
    assert spoken == ["Good[pause 0.4s] morning.[pause 0.8s]"]  # the engine turns tags into silence
    take = wav(httpx.get(f"{url}/api/dubbing/projects/pauses/lines/1/takes/0", timeout=60))
    lengths = [b - a for a, b in exact_silences(take, 24_000)]
    assert lengths == [round(0.4 * 24_000), round(0.8 * 24_000)]
