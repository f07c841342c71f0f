"""``redub``: a test video becomes a timed dubbing project through the real recogniser (tiny random Whisper).

The recogniser's text is noise; the tests check times, files, resume and refusals, never the words.
"""

import json
import subprocess

import pytest
import soundfile as sf

import studio.cli
from studio import recogniser, redub, video_sound
from studio.dubbing.project import Project
from studio.errors import Cancelled, InputError
from studio.progress import CancelToken


@pytest.fixture
def run_cli(monkeypatch, capsys):
    monkeypatch.setenv("STUDIO_LANG", "en")

    def run(*argv):
        code = studio.cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def ffmpeg_video(path, *inputs):
    import imageio_ffmpeg

    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y"]
    for source in inputs:
        command += ["-f", "lavfi", "-i", source]
    subprocess.run([*command, "-shortest", "-pix_fmt", "yuv420p", str(path)], check=True, timeout=120)
    return path


def test_a_video_becomes_a_project_with_timed_lines_and_a_rerun_reuses_the_transcript(
    tmp_path, video, tiny_asr, run_cli, monkeypatch
):
    out = tmp_path / "out"
    code, stdout, err = run_cli("redub", video, "--out", out, "--asr-model", tiny_asr, "--language", "zh", "--no-vad")
    assert code == 0, err
    project = Project.load(out / "project")
    assert project.lines and project.settings.language == "Chinese"
    cached = json.loads((out / "project" / "redub" / "transcript.json").read_text(encoding="utf-8"))
    duration = cached["transcript"]["duration"]
    assert duration == pytest.approx(2.0, abs=0.1)
    previous_end = 0.0
    for line in project.lines:
        assert line.text.strip() and line.timed
        assert previous_end - 0.02 <= line.start < line.end <= duration
        previous_end = line.end
    audio, rate = sf.read(out / "project" / "redub" / "audio.wav")
    assert rate == 16000 and audio.ndim == 1 and abs(len(audio) / rate - duration) < 0.05
    assert f"{len(project.lines)} lines" in stdout and "project: " in stdout

    # Edits survive a rerun, and the cached transcript is used without running the recogniser again.
    project.lines[0].text = "改过的台词"
    project.save()
    monkeypatch.setattr(recogniser.Recogniser, "transcribe", lambda *a, **k: pytest.fail("transcribed again"))
    code, stdout, err = run_cli("redub", video, "--out", out, "--asr-model", tiny_asr, "--language", "zh", "--no-vad")
    assert code == 0, err
    assert Project.load(out / "project").lines[0].text == "改过的台词" and "kept" in stdout


class CancelAfter(CancelToken):
    """Cancels at the n-th check (one check per recognised sentence)."""

    def __init__(self, n):
        super().__init__()
        self.left = n

    def check(self):
        self.left -= 1
        if self.left <= 0:
            self.cancel()
        super().check()


def test_a_cancelled_transcription_resumes_after_the_last_saved_sentence(tmp_path, video, tiny_asr, monkeypatch):
    folder = tmp_path / "project"
    with pytest.raises(Cancelled):
        redub.create_project(video, folder, "zh", model=str(tiny_asr), vad=False, cancel=CancelAfter(2))
    partial = json.loads((folder / "redub" / "transcript.partial.json").read_text(encoding="utf-8"))
    kept = partial["transcript"]["segments"]
    assert len(kept) == 1 and not (folder / "project.json").exists()

    heard = []
    original = recogniser.Recogniser.transcribe

    def spy(self, audio, *args, **kwargs):
        heard.append(len(audio) / recogniser.SAMPLE_RATE)
        return original(self, audio, *args, **kwargs)

    monkeypatch.setattr(recogniser.Recogniser, "transcribe", spy)
    result = redub.create_project(video, folder, "zh", model=str(tiny_asr), vad=False)
    assert result.created and result.resumed
    assert heard and heard[0] == pytest.approx(result.transcript.duration - kept[0]["end"], abs=0.01)
    assert result.transcript.segments[0].end == pytest.approx(kept[0]["end"])
    assert not (folder / "redub" / "transcript.partial.json").exists()


def test_bad_videos_are_refused_in_one_line_and_nothing_is_written(tmp_path, tiny_asr, run_cli, monkeypatch):
    silent = ffmpeg_video(tmp_path / "silent.mp4", "testsrc=size=64x64:rate=10:duration=1")
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x01not a video" * 100)
    tone = ffmpeg_video(tmp_path / "tone.mp4", "testsrc=size=64x64:rate=10:duration=2", "sine=frequency=300:duration=2")
    cases = [
        ((silent,), "no sound"),
        ((corrupt,), "cannot be read"),
        ((tone, "--language", "Klingon"), "does not support the language 'Klingon'"),
        ((tmp_path / "missing.mp4",), "not found"),
        ((tone,), "No speech was heard"),  # voice detection finds no speech in a tone
    ]
    for i, (args, message) in enumerate(cases):
        out = tmp_path / f"out{i}"
        code, _, err = run_cli("redub", *args, "--out", out, "--asr-model", tiny_asr)
        assert code == 2 and message in err, err
        assert len([row for row in err.splitlines() if row.startswith("error:")]) == 1  # the bar may precede it
        assert not out.exists()
    monkeypatch.setattr(video_sound, "MAX_SECONDS", 1)
    with pytest.raises(InputError, match="hours long"):
        redub.create_project(tone, tmp_path / "long", model=str(tiny_asr))
    assert not (tmp_path / "long").exists()


@pytest.mark.slow
def test_generate_dubs_the_new_project_into_a_copy_of_the_video(tmp_path, video, tiny_asr, tiny_design, run_cli):
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        "redub",
        video,
        "--out",
        out,
        "--asr-model",
        tiny_asr,
        "--language",
        "zh",
        "--no-vad",
        "--voice",
        "design:温和的旁白",
        "--design-model",
        tiny_design,
        "--max-new-tokens",
        8,
        "--generate",
    )
    assert code == 0, err
    dubbed = out / f"{video.stem}-dubbed.mp4"
    assert dubbed.is_file() and "wall time" in stdout
    lines = Project.load(out / "project").lines
    assert all(line.take is not None for line in lines)
