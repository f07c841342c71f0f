from studio import synthesis
from studio.backend import FRAME_RATE
from studio.synthesis import MAX_STEPS, MIN_STEPS, Sampling, max_steps_for


def test_cap_grows_with_text_and_stays_bounded():
    short, longer = max_steps_for("好"), max_steps_for("今天天气很好，我们去公园散步吧。")
    assert MIN_STEPS <= short < longer
    assert max_steps_for("字" * 100_000) == MAX_STEPS


def test_short_text_cannot_run_away():
    # Upstream, short texts sometimes never stop: a two-character text is capped at a few seconds.
    assert max_steps_for("你好") / FRAME_RATE <= 5.0


def test_cap_leaves_room_for_slow_speech():
    text = "这是一个用来测试长度上限的句子，有二十多个字。"
    syllables = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    slowest_seconds = syllables / 3.0  # three syllables a second is very slow Mandarin
    assert max_steps_for(text) / FRAME_RATE >= slowest_seconds


def test_latin_text_budget_is_per_letter():
    assert max_steps_for("Hello there, how are you today?") < max_steps_for("你好，今天过得怎么样？" * 3)


def test_slack_scales_the_cap():
    text = "慢一点说这句话。"
    assert max_steps_for(text, slack=2.0) > max_steps_for(text)


def test_sampling_kwargs_skip_unset_values():
    assert Sampling().kwargs() == {}
    assert Sampling(temperature=0.3, top_k=5, max_new_tokens=99).kwargs() == {"temperature": 0.3, "top_k": 5}


def test_acceleration_switches(monkeypatch):
    # Exact accelerations on by default, STUDIO_ACCEL=0 turns them off; int8 (approximate) only on request.
    monkeypatch.delenv("STUDIO_ACCEL", raising=False)
    monkeypatch.delenv("STUDIO_INT8", raising=False)
    assert synthesis.accelerated() is synthesis.ACCELERATE is True
    assert synthesis.int8_enabled() is synthesis.INT8 is False  # approximate: never on by default
    monkeypatch.setenv("STUDIO_ACCEL", "0")
    monkeypatch.setenv("STUDIO_INT8", "1")
    assert not synthesis.accelerated() and not synthesis.int8_enabled()  # int8 lives in the accelerated path
    monkeypatch.setenv("STUDIO_ACCEL", "1")
    assert synthesis.accelerated() and synthesis.int8_enabled()
    monkeypatch.setattr(synthesis, "ACCELERATE", False)
    monkeypatch.delenv("STUDIO_ACCEL")
    assert not synthesis.accelerated()
