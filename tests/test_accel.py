"""The exact accelerations (studio.accel) against bare qwen-tts on tiny random checkpoints.

Same seed -> identical codes (lean code predictor, packed bf16 weights), and the
same audio to float rounding (decoding only the new frames of a clone). The
end-to-end checks go through ``run_generation``, the studio's generation path,
with the accelerations switched off (bare qwen-tts) and on.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import weakref

import numpy as np
import pytest
import torch
from transformers.cache_utils import DynamicCache

from studio import accel, synthesis
from studio.accel import talker_layers
from studio.accel.code_predictor import LeanCodePredictor, lean_code_predictor, lean_for
from studio.accel.decode import conv_plan, decode_clone, decode_from, first_frame_needed, latents, waveform
from studio.accel.int8 import (
    _QUANTIZED,
    Int8Weight,
    _int8_forward,
    fused_int8,
    is_quantized,
    quantize_weight,
    quantized_weight,
)
from studio.accel.packing import can_pack, is_packed, pack_linears, plain_reasons, unpack_linears
from studio.backend import SAMPLES_PER_FRAME, qwen_tts
from studio.errors import Cancelled
from studio.progress import CancelToken
from studio.synthesis import Sampling, run_generation
from tests.helpers import voiced_clip

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]

REF = (voiced_clip(2.0), 24_000)
REF_TEXT = "这是参考音频。"
STEPS = 16


def load(path, dtype=torch.float32, attention: str | None = None):
    kwargs = {"attn_implementation": attention} if attention else {}
    return qwen_tts().Qwen3TTSModel.from_pretrained(str(path), device_map="cpu", dtype=dtype, **kwargs)


@pytest.fixture(scope="module")
def base_pair(tiny_base):
    """Two instances of one tiny Base checkpoint: bare, and the one the accelerations touch."""
    return load(tiny_base), load(tiny_base)


@pytest.fixture(scope="module")
def prompt(base_pair):
    """An in-context voice prompt of REF (float32)."""
    return base_pair[0].create_voice_clone_prompt(ref_audio=REF, ref_text=REF_TEXT)


@pytest.fixture(scope="module")
def code_predictors(tiny_base):
    """The tiny Base's code predictor with each attention kernel the lean loop mirrors."""
    return {name: load(tiny_base, attention=name).model.talker.code_predictor for name in ("sdpa", "eager")}


@contextlib.contextmanager
def captured_codes(tts):
    """Record the talker codes of every ``tts.model.generate`` call made within the block."""
    codes: list[list[torch.Tensor]] = []
    original = tts.model.generate

    def generate(*args, **kwargs):
        result = original(*args, **kwargs)
        codes.append(result[0])
        return result

    tts.model.generate = generate
    try:
        yield codes
    finally:
        del tts.model.generate


@contextlib.contextmanager
def switched(monkeypatch, on: bool, int8: bool = False):
    """run_generation with the accelerations on or off (the STUDIO_ACCEL switch)."""
    with monkeypatch.context() as patch:
        patch.setenv("STUDIO_ACCEL", "1" if on else "0")
        patch.setenv("STUDIO_INT8", "1" if int8 else "0")
        yield


def generate(monkeypatch, tts, method: str, texts: list[str], on: bool, seed: int = 11, int8: bool = False, **kwargs):
    """(wavs, codes, timings) of one forced-length run_generation call with the accelerations on or off."""
    with switched(monkeypatch, on, int8), captured_codes(tts) as codes:
        wavs, sr, used, timings = run_generation(
            tts, method, texts, "test", seed, Sampling(force_steps=STEPS), **kwargs
        )
    assert sr == 24_000 and used == seed
    return wavs, codes[0], timings


