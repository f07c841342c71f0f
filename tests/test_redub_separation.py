"""``redub --keep-background`` / ``--clone-from-video``: the real Demucs loader on a tiny random HTDemucs.

The separator's stems and the recogniser's words are noise; the tests check files, lengths, chunking,
resume, cancel, the mux's background mode, the consent gate and refusals, never separation quality.
"""

import json
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import speech_video as make_speech_video

import studio.cli
from studio import redub_stems, separator
from studio.dubbing.mux import mux, probe_streams, video_seconds
from studio.dubbing.project import Project
from studio.errors import Cancelled, CheckpointError, InputError
from studio.progress import CancelToken
from studio.random_separator import SIG as RANDOM_SIG
from studio.recogniser import Transcript
from studio.voices import VoiceLibrary


@pytest.fixture
def run_cli(monkeypatch, capsys):
    monkeypatch.setenv("STUDIO_LANG", "en")

    def run(*argv):
        code = studio.cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="module")
def tiny_separator(tmp_path_factory):
    """A tiny random HTDemucs built by the CLI, as a user would."""
    folder = tmp_path_factory.mktemp("separator") / "htdemucs-tiny"
    assert studio.cli.main(["make-test-checkpoint", str(folder), "--kind", "separator"]) in (0, None)
    return folder


@pytest.fixture(scope="module")
def speech_video(tmp_path_factory):
    """4 s of test picture; sound: two stretches of synthetic speech over a quiet 220 Hz tone bed."""
    return make_speech_video(tmp_path_factory.mktemp("speechvideo") / "talk.mp4")


def test_the_test_separator_loads_through_the_real_loader_and_bad_folders_are_refused(tiny_separator, tmp_path):
    model = separator.get(tiny_separator)
    assert (model.samplerate, model.channels) == (44100, 2) and "vocals" in model.sources
    mix = np.random.default_rng(0).normal(0, 0.1, (2, 44100)).astype(np.float32)
    voice, background = model._separate_chunk(mix)
    assert voice.shape == background.shape == mix.shape and np.isfinite(voice).all()

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CheckpointError, match="missing"):
        separator.validate(empty)
    # a file naming another class than Demucs' own is refused before anything is imported
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "htdemucs.yaml").write_text("models: [abc]\n", encoding="utf-8")
    header = json.dumps({"__metadata__": {"klass": "os.system", "args": "[]", "kwargs": "{}"}}).encode()
    (evil / "abc.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(CheckpointError, match=r"unsupported model class os\.system"):
        separator.validate(evil)


def test_the_registry_separator_downloads_with_resume_from_the_hub_endpoint(tiny_separator, studio_home, monkeypatch):
    from studio import checkpoints
    from studio.registry import get_spec
    from tests.fake_hub import FakeHub

    monkeypatch.delenv("STUDIO_SEPARATOR_MODEL", raising=False)
    spec = get_spec("htdemucs")
    assert (tiny_separator / f"{RANDOM_SIG}.safetensors").stat().st_size > (1 << 20) + 1000
    hub = FakeHub(tiny_separator, spec.repo_id)
    try:
        hub.cut_after = (1 << 20) + 1000  # the connection drops inside the safetensors file, after one 1 MiB block
        with pytest.raises(Exception, match="download"):
            separator.resolve("htdemucs", endpoint=hub.url)
        reports = []
        folder = separator.resolve("htdemucs", endpoint=hub.url, progress=lambda f, m: reports.append(f))
    finally:
        hub.close()
    assert folder == checkpoints.local_dir(spec) and [r for _, r in hub.requests if r]  # resumed with Range
    assert reports[-1] == 1.0 and separator.Separator(folder).sources == separator.Separator(tiny_separator).sources
    monkeypatch.setattr(checkpoints, "download", lambda *a, **k: pytest.fail("must not download"))
    assert separator.resolve(None) == folder  # found in the studio's models folder next time
    with pytest.raises(InputError, match="not a separator"):
        separator.resolve("whisper-small")


def test_separation_runs_in_chunks_resumes_after_a_cancel_and_keeps_the_length(tiny_separator, tmp_path, monkeypatch):
    monkeypatch.setattr(separator, "CHUNK_SECONDS", 1.0)
    monkeypatch.setattr(separator, "CONTEXT_SECONDS", 0.25)
    model = separator.Separator(tiny_separator)
    mix = tmp_path / "mix.wav"
    sf.write(mix, np.random.default_rng(1).normal(0, 0.1, (int(2.5 * 44100), 2)).astype(np.float32), 44100)
    token, seen = CancelToken(), []

    def cancel_after_first(fraction, message):
        seen.append(fraction)
        token.cancel()

    with pytest.raises(Cancelled):
        model.separate_file(mix, tmp_path, cancel_after_first, token)
    assert seen == [pytest.approx(1 / 3)]
    assert sorted(p.name for p in (tmp_path / "separation").glob("*_*.wav")) == [
        "background_00000.wav",
        "voice_00000.wav",
    ]
    calls = []
    real = model._separate_chunk
    monkeypatch.setattr(model, "_separate_chunk", lambda chunk: calls.append(chunk.shape) or real(chunk))
    result = model.separate_file(mix, tmp_path)
    assert result.resumed and len(calls) == 2  # the first chunk came from the cancelled run
    assert calls[-1] == (2, int(0.5 * 44100) + int(0.25 * 44100))  # last chunk: its context on the left only
    for stem in (result.voice, result.background):
        info = sf.info(str(stem))
        assert (info.frames, info.channels, info.samplerate) == (int(2.5 * 44100), 2, 44100)
    assert not (tmp_path / "separation").exists()
    again = model.separate_file(mix, tmp_path)
    assert again.resumed and len(calls) == 2


def test_background_mode_needs_the_background_track(speech_video, tmp_path):
    track = tmp_path / "track.wav"
    sf.write(track, np.zeros(24_000, dtype=np.float32), 24_000)
    with pytest.raises(InputError, match="background track"):
        mux(speech_video, track, tmp_path / "out.mp4", "background")
    with pytest.raises(InputError, match="background track"):
        mux(speech_video, track, tmp_path / "out.mp4", "background", background=tmp_path / "missing.wav")
    assert not (tmp_path / "out.mp4").exists()


def test_dub_with_the_background_mix_is_refused_before_generating_when_there_is_no_background(
    speech_video, run_cli, tmp_path
):
    script = tmp_path / "script.txt"
    script.write_text("你好。\n", encoding="utf-8")
    out = tmp_path / "dub"
    code, _, err = run_cli(
        "dub", script, "--out", out, "--video", speech_video, "--mix", "background", "--voice", "design:x"
    )
    assert code == 2 and "needs the separated background track" in err, err
    assert not list(out.rglob("*.wav"))


def _decoded(video, tmp_path):
    import imageio_ffmpeg

    wav = tmp_path / f"{video.stem}-decoded.wav"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(video), "-ar", "24000"]
    subprocess.run([*command, str(wav)], check=True, timeout=60)
    return sf.read(wav, dtype="float32", always_2d=True)[0][:, 0]  # the left channel


