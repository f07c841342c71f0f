"""``/api/dubbing/redub``: an uploaded video becomes a dubbing project in a background job (tiny random Whisper)."""

from __future__ import annotations

import httpx
import pytest

from studio.api import serve_in_thread
from studio.engine import Engine
from studio.models import ModelManager
from studio.settings import Settings
from tests.dubbing_http import poll
from tests.helpers import free_port


@pytest.fixture(scope="module")
def url(tmp_path_factory, tiny_asr):
    import os

    previous = os.environ.get("STUDIO_ASR_MODEL")
    os.environ["STUDIO_ASR_MODEL"] = str(tiny_asr)  # the server's recogniser, chosen by whoever runs it
    srv = serve_in_thread(
        Engine(ModelManager(Settings(dtype="float32"))),
        port=free_port(),
        projects_root=tmp_path_factory.mktemp("redub-projects"),
    )
    yield srv.url
    srv.stop()
    if previous is None:
        os.environ.pop("STUDIO_ASR_MODEL", None)
    else:
        os.environ["STUDIO_ASR_MODEL"] = previous


def upload(url, video, **form):
    with open(video, "rb") as fh:
        return httpx.post(f"{url}/api/dubbing/redub", files={"file": ("clip.mp4", fh)}, data=form, timeout=60)


def test_an_uploaded_video_becomes_a_project_with_timed_lines(url, video):
    r = upload(url, video, name="from-video", language="zh", vad="false")
    assert r.status_code == 202, r.text
    status = poll(url, r.headers["Location"])
    assert status["status"] == "done" and status["lines"] > 0, status
    project = httpx.get(url + status["project_url"], timeout=30).json()
    lines = project["script_lines"]
    assert project["lines"] == len(lines) == status["lines"] and project["mode"] == "timed"
    assert all(0.0 <= line["start"] < line["end"] <= 2.1 and line["text"] for line in lines)
    again = upload(url, video, name="from-video")
    assert again.status_code == 409


def test_bad_requests_are_refused_before_any_work(url, video, tmp_path):
    assert upload(url, video, name="x", language="Klingon").status_code == 400
    assert upload(url, video, name="x", asr_model="/etc").status_code == 400
    assert upload(url, video, name="../escape").status_code == 400
    corrupt = tmp_path / "bad.mp4"
    corrupt.write_bytes(b"not a video" * 50)
    r = upload(url, corrupt, name="broken")
    assert r.status_code == 202
    status = poll(url, r.headers["Location"])
    assert status["status"] == "failed" and "cannot be read" in status["error"]["message"]
    assert httpx.get(f"{url}/api/dubbing/projects/broken", timeout=30).status_code == 404
    assert httpx.get(f"{url}/api/dubbing/redub/nope", timeout=30).status_code == 404


def test_keep_background_separates_the_uploaded_video_with_the_servers_separator(
    url, video, tmp_path, tmp_path_factory, monkeypatch
):
    from studio.random_separator import build_random_separator

    # the server's separator, chosen by whoever runs it (a request never names a folder)
    monkeypatch.setenv("STUDIO_SEPARATOR_MODEL", str(build_random_separator(tmp_path / "separator")))
    r = upload(url, video, name="with-music", language="zh", vad="false", keep_background="true")
    assert r.status_code == 202, r.text
    status = poll(url, r.headers["Location"])
    assert status["status"] == "done" and status["background"] is True, status
    found = list(tmp_path_factory.getbasetemp().glob("redub-projects[0-9]*/with-music/redub/background.wav"))
    assert len(found) == 1, found
    import soundfile as sf

    info = sf.info(str(found[0]))
    assert info.samplerate == 44100 and abs(info.frames / info.samplerate - 2.0) < 0.1