def compare(monkeypatch, bare, fast, method: str, texts: list[str], **kwargs):
    """(bare wavs, fast wavs) after checking the codes are identical."""
    expected, bare_codes, _ = generate(monkeypatch, bare, method, texts, on=False, **kwargs)
    got, fast_codes, _ = generate(monkeypatch, fast, method, texts, on=True, **kwargs)
    assert len(bare_codes) == len(fast_codes) == len(texts)
    for a, b in zip(bare_codes, fast_codes, strict=True):
        assert a.shape == b.shape and a.shape[0] > 0
        assert torch.equal(a, b)
    assert len(expected) == len(got)
    # Nothing stays patched on the instance after the call.
    assert "generate" not in fast.model.talker.code_predictor.__dict__
    assert not any("forward" in layer.__dict__ for layer in fast.model.talker.model.layers)
    assert "decode" not in fast.model.speech_tokenizer.__dict__
    return expected, got


# -- lean code predictor ---------------------------------------------------------------------------


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
@pytest.mark.parametrize(
    ("batch", "sampling"),
    [
        (1, {"do_sample": True, "top_k": 50, "top_p": 1.0, "temperature": 0.9}),
        (2, {"do_sample": True, "top_k": 7, "top_p": 0.8, "temperature": 0.7}),
        (2, {"do_sample": True, "top_k": 0, "top_p": 1.0, "temperature": 1.0}),
        (2, {"do_sample": False, "top_k": 50, "top_p": 1.0, "temperature": 0.9}),
    ],
)
def test_lean_code_predictor_draws_the_same_codes(code_predictors, attention, batch, sampling):
    cp = code_predictors[attention]
    lean = LeanCodePredictor(cp)
    embeds = torch.randn(batch, 2, cp.config.hidden_size)
    call = dict(inputs_embeds=embeds, max_new_tokens=15, output_hidden_states=True, return_dict_in_generate=True)
    with torch.inference_mode():
        torch.manual_seed(3)
        expected = cp.generate(**call, **sampling).sequences
        after_original = torch.rand(4)
        torch.manual_seed(3)
        got = lean.generate(**call, **sampling).sequences
        after_lean = torch.rand(4)
    assert lean.calls == {"lean": 1, "original": 0}
    assert got.dtype == torch.long and got.shape == (batch, 15)
    assert torch.equal(expected, got)
    assert torch.equal(after_original, after_lean)  # the RNG advanced by exactly the same draws


def test_lean_code_predictor_hands_other_calls_to_transformers(code_predictors):
    cp = code_predictors["sdpa"]
    lean = LeanCodePredictor(cp)
    embeds = torch.randn(1, 2, cp.config.hidden_size)
    call = dict(inputs_embeds=embeds, max_new_tokens=15, do_sample=True, top_k=50, top_p=1.0, temperature=0.9)
    with torch.inference_mode():
        torch.manual_seed(4)
        expected = cp.generate(**call, repetition_penalty=1.3)
        torch.manual_seed(4)
        got = lean.generate(**call, repetition_penalty=1.3)
    assert lean.calls == {"lean": 0, "original": 1}
    assert torch.equal(expected, got)


def test_lean_code_predictor_is_scoped_to_the_instance(base_pair):
    bare, fast = base_pair
    cp = fast.model.talker.code_predictor
    with lean_code_predictor(fast.model.talker) as lean:
        assert cp.generate == lean.generate
        assert "generate" not in bare.model.talker.code_predictor.__dict__
        with lean_code_predictor(fast.model.talker):  # re-entrant
            pass
        assert cp.generate == lean.generate
    assert "generate" not in cp.__dict__


def test_an_accelerated_model_can_still_be_freed(monkeypatch, tiny_base, prompt):
    # Unloading must return the memory: nothing of the accelerations may keep the model alive.
    tts = load(tiny_base)
    generate(monkeypatch, tts, "generate_voice_clone", ["你好。"], on=True, voice_clone_prompt=prompt)
    assert lean_for(tts.model.talker.code_predictor).fused_layers() is not None
    alive = weakref.ref(tts.model.talker.code_predictor)
    del tts
    gc.collect()
    assert alive() is None


# -- decoding only the new frames ----------------------------------------------------------------------


