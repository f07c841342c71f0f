"""The packing self-check on a simulated CPU where packed bf16 matmuls are not exact.

On an Intel Xeon with AMX, oneDNN's packed and plain bf16 matmuls agree for a
few rows but differ by one bf16 step in a few outputs for prompt-sized calls.
These tests make the packed matmul do exactly that here (any CPU), and check
that the self-check then packs only what stays exact, that generation still
gives bare qwen-tts' codes, and that the result says packing was left off.
"""

from __future__ import annotations

import pytest
import torch

from studio.accel import exactness, packing
from studio.accel.packing import can_pack, is_packed, pack_linears, plain_reasons
from studio.backend import qwen_tts
from studio.engine import Engine
from studio.models import ModelManager
from studio.settings import Settings
from studio.synthesis import Sampling, accel_notes, run_generation
from tests.helpers import voiced_clip

pytestmark = pytest.mark.slow

REF = (voiced_clip(2.0), 24_000)
REF_TEXT = "这是参考音频。"


class InexactCPU:
    """Patches the packed matmul: from ``from_rows`` rows on, one output is one bf16 step off (as AMX does)."""

    def __init__(self, monkeypatch, from_rows: int) -> None:
        self.from_rows = from_rows
        self.large_calls = 0  # calls at or above from_rows, however served
        self.perturbed = 0  # perturbed outputs handed back to a caller
        original = packing._linear
        if not can_pack():  # no oneDNN bf16 here: "packed" weights are plain copies, the same simulation on top
            monkeypatch.setattr(packing, "can_pack", lambda: True)
            monkeypatch.setattr(packing, "_reorder", lambda weight: weight.clone())

            def original(hidden, packed, bias, max_rows):
                return torch.nn.functional.linear(hidden, packed, bias)

        def linear(hidden, packed, bias, max_rows):
            out = original(hidden, packed, bias, max_rows)
            rows = hidden.numel() // hidden.shape[-1]
            if rows < self.from_rows:
                return out
            self.large_calls += 1
            if max_rows is not None and rows > max_rows:
                return out  # the plain path: exact on any CPU
            out = out.clone()
            out.view(-1)[out.numel() // 2 :].view(torch.int16)[:1] += 1  # the next bf16 value
            self.perturbed += 1
            return out

        monkeypatch.setattr(packing, "_linear", linear)


@pytest.fixture
def fresh_verdicts():
    """Verdicts are cached per process: a simulated CPU must neither see nor leave any."""
    exactness.forget()
    yield
    exactness.forget()


def _layers() -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.Linear(512, 256, bias=False)).to(torch.bfloat16)


@pytest.mark.parametrize(("from_rows", "packed", "max_rows"), [(97, 2, 16), (17, 2, 16), (2, 0, 0), (1, 0, 0)])
def test_self_check_packs_only_what_is_exact(monkeypatch, fresh_verdicts, from_rows, packed, max_rows):
    cpu = InexactCPU(monkeypatch, from_rows)
    layers = _layers()
    inputs = [torch.randn((1, rows, 256), dtype=torch.bfloat16) for rows in (1, 2, 16, 17, 97, 300)]
    with torch.inference_mode():
        expected = [layers(x) for x in inputs]
        assert pack_linears(layers) == packed == sum(is_packed(layer) for layer in layers)
        assert all(torch.equal(layers(x), y) for x, y in zip(inputs, expected, strict=True))
    assert cpu.perturbed > 0  # the simulated kernel really differed (in the self-check's probes)
    served = cpu.perturbed
    with torch.inference_mode():
        [layers(x) for x in inputs]
    assert cpu.perturbed == served  # ...and no perturbed output reached a caller
    assert all(getattr(layer, packing._MAX_ROWS, 0) == max_rows for layer in layers)
    reasons = plain_reasons(layers)
    assert sum(reasons.values()) == 2
    assert all(f"for {from_rows} input rows on this CPU" in reason for reason in reasons)


def _codes(tts, monkeypatch, accelerate: bool) -> tuple[list[torch.Tensor], dict[str, float]]:
    """The talker codes and timings of one forced-length bf16 clone through run_generation."""
    codes: list[torch.Tensor] = []
    original = tts.model.generate

    def generate(*args, **kwargs):
        result = original(*args, **kwargs)
        codes.extend(result[0])
        return result

    prompt = tts.create_voice_clone_prompt(ref_audio=REF, ref_text=REF_TEXT)
    with monkeypatch.context() as patch:
        patch.setenv("STUDIO_ACCEL", "1" if accelerate else "0")
        patch.setenv("STUDIO_INT8", "0")
        patch.setattr(tts.model, "generate", generate)
        _, _, _, timings = run_generation(
            tts,
            "generate_voice_clone",
            ["今天天气很好。"],
            "test",
            5,
            Sampling(force_steps=8),
            voice_clone_prompt=prompt,
        )
    return codes, timings


@pytest.mark.parametrize("from_rows", [17, 1])
def test_generation_keeps_bare_codes_where_packing_is_not_exact(monkeypatch, fresh_verdicts, tiny_base, from_rows):
    # 17: packed for decode steps, plain for the prompt's prefill (as on AMX); 1: not packed at all.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tts = qwen_tts().Qwen3TTSModel.from_pretrained(str(tiny_base), device_map="cpu", dtype=torch.bfloat16)
        expected, _ = _codes(tts, monkeypatch, accelerate=False)
        cpu = InexactCPU(monkeypatch, from_rows)
        got, timings = _codes(tts, monkeypatch, accelerate=True)
    finally:
        torch.set_num_threads(threads)
    assert len(expected) == len(got) == 1 and expected[0].shape[0] > 0
    assert torch.equal(expected[0], got[0])
    assert cpu.large_calls > 0 and cpu.perturbed > 0  # prompt-sized calls happened; the probes saw the difference
    packed = sum(is_packed(m) for m in tts.model.talker.modules())
    assert (packed > 0) == (from_rows > 16)
    assert timings["bf16_plain_layers"] > 0
    assert "bf16_packing_off" in [note.code for note in accel_notes(timings)]


def test_the_result_says_packing_was_left_off(monkeypatch, fresh_verdicts, tiny_custom):
    # What a user sees: the engine's result carries the note, in Chinese and English.
    InexactCPU(monkeypatch, 1)
    monkeypatch.setenv("STUDIO_ACCEL", "1")
    engine = Engine(ModelManager(Settings(dtype="bfloat16")))
    result = engine.custom("你好。", "Vivian", model=str(tiny_custom), seed=1, sampling=Sampling(max_new_tokens=6))
    notes = {note.code: note for note in result.notes}
    assert "bf16_packing_off" in notes
    assert "qwen-tts" in notes["bf16_packing_off"].message("en") and "CPU" in notes["bf16_packing_off"].message("zh")
    engine.manager.unload()
