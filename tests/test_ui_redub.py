"""The Dubbing tab's "Re-dub a video" panel, driven through the running app (tiny recogniser and separator)."""

import pytest
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


def test_a_video_becomes_the_tabs_project_with_its_background(app, tmp_path):
    from gradio_client import Client, handle_file

    url, home = app
    client = Client(url, verbose=False)
    client.predict("en", api_name="/set_language")
    video = handle_file(str(speech_video(tmp_path / "talk.mp4")))
    folder = "dubbing/from-video"
    message = client.predict(folder, video, "zh", True, False, False, False, api_name="/redub_video")
    assert "lines written to" in message and "Background separated" in message, message
    project = Project.load(home / "outputs" / folder)
    assert project.lines and all(line.timed for line in project.lines)
    assert (home / "outputs" / folder / "redub" / "background.wav").is_file()
    view = client.predict(folder, api_name="/dub_open")
    assert len(view[0]["data"]) == len(project.lines)


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