def test_background_mode_lays_the_dub_over_the_background_not_over_the_original(speech_video, tmp_path):
    sr, n = 24_000, 4 * 24_000
    t = np.arange(n) / sr
    dub = (0.2 * np.sin(2 * np.pi * 660 * t) * (t > 2.0)).astype(np.float32)  # the new voice: second half only
    bed = (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)  # the background: all along
    sf.write(tmp_path / "dub.wav", dub, sr)
    sf.write(tmp_path / "bed.wav", np.stack([bed, bed], axis=1), sr)
    dest = mux(
        speech_video, tmp_path / "dub.wav", tmp_path / "mixed.mp4", "background", background=tmp_path / "bed.wav"
    )
    heard = _decoded(dest, tmp_path)
    assert len(heard) == pytest.approx(n, abs=0.1 * sr)

    def level(signal, freq, a, b):  # amplitude of ``freq`` between a and b seconds
        part = signal[int(a * sr) : int(b * sr)]
        ref = np.exp(-2j * np.pi * freq * np.arange(len(part)) / sr)
        return 2 * abs(np.dot(part, ref)) / len(part)

    assert level(heard, 330, 0.5, 1.5) == pytest.approx(0.2, rel=0.2)  # the background at full level
    assert level(heard, 330, 2.5, 3.5) == pytest.approx(0.2, rel=0.2)  # ... still under the new voice
    # the mono dub is spread over both channels of the stereo mix (-3 dB each, as in the keep and duck mixes)
    assert level(heard, 660, 2.5, 3.5) == pytest.approx(0.2 / np.sqrt(2), rel=0.2)
    assert level(heard, 660, 0.5, 1.5) < 0.02
    assert level(heard, 220, 0.5, 3.5) < 0.01  # the original's tone bed is gone with the original sound


def test_clone_from_video_needs_consent_before_anything_is_written(speech_video, tiny_asr, run_cli, tmp_path):
    out = tmp_path / "out"
    code, _, err = run_cli("redub", speech_video, "--out", out, "--asr-model", tiny_asr, "--clone-from-video")
    assert code == 2 and "needs consent" in err and "--consent" in err
    assert len([row for row in err.splitlines() if row.startswith("error:")]) == 1
    assert not out.exists()
    code, _, err = run_cli(
        "redub", speech_video, "--out", out, "--asr-model", tiny_asr, "--clone-from-video", "--consent",
        "--voice", "design:x",
    )  # fmt: skip
    assert code == 2 and "either --voice or --clone-from-video" in err and not out.exists()


