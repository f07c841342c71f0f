"""Output: loudness, true peak, fades, every format and rate, and the tags."""

import numpy as np
import pytest
import soundfile as sf

from studio.errors import InputError
from studio.export import (
    FORMATS,
    SAMPLE_RATES,
    Tags,
    export_audio,
    fade_edges,
    integrated_loudness,
    polish,
    read_tags,
    true_peak_db,
)
from tests.helpers import voiced_clip

SR = 24_000


@pytest.mark.parametrize("target", [-23.0, -16.0, -14.0])
def test_loudness_lands_within_half_a_lu_with_true_peak_below_ceiling(target):
    loud = voiced_clip(4.0) * 3.0  # clipped-hot input forces the limiter to work
    out = polish(np.clip(loud, -1, 1), SR, target_lufs=target)
    assert abs(integrated_loudness(out, SR) - target) <= 0.5
    assert true_peak_db(out, SR) <= -1.0 + 0.1


def test_fades_remove_clicks_at_the_edges():
    out = fade_edges(np.ones(SR, dtype=np.float32), SR)
    assert out[0] == 0.0 and out[-1] == 0.0 and out[SR // 2] == 1.0


def test_silence_is_left_alone():
    assert not np.any(polish(np.zeros(SR, dtype=np.float32), SR))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("rate", SAMPLE_RATES)
def test_every_format_round_trips_with_rate_length_and_tags(tmp_path, fmt, rate):
    clip = polish(voiced_clip(2.0), SR)
    path = export_audio(
        clip, SR, tmp_path / f"line.{fmt}", sample_rate=rate, tags=Tags(title="第一场", voice="小王", model="0.6b-base")
    )
    data, file_rate = sf.read(path)
    assert file_rate == rate
    assert abs(len(data) / rate - 2.0) < 0.06  # mp3/ogg frames pad a little
    tags = read_tags(path)
    assert tags["title"] == "第一场" and tags["artist"] == "小王"
    assert tags["ai_generated"] == "true" and tags["model"] == "0.6b-base"
    assert not list(tmp_path.glob(".*part*"))


def test_unknown_format_or_rate_is_refused(tmp_path):
    with pytest.raises(InputError, match="Unsupported format"):
        export_audio(voiced_clip(1.0), SR, tmp_path / "x.aiff")
    with pytest.raises(InputError, match="sample rate"):
        export_audio(voiced_clip(1.0), SR, tmp_path / "x.wav", sample_rate=22_050)
