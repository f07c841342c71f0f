"""The talker's decode step on fixed buffers (studio.accel.static_talker), run eagerly on CPU.

On CUDA this step is what gets captured as a graph; here it is checked against
the ordinary growing-cache step: same hidden states to float rounding (masked
attention over the whole buffer sums in another order), left padding of a batch
respected, the same greedy codes through a whole clone, and the ordinary forward
for anything else.
"""

from __future__ import annotations

import pytest
import torch

from studio import accel
from studio.accel.kv_cache import PreallocatedCache
from studio.accel.static_talker import StaticTalkerStep, static_talker_steps
from studio.backend import qwen_tts
from tests.helpers import voiced_clip

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]

PROMPT, STEPS = 7, 5


@pytest.fixture(scope="module")
def tts(tiny_base):
    return qwen_tts().Qwen3TTSModel.from_pretrained(str(tiny_base), device_map="cpu", dtype=torch.float32)


def decode(talker, embeds, mask, static: bool):
    """Hidden states of a PROMPT-token prefill and STEPS one-token steps, with the static step or without."""
    batch = embeds.shape[0]
    cache = PreallocatedCache(talker.config.num_hidden_layers, PROMPT + STEPS)
    model = talker.model
    outputs = []
    with torch.inference_mode(), static_talker_steps(talker, graphs=False) if static else _nothing() as calls:
        model(inputs_embeds=embeds[:, :PROMPT], attention_mask=mask[:, :PROMPT], past_key_values=cache, use_cache=True)
        for step in range(STEPS):
            seen = PROMPT + step
            position = mask[:, : seen + 1].sum(-1, keepdim=True) - 1  # left padding shifts positions
            out = model(
                inputs_embeds=embeds[:, seen : seen + 1],
                attention_mask=mask[:, : seen + 1],
                position_ids=position[None].expand(3, batch, 1),
                past_key_values=cache,
                use_cache=True,
                cache_position=torch.tensor([seen]),
            )
            outputs.append(out.last_hidden_state)
    assert cache.get_seq_length() == PROMPT + STEPS
    return torch.cat(outputs, 1), calls


class _nothing:
    def __enter__(self):
        return {}

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("batch", [1, 2])
def test_static_step_gives_the_growing_cache_step_hidden_states(tts, batch):
    talker = tts.model.talker
    torch.manual_seed(6)
    embeds = torch.randn(batch, PROMPT + STEPS, talker.config.hidden_size)
    mask = torch.ones(batch, PROMPT + STEPS, dtype=torch.long)
    if batch == 2:
        mask[1, :3] = 0  # the second item is shorter: left-padded
    expected, _ = decode(talker, embeds, mask, static=False)
    got, calls = decode(talker, embeds, mask, static=True)
    assert calls == {"static": STEPS, "original": 1}  # the prompt takes the ordinary forward
    assert got.shape == expected.shape == (batch, STEPS, talker.config.hidden_size)
    assert torch.allclose(got, expected, atol=1e-5, rtol=1e-4)
    assert "forward" not in talker.model.__dict__  # restored


def test_the_mask_hides_unwritten_positions_and_padding(tts):
    talker = tts.model.talker
    cache = PreallocatedCache(talker.config.num_hidden_layers, 10)
    embeds = torch.randn(2, 4, talker.config.hidden_size)
    with torch.inference_mode():
        talker.model(inputs_embeds=embeds, past_key_values=cache, use_cache=True)
        step = StaticTalkerStep(talker, cache, embeds[:, :1])
        positions = torch.full((3, 2, 1), 4)
        step.load(embeds[:, :1], positions, torch.tensor([[0, 1, 1, 1, 1], [1, 1, 1, 1, 1]]), start=4)
    visible = step.mask[:, 0, 0] == 0
    assert visible.tolist() == [[False, True, True, True, True] + [False] * 5, [True] * 5 + [False] * 5]
    assert int(step.kv.index) == 4


def test_a_clone_with_the_static_step_draws_the_same_greedy_codes(tts, monkeypatch):
    prompt = tts.create_voice_clone_prompt(ref_audio=(voiced_clip(2.0), 24_000), ref_text="这是参考音频。")
    eos = tts.model.config.talker_config.vocab_size - 1  # never sampled: forces the length
    kwargs = dict(
        text="今天天气很好。",
        language="Chinese",
        voice_clone_prompt=prompt,
        max_new_tokens=8,
        eos_token_id=eos,
        do_sample=False,
        subtalker_dosample=False,
    )
    codes = []
    original = tts.model.generate

    def recording(*args, **kw):
        result = original(*args, **kw)
        codes.append(result[0][0])
        return result

    tts.model.generate = recording
    try:
        bare, _ = tts.generate_voice_clone(**kwargs)
        steps = []
        run = StaticTalkerStep.__call__
        monkeypatch.setattr(StaticTalkerStep, "__call__", lambda self: steps.append(1) or run(self))
        fast, _ = accel.generate(tts, "generate_voice_clone", options=accel.Options(static_talker=True), **kwargs)
    finally:
        del tts.model.generate
    assert (
        len(codes) == 2 and codes[0].shape == codes[1].shape and codes[0].shape[0] == 8 - 1
    )  # the last frame sampled is never completed
    assert torch.equal(codes[0], codes[1])
    assert len(steps) == 8 - 1  # every step after the prompt ran on the fixed buffers
    assert len(fast[0]) == len(bare[0]) > 0
    assert not accel.graphed_talker(tts)  # a CPU model: off unless asked for, and never a graph