def test_reference_context_of_the_12hz_decoder(base_pair):
    # The tiny decoder keeps the real upsampling rates and kernels (only widths shrink), so this is
    # the real decoder's context: 10 frames before a frame-aligned cut, also when qwen-tts' float
    # cut lands one sample early.
    decoder = base_pair[0].model.speech_tokenizer.model.decoder
    plan = conv_plan(decoder)
    assert int(decoder.total_upsample) == SAMPLES_PER_FRAME
    assert [step for step in plan if step[0] == "up"] == [
        ("up", 2, 2),
        ("up", 2, 2),
        ("up", 16, 8),
        ("up", 10, 5),
        ("up", 8, 4),
        ("up", 6, 3),
    ]
    assert first_frame_needed(plan, 80 * SAMPLES_PER_FRAME) == 70
    assert first_frame_needed(plan, 80 * SAMPLES_PER_FRAME - 1) == 70
    assert first_frame_needed(plan, 81 * SAMPLES_PER_FRAME - 1) == 71


@pytest.mark.parametrize(("ref", "new"), [(40, 30), (0, 25), (4, 20), (66, 4)])
def test_tail_decode_matches_the_full_decode(base_pair, ref, new):
    # decode_clone against qwen-tts' own decode: the usual case, no reference, a reference shorter than
    # the decoder's context, fewer new frames than the context.
    tokenizer = base_pair[0].model.speech_tokenizer
    torch.manual_seed(ref * 1000 + new)
    codes = torch.randint(0, 2048, (ref + new, 16))
    full = tokenizer.decode([{"audio_codes": codes}])[0][0]
    cut = int(ref / (ref + new) * len(full))  # qwen-tts' own cut
    tail = decode_clone(tokenizer, [codes], [ref])[0]
    assert len(tail) == len(full) == (ref + new) * SAMPLES_PER_FRAME
    assert np.abs(tail[cut:] - full[cut:]).max() < 1e-5
    assert np.abs(full[cut:]).max() > 1e-2  # the compared audio is not silence


def test_tail_decode_follows_the_chunk_grid(base_pair):
    # qwen-tts decodes in chunks of 300 frames with 25 frames of left context; the same code with
    # 30-frame chunks shows the grid is followed: cuts before, inside and across chunk boundaries.
    decoder = base_pair[0].model.speech_tokenizer.model.decoder
    torch.manual_seed(6)
    codes = torch.randint(0, 2048, (1, 16, 100))
    with torch.inference_mode():
        full = decoder.chunked_decode(codes, chunk_size=30, left_context_size=25)
        for frame in (0, 12, 29, 31, 58, 95):
            first = frame * SAMPLES_PER_FRAME - (frame % 2)  # qwen-tts' float cut can land a sample early
            first = max(first, 0)
            tail = decode_from(decoder, codes, first, chunk=30, chunk_context=25)
            assert tail.shape[-1] == full.shape[-1] - first, frame
            assert (tail - full[..., first:]).abs().max() < 1e-5, frame


def test_derived_context_suffices_and_too_little_is_detectably_wrong(base_pair):
    decoder = base_pair[0].model.speech_tokenizer.model.decoder
    torch.manual_seed(0)
    codes = torch.randint(0, 2048, (1, 16, 60))
    first = 40 * SAMPLES_PER_FRAME
    needed = first_frame_needed(conv_plan(decoder), first)

    def from_frame(frame: int) -> torch.Tensor:
        return waveform(decoder, hidden[..., frame:])[..., first - frame * SAMPLES_PER_FRAME :]

    with torch.inference_mode():
        hidden = latents(decoder, codes)
        full = waveform(decoder, hidden)[..., first:]
        assert full.abs().max() < 1  # not saturated by the final clamp
        assert needed == 30
        assert (from_frame(needed) - full).abs().max() < 1e-5
        # Random weights' impulse responses fade below float noise a few frames before the bound, so
        # it cannot be shown tight here; but the comparison does catch a context that is too short.
        assert (from_frame(39) - full).abs().max() > 1e-3


# -- packed bf16 weights -----------------------------------------------------------------------------


