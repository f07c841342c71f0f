"""Every generate path end to end on tiny random checkpoints (their audio is noise)."""

import numpy as np
import pytest

from studio.audio import MODEL_SR
from studio.backend import SAMPLES_PER_FRAME
from studio.engine import MAX_TEXT_CHARS, Engine
from studio.errors import AudioError, Cancelled, InputError, ModelMismatchError, NotFoundError, ResourceError, TextError
from studio.models import ModelManager
from studio.progress import CancelToken
from studio.settings import Settings
from studio.synthesis import Sampling, max_steps_for
from tests.helpers import voiced_clip

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine():
    return Engine(ModelManager(Settings(dtype="float32")))


REF = (MODEL_SR, voiced_clip(3.0))


def test_clone_icl_runs_to_the_length_cap(engine, tiny_base):
    text = "你好，世界。"
    result = engine.clone(text, REF, transcript="这是参考音频。", model=str(tiny_base), seed=1)
    assert result.sr == MODEL_SR and result.samples.dtype == np.float32 and result.samples.ndim == 1
    # Random weights never emit EOS: the talker runs exactly to the cap, and decoding
    # gives one 1920-sample frame per step (minus rounding at the reference cut).
    assert result.max_new_tokens == max_steps_for(text)
    assert abs(len(result.samples) - result.max_new_tokens * SAMPLES_PER_FRAME) <= 2 * SAMPLES_PER_FRAME
    assert np.sqrt(np.mean(result.samples**2)) > 1e-3  # audible noise, not silence
    assert result.timings["generate"] > 0


def test_same_seed_same_audio(engine, tiny_base):
    first = engine.clone("种子测试。", REF, transcript="参考。", model=str(tiny_base), seed=7)
    again = engine.clone("种子测试。", REF, transcript="参考。", model=str(tiny_base), seed=7)
    other = engine.clone("种子测试。", REF, transcript="参考。", model=str(tiny_base), seed=8)
    assert np.array_equal(first.samples, again.samples)
    assert not np.array_equal(first.samples, other.samples)


def test_random_seed_is_reported_and_reproduces(engine, tiny_base):
    drawn = engine.clone("随机种子。", REF, transcript="参考。", model=str(tiny_base))
    replay = engine.clone("随机种子。", REF, transcript="参考。", model=str(tiny_base), seed=drawn.seed)
    assert np.array_equal(drawn.samples, replay.samples)


def test_clone_x_vector_only_needs_no_transcript(engine, tiny_base):
    result = engine.clone("只用声纹。", REF, x_vector_only=True, model=str(tiny_base), seed=1)
    frames = len(result.samples) / SAMPLES_PER_FRAME
    assert frames.is_integer() and result.max_new_tokens - 1 <= frames <= result.max_new_tokens


def test_clone_batch_returns_one_clip_per_text(engine, tiny_base):
    results = engine.clone_batch(["一。", "二三四五。"], REF, transcript="参考。", model=str(tiny_base), seed=3)
    assert len(results) == 2 and all(r.sr == MODEL_SR and len(r.samples) > 0 for r in results)


def test_reference_is_encoded_once_per_voice(engine, tiny_base, monkeypatch):
    engine.clone("预热。", REF, transcript="缓存。", model=str(tiny_base), seed=1)
    tts = engine.manager.loaded.tts
    calls = []
    original = tts.create_voice_clone_prompt
    monkeypatch.setattr(tts, "create_voice_clone_prompt", lambda **kw: calls.append(1) or original(**kw))
    engine.clone("第二次。", REF, transcript="缓存。", model=str(tiny_base), seed=1)
    assert calls == []
    engine.clone("换了文字内容。", REF, transcript="另一段参考。", model=str(tiny_base), seed=1)
    assert calls == [1]


def test_custom_voice_with_instruction(engine, tiny_custom):
    result = engine.custom(
        "你好。", "vivian", instruct="用开心的语气说", language="中文", model=str(tiny_custom), seed=1
    )
    assert result.sr == MODEL_SR and len(result.samples) > SAMPLES_PER_FRAME


def test_voice_design(engine, tiny_design):
    result = engine.design("你好。", "温柔的年轻女声", language="Chinese", model=str(tiny_design), seed=1)
    assert result.sr == MODEL_SR and len(result.samples) > SAMPLES_PER_FRAME


