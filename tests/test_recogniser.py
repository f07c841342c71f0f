"""The recogniser: a tiny random Whisper built offline loads through faster-whisper and gives timed segments.

The model's weights are random, so its text is noise: these tests check shapes, times and errors only.
"""

import json

import numpy as np
import pytest

from studio import asr, recogniser
from studio.errors import CheckpointError, InputError, ModelMismatchError, NotFoundError
from studio.models import ModelManager
from studio.progress import CancelToken
from studio.random_recogniser import is_random_recogniser
from studio.registry import ASR_MODELS, get_spec


def noise(seconds: float) -> np.ndarray:
    return (np.random.default_rng(0).standard_normal(int(seconds * recogniser.SAMPLE_RATE)) * 0.1).astype("float32")


def test_the_tiny_model_has_the_files_the_runtime_needs(tiny_asr):
    assert recogniser.is_model_folder(tiny_asr) and is_random_recogniser(tiny_asr)
    vocabulary = json.loads((tiny_asr / "vocabulary.json").read_text(encoding="utf-8"))
    assert "<|zh|>" in vocabulary and vocabulary[-1] == "<|30.00|>"


def test_transcribes_with_sentence_and_word_times_inside_the_clip(tiny_asr):
    seen = []
    transcript = recogniser.Recogniser(tiny_asr).transcribe(
        noise(4.0), "zh", progress=lambda f, m: seen.append(f), cancel=CancelToken(), vad=False
    )
    assert transcript.language == "zh" and transcript.duration == pytest.approx(4.0)
    assert transcript.segments, "a random model still emits tokens"
    for segment in transcript.segments:
        assert 0.0 <= segment.start <= segment.end <= transcript.duration
        for word in segment.words:
            assert segment.start <= word.start <= word.end <= segment.end
            assert 0.0 <= word.probability <= 1.0
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)
    assert seen and all(f is None or 0.0 <= f <= 1.0 for f in seen)
    again = recogniser.Transcript.from_dict(json.loads(json.dumps(transcript.to_dict())))
    assert again == transcript


def test_a_cancelled_token_stops_the_transcription(tiny_asr):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Exception) as caught:
        recogniser.Recogniser(tiny_asr).transcribe(noise(2.0), "en", cancel=token, vad=False)
    assert getattr(caught.value, "code", "") == "cancelled"


def test_voice_activity_filter_drops_a_clip_without_speech(tiny_asr):
    silent = np.zeros(2 * recogniser.SAMPLE_RATE, dtype="float32")
    assert recogniser.Recogniser(tiny_asr).transcribe(silent, "zh").segments == ()


def test_languages_are_names_or_codes_and_others_are_refused():
    assert recogniser.language_code("中文") == "zh" and recogniser.language_code("English") == "en"
    assert recogniser.language_code("auto") is None and recogniser.language_code("zh") == "zh"
    with pytest.raises(InputError, match="Klingon"):
        recogniser.language_code("Klingon")


def test_incomplete_folders_and_tts_models_are_refused(tmp_path, tiny_asr):
    with pytest.raises(NotFoundError):
        recogniser.validate(tmp_path / "nothing")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.bin").write_bytes(b"\0")
    with pytest.raises(CheckpointError, match=r"tokenizer\.json"):
        recogniser.validate(broken)
    with pytest.raises(InputError):
        recogniser.resolve("0.6b-base")
    with pytest.raises(ModelMismatchError):
        ModelManager().resolve(ASR_MODELS[0].id)
    assert recogniser.resolve(str(tiny_asr)) == tiny_asr


def test_registry_models_are_found_in_the_studio_folder_without_downloading(studio_home, tiny_asr, monkeypatch):
    import shutil

    from studio import checkpoints

    monkeypatch.delenv("STUDIO_ASR_MODEL", raising=False)
    spec = get_spec("whisper-small")
    shutil.copytree(tiny_asr, checkpoints.local_dir(spec))
    monkeypatch.setattr(checkpoints, "download", lambda *a, **k: pytest.fail("must not download"))
    assert recogniser.resolve("whisper-small") == checkpoints.local_dir(spec)
    assert recogniser.resolve(None) == checkpoints.local_dir(spec)


def test_the_reference_transcript_helper_uses_the_same_recogniser(tiny_asr, tmp_path, monkeypatch):
    import soundfile as sf

    monkeypatch.setenv("STUDIO_ASR_MODEL", str(tiny_asr))
    clip = tmp_path / "clip.wav"
    sf.write(clip, noise(2.0), recogniser.SAMPLE_RATE)
    assert asr.status().model == tiny_asr
    assert isinstance(asr.transcribe(clip, "zh"), str)
    assert recogniser.get(tiny_asr) is recogniser.get(tiny_asr)


def test_a_registry_recogniser_is_downloaded_with_resume_from_the_hub_endpoint(studio_home, tiny_asr, monkeypatch):
    from studio import checkpoints
    from tests.fake_hub import FakeHub

    monkeypatch.delenv("STUDIO_ASR_MODEL", raising=False)
    spec = get_spec("whisper-small")
    hub = FakeHub(tiny_asr, spec.repo_id)
    try:
        hub.cut_after = 2_000_000  # the connection drops inside model.bin
        with pytest.raises(Exception, match="download"):
            recogniser.resolve("whisper-small", endpoint=hub.url)
        reports = []
        folder = recogniser.resolve("whisper-small", endpoint=hub.url, progress=lambda f, m: reports.append(f))
    finally:
        hub.close()
    assert folder == checkpoints.local_dir(spec) and [r for _, r in hub.requests if r]  # resumed with Range
    assert reports[-1] == 1.0
    transcript = recogniser.Recogniser(folder).transcribe(noise(1.0), "zh", vad=False)
    assert all(0.0 <= s.start <= s.end <= transcript.duration for s in transcript.segments)


def test_the_command_line_builds_the_test_recogniser(tmp_path, capsys):
    import studio.cli

    assert studio.cli.main(["make-test-checkpoint", str(tmp_path / "asr"), "--kind", "asr"]) == 0
    assert "transcripts are noise" in capsys.readouterr().out
    assert recogniser.is_model_folder(tmp_path / "asr") and is_random_recogniser(tmp_path / "asr")
