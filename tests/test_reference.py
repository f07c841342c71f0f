"""Reference-clip processing: VAD bounds, trimming, windows, quality report, loudness."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import noise, speech, utterance, write_wav

from studio import reference as ref
from studio.audio import MODEL_SR, Audio
from studio.errors import AudioError

SR = 24_000
TWO_PHRASES = [("sil", 1.0), ("speech", 2.0), ("sil", 0.8), ("speech", 2.5), ("sil", 1.5)]


def _speech_power(x: np.ndarray, truth: list[tuple[float, float]], sr: int = SR) -> float:
    mask = np.zeros(len(x), dtype=bool)
    for start, end in truth:
        mask[int(start * sr) : int(end * sr)] = True
    return float(np.mean(x[mask].astype(np.float64) ** 2))


def _with_snr(x: np.ndarray, truth: list[tuple[float, float]], snr_db: float, seed: int = 5) -> np.ndarray:
    sigma = np.sqrt(_speech_power(x, truth) / 10 ** (snr_db / 10))
    return (x + noise(len(x) / SR + 1, level=sigma, seed=seed)[: len(x)]).astype(np.float32)


def _long_recording(seed: int = 3) -> tuple[Audio, list[tuple[float, float]]]:
    layout: list[tuple[str, float]] = [("sil", 0.7)]
    for i in range(12):
        layout += [("speech", 1.0 + 0.3 * (i % 5)), ("sil", 0.5 + (1.5 if i % 4 == 0 else 0.0))]
    x, truth = utterance(layout, seed=seed)
    return Audio(x, SR), truth


# ------------------------------------------------------------------ VAD


@pytest.mark.parametrize(
    ("layout", "noise_level", "seed"),
    [
        (TWO_PHRASES, 1e-4, 0),
        (TWO_PHRASES, 3e-3, 7),
        ([("sil", 0.4), ("speech", 3.0), ("sil", 2.5)], 1e-4, 11),
        ([("sil", 2.0), ("speech", 1.2), ("sil", 0.6), ("speech", 1.8), ("sil", 0.3)], 1e-3, 21),
    ],
)
def test_detected_speech_bounds_are_within_100_ms_of_the_truth(layout, noise_level, seed):
    x, truth = utterance(layout, seed=seed, noise_level=noise_level)
    regions = ref.detect_speech(Audio(x, SR))
    assert len(regions) == len(truth), regions
    for (start, end), (t_start, t_end) in zip(regions, truth, strict=True):
        assert abs(start - t_start) <= 0.1, (regions, truth)
        assert abs(end - t_end) <= 0.1, (regions, truth)


def test_vad_works_at_telephone_and_studio_sample_rates():
    for sr in (8_000, 96_000):
        x = np.concatenate([np.zeros(sr), speech(2.0, sr=sr), np.zeros(sr)])
        regions = ref.detect_speech(Audio(x.astype(np.float32), sr))
        assert len(regions) == 1
        assert abs(regions[0][0] - 1.0) <= 0.1 and abs(regions[0][1] - 3.0) <= 0.1


@pytest.mark.parametrize(
    "signal",
    [np.zeros(5 * SR, dtype=np.float32), noise(5.0, level=0.1), noise(5.0, level=0.01, seed=2)],
    ids=["digital-silence", "loud-white-noise", "quiet-white-noise"],
)
def test_no_speech_is_found_in_silence_or_noise(signal):
    assert ref.detect_speech(Audio(signal, SR)) == []


def test_importing_the_vad_leaves_torch_threads_alone():
    # silero_vad sets torch's thread count to 1 on import; a fresh interpreter shows whether that leaks.
    code = (
        "import torch, numpy as np; torch.set_num_threads(2);"
        "from studio.reference import detect_speech; from studio.audio import Audio;"
        "detect_speech(Audio(np.full(16000, 0.1, dtype=np.float32), 16000));"
        "print(torch.get_num_threads())"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2"


# ------------------------------------------------------------------ editing


def test_trim_keeps_the_pad_around_the_speech():
    x, truth = utterance(TWO_PHRASES, seed=1)
    audio = Audio(x, SR)
    trimmed = ref.trim_silence(audio, ref.detect_speech(audio), pad_ms=100)
    expected = (truth[-1][1] - truth[0][0]) + 0.2
    assert abs(trimmed.seconds - expected) <= 0.1
    # The pads are silence, the speech right after them is not.
    pad = int(0.05 * SR)
    assert np.abs(trimmed.samples[:pad]).max() < 0.01
    assert np.abs(trimmed.samples[-pad:]).max() < 0.01
    assert np.abs(trimmed.samples[int(0.15 * SR) : int(0.4 * SR)]).max() > 0.05


def test_trim_without_speech_is_a_clear_error():
    with pytest.raises(AudioError) as err:
        ref.trim_silence(Audio(np.zeros(SR, dtype=np.float32), SR), [])
    assert "speech" in err.value.en and "人声" in err.value.zh


def test_long_pauses_are_shortened_and_short_ones_kept():
    x, _ = utterance([("sil", 0.5), ("speech", 1.5), ("sil", 3.0), ("speech", 1.5), ("sil", 0.3)], seed=4)
    audio = Audio(x, SR)
    regions = ref.detect_speech(audio)
    out = ref.shorten_pauses(audio, regions, max_pause_s=0.5)
    assert out.seconds == pytest.approx(audio.seconds - (regions[1][0] - regions[0][1] - 0.5), abs=0.02)
    again = ref.detect_speech(out)
    assert len(again) == 2
    assert again[1][0] - again[0][1] <= 0.5 + 0.1
    # A pause already under the limit is untouched.
    short = ref.shorten_pauses(audio, regions, max_pause_s=5.0)
    assert len(short.samples) == len(audio.samples)


# ------------------------------------------------------------------ window


def _inside_speech(t: float, truth: list[tuple[float, float]]) -> bool:
    return any(start + 0.02 < t < end - 0.02 for start, end in truth)


def test_best_window_is_3_to_10_s_of_whole_regions_with_silent_edges():
    audio, truth = _long_recording()
    regions = ref.detect_speech(audio)
    start, end = ref.best_window(audio, regions)
    assert 3.0 <= end - start <= 10.0
    assert not _inside_speech(start, truth) and not _inside_speech(end, truth)
    covered = [r for r in truth if r[0] >= start - 0.05 and r[1] <= end + 0.05]
    assert covered, "the window holds whole regions"
    # Its speech ratio is the best any run of whole regions offers, within the tolerance.
    ratio = sum(e - s for s, e in regions if s >= start and e <= end) / (end - start)
    best = max(
        sum(e - s for s, e in regions[i : j + 1]) / (regions[j][1] - regions[i][0] + 0.2)
        for i in range(len(regions))
        for j in range(i, len(regions))
        if 3.0 <= regions[j][1] - regions[i][0] + 0.2 <= 10.0
    )
    assert ratio >= best - ref.RATIO_TOLERANCE - 0.01


def test_best_window_avoids_clipping():
    layout = [
        ("sil", 0.5),
        ("speech", 6.0),
        ("sil", 1.0),
        ("speech", 2.0),
        ("sil", 0.45),
        ("speech", 2.0),
        ("sil", 0.5),
    ]
    x, truth = utterance(layout, seed=8)
    # The first phrase has the best speech ratio but is clipped flat.
    first = slice(0, int(7.0 * SR))
    x[first] = np.clip(x[first] * 8.0, -0.3, 0.3)
    audio = Audio(x, SR)
    start, end = ref.best_window(audio, ref.detect_speech(audio))
    assert start >= truth[1][0] - 0.15 and end <= truth[2][1] + 0.15


def test_best_window_splits_one_long_region():
    x, _ = utterance([("sil", 0.5), ("speech", 25.0), ("sil", 0.5)], seed=1)
    audio = Audio(x, SR)
    start, end = ref.best_window(audio, ref.detect_speech(audio))
    assert 3.0 <= end - start <= 10.0


def test_best_window_is_none_when_too_little_speech():
    x, _ = utterance([("sil", 0.5), ("speech", 2.0), ("sil", 0.5)], seed=2)
    audio = Audio(x, SR)
    assert ref.best_window(audio, ref.detect_speech(audio)) is None


# ------------------------------------------------------------------ quality


def test_clean_speech_gets_a_clean_report():
    x, _ = utterance(TWO_PHRASES, seed=0, noise_level=3e-4)
    audio = Audio(x, SR)
    report = ref.quality_report(audio, ref.detect_speech(audio))
    assert report.ok and report.level() == "ok"
    assert {f.code for f in report.findings} >= {"length", "clean", "no_clipping"}
    assert report.snr_db > 40
    assert report.clipping_ratio == 0.0
    assert report.sample_rate == SR
    assert report.duration_s == pytest.approx(audio.seconds)
    assert report.speech_ratio == pytest.approx(4.5 / audio.seconds, abs=0.05)
    assert report.peak == pytest.approx(0.3, abs=0.01)
    assert report.peak_dbfs == pytest.approx(20 * np.log10(report.peak))
    assert -40 < report.loudness_lufs < -10
    assert report.to_dict()["findings"][0]["en"]


@pytest.mark.parametrize(("snr", "code", "level"), [(5.0, "too_noisy", "error"), (18.0, "noisy", "warning")])
def test_report_flags_added_noise(snr, code, level):
    x, truth = utterance(TWO_PHRASES, seed=2, noise_level=0.0)
    audio = Audio(_with_snr(x, truth, snr), SR)
    report = ref.quality_report(audio, ref.detect_speech(audio))
    assert report.snr_db == pytest.approx(snr, abs=1.5)
    finding = next(f for f in report.findings if f.code == code)
    assert finding.level == level
    assert "quieter room" in finding.en and "安静" in finding.zh


def test_report_flags_clipping():
    x, _ = utterance(TWO_PHRASES, seed=3)
    clipped = Audio(np.clip(x * 6.0, -1.0, 1.0), SR)
    report = ref.quality_report(clipped, ref.detect_speech(clipped))
    assert report.clipping_ratio > 0.01
    finding = next(f for f in report.findings if f.code == "clipped")
    assert finding.level == "error" and "lower the input gain" in finding.en and "音量" in finding.zh
    assert not report.ok


def test_report_flags_short_speech_and_telephone_sample_rate():
    sr = 8_000
    x = np.concatenate([np.zeros(sr // 2), speech(2.0, sr=sr), np.zeros(sr // 2)]).astype(np.float32)
    audio = Audio(x, sr)
    codes = {f.code: f.level for f in ref.quality_report(audio, ref.detect_speech(audio)).findings}
    assert codes["short"] == "warning"
    assert codes["low_sample_rate"] == "warning"


def test_report_without_speech_is_an_error():
    report = ref.quality_report(Audio(noise(3.0), SR), [])
    assert [f.code for f in report.findings] == ["no_speech"] and not report.ok


# ------------------------------------------------------------------ loudness


def test_loudness_meter_matches_bs1770_reference_tone():
    # A 997 Hz sine at -20 dBFS peak reads -23.0 LUFS (BS.1770: full-scale sine = -3.01 LUFS).
    t = np.arange(5 * 48_000) / 48_000
    tone = Audio((0.1 * np.sin(2 * np.pi * 997 * t)).astype(np.float32), 48_000)
    assert ref.measure_loudness(tone) == pytest.approx(-23.0, abs=0.1)


def test_normalize_loudness_reaches_the_target():
    x, _ = utterance(TWO_PHRASES, seed=6)
    out = ref.normalize_loudness(Audio(x * 0.2, SR), target_lufs=-20.0)
    assert ref.measure_loudness(out) == pytest.approx(-20.0, abs=0.1)


def test_normalize_loudness_keeps_peaks_under_minus_1_dbfs():
    x, _ = utterance(TWO_PHRASES, seed=6)
    out = ref.normalize_loudness(Audio(x, SR), target_lufs=-5.0)
    assert np.abs(out.samples).max() == pytest.approx(10 ** (-1 / 20), abs=1e-4)
    assert ref.measure_loudness(out) < -5.0


def test_normalize_loudness_of_silence_is_a_clear_error():
    with pytest.raises(AudioError, match="silent"):
        ref.normalize_loudness(Audio(np.zeros(SR, dtype=np.float32), SR))


# ------------------------------------------------------------------ chain


def test_prepare_reference_picks_a_window_of_a_long_recording():
    audio, _ = _long_recording(seed=5)
    prepared = ref.prepare_reference(audio)
    assert prepared.audio.sr == MODEL_SR and prepared.audio.samples.ndim == 1
    assert 3.0 <= prepared.audio.seconds <= 10.0
    assert prepared.windowed
    assert ref.measure_loudness(prepared.audio) == pytest.approx(-20.0, abs=0.5)
    start, end = prepared.source_span
    assert 0.0 <= start < end <= audio.seconds
    assert end - start >= prepared.audio.seconds - 0.05  # pauses may only have been shortened
    assert all(0.0 <= s < e <= prepared.audio.seconds + 1e-6 for s, e in prepared.regions)
    assert prepared.report.duration_s == pytest.approx(audio.seconds)


def test_prepare_reference_keeps_a_short_clip_whole():
    x, truth = utterance([("sil", 1.5), ("speech", 4.0), ("sil", 2.0)], seed=9)
    prepared = ref.prepare_reference(Audio(x, SR))
    assert not prepared.windowed
    assert prepared.audio.seconds == pytest.approx(4.0 + 0.2, abs=0.1)
    assert prepared.source_span == pytest.approx((truth[0][0] - 0.1, truth[0][1] + 0.1), abs=0.1)


@pytest.mark.parametrize(
    "signal", [np.zeros(3 * SR, dtype=np.float32), noise(4.0, level=0.2)], ids=["silence", "noise"]
)
def test_prepare_reference_refuses_audio_without_speech(signal):
    with pytest.raises(AudioError) as err:
        ref.prepare_reference(Audio(signal, SR))
    assert "No speech" in err.value.en and "没有" in err.value.zh


def test_prepare_reference_refuses_too_little_speech():
    x = np.concatenate([np.zeros(SR), speech(0.5), np.zeros(SR)]).astype(np.float32)
    with pytest.raises(AudioError) as err:
        ref.prepare_reference(Audio(x, SR))
    assert "at least 1 s" in err.value.en or "No speech" in err.value.en


@pytest.mark.parametrize(("sr", "channels"), [(8_000, 1), (96_000, 1), (44_100, 2)])
def test_prepare_reference_from_files_of_any_rate_and_channel_count(tmp_path, sr, channels):
    x, _ = utterance([("sil", 0.5), ("speech", 3.5), ("sil", 0.5)], sr=sr, seed=sr)
    data = np.stack([x, x * 0.5], axis=1) if channels == 2 else x
    path = write_wav(tmp_path / "in.wav", data, sr)
    prepared = ref.prepare_reference(path)
    assert prepared.audio.sr == MODEL_SR and prepared.audio.samples.ndim == 1
    assert prepared.report.sample_rate == sr
    assert prepared.audio.seconds == pytest.approx(3.5 + 0.2, abs=0.15)


def test_prepare_reference_refuses_a_one_hour_file_before_decoding_it(tmp_path, monkeypatch):
    path = tmp_path / "hour.wav"
    with sf.SoundFile(str(path), "w", samplerate=1000, channels=1, subtype="PCM_16") as f:
        f.write(np.zeros(3600 * 1000, dtype=np.int16))

    def no_decoding(*args, **kwargs):
        raise AssertionError("the whole file was decoded")

    monkeypatch.setattr(sf, "read", no_decoding)
    with pytest.raises(AudioError) as err:
        ref.prepare_reference(path)
    assert "600 s" in err.value.en and "600 秒" in err.value.zh


# ------------------------------------------------------------------ phone formats (ffmpeg)


def _encode(path: Path, x: np.ndarray, sr: int, channels: int = 1) -> Path:
    from studio.audio import _ffmpeg_exe

    data = np.stack([x, 0.5 * x], axis=1) if channels == 2 else x
    cmd = [_ffmpeg_exe(), "-y", "-v", "error", "-f", "f32le", "-ar", str(sr), "-ac", str(channels), "-i", "pipe:0"]
    subprocess.run([*cmd, "-c:a", "aac", str(path)], input=data.astype("<f4").tobytes(), check=True)
    return path


@pytest.mark.parametrize("suffix", [".m4a", ".aac", ".mp4"])
def test_phone_recordings_in_aac_are_decoded(tmp_path, suffix):
    x, truth = utterance([("sil", 1.0), ("speech", 3.0), ("sil", 1.0)], sr=44_100, seed=12)
    path = _encode(tmp_path / f"voice memo{suffix}", x, 44_100, channels=2)
    prepared = ref.prepare_reference(path)
    assert prepared.report.sample_rate == 44_100
    assert prepared.report.duration_s == pytest.approx(5.0, abs=0.1)
    assert prepared.source_span == pytest.approx((truth[0][0] - 0.1, truth[0][1] + 0.1), abs=0.1)


def test_a_long_m4a_is_refused_before_it_is_decoded(tmp_path, monkeypatch):
    import studio.audio

    path = _encode(tmp_path / "long.m4a", speech(5.0, sr=SR), SR)
    calls: list[list[str]] = []
    real_run = subprocess.run

    def spy(args, *a, **kw):
        calls.append([str(arg) for arg in args])
        return real_run(args, *a, **kw)

    monkeypatch.setattr(studio.audio, "MAX_DECODE_SECONDS", 3.0)
    monkeypatch.setattr(subprocess, "run", spy)
    with pytest.raises(AudioError) as err:
        ref.prepare_reference(path)
    assert "the limit is 3 s" in err.value.en and "最多 3 秒" in err.value.zh
    assert calls, "ffmpeg probed the file"
    assert not any("pipe:1" in args for args in calls), "no decoding was started"
