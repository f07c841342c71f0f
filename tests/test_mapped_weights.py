"""Dropping the file pages of weights a loaded model no longer uses (studio.mapped_weights)."""

from __future__ import annotations

import sys

import pytest
import torch

from studio import accel
from studio.accel.packing import can_pack, is_packed
from studio.backend import qwen_tts
from studio.mapped_weights import _PAGE, _file_mappings, release_model_pages, unused_ranges
from studio.random_checkpoint import build_random_checkpoint
from tests.helpers import voiced_clip

P = _PAGE


def test_unused_ranges_are_whole_pages_between_live_tensors():
    mapping = (0, 10 * P)
    live = [(P + 10, 2 * P), (2 * P, 3 * P - 5), (6 * P, 7 * P)]
    # [0, P+10) -> page 0; (3P-5, 6P) -> pages 3-5 (page 2 holds a live tensor's tail); [7P, 10P) -> pages 7-9
    assert unused_ranges(mapping, live) == [(0, P), (3 * P, 6 * P), (7 * P, 10 * P)]


def test_unused_ranges_ignore_tensors_outside_the_mapping_and_overlaps():
    mapping = (4 * P, 8 * P)
    live = [(0, 5 * P), (5 * P + 1, 5 * P + 2), (5 * P, 6 * P), (9 * P, 12 * P)]
    assert unused_ranges(mapping, live) == [(6 * P, 8 * P)]
    assert unused_ranges(mapping, [(0, 20 * P)]) == []
    assert unused_ranges(mapping, []) == [mapping]


@pytest.fixture(scope="module")
def tiny_base_bf16(tmp_path_factory):
    """A tiny Base checkpoint stored in bfloat16: loaded in bfloat16, its weights stay in the file mapping."""
    return build_random_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny-base-bf16", "base", weights_dtype="bfloat16")


def _rss_file_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("RssFile:"):
                return int(line.split()[1])
    raise AssertionError("no RssFile")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="file mappings are read from /proc (Linux)")
def test_packing_drops_the_original_pages_and_changes_no_output(tiny_base_bf16):
    tts = qwen_tts().Qwen3TTSModel.from_pretrained(str(tiny_base_bf16), device_map="cpu", dtype=torch.bfloat16)
    assert _file_mappings(str(tiny_base_bf16.resolve()) + "/"), "bf16 weights loaded in bf16 stay file-mapped"
    ref = (voiced_clip(2.0), 24_000)
    prompt = tts.create_voice_clone_prompt(ref_audio=ref, ref_text="这是参考音频。")

    def speak():
        torch.manual_seed(5)
        wavs, _ = tts.generate_voice_clone(
            text="今天天气很好。", language="Chinese", voice_clone_prompt=prompt, max_new_tokens=12
        )
        return wavs[0]

    before = speak()
    linears = [m for m in tts.model.talker.modules() if isinstance(m, torch.nn.Linear) and m.weight is not None]
    weight_bytes = {id(m): m.weight.nbytes for m in linears}
    for m in linears:  # every weight resident, as after real use
        m.weight.data.float().sum()
    resident = _rss_file_kb()
    packed = accel.prepare(tts)
    if can_pack():
        # each layer packed, or left plain by this CPU's self-check with the reason kept
        assert packed + sum(accel.exactness_report(tts).values()) >= len(linears)
        packed_bytes = sum(weight_bytes[id(m)] for m in linears if is_packed(m))
        # the packed originals' pages are gone from the process (at least 80 %: pages shared with other tensors stay)
        assert resident - _rss_file_kb() > 0.8 * packed_bytes / 1024
    after = speak()  # packed only where bit-identical, and no tensor in use lost its pages
    assert torch.equal(torch.from_numpy(before), torch.from_numpy(after))


def test_release_is_a_no_op_for_a_model_without_a_folder():
    class Fake:
        class model:
            name_or_path = ""

    assert release_model_pages(Fake()) == 0