def test_packed_bf16_linears_are_bit_identical_and_reversible():
    # The promise as stated, on whatever CPU runs this: a layer is packed only where the packed result is
    # bit-identical for every call size (1, 2, 16 rows: decode steps; 97, 300: prompt-sized prefills),
    # and every layer left plain, or plain for long inputs, says why.
    torch.manual_seed(0)
    layers = torch.nn.Sequential(
        torch.nn.Linear(1024, 3072, bias=False), torch.nn.Linear(3072, 1024, bias=False), torch.nn.Linear(1024, 2048)
    ).to(torch.bfloat16)
    if not can_pack():  # a torch without oneDNN bf16: packing must be a no-op
        assert pack_linears(layers) == 0 and not any(is_packed(layer) for layer in layers)
        return
    weights = [layer.weight.detach().clone() for layer in layers]
    shapes = [(1, 1, 1024), (2, 1, 1024), (1, 16, 1024), (1, 97, 1024), (3, 100, 1024)]
    inputs = [torch.randn(shape, dtype=torch.bfloat16) for shape in shapes]
    with torch.inference_mode():
        expected = [layers(x) for x in inputs]
        packed = pack_linears(layers)
        assert packed == sum(is_packed(layer) for layer in layers)
        assert all(torch.equal(layers(x), y) for x, y in zip(inputs, expected, strict=True))
    reasons = plain_reasons(layers)
    assert packed + sum(reasons.values()) >= 3  # each layer packed, or the report says why not
    assert all("on this CPU" in reason for reason in reasons)
    assert unpack_linears(layers) == packed
    assert not plain_reasons(layers)
    assert all(torch.equal(layer.weight, w) for layer, w in zip(layers, weights, strict=True))


def test_float32_weights_are_not_packed():
    layer = torch.nn.Linear(8, 8)
    assert pack_linears(layer) == 0 and not is_packed(layer)


# -- end to end: run_generation with the accelerations off (bare qwen-tts) and on ------------------------


def test_clone_icl_same_codes_same_audio(monkeypatch, base_pair, prompt):
    bare, fast = base_pair
    lean = lean_for(fast.model.talker.code_predictor)
    before = lean.calls["lean"]
    merges = [0]
    original_merge = talker_layers.merged_rope

    def counted_merge(*args):
        merges[0] += 1
        return original_merge(*args)

    monkeypatch.setattr(talker_layers, "merged_rope", counted_merge)
    expected, got = compare(
        monkeypatch,
        bare,
        fast,
        "generate_voice_clone",
        ["今天天气很好。"],
        language="Chinese",
        voice_clone_prompt=prompt,
    )
    assert lean.calls["lean"] - before == STEPS - 1  # one per frame; the last sampled frame is never completed
    assert merges == [STEPS]  # the talker's fast layers ran: rotary tables merged once per talker step
    assert "generate" not in bare.model.talker.code_predictor.__dict__
    assert len(got[0]) == len(expected[0]) > 0
    assert np.abs(got[0] - expected[0]).max() < 1e-5


def test_clone_batch_of_two_with_a_shared_prompt(monkeypatch, base_pair, prompt):
    bare, fast = base_pair
    expected, got = compare(
        monkeypatch,
        bare,
        fast,
        "generate_voice_clone",
        ["第一句。", "第二句话长一点。"],
        language="Auto",
        voice_clone_prompt=prompt,
    )
    for a, b in zip(expected, got, strict=True):
        assert len(a) == len(b) > 0 and np.abs(a - b).max() < 1e-5


def test_clone_from_reference_audio_builds_the_same_prompt(base_pair, prompt):
    # accel.generate given ref_audio builds the prompt itself (to know the reference codes).
    bare, fast = base_pair
    kwargs = dict(text="参考音频直接给出。", language="Chinese", max_new_tokens=8, eos_token_id=3071)
    torch.manual_seed(2)
    expected, _ = bare.generate_voice_clone(voice_clone_prompt=prompt, **kwargs)
    torch.manual_seed(2)
    got, _ = accel.generate(fast, "generate_voice_clone", ref_audio=REF, ref_text=REF_TEXT, **kwargs)
    assert len(got[0]) == len(expected[0]) > 0 and np.abs(got[0] - expected[0]).max() < 1e-5


