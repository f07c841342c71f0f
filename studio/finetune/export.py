"""Write a trained speaker as a CustomVoice checkpoint that qwen-tts loads as it loads the official ones.

The result is a copy of the Base folder (text tokenizer, speech tokenizer,
generation config) with ``tts_model_type: custom_voice``, the speaker under its
lower-case name in ``talker_config.spk_id`` (qwen-tts looks names up
lower-cased), the speaker embedding written into that id's row of the talker's
codec embedding, LoRA merged into the weights, and no speaker encoder (qwen-tts
builds none for CustomVoice). The random-test-checkpoint marker of a test Base
is not copied: the result is a trained model, and the studio labels it as such.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..errors import InputError
from ..random_checkpoint import MARKER_FILE
from .train import TrainOptions, attach_trainable, load_trainable

#: Files of the Base folder that the export rewrites instead of copying.
_REWRITTEN = {"config.json", "model.safetensors", "model.safetensors.index.json", MARKER_FILE}
#: Where qwen-tts' own fine-tuning puts its one speaker; any free id above the codec's 2048 codes works.
FIRST_SPEAKER_ID = 3000


def speaker_key(name: str) -> str:
    """The speaker name as stored: lower case, as qwen-tts looks it up."""
    key = name.strip().lower()
    if not key or len(key) > 64 or any(c in key for c in "/\\\n\t\"'"):
        raise InputError(
            zh=f"音色名称“{name}”不可用：需要 1-64 个字符，不能含斜杠、引号或换行。",
            en=f"The voice name '{name}' cannot be used: 1-64 characters, no slashes, quotes or line breaks.",
        )
    return key


def free_speaker_id(talker_config: dict) -> int:
    """An id of the talker's codec vocabulary that no code, tag, language or speaker uses."""
    used = set(talker_config.get("spk_id", {}).values()) | set(talker_config.get("codec_language_id", {}).values())
    used |= {v for k, v in talker_config.items() if k.startswith("codec_") and isinstance(v, int)}
    for candidate in range(FIRST_SPEAKER_ID, talker_config["vocab_size"] - 1):
        if candidate not in used:
            return candidate
    raise ValueError("no free speaker id in the codec vocabulary")


def _weights_dtype(base_dir: Path):
    from safetensors import safe_open

    torch = _torch()
    files = sorted(base_dir.glob("model*.safetensors"))
    with safe_open(str(files[0]), "pt") as f:
        first = next(iter(f.keys()))
        return torch.bfloat16 if f.get_slice(first).get_dtype() == "BF16" else torch.float32


def merged_state(base_dir: Path, trainable: dict, options: TrainOptions) -> dict:
    """Load the Base weights in float32, apply the trained weights, merge LoRA; the full state dict."""
    torch = _torch()
    from ..backend import qwen_tts

    qwen_tts()
    from qwen_tts.core.models import Qwen3TTSForConditionalGeneration

    model = Qwen3TTSForConditionalGeneration.from_pretrained(str(base_dir), dtype=torch.float32)
    model, lora = attach_trainable(model, options)
    load_trainable(model, trainable)
    if lora is not None:
        model.talker = lora.merge_and_unload()
    return model.state_dict()


def export_custom_voice(base_dir, out_dir, name: str, speaker_embed, trainable: dict, options: TrainOptions) -> Path:
    """Write the CustomVoice checkpoint for speaker ``name`` into ``out_dir``; return the folder."""
    from safetensors.torch import save_file

    base_dir, out_dir = Path(base_dir), Path(out_dir)
    key = speaker_key(name)
    config = json.loads((base_dir / "config.json").read_text(encoding="utf-8"))
    talker = config["talker_config"]
    talker["spk_id"], talker["spk_is_dialect"] = {}, {}  # a Base has none; a single-speaker model
    spk_id = free_speaker_id(talker)
    talker["spk_id"][key] = spk_id
    talker["spk_is_dialect"][key] = False
    config["tts_model_type"] = "custom_voice"

    dtype = _weights_dtype(base_dir)
    state = merged_state(base_dir, trainable, options)
    table = state["talker.model.codec_embedding.weight"]
    table[spk_id] = speaker_embed.detach().to(table.device, table.dtype)
    tensors = {
        k: v.detach().to(dtype).contiguous().clone() for k, v in state.items() if not k.startswith("speaker_encoder.")
    }

    out_dir.mkdir(parents=True, exist_ok=True)
    for item in base_dir.iterdir():
        if item.name in _REWRITTEN or item.name.startswith("model-"):
            continue
        target = out_dir / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(item, target)
    (out_dir / MARKER_FILE).unlink(missing_ok=True)
    save_file(tensors, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    (out_dir / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
    return out_dir


def _torch():
    from ..backend import torch

    return torch()