def test_first_call_reports_load_time_then_not(engine, tiny_design):
    engine.manager.unload()
    first = engine.design("加载。", "低沉的男声", model=str(tiny_design), seed=1)
    second = engine.design("不再加载。", "低沉的男声", model=str(tiny_design), seed=1)
    assert first.timings["load"] > 0 and "load" not in second.timings


def test_progress_reports_steps_and_cancel_stops_generation(engine, tiny_base):
    token = CancelToken()
    seen = []

    def progress(fraction, message):
        seen.append(fraction)
        if fraction is not None and fraction > 0.3:
            token.cancel()

    with pytest.raises(Cancelled):
        engine.clone(
            "一段会被取消的文字，" * 5, REF, transcript="参考。", model=str(tiny_base), progress=progress, cancel=token
        )
    steps = [f for f in seen if f is not None]
    assert steps and max(steps) < 0.5  # stopped soon after the request, long before the cap
    # The engine stays usable after a cancel.
    assert len(engine.clone("继续。", REF, transcript="参考。", model=str(tiny_base), seed=1).samples) > 0


def test_wrong_model_kind_is_explained(engine, tiny_base, tiny_custom):
    with pytest.raises(ModelMismatchError) as info:
        engine.custom("你好", "Vivian", model=str(tiny_base))
    assert "CustomVoice" in info.value.en
    with pytest.raises(ModelMismatchError):
        engine.clone("你好", REF, transcript="参考", model=str(tiny_custom))


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"text": ""}, TextError, "empty"),
        ({"text": "   \n"}, TextError, "empty"),
        ({"text": "字" * (MAX_TEXT_CHARS + 1)}, TextError, "too long"),
        ({"transcript": ""}, InputError, "transcript"),
        ({"reference": (MODEL_SR, voiced_clip(0.5))}, AudioError, "too short"),
        ({"reference": (MODEL_SR, voiced_clip(61.0))}, AudioError, "too long"),
        ({"reference": (MODEL_SR, np.zeros(MODEL_SR * 3, dtype=np.float32))}, AudioError, "silent"),
        ({"reference": "/no/such/file.wav"}, AudioError, "not found"),
        ({"language": "Klingon"}, NotFoundError, "Unsupported language"),
    ],
)
def test_bad_clone_input_is_refused_before_generating(engine, tiny_base, kwargs, error, fragment):
    call = {"text": "你好", "reference": REF, "transcript": "参考", "model": str(tiny_base)} | kwargs
    with pytest.raises(error) as info:
        engine.clone(**call)
    assert fragment in info.value.en and info.value.zh


def test_unknown_speaker_and_instruct_on_small_custom_model(engine, tiny_custom):
    with pytest.raises(NotFoundError, match="Vivian"):
        engine.custom("你好", "Nobody", model=str(tiny_custom))


