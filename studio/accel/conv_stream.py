"""The speech decoder's convolutions run piece by piece, each carrying its left context to the next piece.

After its transformer, the 12 Hz decoder is only causal convolutions (plain,
depthwise, dilated), transposed convolutions and per-sample operations (see
:mod:`.decode`). A :class:`ConvStream` keeps, for every convolution, the last
inputs it will read again (``padding`` samples of a causal conv, the inputs a
transposed conv's overlapping kernel still reaches), so latents fed in pieces
give the same samples as the same latents fed at once, to float rounding. A
streamed chunk then costs its own frames only, where starting the convolutions
afresh before each chunk recomputed ten frames of left context per chunk.

Built for the decoder classes qwen-tts ships; :func:`supports` says whether a
decoder is made only of those, and callers fall back to recomputing otherwise.
"""

from __future__ import annotations

import torch
from torch import nn


def _classes():
    from ..backend import qwen_tts

    qwen_tts()  # the package must be imported through the studio's guard first
    from qwen_tts.core.tokenizer_12hz import modeling_qwen3_tts_tokenizer_v2 as v2

    return v2


def _parts(decoder) -> list[nn.Module]:
    return [*decoder.upsample, *decoder.decoder]


def supports(decoder) -> bool:
    """Whether every module after ``decoder``'s transformer is one :class:`ConvStream` knows how to carry."""
    v2 = _classes()
    known = (
        nn.ModuleList,
        v2.Qwen3TTSTokenizerV2DecoderDecoderBlock,
        v2.Qwen3TTSTokenizerV2DecoderDecoderResidualUnit,
        v2.Qwen3TTSTokenizerV2ConvNeXtBlock,
        v2.SnakeBeta,
        nn.Conv1d,
        nn.ConvTranspose1d,
        nn.LayerNorm,
        nn.Linear,
        nn.GELU,
    )
    for part in _parts(decoder):
        for module in part.modules():
            if isinstance(module, v2.Qwen3TTSTokenizerV2CausalConvNet):
                if module.stride != 1 or module.conv.padding != (0,):
                    return False
            elif isinstance(module, v2.Qwen3TTSTokenizerV2CausalTransConvNet):
                conv = module.conv
                if conv.padding != (0,) or conv.dilation != (1,) or conv.output_padding != (0,):
                    return False
                if module.left_pad or module.right_pad != conv.kernel_size[0] - conv.stride[0]:
                    return False
            elif not isinstance(module, known):
                return False
    return True


class ConvStream:
    """``decode.waveform`` for consecutive pieces of one latent sequence: (B, C, T) -> (B, 1, T * upsample) each."""

    def __init__(self, decoder) -> None:
        self.decoder = decoder
        self.v2 = _classes()
        self.tails: dict[int, torch.Tensor] = {}

    def __call__(self, hidden: torch.Tensor) -> torch.Tensor:
        for part in _parts(self.decoder):
            hidden = self._run(part, hidden)
        return hidden.clamp(min=-1, max=1)

    def _run(self, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        v2 = self.v2
        if isinstance(module, v2.Qwen3TTSTokenizerV2CausalConvNet):
            return self._causal(module, x)
        if isinstance(module, v2.Qwen3TTSTokenizerV2CausalTransConvNet):
            return self._transposed(module, x)
        if isinstance(module, v2.Qwen3TTSTokenizerV2ConvNeXtBlock):
            h = self._causal(module.dwconv, x).permute(0, 2, 1)
            h = module.pwconv2(module.act(module.pwconv1(module.norm(h))))
            return x + (module.gamma * h).permute(0, 2, 1)
        if isinstance(module, v2.Qwen3TTSTokenizerV2DecoderDecoderResidualUnit):
            h = self._causal(module.conv1, module.act1(x))
            return x + self._causal(module.conv2, module.act2(h))
        if isinstance(module, v2.Qwen3TTSTokenizerV2DecoderDecoderBlock):
            module = module.block
        if isinstance(module, nn.ModuleList):
            for child in module:
                x = self._run(child, x)
            return x
        return module(x)  # per-sample: SnakeBeta

    def _causal(self, module, x: torch.Tensor) -> torch.Tensor:
        reach = module.padding  # samples back a causal conv reads: zeros before the first piece
        tail = self.tails.get(id(module))
        if tail is None:
            tail = x.new_zeros((*x.shape[:-1], reach))
        joined = torch.cat([tail, x], dim=-1)
        self.tails[id(module)] = joined[..., joined.shape[-1] - reach :].clone()
        return module.conv(joined)

    def _transposed(self, module, x: torch.Tensor) -> torch.Tensor:
        kernel, stride = module.conv.kernel_size[0], module.conv.stride[0]
        overlap = -(-(kernel - stride) // stride)  # earlier inputs a new output still reads
        tail = self.tails.get(id(module))
        joined = x if tail is None else torch.cat([tail, x], dim=-1)
        if overlap:
            self.tails[id(module)] = joined[..., max(joined.shape[-1] - overlap, 0) :].clone()
        skip = (joined.shape[-1] - x.shape[-1]) * stride
        return module.conv(joined)[..., skip : skip + x.shape[-1] * stride].contiguous()
