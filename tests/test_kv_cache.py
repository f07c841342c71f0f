"""The talker's pre-allocated key/value cache against transformers' growing one: same codes, bare qwen-tts
as the reference (greedy and seeded sampling, one text and a padded batch of two)."""

from __future__ import annotations

import pytest
import torch

from studio import accel
from studio.accel.kv_cache import PreallocatedCache, preallocated_talker_cache
from studio.backend import qwen_tts
from tests.helpers import voiced_clip

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]

STEPS = 20


@pytest.fixture(scope="module")
def pair(tiny_base):
    load = qwen_tts().Qwen3TTSModel.from_pretrained
    return [load(str(tiny_base), device_map="cpu", dtype=torch.float32) for _ in range(2)]


@pytest.fixture(scope="module")
def prompt(pair):
    return pair[0].create_voice_clone_prompt(ref_audio=(voiced_clip(2.0), 24_000), ref_text="这是参考音频。")


def codes_of(tts, call, **kwargs) -> list[torch.Tensor]:
    """The talker codes of one generation (``call(tts)`` runs it)."""
    seen: list = []
    original = tts.model.generate

    def generate(*args, **kw):
        result = original(*args, **kw)
        seen.append(result[0])
        return result

    tts.model.generate = generate
    try:
        torch.manual_seed(7)
        call(tts)
    finally:
        del tts.model.generate
    return seen[0]


@pytest.mark.parametrize("sample", [False, True])
@pytest.mark.parametrize("texts", [["今天天气很好。"], ["你好。", "今天天气很好，我们出去走走吧。"]])
def test_same_codes_as_bare_qwen_tts(pair, prompt, sample, texts):
    bare, fast = pair
    knobs = {"do_sample": sample, "subtalker_dosample": sample, "max_new_tokens": STEPS, "eos_token_id": 3071}
    kwargs = dict(
        text=texts if len(texts) > 1 else texts[0], language="Chinese", voice_clone_prompt=prompt * len(texts)
    )
    expected = codes_of(bare, lambda t: t.generate_voice_clone(**kwargs, **knobs))
    options = accel.Options(lean_code_predictor=False, icl_tail_decode=False)  # the cache alone
    with preallocated_talker_cache(fast.model.talker) as calls:
        got = codes_of(fast, lambda t: accel.generate(t, "generate_voice_clone", options=options, **kwargs, **knobs))
    assert calls["preallocated"] == 1 and calls["original"] == 0
    assert len(got) == len(expected) == len(texts)
    for a, b in zip(expected, got, strict=True):
        assert a.shape[0] > 0 and torch.equal(a, b)
    assert "generate" not in fast.model.talker.__dict__


def test_cache_layers_are_views_of_one_buffer_and_grow_past_it():
    cache = PreallocatedCache(layers=2, capacity=5)
    keys = [torch.randn(1, 2, n, 4) for n in (3, 1, 1)]
    for k in keys:
        out_k, out_v = cache.update(k, -k, 0)
    assert cache.get_seq_length() == 5 and torch.equal(out_k, torch.cat(keys, dim=2)) and torch.equal(out_v, -out_k)
    assert out_k.data_ptr() == cache.layers[0].key_buffer.data_ptr()  # written in place, no copy of the past
    out_k, _ = cache.update(torch.ones(1, 2, 1, 4), torch.ones(1, 2, 1, 4), 0)  # beyond capacity: grows
    assert out_k.shape[2] == 6 and torch.equal(out_k[:, :, :5], torch.cat(keys, dim=2))


def test_cuda_graph_code_is_never_imported_off_cuda(pair, prompt):
    import sys

    sys.modules.pop("studio.accel.cuda_graphs", None)
    kwargs = dict(text="你好。", language="Chinese", voice_clone_prompt=prompt, max_new_tokens=6, eos_token_id=3071)
    accel.generate(pair[1], "generate_voice_clone", **kwargs)
    assert "studio.accel.cuda_graphs" not in sys.modules
