"""The UI's own logic (readings view, pins, timing controls, reference check) without a browser, a model or Gradio."""

import subprocess
import sys

import pytest
import soundfile as sf

from studio.engine import Engine
from studio.errors import InputError
from studio.text import pinyin_report
from studio.ui.clip_views import analyse_clip, trimmed_reference, waveform_image
from studio.ui.text_views import delivery_from, model_text_markdown, reading_candidates, reading_highlights
from tests.audio_fixtures import utterance
from tests.helpers import ROOT, voiced_clip


@pytest.fixture(scope="module")
def engine():
    return Engine()


def test_highlights_map_one_to_one_onto_the_text_and_mark_polyphones(engine):
    text = "他长大了，头发很长(cháng)。"
    highlights = reading_highlights(engine, text)
    assert "".join(char for char, _ in highlights) == text
    labels = dict(enumerate(label for _, label in highlights))
    # 长 in 长大 predicted in context; ⚠ when the model and the word data disagree (they do here)
    flagged = {e["position"] for e in pinyin_report(text) if e["low_confidence"]}
    assert labels[1] == ("⚠zhǎng" if 1 in flagged else "zhǎng")
    assert labels[8] == "📌cháng"  # the pinned one shows its pin
    assert labels[0] is None or labels[0] == "tā"
    assert labels[9] is None  # the pin's own parenthesis is plain text
    assert set(reading_candidates(engine, text, 1)) >= {"zhǎng", "cháng"}
    assert reading_candidates(engine, text, 4) == []  # punctuation: nothing to pin
    assert reading_highlights(engine, "   ") == []


def test_model_text_shows_what_is_sent(engine):
    shown = model_text_markdown(engine, "涨了 2%，重(chóng)新开始", True, "en")
    assert "百分之二" in shown and "Sent to the model" in shown and "重" not in shown.split("**")[-1]
    assert "2%" in model_text_markdown(engine, "涨了 2%", False, "zh")


def test_timing_controls_map_to_a_delivery():
    natural = delivery_from(0, 1.0, 1)
    assert natural.duration is None and natural.ratio is None
    exact = delivery_from(3.5, 1.0, 3)
    assert exact.duration == 3.5 and exact.ratio is None and exact.takes == 3
    slower = delivery_from(0, 1.25, 1)
    assert slower.duration is None and slower.ratio == 1.25
    with pytest.raises(InputError):
        delivery_from(-2, 1.0, 1).check()


def test_reference_check_draws_speech_and_proposes_a_window(tmp_path):
    layout = [("sil", 1.0)] + [("speech", 2.5), ("sil", 0.4)] * 6 + [("sil", 1.0)]  # 19 s: over the sweet spot
    samples, _ = utterance(layout)
    path = tmp_path / "long.wav"
    sf.write(path, samples, 24_000)
    image, report, start, end = analyse_clip(str(path), "en")
    assert image.size == (900, 140)
    assert "SNR" in report and "proposed" in report
    assert 3.0 <= end - start <= 10.0
    kept = trimmed_reference(str(path), start, end)
    assert kept.audio.sr == 24_000 and kept.audio.seconds <= end - start + 0.01
    with pytest.raises(InputError, match="start must be before end"):
        trimmed_reference(str(path), 5, 2)


def test_waveform_marks_speech_regions_green():
    from studio.audio import Audio

    image = waveform_image(Audio(voiced_clip(2.0), 24_000), [(0.5, 1.0)], None)
    green = image.getpixel((int(0.75 / 2.0 * 899), 2))
    white = image.getpixel((int(1.75 / 2.0 * 899), 2))
    assert green == (214, 245, 214) and white == (255, 255, 255)


def test_these_helpers_are_tested_without_gradio():
    code = (
        "import sys, studio.ui.text_views, studio.ui.clip_views, studio.ui.markdown; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'gradio'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
