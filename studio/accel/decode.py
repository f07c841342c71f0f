"""Decoding an in-context clone without re-decoding the reference audio.

qwen-tts decodes ``reference codes + new codes`` in one pass and then cuts the
reference's share of samples off the front. The 12 Hz decoder is

    codebooks -> causal conv (k=3) -> transformer (8 layers, sliding window 72)
    -> upsampling convs (x2 x2) -> vocoder convs (x8 x5 x4 x3) -> clamp

Its transformer sees ``8 x 71 = 568`` frames back, longer than any reference, so
cutting the *input* short would change the result. But the transformer is ~1% of
the decode cost; the convolutions after it are the other ~99%, and they are
causal with a short reach: :func:`first_frame_needed` walks them backwards from
the first kept sample (10 frames before a frame-aligned cut for the real
decoder). So we run the codebooks and the transformer over exactly the window
qwen-tts uses (same chunking, same positions, so the same values), and the
convolutions only from that frame on. Every kept sample then depends only on
inputs inside the window, which is why the result matches the full decode (to
float rounding of convolutions over a different length).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

#: ``Qwen3TTSTokenizerV2Decoder.chunked_decode`` defaults, which ``decode`` uses.
CHUNK_FRAMES = 300
CHUNK_CONTEXT_FRAMES = 25


def _conv_classes():
    from ..backend import qwen_tts

    qwen_tts()  # the package must be imported through the studio's guard first
    from qwen_tts.core.tokenizer_12hz import modeling_qwen3_tts_tokenizer_v2 as v2

    return v2.Qwen3TTSTokenizerV2CausalConvNet, v2.Qwen3TTSTokenizerV2CausalTransConvNet


def conv_plan(decoder) -> list[tuple[str, int, int]]:
    """The post-transformer convolutions, in forward order, as ("conv", left padding, 1) or ("up", kernel, stride).

    Activations, layer norms and pointwise linears between them reach no other time step.
    """
    causal_conv, trans_conv = _conv_classes()
    plan = []
    for stack in (decoder.upsample, decoder.decoder):
        for module in stack.modules():
            if isinstance(module, trans_conv):
                plan.append(("up", module.conv.kernel_size[0], module.conv.stride[0]))
            elif isinstance(module, causal_conv):
                if module.stride != 1:
                    raise ValueError("strided causal conv in the decoder: its reach is not derived here")
                plan.append(("conv", module.padding, 1))
    return plan


def first_frame_needed(plan: Sequence[tuple[str, int, int]], sample: int) -> int:
    """The earliest transformer frame that output ``sample`` depends on (may be negative: padding).

    Walks ``plan`` backwards from the sample: a causal conv reads ``padding``
    steps back; a transposed conv's output ``n`` reads inputs ``i`` with
    ``n - kernel < i * stride <= n``, the earliest being ``ceil((n - kernel + 1) / stride)``.
    Both are monotone, so the first kept sample bounds every later one. For the
    12 Hz decoder that is 10 frames before a frame-aligned cut.
    """
    position = sample
    for kind, size, stride in reversed(plan):
        if kind == "conv":
            position -= size
        else:
            position = -(-(position - size + 1) // stride)  # ceil division
    return position


def latents(decoder, codes: torch.Tensor) -> torch.Tensor:
    """Codebooks, pre-conv and transformer of ``decoder.forward``: (B, Q, T) codes -> (B, C, T) latents."""
    if codes.shape[1] != decoder.config.num_quantizers:
        raise ValueError(f"Expected {decoder.config.num_quantizers} layer of codes, got {codes.shape[1]}")
    hidden = decoder.quantizer.decode(codes)
    hidden = decoder.pre_conv(hidden).transpose(1, 2)
    hidden = decoder.pre_transformer(inputs_embeds=hidden).last_hidden_state
    return hidden.permute(0, 2, 1)


def waveform(decoder, hidden: torch.Tensor) -> torch.Tensor:
    """The rest of ``decoder.forward``: latents -> clamped waveform (B, 1, T * upsample)."""
    for blocks in decoder.upsample:
        for block in blocks:
            hidden = block(hidden)
    for block in decoder.decoder:
        hidden = block(hidden)
    return hidden.clamp(min=-1, max=1)


def decode_from(
    decoder,
    codes: torch.Tensor,
    first_sample: int,
    plan: Sequence | None = None,
    chunk: int = CHUNK_FRAMES,
    chunk_context: int = CHUNK_CONTEXT_FRAMES,
) -> torch.Tensor:
    """Samples ``first_sample:`` of ``decoder.chunked_decode(codes, chunk, chunk_context)`` for (B, Q, T) ``codes``.

    Follows ``chunked_decode``'s chunk grid exactly; chunks whose samples all
    lie before ``first_sample`` are skipped, and every chunk runs its
    convolutions only from the first frame its kept samples can depend on.
    """
    upsample = int(decoder.total_upsample)
    plan = conv_plan(decoder) if plan is None else plan
    frames = codes.shape[-1]
    pieces = []
    start = 0
    while start < frames:
        end = min(start + chunk, frames)
        context = chunk_context if start - chunk_context > 0 else start
        keep_from = max(start * upsample, first_sample)
        if keep_from < end * upsample:
            window = start - context
            hidden = latents(decoder, codes[..., window:end])
            conv_from = max(window, first_frame_needed(plan, keep_from))
            wav = waveform(decoder, hidden[..., conv_from - window :])
            pieces.append(wav[..., keep_from - conv_from * upsample :])
        start = end
    if not pieces:
        return codes.new_zeros((codes.shape[0], 1, 0), dtype=decoder.dtype)
    return torch.cat(pieces, dim=-1)


def decode_clone(speech_tokenizer, items: Sequence[torch.Tensor], ref_frames: Sequence[int]) -> list[np.ndarray]:
    """What ``speech_tokenizer.decode([{"audio_codes": c} for c in items])`` gives, for in-context clones.

    ``items[i]`` is (T, Q): ``ref_frames[i]`` reference frames, then new ones.
    Samples before qwen-tts' cut (``int(ref / T * samples)``, its own formula)
    are never read by its caller and are left as zeros; the rest are decoded.
    """
    model = speech_tokenizer.model
    decoder = model.decoder
    plan = conv_plan(decoder)
    wavs = []
    with torch.inference_mode():
        for codes, ref in zip(items, ref_frames, strict=True):
            codes = torch.as_tensor(codes, dtype=torch.long).to(speech_tokenizer.device)
            length = int((codes[:, 0] > -1).sum()) * int(model.decode_upsample_rate)
            cut = int(ref / max(codes.shape[0], 1) * length) if ref else 0
            tail = decode_from(decoder, codes.clamp(min=0).T[None], cut, plan)[0, 0, : max(length - cut, 0)]
            wav = np.zeros(length, dtype=np.float32)
            wav[cut:] = tail.to(torch.float32).cpu().numpy()
            wavs.append(wav)
    return wavs


def decode_span(
    decoder,
    codes: torch.Tensor,
    start: int,
    end: int,
    plan: Sequence | None = None,
    chunk: int = CHUNK_FRAMES,
    chunk_context: int = CHUNK_CONTEXT_FRAMES,
) -> torch.Tensor:
    """The samples of frames ``start:end`` of ``decoder.chunked_decode(codes)``, reading ``codes[..., :end]`` only.

    For streaming: every stage of the decoder is causal, so a frame's samples
    need no later code. Each piece follows ``chunked_decode``'s chunk grid (the
    transformer sees the same window, hence the same values) and runs the
    convolutions from the first frame its samples can depend on, so pieces
    decoded as frames arrive concatenate to the whole decode (to float rounding).
    """
    upsample = int(decoder.total_upsample)
    plan = conv_plan(decoder) if plan is None else plan
    pieces = []
    grid = (start // chunk) * chunk
    while grid < end:
        stop = min(grid + chunk, end)
        context = chunk_context if grid - chunk_context > 0 else grid
        window = grid - context
        keep_from = max(grid, start)
        hidden = latents(decoder, codes[..., window:stop])
        conv_from = max(window, first_frame_needed(plan, keep_from * upsample))
        wav = waveform(decoder, hidden[..., conv_from - window :])
        pieces.append(wav[..., (keep_from - conv_from) * upsample :])
        grid += chunk
    if not pieces:
        return codes.new_zeros((codes.shape[0], 1, 0), dtype=decoder.dtype)
    return torch.cat(pieces, dim=-1)