def test_clone_x_vector_only_is_bit_identical(monkeypatch, base_pair):
    bare, fast = base_pair
    xvec = bare.create_voice_clone_prompt(ref_audio=REF, x_vector_only_mode=True)
    expected, got = compare(
        monkeypatch, bare, fast, "generate_voice_clone", ["只用声纹。"], language="Chinese", voice_clone_prompt=xvec
    )
    assert np.array_equal(expected[0], got[0])


def test_custom_voice_is_bit_identical(monkeypatch, tiny_custom):
    tts = load(tiny_custom)  # float32: the accelerations leave nothing behind on the instance
    expected, got = compare(
        monkeypatch,
        tts,
        tts,
        "generate_custom_voice",
        ["你好。"],
        speaker="Vivian",
        language="Chinese",
        instruct="开心",
    )
    assert np.array_equal(expected[0], got[0])


def test_voice_design_is_bit_identical(monkeypatch, tiny_design):
    tts = load(tiny_design)
    expected, got = compare(
        monkeypatch, tts, tts, "generate_voice_design", ["你好。"], instruct="低沉的男声", language="Chinese"
    )
    assert np.array_equal(expected[0], got[0])


def test_clone_bf16_same_codes_audio_within_bf16_rounding(monkeypatch, tiny_base):
    # One instance: the bare call runs first, before the accelerated one packs its weights for good.
    tts = load(tiny_base, torch.bfloat16)
    prompt16 = tts.create_voice_clone_prompt(ref_audio=REF, ref_text=REF_TEXT)
    expected, got = compare(
        monkeypatch,
        tts,
        tts,
        "generate_voice_clone",
        ["今天天气很好。"],
        language="Chinese",
        voice_clone_prompt=prompt16,
    )
    packed = accel.prepare(tts)  # already done by the accelerated call: counts what is packed
    bf16_linears = sum(isinstance(m, torch.nn.Linear) for m in tts.model.talker.modules())
    if can_pack():  # each layer packed, or left plain by this CPU's self-check with the reason kept
        assert packed + sum(accel.exactness_report(tts).values()) >= bf16_linears
    else:
        assert packed == 0
    diff = got[0] - expected[0]
    # bf16 has 8 significant bits; convolutions over a shorter window round differently.
    assert np.abs(diff).max() < 0.05 and np.sqrt(np.mean(diff**2)) < 2e-3

    # Opt-in, approximate int8 on the same (already packed) model: all layer projections quantized, result labelled;
    # a batch of two (rows of several items through the int8 matmul).
    wavs, _, timings = generate(
        monkeypatch,
        tts,
        "generate_voice_clone",
        ["你好。", "再见了朋友。"],
        on=True,
        int8=True,
        voice_clone_prompt=prompt16,
    )
    config = tts.model.talker.config
    layers = config.num_hidden_layers + config.code_predictor_config.num_hidden_layers
    assert sum(is_quantized(m) for m in tts.model.talker.modules()) == 7 * layers
    assert timings["int8_approximate"] == 1.0
    assert len(wavs) == 2
    assert all(abs(len(w) - (STEPS - 1) * SAMPLES_PER_FRAME) <= 1 for w in wavs)  # qwen-tts' float cut
    assert all(np.isfinite(w).all() and np.abs(w).max() > 0 for w in wavs)
    assert lean_for(tts.model.talker.code_predictor).fused_layers() is not None  # int8 layers fuse too
    _, _, timings = generate(monkeypatch, tts, "generate_voice_clone", ["你好。"], on=True, voice_clone_prompt=prompt16)
    assert "int8_approximate" not in timings  # off unless asked for (the model stays int8 until reloaded)


# -- the talker's fast layers ---------------------------------------------------------------------------


