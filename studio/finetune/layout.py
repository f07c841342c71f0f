"""The training sequence of a custom-voice speaker, laid out exactly as inference lays it out, and its losses.

What qwen-tts feeds the talker when it speaks with a CustomVoice speaker
(``Qwen3TTSForConditionalGeneration.generate`` with ``non_streaming_mode=True``,
the default of ``generate_custom_voice``, no instruction), one row per position,
``text(x)`` meaning ``text_projection(text_embedding(x))``::

    text(<|im_start|>), text(assistant), text(\\n)           3 positions, no codec part
    tts_pad + codec(nothink), tts_pad + codec(think_bos),    language Auto: 3 tags
              tts_pad + codec(think_eos)
      (or think, think_bos, LANGUAGE, think_eos: 4 tags for a named language)
    tts_pad + speaker embedding                             1
    tts_bos + codec(pad)                                    1
    text(t) + codec(pad) for each text token, then tts_eos + codec(pad)
    tts_pad + codec(bos)                                    its logits give frame 0's first code
    tts_pad + sum of the 16 codebook embeddings of frame g  its logits give frame g+1's first code
                                                            (after the last frame: EOS)

Positions are 0, 1, 2, ... along the sequence (one sample, no left padding).
The code predictor, for frame g, sees ``[h, codec(c0), cp_embedding[0](c1), ...,
cp_embedding[13](c14)]`` at its positions 0..15, where ``h`` is the talker's final
hidden state at the position whose logits gave ``c0`` (the one *before* frame g's
own position); its head i, at position i+1, predicts codebook i+1. So every label
here is the token generate samples from those very logits: no shift is applied
anywhere else (no transformers causal-loss shift), and codebook 15 is trained.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Label value for positions without a target.
IGNORE = -100
#: The assistant text is ``<|im_start|>assistant\n{text}<|im_end|>\n<|im_start|>assistant\n``:
#: 3 role tokens before the text, 5 tokens after it.
ROLE_TOKENS = 3
TAIL_TOKENS = 5


def assistant_text(text: str) -> str:
    """The text as inference wraps it before tokenising."""
    return f"<|im_start|>assistant\n{text}<|im_end|>\n<|im_start|>assistant\n"


def language_id(config, language: str) -> int | None:
    """The codec id inference puts among the tags for ``language`` (None for Auto)."""
    if language.lower() == "auto":
        return None
    ids = config.talker_config.codec_language_id
    if language.lower() not in ids:
        raise KeyError(language)
    return ids[language.lower()]


@dataclass
class Sample:
    """One training utterance: its tokenised assistant text and its codes ``[frames, 16]``."""

    text_ids: object  # LongTensor [tokens]
    codes: object  # LongTensor [frames, num_code_groups]


@dataclass
class Batch:
    """A right-padded batch of talker inputs with aligned labels."""

    inputs_embeds: object  # [B, L, H]
    attention_mask: object  # [B, L] 1 = real position
    labels: object  # [B, L] first code (or EOS) each position's logits must give; IGNORE elsewhere
    frame_rows: object  # [N] batch row of each frame
    frame_cols: object  # [N] the position whose hidden state conditions that frame's code predictor
    frame_codes: object  # [N, 16] the codes of each frame


def _text(talker, ids):
    return talker.text_projection(talker.get_text_embeddings()(ids))


def _codec(talker, ids):
    return talker.get_input_embeddings()(ids)


def prefix_embeds(model, text_ids, speaker_embed, language: int | None):
    """Everything inference feeds before the first frame, ``[P, H]``; its last position gives frame 0."""
    torch = _torch()
    talker, cfg = model.talker, model.config
    tcfg = cfg.talker_config
    device = speaker_embed.device

    def ids(values):
        return torch.tensor(values, device=device, dtype=torch.long)

    specials = _text(talker, ids([cfg.tts_bos_token_id, cfg.tts_eos_token_id, cfg.tts_pad_token_id]))
    tts_bos, tts_eos, tts_pad = specials[0:1], specials[1:2], specials[2:3]
    if language is None:
        tags = [tcfg.codec_nothink_id, tcfg.codec_think_bos_id, tcfg.codec_think_eos_id]
    else:
        tags = [tcfg.codec_think_id, tcfg.codec_think_bos_id, language, tcfg.codec_think_eos_id]
    codec = torch.cat(
        [
            _codec(talker, ids(tags)),
            speaker_embed.view(1, -1).to(specials.dtype),
            _codec(talker, ids([tcfg.codec_pad_id])),
        ]
    )
    text_ids = text_ids.to(device)
    body = text_ids[ROLE_TOKENS:-TAIL_TOKENS]
    parts = [
        _text(talker, text_ids[:ROLE_TOKENS]),
        torch.cat([tts_pad.expand(codec.shape[0] - 1, -1), tts_bos]) + codec,
        torch.cat([_text(talker, body), tts_eos]) + _codec(talker, ids([tcfg.codec_pad_id])),
        tts_pad + _codec(talker, ids([tcfg.codec_bos_id])),
    ]
    return torch.cat(parts)


def frame_embeds(model, codes):
    """What inference feeds for each frame ``[T, H]``: its 16 codebook embeddings summed, plus tts_pad."""
    torch = _torch()
    talker, cfg = model.talker, model.config
    tables = talker.code_predictor.get_input_embeddings()
    total = _codec(talker, codes[:, 0])
    for k in range(1, codes.shape[1]):
        total = total + tables[k - 1](codes[:, k])
    pad = _text(talker, torch.tensor([cfg.tts_pad_token_id], device=codes.device))
    return total + pad


def build_batch(model, samples: list[Sample], speaker_embed, language: int | None = None) -> Batch:
    """Lay out ``samples`` as inference would, right-padded to one length, with their labels."""
    torch = _torch()
    eos = model.config.talker_config.codec_eos_token_id
    device = speaker_embed.device
    rows, labels, frame_rows, frame_cols, frame_codes = [], [], [], [], []
    for b, sample in enumerate(samples):
        codes = sample.codes.to(device)
        prefix = prefix_embeds(model, sample.text_ids, speaker_embed, language)
        seq = torch.cat([prefix, frame_embeds(model, codes)])
        start = prefix.shape[0] - 1  # this position's logits give frame 0
        label = torch.full((seq.shape[0],), IGNORE, dtype=torch.long, device=device)
        label[start : start + codes.shape[0]] = codes[:, 0]
        label[start + codes.shape[0]] = eos
        rows.append(seq)
        labels.append(label)
        frame_rows.append(torch.full((codes.shape[0],), b, dtype=torch.long))
        frame_cols.append(torch.arange(start, start + codes.shape[0]))
        frame_codes.append(codes)
    length = max(r.shape[0] for r in rows)
    hidden = rows[0].shape[1]
    embeds = rows[0].new_zeros(len(rows), length, hidden)
    mask = torch.zeros(len(rows), length, dtype=torch.long, device=device)
    padded = torch.full((len(rows), length), IGNORE, dtype=torch.long, device=device)
    for b, (seq, label) in enumerate(zip(rows, labels, strict=True)):
        embeds[b, : seq.shape[0]] = seq
        mask[b, : seq.shape[0]] = 1
        padded[b, : seq.shape[0]] = label
    return Batch(
        inputs_embeds=embeds,
        attention_mask=mask,
        labels=padded,
        frame_rows=torch.cat(frame_rows).to(device),
        frame_cols=torch.cat(frame_cols).to(device),
        frame_codes=torch.cat(frame_codes),
    )


def talker_forward(model, batch: Batch):
    """The talker's final hidden states ``[B, L, H]`` and first-code logits ``[B, L, V]`` for ``batch``."""
    torch = _torch()
    talker = model.talker
    b, length = batch.attention_mask.shape
    positions = torch.arange(length, device=batch.attention_mask.device).view(1, 1, -1).expand(3, b, -1)
    out = talker.model(
        inputs_embeds=batch.inputs_embeds,
        attention_mask=batch.attention_mask,
        position_ids=positions,
        use_cache=False,
    )
    hidden = out.last_hidden_state
    return hidden, talker.codec_head(hidden)


