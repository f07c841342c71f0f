"""Per-epoch evaluation on fixed held-out sentences, and the choice of the epoch to export.

After each epoch the model speaks a few sentences it never trained on, with the
new speaker, exactly as the exported CustomVoice checkpoint will (the speaker
embedding in the speaker slot, the non-streaming layout). Two figures come out:

- speaking rate: text units (a CJK character or a word) per second of generated
  audio, against the training data's own rate: a model that learned the frame
  two ahead speaks ever faster, which this catches;
- speaker similarity: cosine between the Base speaker encoder's embedding of
  the generated audio and of the reference clip;
- character error rate of the recogniser's transcript against the sentence,
  when a recogniser is on disk (:mod:`studio.recogniser`); None otherwise.

The exported epoch is the one with the best
``similarity - RATE_WEIGHT * |ln(rate / data rate)| - CER_WEIGHT * cer``. The
first sentence of each epoch is kept as a WAV, beside one zero-shot clone of the
same sentence from the same reference by the untrained Base (:func:`zero_shot`):
the A/B pair the Train tab plays.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

from .data import text_units
from .layout import assistant_text

SENTENCES = {
    "zh": ("今天的天气真不错，我们出去走走吧。", "请大家在会议开始前五分钟到达。", "这个问题我们明天再好好讨论一下。"),
    "en": (
        "The weather is lovely today, so let us take a walk.",
        "Please arrive five minutes before the meeting starts.",
        "We can talk about this problem again tomorrow.",
    ),
}
RATE_WEIGHT = 0.5
CER_WEIGHT = 1.0
FRAME_RATE = 12.5


@dataclass
class Evaluation:
    """How one epoch speaks."""

    units_per_second: float  #: speaking rate of the generated sentences
    rate_ratio: float  #: against the training data's rate (1.0 = same pace)
    similarity: float  #: speaker-embedding cosine, generated vs reference
    score: float
    cer: float | None = None  #: character error rate by the recogniser (None: no recogniser on disk)

    def to_dict(self) -> dict:
        return asdict(self)


def sentences_for(texts: list[str], count: int) -> list[str]:
    """``count`` held-out sentences in the data's main script (Chinese or English)."""
    cjk = sum(1 for t in texts for c in t if "\u4e00" <= c <= "\u9fff")
    total = sum(len(t) for t in texts) or 1
    return list(SENTENCES["zh" if cjk * 2 >= total else "en"][: max(0, count)])


def _limit(text: str, data_rate: float) -> int:
    return int(FRAME_RATE * text_units(text) / max(data_rate, 0.5) * 2) + 12  # 2x slower than the data


def evaluate(
    tts,
    speaker,
    sentences: list[str],
    data_rate: float,
    language: str = "Auto",
    seed: int = 0,
    recognise=None,
    keep=None,
) -> Evaluation:
    """Speak ``sentences`` with ``tts`` (the Base model in training) and measure rate, similarity and CER.

    ``speaker`` is the reference clip's embedding: it fills the speaker slot, and the generated audio's
    embedding (by the same, frozen, speaker encoder) is compared with it. ``recognise(samples, sr) -> str``
    transcribes for the CER; ``keep`` is a WAV path for the first sentence's audio.
    """
    import torch

    model = tts.model
    was_training = model.training
    model.eval()
    units, seconds, sims, errors, chars = 0, 0.0, [], 0, 0
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for text in sentences:
                ids = tts._tokenize_texts([assistant_text(text)])
                limit = _limit(text, data_rate)
                codes, _ = model.generate(
                    input_ids=ids,
                    languages=[language],
                    voice_clone_prompt={
                        "ref_spk_embedding": [speaker],
                        "x_vector_only_mode": [True],
                        "icl_mode": [False],
                        "ref_code": None,
                    },
                    non_streaming_mode=True,
                    max_new_tokens=limit,
                )
                frames = int(codes[0].shape[0])
                units += text_units(text)
                seconds += max(frames, 1) / FRAME_RATE
                if frames:
                    wavs, sr = model.speech_tokenizer.decode([{"audio_codes": codes[0]}])
                    wav = wavs[0].astype("float32")
                    sims.append(_cosine(model.extract_speaker_embedding(wav, sr), speaker))
                    if keep is not None and text == sentences[0]:
                        _write(keep, wav, sr)
                    if recognise is not None:
                        errors += edit_distance(_chars(text), _chars(recognise(wav, sr)))
                        chars += len(_chars(text))
    finally:
        model.train(was_training)
    rate = units / max(seconds, 1e-6)
    ratio = rate / max(data_rate, 1e-6)
    similarity = sum(sims) / len(sims) if sims else 0.0
    cer = errors / chars if recognise is not None and chars else None
    score = similarity - RATE_WEIGHT * abs(math.log(max(ratio, 1e-6))) - CER_WEIGHT * (cer or 0.0)
    return Evaluation(rate, ratio, similarity, score, cer)


def zero_shot(tts, audio, transcript: str, sentence: str, data_rate: float, path, language: str = "Auto", seed=0):
    """The B of the A/B pair: ``sentence`` cloned zero-shot from the reference clip by the untrained Base."""
    import torch

    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        wavs, sr = tts.generate_voice_clone(
            text=sentence,
            language=language,
            ref_audio=(audio.samples, audio.sr),
            ref_text=transcript,
            max_new_tokens=_limit(sentence, data_rate),
        )
    _write(path, wavs[0].astype("float32"), sr)


def _write(path, samples, sr: int) -> None:
    import soundfile as sf

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, sr, subtype="PCM_16")


def _chars(text: str) -> list[str]:
    """What the CER counts: letters, digits and CJK characters, lower case (no spaces or punctuation)."""
    return [c for c in text.lower() if c.isalnum()]


def edit_distance(a: list, b: list) -> int:
    """Levenshtein distance between two sequences."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def _cosine(a, b) -> float:
    import torch

    return float(torch.nn.functional.cosine_similarity(a.float().flatten(), b.float().flatten(), dim=0))


def best_epoch(history) -> int:
    """The 1-based epoch with the best evaluation score (the last one when none was evaluated)."""
    scored = [r for r in history if r.evaluation]
    if not scored:
        return history[-1].epoch
    return max(scored, key=lambda r: r.evaluation["score"]).epoch
