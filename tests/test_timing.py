"""Exact duration: trimming, pauses, pitch-preserving stretch, and the sample-exact result."""

import numpy as np
import pytest

from studio.errors import InputError
from studio.timing import adjust_pauses, fit_to_duration, resolve_target, time_stretch, trim_edges
from tests.helpers import voiced_clip

SR = 24_000


def phrase_with_pause() -> np.ndarray:
    silence = np.zeros(int(0.3 * SR), dtype=np.float32)
    return np.concatenate(
        [silence, voiced_clip(1.5, SR, 1), np.zeros(int(0.6 * SR), np.float32), voiced_clip(1.5, SR, 2), silence]
    )


def median_f0(samples: np.ndarray) -> float:
    import parselmouth

    pitch = parselmouth.Sound(samples.astype(np.float64), SR).to_pitch(pitch_floor=60, pitch_ceiling=400)
    f0 = pitch.selected_array["frequency"]
    return float(np.median(f0[f0 > 0]))


@pytest.mark.parametrize("ratio", [0.5, 0.75, 1.0, 1.25, 1.5, 2.0])
def test_ratio_targets_land_within_10_ms(ratio):
    clip = phrase_with_pause()
    target = resolve_target(len(clip) / SR, ratio=ratio)
    out, report = fit_to_duration(clip, SR, target)
    assert abs(len(out) / SR - target) <= 0.010
    assert report.final_s == pytest.approx(target, abs=0.010)
    assert report.natural_s == pytest.approx(len(clip) / SR)


@pytest.mark.parametrize("seconds", [1.7, 3.0, 4.2, 6.5])
def test_absolute_targets_land_within_10_ms(seconds):
    out, _ = fit_to_duration(phrase_with_pause(), SR, seconds)
    assert abs(len(out) / SR - seconds) <= 0.010


@pytest.mark.parametrize("factor", [0.6, 0.8, 1.25, 1.6])
def test_stretch_preserves_pitch_and_adds_no_clipping(factor):
    clip = voiced_clip(2.0, SR)
    out = time_stretch(clip, SR, factor)
    assert len(out) == pytest.approx(len(clip) * factor, rel=0.02)
    assert abs(median_f0(out) / median_f0(clip) - 1) < 0.03
    assert np.max(np.abs(out)) <= max(1.0, np.max(np.abs(clip)) * 1.05)


def test_edge_silence_is_trimmed_first():
    clip = phrase_with_pause()
    trimmed = trim_edges(clip, SR)
    assert 0.45 < (len(clip) - len(trimmed)) / SR < 0.6  # 0.3 s each side, minus the kept 30 ms pads
    _out, report = fit_to_duration(clip, SR, len(trimmed) / SR)
    assert report.trimmed_s > 0.45 and abs(report.stretch - 1) < 0.01


def test_pauses_absorb_small_changes_before_any_stretch():
    clip = trim_edges(phrase_with_pause(), SR)
    shorter, change = adjust_pauses(clip, SR, -0.3)
    assert change == pytest.approx(-0.3, abs=0.01) and len(shorter) == len(clip) - round(0.3 * SR)
    _longer, change = adjust_pauses(clip, SR, 0.2)
    assert change == pytest.approx(0.2, abs=0.01)


def test_no_discontinuity_where_a_pause_was_cut():
    clip = trim_edges(phrase_with_pause(), SR)
    shorter, _ = adjust_pauses(clip, SR, -0.4)
    assert np.max(np.abs(np.diff(shorter))) <= np.max(np.abs(np.diff(clip))) + 1e-6


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"seconds": 0.2}, "between 0.3 s"),
        ({"seconds": 601}, "between 0.3 s"),
        ({"seconds": float("nan")}, "invalid"),
        ({"ratio": 0}, "positive"),
        ({"ratio": -1}, "positive"),
        ({"ratio": 2.5}, "allowed range"),
        ({"seconds": 2.0, "ratio": 1.0}, "not both"),
    ],
)
def test_bad_targets(kwargs, fragment):
    with pytest.raises(InputError) as info:
        resolve_target(3.0, **kwargs)
    assert fragment in info.value.en and info.value.zh


def test_impossible_target_names_the_achievable_range():
    with pytest.raises(InputError) as info:
        fit_to_duration(phrase_with_pause(), SR, 12.0)
    assert "achievable range" in info.value.en and "可调范围" in info.value.zh


def test_sampling_values_are_checked_and_presets_saved(tmp_path):
    import json
    import shutil

    from studio.errors import InputError
    from studio.paths import PRESETS_DIR
    from studio.style import check_sampling, sampling_presets, save_sampling_preset

    sampling = check_sampling({"temperature": 0.4, "top_k": "12", "top_p": None})
    assert sampling.temperature == 0.4 and sampling.top_k == 12 and sampling.top_p is None
    for bad in ({"temperature": float("nan")}, {"top_k": -3}, {"top_p": "many"}, {"beam": 2}):
        with pytest.raises(InputError):
            check_sampling(bad)
    path = tmp_path / "sampling.json"
    shutil.copy(PRESETS_DIR / "sampling.json", path)
    save_sampling_preset("我的", {"temperature": 0.35, "top_k": 9}, path=path)
    saved = {p["id"]: p for p in json.loads(path.read_text(encoding="utf-8"))["presets"]}
    assert saved["我的"]["temperature"] == 0.35 and saved["我的"]["top_k"] == 9 and "stable" in saved
    with pytest.raises(InputError):
        save_sampling_preset("../evil", {}, path=path)
    assert "我的" not in sampling_presets()  # the shipped presets file was not touched