def test_clone_from_video_saves_the_cleanest_window_as_a_voice_with_consent(
    speech_video, tiny_asr, studio_home, run_cli, tmp_path
):
    out = tmp_path / "out"
    args = ("redub", speech_video, "--out", out, "--asr-model", tiny_asr, "--language", "zh", "--no-vad")
    code, stdout, err = run_cli(*args, "--clone-from-video", "--consent", "--voice-name", "主播")
    assert code == 0, err
    voice = VoiceLibrary().get("主播")
    assert voice.consent.confirmed and voice.source == "video:talk.mp4"
    clip, rate = sf.read(voice.path / voice.clips[0].file)
    assert rate == 24_000 and 1.0 <= len(clip) / rate <= 10.0
    assert Project.load(out / "project").settings.default_voice == "主播"
    assert "cloned voice: 主播" in stdout
    # a rerun finds its own voice again; another video's voice of that name is not overwritten
    code, stdout, err = run_cli(*args, "--clone-from-video", "--consent", "--voice-name", "主播")
    assert code == 0 and "kept from an earlier run" in stdout, err
    with pytest.raises(InputError, match="exists already"):
        redub_stems.clone_from_video(
            tmp_path / "other.mp4", tmp_path / "none.wav", Transcript("zh", 0, ()), "主播", True
        )


@pytest.mark.slow
def test_redub_keeps_the_background_and_puts_the_new_voice_over_it(
    speech_video, tiny_asr, tiny_separator, tiny_base, studio_home, run_cli, tmp_path
):
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        "redub", speech_video, "--out", out, "--asr-model", tiny_asr, "--separator-model", tiny_separator,
        "--keep-background", "--language", "zh", "--no-vad", "--clone-from-video", "--consent",
        "--model", tiny_base, "--max-new-tokens", 8, "--generate", "--word-captions",
    )  # fmt: skip
    assert code == 0, err
    project = Project.load(out / "project")
    assert project.settings.word_captions and project.settings.asr_model == str(Path(tiny_asr).resolve())
    for caption in ("*-words.srt", "*-words.vtt", "*-words-captions.json", "*-karaoke.ass", "*-sentences.srt"):
        assert list(out.glob(caption)), caption  # captions at line, sentence and word level
    assert project.lines and all(line.timed and line.take is not None for line in project.lines)
    work = out / "project" / "redub"
    length = video_seconds(speech_video)
    for stem in ("voice.wav", "background.wav"):
        info = sf.info(str(work / stem))
        assert info.samplerate == 44100 and info.channels == 2
        assert info.frames / info.samplerate == pytest.approx(length, abs=0.1)
    assert f"background: {work / 'background.wav'}" in stdout
    dubbed = out / "talk-dubbed.mp4"
    assert probe_streams(dubbed) == (True, True)
    assert video_seconds(dubbed) == pytest.approx(length, abs=0.3)
    assert list(out.glob("*.srt")) and VoiceLibrary().get("talk").consent.confirmed
    assert "cloned voice: talk (separated voice" in stdout or "cloned voice: talk (original sound" in stdout

    # a rerun reuses the separation and the transcript (no second separation)
    before = (work / "background.wav").stat().st_mtime_ns
    code, stdout, err = run_cli(
        "redub", speech_video, "--out", out, "--asr-model", tiny_asr, "--separator-model", tiny_separator,
        "--keep-background", "--language", "zh", "--no-vad",
    )  # fmt: skip
    assert code == 0 and "kept" in stdout, err
    assert (work / "background.wav").stat().st_mtime_ns == before


def test_a_bad_separator_folder_is_refused_before_anything_is_written(speech_video, tiny_asr, run_cli, tmp_path):
    out = tmp_path / "out"
    code, _, err = run_cli(
        "redub", speech_video, "--out", out, "--asr-model", tiny_asr, "--separator-model", tmp_path,
        "--keep-background",
    )  # fmt: skip
    assert code != 0 and "not a usable Demucs separation model" in err and not out.exists()
    assert len([row for row in err.splitlines() if row.startswith("error:")]) == 1


def test_a_three_hour_video_is_refused_in_one_line_before_any_separation(tiny_asr, tiny_separator, run_cli, tmp_path):
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    part = tmp_path / "ten-minutes.mp4"
    lavfi = ["-f", "lavfi", "-i", "color=c=black:s=16x16:r=1", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono"]
    encode = ["-t", "600", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "8k", str(part)]
    subprocess.run([ffmpeg, "-loglevel", "error", "-y", *lavfi, *encode], check=True, timeout=120)
    listing = tmp_path / "parts.txt"
    listing.write_text(f"file '{part}'\n" * 18, encoding="utf-8")
    long = tmp_path / "three-hours.mp4"
    concat = ["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(long)]
    subprocess.run([ffmpeg, "-loglevel", "error", "-y", *concat], check=True, timeout=120)
    out = tmp_path / "out"
    code, _, err = run_cli(
        "redub", long, "--out", out, "--asr-model", tiny_asr, "--separator-model", tiny_separator, "--keep-background"
    )
    assert code == 2 and "3.0 hours long, over the 2-hour limit" in err, err
    assert len([row for row in err.splitlines() if row.startswith("error:")]) == 1 and not out.exists()
