"""Build a random-weight Whisper recogniser offline, in the CTranslate2 layout faster-whisper loads.

The model is a real ``WhisperForConditionalGeneration`` (transformers) with tiny
sizes and random weights, converted with CTranslate2's own converter. Its
tokenizer keeps Whisper's id layout (50,257 text tokens, then ``<|endoftext|>``,
``<|startoftranscript|>``, one token per language, the task tokens and
``<|notimestamps|>``, then 1,501 timestamps), so the runtime treats it as a
multilingual model and every decoding path (language, timestamps, word times)
runs. Its text tokens beyond the 256 bytes are made-up words. Nothing is
downloaded; the transcripts it produces are noise.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

MARKER_FILE = "studio_random_recogniser.json"
TEXT_TOKENS = 50257
TIMESTAMPS = 1501
N_MELS = 80
_TASK_TOKENS = (
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nocaptions|>",
    "<|notimestamps|>",
)


def _byte_alphabet() -> list[str]:
    """GPT-2's byte-to-character table (the byte-level BPE alphabet Whisper uses)."""
    from tokenizers import pre_tokenizers

    return sorted(pre_tokenizers.ByteLevel.alphabet())


def _languages() -> tuple[str, ...]:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return tuple(_LANGUAGE_CODES)


def _tokenizer():
    """A byte-level BPE tokenizer with Whisper's special-token layout."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    alphabet = _byte_alphabet()
    vocab = {char: i for i, char in enumerate(alphabet)}
    # Made-up words fill the text range; half start with a space ("Ġ"), so word timestamps have words to split.
    for i in range(len(vocab), TEXT_TOKENS - 1):
        vocab[f"{'Ġ' if i % 2 else ''}w{i}"] = i
    # The real multilingual vocabulary ends its text range with an empty token; CTranslate2 looks for it
    # to tell a multilingual model from an English-only one.
    vocab[""] = TEXT_TOKENS - 1
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|startoftranscript|>", *[f"<|{c}|>" for c in _languages()], *_TASK_TOKENS]
    tok.add_special_tokens(specials)
    return tok, specials


#: (d_model, layers, heads, ffn) per size: "tiny" for tests, "small" with Whisper small's shapes for benchmarks
SIZES = {"tiny": (32, 2, 2, 64), "small": (768, 12, 12, 3072)}


def build_random_recogniser(out_dir: str | Path, seed: int = 0, size: str = "tiny") -> Path:
    """Write a random Whisper (``size`` in :data:`SIZES`) in faster-whisper's layout to ``out_dir``; return it."""
    import torch
    from ctranslate2.converters import TransformersConverter
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperTokenizerFast,
    )

    out = Path(out_dir).expanduser()
    tok, specials = _tokenizer()
    ids = {name: tok.token_to_id(name) for name in specials}
    eot, sot = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    vocab_size = tok.get_vocab_size() + TIMESTAMPS
    width, layers, heads, ffn = SIZES[size]
    config = WhisperConfig(
        vocab_size=vocab_size,
        num_mel_bins=N_MELS,
        d_model=width,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=ffn,
        decoder_ffn_dim=ffn,
        max_source_positions=1500,
        max_target_positions=448,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=sot,
    )
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config).eval()
    lang_to_id = {f"<|{c}|>": ids[f"<|{c}|>"] for c in _languages()}
    model.generation_config = GenerationConfig(
        decoder_start_token_id=sot,
        eos_token_id=eot,
        pad_token_id=eot,
        suppress_tokens=[],
        begin_suppress_tokens=[tok.token_to_id("Ġ"), eot],
        lang_to_id=lang_to_id,
        task_to_id={"translate": ids["<|translate|>"], "transcribe": ids["<|transcribe|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"],
        alignment_heads=[[1, 0], [1, 1]],
        is_multilingual=True,
    )
    with tempfile.TemporaryDirectory(prefix="studio-whisper-") as tmp:
        hf_dir = Path(tmp) / "hf"
        model.save_pretrained(hf_dir)
        WhisperTokenizerFast(
            tokenizer_object=tok,
            unk_token="<|endoftext|>",
            bos_token="<|endoftext|>",
            eos_token="<|endoftext|>",
            pad_token="<|endoftext|>",
            additional_special_tokens=specials[1:],
        ).save_pretrained(hf_dir)
        WhisperFeatureExtractor(feature_size=N_MELS).save_pretrained(hf_dir)
        staged = Path(tmp) / "ct2"
        TransformersConverter(str(hf_dir), copy_files=["tokenizer.json", "preprocessor_config.json"]).convert(
            str(staged), quantization=None, force=True
        )
        (staged / MARKER_FILE).write_text(
            json.dumps({"random_weights": True, "seed": seed, "note": "transcripts are noise"}), encoding="utf-8"
        )
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staged, out)
    return out


def is_random_recogniser(folder: str | Path) -> bool:
    """Whether ``folder`` was built by :func:`build_random_recogniser`."""
    return (Path(folder) / MARKER_FILE).is_file()