def test_cloning_from_the_video_needs_consent_and_excludes_a_voice(url, video):
    r = upload(url, video, name="cloned", clone_voice="narrator")
    assert r.status_code == 400 and "consent=true" in r.json()["message"], r.text
    r = upload(url, video, name="cloned", clone_voice="narrator", consent="true", voice="design:calm")
    assert r.status_code == 400 and "either voice or clone_voice" in r.json()["message"], r.text
    r = upload(url, video, name="cloned", clone_voice="a/b", consent="true")
    assert r.status_code == 400 and "slash" in r.json()["message"], r.text
    assert httpx.get(f"{url}/api/dubbing/projects/cloned", timeout=30).status_code == 404


def test_the_job_is_the_projects_own_and_holds_the_uploaded_video(url, video, tmp_path_factory):
    from studio.redub_jobs import registry

    r = upload(url, video, name="owned", language="zh", vad="false")
    assert r.status_code == 202, r.text
    job = registry().get(r.json()["id"])  # the engine's job: the Dubbing tab sees the same one
    assert job is not None and job.folder.name == "owned"
    status = poll(url, r.headers["Location"])
    assert status["status"] == "done" and status["cloned"] is None, status
    work = job.folder / "redub"
    assert [p.name for p in (work / "input").iterdir()] == ["owned.mp4"] and not (work / "job.json").exists()
    assert (work / "input" / "owned.mp4").stat().st_size == video.stat().st_size


def test_a_voice_is_cloned_from_the_uploaded_video_with_consent(url, tmp_path):
    from audio_fixtures import speech_video

    r = upload(url, speech_video(tmp_path / "talk.mp4"), name="cast", language="zh", vad="false",
               clone_voice="主播", consent="true")  # fmt: skip
    assert r.status_code == 202, r.text
    status = poll(url, r.headers["Location"])
    assert status["status"] == "done" and status["cloned"] == "主播", status
    project = httpx.get(url + status["project_url"], timeout=30).json()
    assert project["default_voice"] == "主播", project
    voices = httpx.get(f"{url}/v1/audio/voices", timeout=30).json()
    assert "主播" in str(voices), voices


def test_a_server_started_after_a_crash_resumes_the_re_dub_its_client_polled(tmp_path, video, tiny_asr):
    from studio.dubbing.project import Project
    from studio.redub_job_file import RedubOptions, place_video, read_job, write_job

    root = tmp_path / "projects"
    crashed, stopped = root / "crashed", root / "stopped"
    for folder, job_id, was_stopped in ((crashed, "c0ffee000001", False), (stopped, "5707ed000002", True)):
        copy = place_video(folder, video, "talk.mp4", "copy")
        options = RedubOptions(language="zh", asr_model=str(tiny_asr), vad=False)
        write_job(folder, job_id, copy, options, levels=1, stopped=was_stopped)

    srv = serve_in_thread(Engine(ModelManager(Settings(dtype="float32"))), port=free_port(), projects_root=root)
    try:
        status = poll(srv.url, "/api/dubbing/redub/c0ffee000001")
        assert status["status"] == "done" and status["lines"] > 0, status
        assert Project.load(crashed).lines and read_job(crashed) is None
        # a job the creator stopped stays stopped until someone starts it again
        assert httpx.get(f"{srv.url}/api/dubbing/redub/5707ed000002", timeout=30).status_code == 404
        assert read_job(stopped)["stopped"] and not (stopped / "project.json").exists()
        # the re-dubbed project keeps its video: the track goes into it without another upload
        import soundfile as sf

        from tests.helpers import voiced_clip

        (crashed / "outputs").mkdir()
        sf.write(crashed / "outputs" / "talk-track.wav", voiced_clip(2.0, 24_000), 24_000)
        r = httpx.post(f"{srv.url}/api/dubbing/projects/crashed/mux", data={"mix": "replace"}, timeout=120)
        assert r.status_code == 201 and r.json()["file"] == "talk-dubbed.mp4", r.text
        assert httpx.get(srv.url + r.json()["url"], timeout=60).content[4:8] == b"ftyp"
    finally:
        srv.stop()