@pytest.mark.parametrize("interleaved", [True, False])
def test_merged_rotary_tables_rotate_like_qwen_tts(interleaved):
    qwen_tts()  # installs the torchaudio fallback first
    modeling = importlib.import_module("qwen_tts.core.models.modeling_qwen3_tts")
    torch.manual_seed(4)
    batch, length, heads, dim, sections = 2, 5, 3, 16, [4, 2, 2]
    cos, sin = torch.randn(3, batch, length, dim), torch.randn(3, batch, length, dim)
    q, k = torch.randn(batch, heads, length, dim), torch.randn(batch, 1, length, dim)
    expected = modeling.apply_multimodal_rotary_pos_emb(q, k, cos, sin, sections, interleaved)
    merged_cos, merged_sin = (t.unsqueeze(1) for t in talker_layers.merged_rope(cos, sin, sections, interleaved))
    for original, rotated in zip((q, k), expected, strict=True):
        half = dim // 2
        turned = torch.cat((-original[..., half:], original[..., :half]), dim=-1)
        assert torch.equal(original * merged_cos + turned * merged_sin, rotated)


def test_fast_talker_layers_are_bit_identical_and_step_aside(base_pair):
    _, fast = base_pair
    talker = fast.model.talker
    torch.manual_seed(5)
    hidden = torch.randn(1, 7, talker.config.hidden_size)
    positions = torch.arange(7)[None, None].expand(3, 1, 7)

    def run_layers(cache):
        out = hidden
        embeddings = talker.model.rotary_emb(out, positions)
        for layer in talker.model.layers:
            out = layer(out, past_key_values=cache, position_embeddings=embeddings, cache_position=torch.arange(7))[0]
        return out

    with torch.inference_mode():
        expected = run_layers(DynamicCache())
        with talker_layers.fast_talker_layers(talker) as calls:
            got = run_layers(DynamicCache())
            layer = talker.model.layers[0]
            embeddings = talker.model.rotary_emb(hidden, positions)
            layer(hidden, position_embeddings=embeddings, output_attentions=True)  # asks for weights: the original
    assert torch.equal(got, expected)
    assert calls == {"fast": len(talker.model.layers), "original": 1}
    assert not any("forward" in layer.__dict__ for layer in talker.model.layers)  # restored


# -- opt-in, approximate: int8 weights -----------------------------------------------------------------------


def test_int8_rounding_error_is_at_most_half_a_step():
    torch.manual_seed(0)
    weight = torch.randn(64, 256, dtype=torch.bfloat16)
    quantized, scales = quantize_weight(weight)
    assert quantized.dtype == torch.int8 and scales.shape == (64,)
    error = (quantized.float() * scales.float()[:, None] - weight.float()).abs()
    assert bool((error <= 0.51 * scales.float()[:, None]).all())  # 0.5 plus the rounding of the largest entry


def _int8_layer(exact: torch.nn.Linear, kernel: str) -> torch.nn.Linear:
    """A copy of ``exact`` with int8 weights served by ``kernel`` (fbgemm's where this torch has it)."""
    approx = torch.nn.Linear(exact.in_features, exact.out_features, bias=False).to(torch.bfloat16)
    approx.load_state_dict(exact.state_dict())
    weight = Int8Weight(*quantize_weight(approx.weight), fbgemm=kernel == "fbgemm-dynamic")
    setattr(approx, _QUANTIZED, weight)
    return approx


@pytest.mark.parametrize("kernel", ["fbgemm-dynamic", "int8pack"])
@pytest.mark.parametrize("rows", [1, 2, 40])  # a token, the code predictor's prefill, a prompt (dequantized)
def test_int8_layer_is_close_to_bf16(kernel, rows):
    if kernel == "fbgemm-dynamic" and "fbgemm" not in torch.backends.quantized.supported_engines:
        kernel = "int8pack"  # the fallback is what such a torch runs; it is checked all the same
    torch.manual_seed(1)
    exact = torch.nn.Linear(256, 512, bias=False).to(torch.bfloat16)
    approx = _int8_layer(exact, kernel)
    assert quantized_weight(approx).kernel == kernel
    hidden = torch.randn(1, rows, 256, dtype=torch.bfloat16)
    with torch.inference_mode():
        expected, got = exact(hidden).float(), _int8_forward(approx, hidden).float()
    assert got.shape == expected.shape and got.dtype == torch.float32
    assert 0 < (got - expected).norm() / expected.norm() < 0.05
    assert torch.equal(quantized_weight(approx).int8(), quantize_weight(exact.weight)[0])  # unpacks losslessly