def test_not_a_checkpoint_folder(engine, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    from studio.errors import CheckpointError

    with pytest.raises(CheckpointError):
        engine.clone("你好", REF, transcript="参考", model=str(tmp_path))


def test_out_of_memory_gives_advice_and_frees_the_model(engine, tiny_base, monkeypatch):
    import torch

    engine.clone("预热。", REF, transcript="参考。", model=str(tiny_base), seed=1)

    def boom(**kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(engine.manager.loaded.tts, "generate_voice_clone", boom)
    with pytest.raises(ResourceError) as info:
        engine.clone("你好。", REF, transcript="参考。", model=str(tiny_base))
    assert "0.6B" in info.value.en and "CPU" in info.value.en
    assert engine.manager.loaded is None
    monkeypatch.undo()
    assert len(engine.clone("恢复了。", REF, transcript="参考。", model=str(tiny_base), seed=1).samples) > 0


# -- text preparation, long text, saved voices ----------------------------------------------------


def test_pinned_readings_and_numbers_reach_the_model_rewritten(engine, tiny_base):
    result = engine.clone("银行(hang2)利率是 2%。", REF, transcript="参考。", model=str(tiny_base), seed=1)
    assert "(" not in result.model_text and "百分之二" in result.model_text
    assert "行" not in result.model_text  # the pinned 行 went to the model as an unambiguous homophone
    as_written = engine.clone("利率是 2%。", REF, transcript="参考。", model=str(tiny_base), seed=1, normalize=False)
    assert "2%" in as_written.model_text


def test_long_text_is_generated_in_bounded_segments(engine, tiny_base, monkeypatch):
    sentence = "这是一个用来测试分段生成的句子，它有二十多个字。"
    text = sentence * 8  # ~190 characters: more than one segment
    calls = []
    original = engine._generate_once

    def spy(loaded, method, texts, *args, **kwargs):
        calls.append(texts)
        return original(loaded, method, texts, *args, **kwargs)

    monkeypatch.setattr(engine, "_generate_once", spy)
    few_steps = Sampling(max_new_tokens=6)  # random weights never stop by themselves
    result = engine.clone(text, REF, transcript="参考。", model=str(tiny_base), seed=2, sampling=few_steps)
    assert result.segments == len(calls) >= 2
    assert all(len(texts) == 1 and len(texts[0]) <= 120 for texts in calls)
    assert "".join(t[0] for t in calls) == result.model_text.replace(" ", "")
    assert result.seed == 2


def test_saved_voice_clones_and_keeps_its_prompt_on_disk(tiny_base, tmp_path, monkeypatch):
    from studio.voices import VoiceLibrary

    library = VoiceLibrary(tmp_path / "voices")
    library.create("主播", (voiced_clip(4.0, seed=1), MODEL_SR), "这是中性的参考。", consent=True)
    library.add_clip("主播", (voiced_clip(3.0, seed=2), MODEL_SR), "happy", "这是开心的参考。")
    first = Engine(ModelManager(Settings(dtype="float32")), voices=library)
    result = first.clone("你好。", voice="主播", model=str(tiny_base), seed=1)
    assert result.samples.size > 0
    assert list((library.get("主播").path / "prompts").glob("*.pt"))

    fresh = Engine(ModelManager(Settings(dtype="float32")), voices=library)
    encoded = []
    loaded = fresh.manager.get(str(tiny_base), "base")
    original = loaded.tts.create_voice_clone_prompt
    monkeypatch.setattr(loaded.tts, "create_voice_clone_prompt", lambda **kw: encoded.append(kw) or original(**kw))
    again = fresh.clone("你好。", voice="主播", model=str(tiny_base), seed=1)
    assert encoded == []  # read back from disk, not re-encoded
    assert np.allclose(again.samples, result.samples, atol=1e-5)
    fresh.clone("你好。", voice="主播", clip="happy", model=str(tiny_base), seed=1)
    assert len(encoded) == 1 and encoded[0]["ref_text"] == "这是开心的参考。"
    with pytest.raises(NotFoundError, match="angry"):
        fresh.clone("你好。", voice="主播", clip="angry", model=str(tiny_base))
    with pytest.raises(NotFoundError):
        fresh.clone("你好。", voice="没有这个声音", model=str(tiny_base))
    with pytest.raises(InputError, match="reference clip"):
        fresh.clone("你好。", model=str(tiny_base))


def test_emotion_intensity_on_base_blends_the_speaker_embedding(tiny_base, tmp_path, monkeypatch):
    from studio.voices import VoiceLibrary

    library = VoiceLibrary(tmp_path / "voices")
    library.create("配音员", (voiced_clip(4.0, seed=3), MODEL_SR), "这是中性的参考。", consent=True)
    library.add_clip("配音员", (voiced_clip(3.0, seed=4), MODEL_SR), "angry", "这是生气的参考。")
    engine = Engine(ModelManager(Settings(dtype="float32")), voices=library)
    prompts = []
    original = engine._generate

    def spy(*args, **kwargs):
        prompts.append(kwargs["voice_clone_prompt"][0])
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "_generate", spy)
    few = Sampling(max_new_tokens=6)
    common = {"voice": "配音员", "model": str(tiny_base), "seed": 1, "sampling": few}
    engine.clone("你好。", **common)  # neutral
    engine.clone("你好。", clip="angry", **common)  # intensity 1: all from the angry clip
    engine.clone("你好。", clip="angry", intensity=0.25, **common)
    neutral, angry, blended = prompts
    expected = 0.75 * neutral.ref_spk_embedding + 0.25 * angry.ref_spk_embedding
    assert not np.allclose(neutral.ref_spk_embedding.float().numpy(), angry.ref_spk_embedding.float().numpy())
    assert np.allclose(blended.ref_spk_embedding.float().numpy(), expected.float().numpy(), atol=1e-6)
    assert blended.ref_text == angry.ref_text and bool((blended.ref_code == angry.ref_code).all())
    with pytest.raises(InputError, match="Intensity"):
        engine.clone("你好。", clip="angry", intensity=1.5, **common)