def predictor_logits(model, conditioning, codes):
    """Code-predictor logits ``[N, 15, V]``: entry i is head i's prediction of codebook i+1.

    ``conditioning`` ``[N, H]`` is the talker hidden state generate hands the predictor for
    each frame; ``codes`` ``[N, 16]`` are that frame's codes.
    """
    torch = _torch()
    talker = model.talker
    predictor = talker.code_predictor
    tables = predictor.get_input_embeddings()
    inputs = [conditioning.unsqueeze(1), _codec(talker, codes[:, :1])]
    inputs += [tables[k - 1](codes[:, k : k + 1]) for k in range(1, codes.shape[1] - 1)]
    embeds = predictor.small_to_mtp_projection(torch.cat(inputs, dim=1))
    hidden = predictor.model(inputs_embeds=embeds, use_cache=False).last_hidden_state
    return torch.stack([predictor.lm_head[i](hidden[:, i + 1]) for i in range(codes.shape[1] - 1)], dim=1)


@dataclass
class Losses:
    """Losses and teacher-forced accuracies of one batch."""

    total: object  # scalar tensor: talker + predictor_weight * predictor
    talker: float
    predictor: float
    talker_accuracy: float  # first code / EOS, over labelled positions
    predictor_accuracy: float  # codebooks 1-15 over all frames


def compute_losses(model, batch: Batch, predictor_weight: float = 1.0) -> Losses:
    """Cross-entropy of the talker (first code, EOS) and of the code predictor (codebooks 1-15)."""
    torch = _torch()
    f = torch.nn.functional
    hidden, logits = talker_forward(model, batch)
    talker_loss = f.cross_entropy(logits.float().flatten(0, 1), batch.labels.flatten(), ignore_index=IGNORE)
    conditioning = hidden[batch.frame_rows, batch.frame_cols]
    cp_logits = predictor_logits(model, conditioning, batch.frame_codes)
    cp_labels = batch.frame_codes[:, 1:]
    cp_loss = f.cross_entropy(cp_logits.float().flatten(0, 1), cp_labels.flatten())
    with torch.no_grad():
        valid = batch.labels != IGNORE
        talker_acc = (logits.argmax(-1)[valid] == batch.labels[valid]).float().mean().item()
        cp_acc = (cp_logits.argmax(-1) == cp_labels).float().mean().item()
    return Losses(
        total=talker_loss + predictor_weight * cp_loss,
        talker=talker_loss.item(),
        predictor=cp_loss.item(),
        talker_accuracy=talker_acc,
        predictor_accuracy=cp_acc,
    )


def _torch():
    from ..backend import torch

    return torch()