@pytest.mark.parametrize("kernel", ["fbgemm-dynamic", "int8pack"])
def test_int8_rows_of_different_loudness_each_keep_their_precision(kernel):
    # A prompt's tokens or a batch's items in one call: a quiet row must not drown in a loud row's range.
    torch.manual_seed(3)
    exact = torch.nn.Linear(256, 128, bias=False).to(torch.bfloat16)
    approx = _int8_layer(exact, kernel)
    hidden = torch.randn(1, 20, 256) * torch.logspace(-3, 3, 20)[None, :, None]
    hidden = hidden.to(torch.bfloat16)
    with torch.inference_mode():
        expected, got = exact(hidden).float(), _int8_forward(approx, hidden).float()
    errors = (got - expected).norm(dim=-1) / expected.norm(dim=-1)
    assert float(errors.max()) < 0.05


def test_stacked_int8_layers_give_the_layers_outputs():
    torch.manual_seed(2)
    layers = [_int8_layer(torch.nn.Linear(256, n, bias=False).to(torch.bfloat16), "fbgemm-dynamic") for n in (96, 32)]
    fused = fused_int8(layers)
    hidden = torch.randn(1, 2, 256, dtype=torch.bfloat16)
    with torch.inference_mode():
        assert torch.equal(fused(hidden), torch.cat([_int8_forward(m, hidden) for m in layers], -1))
    assert fused_int8([layers[0], torch.nn.Linear(256, 8)]) is None  # a plain layer is not fused with int8 ones


# -- the studio's switches ---------------------------------------------------------------------------------


def test_thread_setting(monkeypatch):
    original = torch.get_num_threads()
    monkeypatch.setattr(accel, "_THREADS", {})
    monkeypatch.setenv("STUDIO_THREADS", "1")
    try:
        torch.set_num_threads(2)
        assert accel.configure_threads() == 1 == torch.get_num_threads()
        monkeypatch.setenv("STUDIO_THREADS", "3")
        assert accel.configure_threads() == 1  # once per process
        accel._THREADS.clear()
        monkeypatch.delenv("STUDIO_THREADS")
        torch.set_num_threads(2)
        assert 1 <= accel.configure_threads() <= 2  # torch's default, capped at the physical cores
    finally:
        torch.set_num_threads(original)


def test_progress_cancel_and_caps_work_through_the_accelerated_path(monkeypatch, base_pair, prompt):
    fast = base_pair[1]
    reports = []
    with switched(monkeypatch, on=True):
        _, _, _, timings = run_generation(
            fast,
            "generate_voice_clone",
            ["你好。"],
            "test",
            1,
            Sampling(force_steps=STEPS),
            progress=lambda fraction, message: reports.append(fraction),
            voice_clone_prompt=prompt,
        )
        assert timings["max_new_tokens"] == STEPS and reports and reports[-1] == 1.0
        # max_seconds caps the steps (the cap's floor is MIN_STEPS).
        _, _, _, timings = run_generation(
            fast, "generate_voice_clone", ["你好。" * 20], "test", 1, max_seconds=0.5, voice_clone_prompt=prompt
        )
        assert timings["max_new_tokens"] == synthesis.MIN_STEPS
        token = CancelToken()
        token.cancel()
        with pytest.raises(Cancelled):
            run_generation(fast, "generate_voice_clone", ["你好。"], "test", 1, cancel=token, voice_clone_prompt=prompt)
    assert "generate" not in fast.model.talker.code_predictor.__dict__
    assert "decode" not in fast.model.speech_tokenizer.__dict__
