"""``redub --keep-background`` transcribes the separated voice, not the mix; the transcript cache knows which.

Tiny random separator and recogniser (their output is noise): the tests check which file was heard, its
format, that it is the voice stem, and that a transcript of one sound is never reused for the other.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

import studio.cli
from studio import recogniser, redub
from tests.audio_fixtures import speech_video

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def separator_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("separator") / "htdemucs-tiny"
    assert studio.cli.main(["make-test-checkpoint", str(folder), "--kind", "separator"]) in (0, None)
    return folder


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return speech_video(tmp_path_factory.mktemp("heard") / "talk.mp4")


@pytest.fixture
def spy(monkeypatch):
    """Records (file, key) of each transcript asked for, and each time the recogniser actually ran."""
    asked, ran = [], []
    real_cached, real_get = redub.transcribe_cached, recogniser.get

    def cached(work, audio_path, key, *args):
        asked.append((audio_path, key))
        return real_cached(work, audio_path, key, *args)

    class Counting:
        def __init__(self, model):
            self.model = model

        def transcribe(self, audio, *args, **kwargs):
            ran.append(len(audio))
            # the random model decodes noise to its length limit: a short limit keeps the test quick
            return self.model.transcribe(audio, *args, **kwargs, greedy=True, max_new_tokens=16)

    monkeypatch.setattr(redub, "transcribe_cached", cached)
    monkeypatch.setattr(recogniser, "get", lambda folder: Counting(real_get(folder)))
    return asked, ran


def test_keep_background_hears_the_separated_voice_and_the_cache_knows_which_sound_it_heard(
    video, tiny_asr, separator_folder, tmp_path, spy
):
    asked, ran = spy
    folder = tmp_path / "project"
    options = dict(language="zh", model=str(tiny_asr), vad=False)
    redub.create_project(video, folder, separator_model=str(separator_folder), keep_background=True, **options)
    work = folder / redub.WORK_DIR
    ((heard, key),) = asked
    assert heard == work / "voice16k.wav" and key["heard"] == "voice" and key["separator"] == str(separator_folder)
    info, mix = sf.info(str(heard)), sf.info(str(work / "audio.wav"))
    assert (info.samplerate, info.channels) == (16_000, 1) and abs(info.frames - mix.frames) <= 160
    assert len(ran) == 1 and ran[0] == info.frames  # the recogniser heard that file, whole

    # it is the voice stem (not the mix) at 16 kHz mono: it follows voice.wav, and differs from audio.wav
    import soxr

    stem, rate = sf.read(str(work / "voice.wav"), dtype="float32")
    expected = soxr.resample(stem.mean(axis=1), rate, 16_000)
    got, _ = sf.read(str(heard), dtype="float32")
    mixed, _ = sf.read(str(work / "audio.wav"), dtype="float32")
    n = min(len(expected), len(got), len(mixed))

    def likeness(a, b):
        return float(np.corrcoef(a[:n], b[:n])[0, 1])

    assert likeness(got, expected) > 0.95 and likeness(got, expected) > likeness(got, mixed) + 0.05
    stored = redub._read_json(work / "transcript.json")
    assert stored["source"] == key

    # the same run again: the cached transcript of the voice, nothing heard again, the file not rewritten
    made = heard.stat().st_mtime_ns
    redub.create_project(video, folder, separator_model=str(separator_folder), keep_background=True, **options)
    assert len(ran) == 1 and heard.stat().st_mtime_ns == made

    # without separation the mix is heard: the voice's transcript is not reused for it
    redub.create_project(video, folder, **options)
    heard_mix, key_mix = asked[-1]
    assert heard_mix == work / "audio.wav" and key_mix["heard"] == "mix" and "separator" not in key_mix
    assert len(ran) == 2 and ran[-1] == mix.frames
    assert redub._read_json(work / "transcript.json")["source"] == key_mix

    # and back: the mix's transcript is not reused for the voice either
    redub.create_project(video, folder, separator_model=str(separator_folder), keep_background=True, **options)
    assert len(ran) == 3 and asked[-1] == (heard, key)


def test_a_partial_transcript_of_the_mix_is_not_resumed_for_the_voice(video, tiny_asr, separator_folder, tmp_path, spy):
    import json

    from studio.dubbing.project import write_text_atomic
    from studio.recogniser import Segment, Transcript

    asked, ran = spy
    folder = tmp_path / "project"
    options = dict(language="zh", model=str(tiny_asr), vad=False)
    work = folder / redub.WORK_DIR
    redub.create_project(video, folder, **options)
    _, key_mix = asked[-1]
    # a partial transcript of the mix, as a cancelled run leaves it: 2 s already heard
    partial = Transcript("zh", 4.0, (Segment(0.0, 2.0, "混音里的话", ()),))
    write_text_atomic(
        work / "transcript.partial.json", json.dumps({"source": key_mix, "transcript": partial.to_dict()})
    )
    (work / "transcript.json").unlink()
    redub.create_project(video, folder, separator_model=str(separator_folder), keep_background=True, **options)
    heard, key = asked[-1]
    assert heard == work / "voice16k.wav" and key != key_mix
    assert ran[-1] == sf.info(str(heard)).frames  # heard from the start, not after the mix's 2 s
    texts = [s["text"] for s in redub._read_json(work / "transcript.json")["transcript"]["segments"]]
    assert "混音里的话" not in texts


class SaysOneLine:
    """A recogniser that hears one sentence in whatever it is given."""

    def transcribe(self, audio, *args, on_segment=None, **kwargs):
        from studio.recogniser import Segment, Transcript

        segment = Segment(0.2, 1.5, "混音里的话。", ())
        if on_segment is not None:
            on_segment(segment)
        return Transcript("zh", 2.0, (segment,))


def test_a_voice_stem_with_no_speech_falls_back_to_the_mix(video, tiny_asr, separator_folder, tmp_path, monkeypatch):
    from studio.recogniser import Transcript

    heard = []
    real_cached = redub.transcribe_cached

    def cached(work, audio_path, key, *args):
        heard.append(key["heard"])
        if key["heard"] == "voice":  # what a separator that removed the speech leaves: nothing to hear
            return Transcript("zh", 2.0, ()), False
        return real_cached(work, audio_path, key, *args)

    monkeypatch.setattr(redub, "transcribe_cached", cached)
    monkeypatch.setattr(recogniser, "get", lambda folder: SaysOneLine())
    folder = tmp_path / "project"
    result = redub.create_project(
        video, folder, "zh", model=str(tiny_asr), vad=False, separator_model=str(separator_folder), keep_background=True
    )
    assert heard == ["voice", "mix"] and [line.text for line in result.project.lines] == ["混音里的话。"]
    assert result.separation is not None and result.separation.background.is_file()
