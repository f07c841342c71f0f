"""Build random-weight Qwen3-TTS checkpoints offline, with the real file layout.

The result loads through the real ``Qwen3TTSModel.from_pretrained`` and runs
every generation path, but its audio is noise. Tests use the ``tiny`` size
(~25 MB, built in about a second); benchmarks use the real sizes, whose compute
matches the official checkpoints.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

from .errors import InputError
from .paths import ASSETS_DIR

CONFIGS_DIR = ASSETS_DIR / "qwen3-tts-configs"
MARKER_FILE = "studio_random_checkpoint.json"
KINDS = ("base", "custom_voice", "voice_design")
SIZES = ("tiny", "0.6b", "1.7b")

_TEMPLATE = {
    ("base", "0.6b"): "Qwen3-TTS-12Hz-0.6B-Base",
    ("base", "1.7b"): "Qwen3-TTS-12Hz-1.7B-Base",
    ("custom_voice", "0.6b"): "Qwen3-TTS-12Hz-0.6B-CustomVoice",
    ("custom_voice", "1.7b"): "Qwen3-TTS-12Hz-1.7B-CustomVoice",
    ("voice_design", "1.7b"): "Qwen3-TTS-12Hz-1.7B-VoiceDesign",
    # Tiny checkpoints take the config of the model whose behaviour they mimic:
    # 1.7B for CustomVoice, since qwen-tts drops instructions for "0b6".
    ("base", "tiny"): "Qwen3-TTS-12Hz-0.6B-Base",
    ("custom_voice", "tiny"): "Qwen3-TTS-12Hz-1.7B-CustomVoice",
    ("voice_design", "tiny"): "Qwen3-TTS-12Hz-1.7B-VoiceDesign",
}

_TINY_ATTENTION = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "head_dim": 32,
}


_TINY_TEXT_HIDDEN = 32


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


def _tiny_model_config(config: dict) -> dict:
    config = copy.deepcopy(config)
    talker = config["talker_config"]
    # text_hidden_size differs from hidden_size as in the real 0.6B (2048 vs 1024), so a path that
    # forgets text_projection fails on the tiny checkpoints too.
    talker.update(_TINY_ATTENTION, num_hidden_layers=2, text_hidden_size=_TINY_TEXT_HIDDEN)
    # mrope sections must add up to head_dim / 2.
    talker["rope_scaling"]["mrope_section"] = [6, 5, 5]
    talker["code_predictor_config"].update(_TINY_ATTENTION, num_hidden_layers=1, layer_types=["full_attention"])
    config["speaker_encoder_config"] = {
        "enc_dim": talker["hidden_size"],
        "sample_rate": 24000,
        "enc_channels": [32, 32, 32, 32, 96],
        "enc_attention_channels": 16,
        "enc_res2net_scale": 4,
        "enc_se_channels": 16,
    }
    return config


def _tiny_tokenizer_config(config: dict) -> dict:
    config = copy.deepcopy(config)
    config["decoder_config"].update(
        latent_dim=64,
        codebook_dim=64,
        decoder_dim=64,
        hidden_size=32,
        intermediate_size=64,
        head_dim=16,
        num_attention_heads=2,
        num_key_value_heads=2,
        num_hidden_layers=1,
        vector_quantization_hidden_dimension=64,
    )
    config["encoder_config"].update(
        hidden_size=32,
        num_filters=8,
        intermediate_size=64,
        num_hidden_layers=1,
        head_dim=16,
        num_attention_heads=2,
        num_key_value_heads=2,
        codebook_dim=32,
        vector_quantization_hidden_dimension=32,
        upsample_groups=32,
    )
    return config


def _make_audible(speech_tokenizer) -> None:
    """Random init decodes to ~1e-8 RMS: codebooks start at zero and the decoder's
    convolutions at N(0, 0.02). Randomise both so the output is audible noise."""
    import torch

    for name, tensor in list(speech_tokenizer.named_parameters()) + list(speech_tokenizer.named_buffers()):
        if name.endswith(("embedding_sum", "embed_sum")):
            with torch.no_grad():
                tensor.copy_(torch.randn_like(tensor))
    for module in speech_tokenizer.decoder.modules():
        if isinstance(module, (torch.nn.Conv1d, torch.nn.ConvTranspose1d)):
            module.reset_parameters()


def build_random_checkpoint(
    out_dir: str | Path, kind: str = "base", size: str = "tiny", seed: int = 0, weights_dtype: str | None = None
) -> Path:
    """Write a loadable random-weight checkpoint of ``kind`` and ``size`` into ``out_dir``.

    ``kind`` is base, custom_voice or voice_design; ``size`` tiny, 0.6b or 1.7b
    (VoiceDesign exists only as 1.7b and tiny). ``weights_dtype`` is how the
    talker's weights are stored: by default bfloat16 for the real sizes, as in
    the official release (0.6B: 1.8 GB on disk), and float32 for tiny; the
    speech tokenizer is always float32, as published.
    """
    if kind not in KINDS or size not in SIZES or (kind, size) not in _TEMPLATE:
        raise InputError(
            zh=f"没有这种测试模型：kind={kind} size={size}。kind 可选 {', '.join(KINDS)}，size 可选 {', '.join(SIZES)}"
            "（VoiceDesign 只有 1.7b 和 tiny）。",
            en=f"No such test checkpoint: kind={kind} size={size}. kind is one of {', '.join(KINDS)}, size one of "
            f"{', '.join(SIZES)} (VoiceDesign exists only as 1.7b and tiny).",
        )
    import torch

    from .backend import qwen_tts

    qwen_tts()  # installs the torchaudio fallback before the core modules import
    from qwen_tts.core.models import Qwen3TTSConfig, Qwen3TTSForConditionalGeneration
    from qwen_tts.core.tokenizer_12hz.configuration_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Config
    from qwen_tts.core.tokenizer_12hz.modeling_qwen3_tts_tokenizer_v2 import Qwen3TTSTokenizerV2Model

    template = CONFIGS_DIR / _TEMPLATE[(kind, size)]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_config = _read_json(template / "config.json")
    tokenizer_config = _read_json(template / "speech_tokenizer" / "config.json")
    if size == "tiny":
        model_config = _tiny_model_config(model_config)
        tokenizer_config = _tiny_tokenizer_config(tokenizer_config)
    model_config["tts_model_type"] = kind

    weights_dtype = weights_dtype or ("float32" if size == "tiny" else "bfloat16")
    if weights_dtype not in ("float32", "bfloat16"):
        raise InputError(
            zh=f"权重类型只能是 float32 或 bfloat16（收到 {weights_dtype}）。",
            en=f"The weights dtype must be float32 or bfloat16 (got {weights_dtype}).",
        )

    torch.manual_seed(seed)
    model = Qwen3TTSForConditionalGeneration(Qwen3TTSConfig(**model_config)).eval()
    model.to(getattr(torch, weights_dtype))
    model.save_pretrained(out, safe_serialization=True)
    del model
    speech_tokenizer = Qwen3TTSTokenizerV2Model(Qwen3TTSTokenizerV2Config(**tokenizer_config)).eval()
    _make_audible(speech_tokenizer)
    speech_tokenizer.save_pretrained(out / "speech_tokenizer", safe_serialization=True)
    del speech_tokenizer

    # qwen-tts writes "model_type": "" into speaker_encoder_config and then
    # cannot read its own output (that config's __init__ takes no extra keys).
    saved = _read_json(out / "config.json")
    saved.get("speaker_encoder_config", {}).pop("model_type", None)
    for key in ("dtype", "torch_dtype"):  # the official config.json names no dtype: loaders choose
        saved.pop(key, None)
    _write_json(out / "config.json", saved)
    for name in ("configuration.json", "generation_config.json", "preprocessor_config.json", "tokenizer_config.json"):
        shutil.copyfile(template / name, out / name)
    for name in ("configuration.json", "preprocessor_config.json"):
        shutil.copyfile(template / "speech_tokenizer" / name, out / "speech_tokenizer" / name)
    for name in ("vocab.json", "merges.txt"):
        shutil.copyfile(CONFIGS_DIR / "text-tokenizer" / name, out / name)
    _write_json(
        out / MARKER_FILE,
        {
            "kind": kind,
            "size": size,
            "seed": seed,
            "weights_dtype": weights_dtype,
            "note": "random weights: output is noise",
        },
    )
    return out


def is_random_checkpoint(path: str | Path) -> bool:
    """True for a checkpoint built by :func:`build_random_checkpoint`."""
    return (Path(path) / MARKER_FILE).is_file()
