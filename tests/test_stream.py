"""True streaming on the tiny checkpoints: chunked decoding equals the whole decode, chunks come while
the talker is still generating, and a stream can be cancelled mid-way."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
import torch

from studio import synthesis
from studio.accel.chunks import ChunkPlan, chunk_plan
from studio.accel.conv_stream import ConvStream, supports
from studio.accel.decode import decode_from, decode_span, latents, waveform
from studio.accel.stream import StreamDecoder
from studio.backend import SAMPLES_PER_FRAME, qwen_tts
from studio.errors import Cancelled
from studio.progress import CancelToken
from studio.synthesis import Sampling, run_generation
from tests.helpers import voiced_clip

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]

STEPS = 30


def load(path):
    return qwen_tts().Qwen3TTSModel.from_pretrained(str(path), device_map="cpu", dtype=torch.float32)


@pytest.fixture(scope="module")
def base(tiny_base):
    return load(tiny_base)


@pytest.fixture(scope="module")
def prompt(base):
    return base.create_voice_clone_prompt(ref_audio=(voiced_clip(2.0), 24_000), ref_text="这是参考音频。")


def test_spans_put_together_equal_the_chunked_decode(base):
    # Spans of every size, across the decoder's own chunk grid (30 frames, 25 of context here, to reach
    # its boundaries on a short input; qwen-tts uses 300 and 25).
    decoder = base.model.speech_tokenizer.model.decoder
    torch.manual_seed(4)
    codes = torch.randint(0, 2048, (1, 16, 97))
    bounds = [0, 1, 5, 17, 29, 30, 31, 44, 60, 61, 90, 97]
    with torch.inference_mode():
        whole = decoder.chunked_decode(codes, chunk_size=30, left_context_size=25)
        pieces = [
            decode_span(decoder, codes[..., :b], a, b, chunk=30, chunk_context=25)
            for a, b in itertools.pairwise(bounds)
        ]
    for (a, b), piece in zip(itertools.pairwise(bounds), pieces, strict=True):
        assert piece.shape[-1] == (b - a) * SAMPLES_PER_FRAME
    joined = torch.cat(pieces, dim=-1)
    assert joined.shape == whole.shape
    assert (joined - whole).abs().max() < 1e-5
    assert whole.abs().max() > 1e-2  # not silence


@pytest.mark.parametrize("carried", [True, False])
@pytest.mark.parametrize(("prefix", "plan"), [(0, ChunkPlan(4, 12)), (23, ChunkPlan(1, 5)), (7, ChunkPlan(3, 3))])
def test_stream_decoder_chunks_equal_the_tail_of_the_whole_decode(base, prefix, plan, carried):
    tokenizer = base.model.speech_tokenizer
    torch.manual_seed(prefix)
    codes = torch.randint(0, 2048, (prefix + 26, 16))
    got: list[np.ndarray] = []
    stream = StreamDecoder(tokenizer, got.append, plan, codes[:prefix] if prefix else None)
    assert stream.carried  # qwen-tts' decoder is made of parts whose context can be carried
    stream.carried = carried  # False: each chunk recomputes its convolutions' left context
    for frame in codes[prefix:]:
        stream.push(frame)
    audio = stream.finish()
    sizes = [len(p) // SAMPLES_PER_FRAME for p in got]
    assert sizes[0] == plan.first and all(s == plan.size for s in sizes[1:-1]) and 0 < sizes[-1] <= plan.size
    assert sum(sizes) == 26 and torch.equal(stream.generated_codes(), codes[prefix:])
    with torch.inference_mode():
        whole = decode_from(tokenizer.model.decoder, codes.T[None], prefix * SAMPLES_PER_FRAME)[0, 0].numpy()
    assert audio.shape == whole.shape and np.abs(audio - whole).max() < 1e-5


@pytest.mark.parametrize("carried", [True, False])
def test_stream_decoder_across_the_decoders_chunk_grid(base, carried):
    # A 30-frame grid with 25 frames of context (qwen-tts: 300 and 25) so that a short stream crosses it.
    tokenizer = base.model.speech_tokenizer
    torch.manual_seed(9)
    codes = torch.randint(0, 2048, (7 + 90, 16))
    got: list[np.ndarray] = []
    stream = StreamDecoder(tokenizer, got.append, ChunkPlan(5, 11), codes[:7], grid=(30, 25))
    stream.carried = carried
    for frame in codes[7:]:
        stream.push(frame)
    audio = stream.finish()
    with torch.inference_mode():
        whole = tokenizer.model.decoder.chunked_decode(codes.T[None], chunk_size=30, left_context_size=25)
    tail = whole[0, 0, 7 * SAMPLES_PER_FRAME :].numpy()
    assert audio.shape == tail.shape and np.abs(audio - tail).max() < 1e-5
    assert np.abs(tail).max() > 1e-2


def test_conv_stream_pieces_equal_one_pass(base):
    decoder = base.model.speech_tokenizer.model.decoder
    torch.manual_seed(2)
    with torch.inference_mode():
        hidden = latents(decoder, torch.randint(0, 2048, (1, 16, 31)))
        whole = waveform(decoder, hidden)
        convs = ConvStream(decoder)
        bounds = [0, 1, 4, 11, 31]
        pieces = [convs(hidden[..., a:b]) for a, b in itertools.pairwise(bounds)]
    assert [p.shape[-1] for p in pieces] == [(b - a) * SAMPLES_PER_FRAME for a, b in itertools.pairwise(bounds)]
    assert (torch.cat(pieces, dim=-1) - whole).abs().max() < 1e-5


def test_a_decoder_with_unknown_parts_is_not_carried(base):
    decoder = copy.deepcopy(base.model.speech_tokenizer.model.decoder)
    assert supports(decoder)
    decoder.decoder[-2] = torch.nn.Tanh()  # a part ConvStream does not know the reach of
    assert not supports(decoder)


def test_chunk_plan_reads_request_then_environment(monkeypatch):
    monkeypatch.delenv("STUDIO_STREAM_FIRST", raising=False)
    monkeypatch.delenv("STUDIO_STREAM_CHUNK", raising=False)
    assert chunk_plan() == ChunkPlan(4, 12)
    monkeypatch.setenv("STUDIO_STREAM_CHUNK", "2")
    assert chunk_plan() == ChunkPlan(2, 2)  # the first chunk is never larger than the others by default
    monkeypatch.setenv("STUDIO_STREAM_FIRST", "9")
    monkeypatch.setenv("STUDIO_STREAM_CHUNK", "junk")
    assert chunk_plan() == ChunkPlan(9, 12)
    assert chunk_plan(first=1, size=25) == ChunkPlan(1, 25)
    with pytest.raises(ValueError):
        ChunkPlan(0, 12)


def _run(tts, method, sink=None, plan=None, cancel=None, **kwargs):
    sampling = Sampling(force_steps=STEPS)
    if sink is None:
        return run_generation(tts, method, ["你好，世界。"], "t", 5, sampling, **kwargs)
    with synthesis.streaming(sink, plan):
        return run_generation(tts, method, ["你好，世界。"], "t", 5, sampling, cancel=cancel, **kwargs)


@pytest.mark.parametrize("accelerated", [True, False])
@pytest.mark.parametrize("icl", [True, False])
def test_streamed_clone_equals_the_whole_call_and_starts_early(monkeypatch, base, prompt, tiny_base, icl, accelerated):
    monkeypatch.setenv("STUDIO_ACCEL", "1" if accelerated else "0")
    voice = (
        prompt if icl else base.create_voice_clone_prompt(ref_audio=(voiced_clip(2.0), 24_000), x_vector_only_mode=True)
    )
    whole, _sr, _, _ = _run(base, "generate_voice_clone", voice_clone_prompt=voice, language="Chinese")
    steps = {"n": 0}
    handle = base.model.talker.register_forward_pre_hook(lambda *a: steps.__setitem__("n", steps["n"] + 1))
    chunks: list[np.ndarray] = []
    seen: list[int] = []

    def sink(chunk):
        chunks.append(chunk)
        seen.append(steps["n"])

    try:
        wavs, _, _, _ = _run(
            base, "generate_voice_clone", sink, ChunkPlan(3, 8), voice_clone_prompt=voice, language="Chinese"
        )
    finally:
        handle.remove()
    streamed = np.concatenate(chunks)
    # Causal: the first chunk left when the talker had run only a few of its STEPS steps.
    assert seen[0] < STEPS // 2 and seen == sorted(seen)
    assert [len(c) // SAMPLES_PER_FRAME for c in chunks[:2]] == [3, 8]
    # The result is the streamed audio (qwen-tts' proportional cut may leave one leading zero sample).
    got = wavs[0]
    assert len(got) - len(streamed) in (0, 1) and np.array_equal(got[len(got) - len(streamed) :], streamed)
    # And equals the ordinary whole decode of the same codes, to float rounding.
    expected = whole[0]
    assert abs(len(expected) - len(streamed)) <= 1
    n = min(len(expected), len(streamed))
    assert np.abs(expected[-n:] - streamed[-n:]).max() < 1e-4
    assert np.abs(streamed).max() > 1e-2
    assert "decode" not in base.model.speech_tokenizer.__dict__ and not base.model.talker._forward_hooks


@pytest.mark.parametrize(
    ("fixture", "method", "extra"),
    [
        ("tiny_custom", "generate_custom_voice", {"speaker": None}),
        ("tiny_design", "generate_voice_design", {"instruct": "温柔的女声"}),
    ],
)
def test_streamed_custom_and_design_equal_the_whole_call(request, fixture, method, extra):
    tts = load(request.getfixturevalue(fixture))
    if "speaker" in extra:
        extra = {"speaker": tts.get_supported_speakers()[0]}
    whole, _, _, _ = _run(tts, method, language="Chinese", **extra)
    chunks: list[np.ndarray] = []
    wavs, _, _, _ = _run(tts, method, chunks.append, ChunkPlan(4, 12), language="Chinese", **extra)
    streamed = np.concatenate(chunks)
    assert len(chunks) == 1 + -(-(STEPS - 1 - 4) // 12)  # STEPS talker steps finish STEPS - 1 frames
    assert np.array_equal(wavs[0], streamed) and len(streamed) == len(whole[0])
    assert np.abs(whole[0] - streamed).max() < 1e-4


def test_cancel_mid_stream_stops_generation(base, prompt):
    cancel = CancelToken()
    chunks: list[np.ndarray] = []
    steps = {"n": 0}
    handle = base.model.talker.register_forward_pre_hook(lambda *a: steps.__setitem__("n", steps["n"] + 1))

    def sink(chunk):
        chunks.append(chunk)
        cancel.cancel()  # e.g. the client went away after the first chunk

    try:
        with pytest.raises(Cancelled):
            _run(base, "generate_voice_clone", sink, ChunkPlan(2, 4), cancel=cancel, voice_clone_prompt=prompt)
    finally:
        handle.remove()
    assert len(chunks) == 1 and steps["n"] < STEPS
    assert "decode" not in base.model.speech_tokenizer.__dict__ and not base.model.talker._forward_hooks


def test_ui_live_playback_streams_then_gives_the_result(tiny_custom):
    import inspect

    import gradio as gr

    from studio.engine import Engine
    from studio.models import ModelManager
    from studio.settings import Settings
    from studio.ui.common import UiContext
    from studio.ui.generate_shared import _live

    engine = Engine(ModelManager(Settings(dtype="float32")))
    ctx = UiContext(engine=engine)

    def generate(lang, text, request: gr.Request = None, progress=gr.Progress()):
        result = engine.custom(text, "Vivian", model=str(tiny_custom), seed=3, sampling=Sampling(force_steps=STEPS))
        return (result.sr, result.samples), f"{result.seconds:.2f}"

    run = _live(ctx, generate)
    assert inspect.signature(run) == inspect.signature(generate)  # Gradio passes request and progress by it
    outputs = list(run("en", "你好，世界。"))
    live = [item[0] for item in outputs[:-1]]
    assert len(live) >= 3 and all(sr == 24_000 for sr, _ in live)
    assert all(isinstance(item[1], type(gr.skip())) for item in outputs[:-1])
    (final_sr, final), info = outputs[-1][1:]
    streamed = np.concatenate([chunk for _, chunk in live])
    assert final_sr == 24_000 and len(streamed) == len(final) == (STEPS - 1) * SAMPLES_PER_FRAME and info
