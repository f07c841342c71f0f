"""An unmerged LoRA adapter (peft's own files) loads through the model manager: its base is found, the adapter
merged into the weights (base + delta), and it speaks; a missing base or a foreign adapter is refused."""

from __future__ import annotations

import json
import shutil

import pytest
import soundfile as sf
import torch
from safetensors.torch import load_file

from studio.engine import Engine
from studio.errors import CheckpointError, NotFoundError
from studio.models import ModelManager
from studio.settings import Settings
from tests.helpers import read_generated_speech

Q_PROJ = "model.layers.0.self_attn.q_proj"  #: inside the talker


def _make_adapter(base_dir, out, root: str, base_name: str):
    """Train nothing: wrap ``root`` (the whole model or its talker) with a LoRA of random, non-zero A and B."""
    from peft import LoraConfig, get_peft_model
    from qwen_tts.core.models import Qwen3TTSForConditionalGeneration

    from studio.backend import qwen_tts

    qwen_tts()
    model = Qwen3TTSForConditionalGeneration.from_pretrained(str(base_dir), dtype=torch.float32)
    config = LoraConfig(r=2, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    torch.manual_seed(3)
    wrapped = get_peft_model(model if root == "model" else model.talker, config)
    wrapped.save_pretrained(str(out), save_embedding_layers=False)
    path = out / "adapter_config.json"
    written = json.loads(path.read_text())
    written["base_model_name_or_path"] = base_name
    path.write_text(json.dumps(written))
    return out


def _expected_q_proj(base_dir, adapter_dir, prefix: str) -> torch.Tensor:
    base = load_file(str(base_dir / "model.safetensors"))[f"talker.{Q_PROJ}.weight"].float()
    lora = load_file(str(adapter_dir / "adapter_model.safetensors"))
    a, b = (lora[f"base_model.model.{prefix}{Q_PROJ}.lora_{x}.weight"] for x in "AB")
    return base + (8 / 2) * b @ a


@pytest.mark.parametrize(
    ("root", "prefix"),
    [("talker", ""), ("model", "talker.")],
    ids=["talker-as-the-studio-trains", "whole-model-as-other-tools-do"],
)
def test_an_adapter_merges_into_its_base_at_load_and_speaks(
    tiny_base, reference_wav, tmp_path, monkeypatch, root, prefix
):
    adapter = _make_adapter(tiny_base, tmp_path / "adapter", root, str(tiny_base))
    assert not (adapter / "config.json").exists()  # only peft's files: everything else is the base's
    engine = Engine(ModelManager(Settings(dtype="float32")))
    monkeypatch.setenv("STUDIO_MODEL", str(adapter))
    assert engine.manager.default_model("base") == str(adapter)  # its kind is its base's
    assert engine.manager.default_model("custom_voice") != str(adapter)
    result = engine.clone("你好。", reference=str(reference_wav), transcript="参考。", model=str(adapter), seed=1)
    sf.write(tmp_path / "out.wav", result.samples, result.sr)
    read_generated_speech(tmp_path / "out.wav")
    loaded = engine.manager.loaded
    assert loaded.key == str(adapter) and loaded.info.kind == "base" and loaded.info.adapter == adapter
    merged = loaded.tts.model.state_dict()[f"talker.{Q_PROJ}.weight"]
    expected = _expected_q_proj(tiny_base, adapter, prefix)
    base = load_file(str(tiny_base / "model.safetensors"))[f"talker.{Q_PROJ}.weight"].float()
    assert not torch.allclose(expected, base, atol=1e-3)  # the adapter does change the weight
    torch.testing.assert_close(merged, expected, atol=1e-5, rtol=1e-5)
    assert not any("lora" in name for name in loaded.tts.model.state_dict())  # merged, not wrapped


def test_an_adapter_that_brings_its_own_custom_voice_config_speaks_as_its_speaker(tiny_base, tmp_path):
    """As the studio's trainer would leave it without merging: a CustomVoice config beside the adapter."""
    adapter = _make_adapter(tiny_base, tmp_path / "voice", "talker", "..")  # the base: the adapter's parent folder
    shutil.copytree(tiny_base, tmp_path / "base")
    adapter = adapter.rename(tmp_path / "base" / "voice")
    config = json.loads((tiny_base / "config.json").read_text())
    config["tts_model_type"] = "custom_voice"
    config["talker_config"]["spk_id"], config["talker_config"]["spk_is_dialect"] = {"zoe": 3000}, {"zoe": False}
    (adapter / "config.json").write_text(json.dumps(config))
    engine = Engine(ModelManager(Settings(dtype="float32")))
    result = engine.custom("你好。", speaker="zoe", model=str(adapter), seed=2)
    sf.write(tmp_path / "zoe.wav", result.samples, result.sr)
    read_generated_speech(tmp_path / "zoe.wav")
    info = engine.manager.loaded.info
    assert info.kind == "custom_voice" and info.load_from != tmp_path / "base"  # the base, shown with its config
    assert json.loads((tmp_path / "base" / "config.json").read_text())["tts_model_type"] == "base"  # untouched
    merged = engine.manager.loaded.tts.model.state_dict()[f"talker.{Q_PROJ}.weight"]
    torch.testing.assert_close(merged, _expected_q_proj(tiny_base, adapter, ""), atol=1e-5, rtol=1e-5)


def test_an_adapter_without_its_base_or_of_another_kind_is_refused(tiny_base, tmp_path):
    manager = ModelManager(Settings(dtype="float32"))
    adapter = _make_adapter(tiny_base, tmp_path / "adapter", "talker", str(tmp_path / "gone"))
    with pytest.raises(NotFoundError) as missing:
        manager.get(str(adapter), "base")
    assert "gone" in missing.value.message("en") and "base_model_name_or_path" in missing.value.message("en")
    assert "基础模型" in missing.value.message("zh") and manager.loaded is None

    path = adapter / "adapter_config.json"
    config = json.loads(path.read_text())
    path.write_text(json.dumps({**config, "base_model_name_or_path": ""}))
    with pytest.raises(CheckpointError, match="base_model_name_or_path"):
        manager.get(str(adapter), "base")
    path.write_text(json.dumps({**config, "peft_type": "IA3", "base_model_name_or_path": str(tiny_base)}))
    with pytest.raises(CheckpointError, match="only LoRA"):
        manager.get(str(adapter), "base")

    path.write_text(json.dumps({**config, "base_model_name_or_path": str(tiny_base)}))
    weights = load_file(str(adapter / "adapter_model.safetensors"))
    from safetensors.torch import save_file

    save_file(
        {k.replace("layers.0.", "layers.99."): v for k, v in weights.items()},
        str(adapter / "adapter_model.safetensors"),
    )
    with pytest.raises(CheckpointError, match="do not match this base"):
        manager.get(str(adapter), "base")


def test_a_trained_voice_may_speak_with_an_adapter_folder(tiny_base, tmp_path):
    from types import SimpleNamespace

    from studio.finetune.library import TRAINED_FILE, trained_voice

    adapter = _make_adapter(tiny_base, tmp_path / "adapter", "talker", str(tiny_base))
    voice = SimpleNamespace(path=tmp_path / "voice")
    voice.path.mkdir()
    (voice.path / TRAINED_FILE).write_text(json.dumps({"model": str(adapter), "speaker": "ada"}))
    assert trained_voice(voice).model == str(adapter)
    shutil.rmtree(adapter)
    assert trained_voice(voice) is None  # gone: the voice clones from its clip again
