"""Progress a person can read: one formatter for the UI, the CLI's bar and the HTTP job status."""

from pathlib import Path

import pytest

from studio.dubbing.job import DubJob
from studio.models import waiting_for
from studio.progress import Eta, Status, TqdmProgress, duration_text, progress_text
from studio.ui.dubbing_jobs import job_text


def test_a_dubbing_line_part_and_time_left_in_both_languages():
    status = Status(line=1, lines=8, part=4, parts=5, eta_s=129.4)
    assert progress_text(status, "zh") == "第 1/8 句 · 第 4/5 段 · 约剩 2 分 10 秒"
    assert progress_text(status, "en") == "line 1/8 · part 4/5 · about 2 min 10 s left"
    assert str(status) == status.text("en")


def test_what_is_not_known_is_left_out():
    assert progress_text(Status(line=3, lines=8), "zh") == "第 3/8 句"
    assert progress_text(Status(line=3, lines=8, part=1, parts=1), "en") == "line 3/8"
    assert progress_text(Status("loading", model="base"), "zh") == "正在加载模型 base"
    assert progress_text(Status("loading", model="base"), "en") == "loading model base"
    assert progress_text(Status("done", eta_s=5), "zh") == "完成"
    assert progress_text("plain words", "zh") == "plain words"


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (0.2, "1 秒", "1 s"),
        (59, "59 秒", "59 s"),
        (130, "2 分 10 秒", "2 min 10 s"),
        (3720, "1 小时 2 分", "1 h 2 min"),
    ],
)
def test_durations_read_naturally(seconds, zh, en):
    assert (duration_text(seconds, "zh"), duration_text(seconds, "en")) == (zh, en)


def test_the_time_left_comes_from_measured_speed():
    now = [100.0]
    eta = Eta(clock=lambda: now[0])
    now[0] += 1.0
    assert eta.left(0.5) is None  # too early to measure
    now[0] += 9.0  # 10 s for a quarter of the job
    assert eta.left(0.25) == pytest.approx(30.0)
    assert eta.left(0.01) is None  # too little done to tell


def test_the_cli_bar_shows_the_words_in_the_users_language(capsys):
    bar = TqdmProgress("dub", "zh")
    bar(0.5, Status(line=2, lines=4, eta_s=65))
    bar.close()
    assert "第 2/4 句 · 约剩 1 分 5 秒" in capsys.readouterr().err


def test_the_http_job_status_words_progress_in_the_readers_language():
    job = DubJob(id="j1", project="p", folder=Path("p"))
    job.on_progress(0.25, Status(line=1, lines=8, part=4, parts=5, eta_s=130))
    assert job.to_dict("zh")["progress_text"] == "第 1/8 句 · 第 4/5 段 · 约剩 2 分 10 秒"
    english = job.to_dict("en")
    assert english["progress_text"] == english["message"] == "line 1/8 · part 4/5 · about 2 min 10 s left"


def test_the_dubbing_tabs_poll_words_a_running_job_in_the_pages_language():
    job = DubJob(id="j2", project="p", folder=Path("p"), status="running")
    job.on_progress(0.25, Status(line=1, lines=8, part=4, parts=5, eta_s=130))
    assert "第 1/8 句 · 第 4/5 段 · 约剩 2 分 10 秒" in job_text(job, "zh")
    english = job_text(job, "en")
    assert "line 1/8 · part 4/5 · about 2 min 10 s left" in english and "句" not in english


def test_a_request_waiting_for_the_model_is_told_for_what_in_one_language():
    told = waiting_for(lambda: ("项目 “p” 的配音任务", "the dubbing job of project 'p'"))
    assert progress_text(told, "zh") == "排队等待项目 “p” 的配音任务完成"
    assert progress_text(told, "en") == "waiting for the dubbing job of project 'p' to finish"
    assert progress_text(waiting_for(None), "en") == "waiting for another generation to finish"


def test_a_recordings_stage_is_worded_with_its_position_in_each_language():
    status = Status("transcribing", at_s=12.4, of_s=60.0)
    assert progress_text(status, "zh") == "正在识别语音 · 12/60 秒"
    assert progress_text(status, "en") == "transcribing the speech · 12/60 s"
    assert progress_text(Status("speakers", line=3, lines=10), "zh") == "正在区分说话人 · 第 3/10 句"


def test_a_re_dub_reports_every_stage_in_the_readers_language(tmp_path, video, tiny_asr):
    import re

    from studio import redub

    reports = []
    redub.create_project(
        video, tmp_path / "talk", "zh", model=str(tiny_asr), vad=False, progress=lambda f, m: reports.append(m)
    )
    assert reports and all(isinstance(m, Status) for m in reports), reports
    assert {"extracting", "transcribing", "done"} <= {m.kind for m in reports}
    chinese = [progress_text(m, "zh") for m in reports]
    assert not [text for text in chinese if re.search("[A-Za-z]", text)], chinese
