"""The studio's watermark: inaudible, found after the studio's own processing and export, absent from clean audio."""

import numpy as np
import pytest
import soundfile as sf

from studio import watermark
from studio.audio import load_audio
from studio.errors import AudioError
from studio.export import export_audio, polish
from tests.audio_fixtures import speech
from tests.helpers import voiced_clip

SR = 24_000


def clean_signals() -> dict[str, np.ndarray]:
    """Unmarked audio of several kinds (speech-like, tones, noises, silence with a hiss)."""
    rng = np.random.default_rng(7)
    t = np.arange(4 * SR) / SR
    white = 0.1 * rng.standard_normal(4 * SR)
    return {
        "speech": speech(4.0, SR, seed=1),
        "speech_low": speech(3.0, SR, seed=2, f0=95.0),
        "voiced": voiced_clip(4.0, SR, seed=3),
        "white_noise": white,
        "brown_noise": np.cumsum(white) / 200,
        "tones": 0.3 * np.sin(2 * np.pi * 1500 * t) + 0.2 * np.sin(2 * np.pi * 2500 * t),
        "hiss": 1e-3 * rng.standard_normal(2 * SR),
        "long_speech": speech(12.0, SR, seed=4),
    }


@pytest.mark.parametrize("name", list(clean_signals()))
def test_clean_audio_is_not_detected(name):
    found, score = watermark.detect(clean_signals()[name], SR)
    assert not found and score < watermark.THRESHOLD


def test_silence_and_empty_are_not_detected():
    assert watermark.detect(np.zeros(SR), SR) == (False, 0.0)
    assert watermark.detect(np.zeros(0), SR) == (False, 0.0)


@pytest.mark.parametrize("name", ["speech", "voiced", "white_noise", "long_speech"])
def test_marked_audio_is_detected_and_quiet(name):
    clean = clean_signals()[name].astype(np.float32)
    marked = watermark.embed(clean, SR)
    assert marked.shape == clean.shape and marked.dtype == np.float32
    snr_db = 10 * np.log10(np.sum(clean.astype(np.float64) ** 2) / np.sum((marked - clean).astype(np.float64) ** 2))
    assert snr_db > 18  # the mark sits well below the voice
    found, score = watermark.detect(marked, SR)
    assert found and score >= watermark.THRESHOLD


@pytest.mark.parametrize(("fmt", "rate"), [("mp3", 44_100), ("mp3", 24_000), ("ogg", 48_000), ("flac", 24_000)])
def test_detection_survives_loudness_normalisation_and_export(tmp_path, fmt, rate):
    marked = watermark.embed(speech(3.0, SR, seed=5, level=0.1), SR)
    polished = polish(marked, SR, -16.0, -1.0)
    path = export_audio(polished, SR, tmp_path / f"out.{fmt}", fmt, rate)
    result = watermark.check_file(path)
    assert result["found"] is True and result["score"] >= watermark.THRESHOLD
    assert "watermark found" in result["message_en"] and "检测到" in result["message_zh"]


def test_detection_survives_gain_trim_and_resampling():
    import soxr

    marked = watermark.embed(speech(4.0, SR, seed=6), SR)
    for variant, rate in (
        (marked * 0.05, SR),
        (marked[5_432:-3_210], SR),
        (soxr.resample(marked, SR, 16_000), 16_000),
        (np.stack([marked, marked * 0.7], axis=1), SR),
    ):
        assert watermark.detect(variant, rate)[0]


def test_check_file_on_a_clean_file_says_so_plainly(tmp_path):
    path = tmp_path / "clean.wav"
    sf.write(path, speech(3.0, SR, seed=8), SR)
    result = watermark.check_file(path)
    assert result["found"] is False and result["file"] == "clean.wav"
    assert "does not prove" in result["message_en"] and "不能证明" in result["message_zh"]


def test_check_file_refuses_what_is_not_audio(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("not audio")
    with pytest.raises(AudioError):
        watermark.check_file(path)


def test_marking_is_idempotent_enough_and_never_clips():
    loud = np.clip(2.0 * speech(2.0, SR, seed=9), -1, 1).astype(np.float32)
    marked = watermark.embed(loud, SR)
    assert np.max(np.abs(marked)) <= 1.0
    twice = watermark.embed(marked, SR)
    assert watermark.detect(twice, SR)[0] and load_audio((SR, twice)).sr == SR
