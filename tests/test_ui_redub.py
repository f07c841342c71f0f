"""The Dubbing tab's "Re-dub a video" panel, driven through the running app (tiny recogniser and separator)."""

import time

import pytest
import soundfile as sf
from audio_fixtures import speech_video

from studio.dubbing.project import Project
from studio.random_separator import build_random_separator
from tests.helpers import running_app


@pytest.fixture(scope="module")
def app(tmp_path_factory, tiny_asr):
    home = tmp_path_factory.mktemp("ui-redub-home")
    separator = build_random_separator(tmp_path_factory.mktemp("sep") / "tiny")
    env = {"STUDIO_ASR_MODEL": str(tiny_asr), "STUDIO_SEPARATOR_MODEL": str(separator), "STUDIO_LANG": "zh"}
    with running_app(home, env=env) as url:
        yield url, home


def poll(client, folder, until, limit_s=300.0):
    """What the panel's timer shows for ``folder``, once ``until(text)`` (the limit only stops a hang)."""
    deadline = time.monotonic() + limit_s
    while True:
        text = client.predict(folder, api_name="/redub_status")
        if text and until(text):
            return text
        assert "failed" not in (text or ""), text
        assert time.monotonic() < deadline, text
        time.sleep(0.2)


def test_start_returns_at_once_and_the_poll_follows_the_job_to_the_project(app, tmp_path):
    from gradio_client import Client, handle_file

    url, home = app
    client = Client(url, verbose=False)
    client.predict("en", api_name="/set_language")
    video = handle_file(str(speech_video(tmp_path / "talk.mp4")))
    folder = "dubbing/from-video"
    started = client.predict(folder, video, "zh", True, False, False, False, api_name="/redub_video")
    assert "Re-dubbing 'from" in started and "lines written" not in started, started
    message = poll(client, folder, lambda text: "lines written to" in text)
    assert "Background separated" in message, message
    project = Project.load(home / "outputs" / folder)
    assert project.lines and all(line.timed for line in project.lines)
    assert (home / "outputs" / folder / "redub" / "background.wav").is_file()
    assert not (home / "outputs" / folder / "redub" / "job.json").exists()
    view = client.predict(folder, api_name="/dub_open")
    assert len(view[0]["data"]) == len(project.lines)
    assert "no re-dub in progress" in client.predict(folder, api_name="/redub_stop")

    # put a dub into the project's own video, over the separated background (the track as a build writes it)
    from studio.dubbing.mux import probe_streams
    from studio.dubbing.names import safe_stem
    from tests.helpers import voiced_clip

    outputs = home / "outputs" / folder / "outputs"
    outputs.mkdir()
    sf.write(outputs / f"{safe_stem(project.name)}-track.wav", voiced_clip(2.0, 24_000), 24_000)
    made, said = client.predict(folder, None, "background", -14, api_name="/dub_video")
    assert said.replace("\\", "") == "Wrote talk-dubbed.mp4 (the separated music and effects only).", said
    assert probe_streams(made) == (True, True) and (outputs / "talk-dubbed.mp4").is_file()


def test_a_run_a_crash_left_is_resumed_when_a_page_shows_its_folder(app, tmp_path, tiny_asr):
    from gradio_client import Client

    from studio.redub_job_file import RedubOptions, place_video, write_job

    url, home = app
    folder = home / "outputs" / "dubbing" / "crashed"
    copy = place_video(folder, speech_video(tmp_path / "clip.mp4"), "clip.mp4", "copy")
    write_job(folder, "0123456789ab", copy, RedubOptions(language="zh", vad=False), levels=1)
    client = Client(url, verbose=False)
    client.predict("en", api_name="/set_language")
    message = poll(client, "dubbing/crashed", lambda text: "lines written to" in text)
    assert Project.load(folder).lines and not (folder / "redub" / "job.json").exists(), message


def test_cloning_from_the_video_needs_the_consent_box_and_writes_nothing(app, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    url, home = app
    client = Client(url, verbose=False)
    client.predict("zh", api_name="/set_language")
    video = handle_file(str(speech_video(tmp_path / "clip.mp4")))
    with pytest.raises(AppError, match="确认授权"):
        client.predict("dubbing/no-consent", video, "zh", False, False, True, False, api_name="/redub_video")
    with pytest.raises(AppError, match="请先上传视频"):
        client.predict("dubbing/no-video", None, "zh", False, False, False, False, api_name="/redub_video")
    assert not (home / "outputs" / "dubbing" / "no-consent").exists()
