"""One speech request (:class:`SpeechRequest`) and the checks every request goes through before a model is touched.

Every adapter (UI tab, CLI command, HTTP dialect, dubbing line) builds a
:class:`SpeechRequest` and hands it to :meth:`studio.engine.Engine.speak`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError, NotFoundError, TextError
from .limits import MAX_TEXT_CHARS, bad_char
from .registry import SPEAKERS

if TYPE_CHECKING:
    from .audio import Audio
    from .delivery import Delivery
    from .synthesis import Sampling

#: The request kinds and the model kind each needs.
MODEL_KINDS = {"clone": "base", "custom": "custom_voice", "design": "voice_design"}


@dataclass
class SpeechRequest:
    """What to say, in which voice, how, and what happens to the audio afterwards.

    ``kind`` chooses the voice source: ``clone`` (a ``reference`` clip with its
    ``transcript``, or a saved ``voice`` and its ``clip``), ``custom`` (a preset
    ``speaker``, with an ``instruct`` style) or ``design`` (a voice
    ``description``). ``texts`` are spoken one result each (clone: in batched
    model calls).
    """

    kind: str  #: clone | custom | design
    texts: list[str] = field(default_factory=list)
    # -- the voice --
    reference: Audio | str | Path | tuple | None = None  #: clone: the reference clip (3-10 s ideal)
    transcript: str = ""  #: clone: what the reference says, word for word
    x_vector_only: bool = False  #: clone: the speaker embedding alone (no transcript needed)
    voice: str | None = None  #: clone: a saved voice, instead of ``reference``
    clip: str | None = None  #: clone: the tag of the saved voice's clip (default: its neutral one)
    library: object = None  #: clone: the voice library ``voice`` is in (default: the engine's)
    speaker: str = ""  #: custom: a preset (or fine-tuned) speaker
    description: str = ""  #: design: the voice described in words
    # -- the delivery --
    language: str = "Auto"
    instruct: str = ""  #: custom: free style instruction
    emotion: str | None = None  #: custom/design: an emotion preset composed into the instruction
    intensity: float | None = None  #: of the emotion (clone: blend toward the neutral clip); None: the kind's default
    # -- model and sampling --
    model: str | None = None  #: a registry id or a checkpoint folder; None: the default for the kind
    seed: int | None = None  #: None or -1: random
    sampling: Sampling | None = None
    # -- afterwards --
    delivery: Delivery | None = None  #: exact length, takes, loudness, watermark; None: the defaults
    normalize: bool = True  #: spell out numbers and symbols before the model sees the text

    @property
    def model_kind(self) -> str:
        """The kind of model this request needs (base, custom_voice, voice_design)."""
        try:
            return MODEL_KINDS[self.kind]
        except KeyError:
            raise InputError(
                zh=f"未知的生成类型：{self.kind}（可选 clone、custom、design）。",
                en=f"Unknown speech kind: {self.kind} (clone, custom or design).",
            ) from None

    def strength(self) -> float:
        """The emotion intensity, or the kind's default (clone 1.0: all from the clip; others 0.5)."""
        if self.intensity is not None:
            return self.intensity
        return 1.0 if self.kind == "clone" else 0.5


#: Terminal colour codes and control characters (not newline or tab): never spoken, never sent to the model.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def check_text(text: str | None, what: tuple[str, str] = ("文本", "text")) -> str:
    """Strip ``text`` and refuse it when empty or over :data:`MAX_TEXT_CHARS`."""
    cleaned = _CONTROL.sub("", _ANSI.sub("", text or "")).strip()
    found = bad_char(cleaned)
    if found is not None:
        raise TextError(
            zh=f"{what[0]}含有无法朗读的字符 {found}（不成对的代理字符）。请删除它后重试。",
            en=f"The {what[1]} holds a character that cannot be spoken, {found} (an unpaired surrogate). Remove it.",
        )
    if not cleaned:
        raise TextError(
            zh=f"{what[0]}是空的，请输入要合成的文字。", en=f"The {what[1]} is empty: type what should be spoken."
        )
    if len(cleaned) > MAX_TEXT_CHARS:
        raise TextError(
            zh=f"{what[0]}太长（{len(cleaned)} 字），一次最多 {MAX_TEXT_CHARS} 字。请分段生成。",
            en=f"The {what[1]} is too long ({len(cleaned)} characters); the limit is {MAX_TEXT_CHARS}. Split it into parts.",
        )
    return cleaned


def check_seed(seed: object) -> int | None:
    """``seed`` as an int (None and -1 mean random); :class:`InputError` for NaN, fractions or out of range."""
    if seed is None:
        return None
    if (isinstance(seed, float) and seed.is_integer()) or isinstance(seed, np.integer):
        seed = int(seed)
    if isinstance(seed, bool) or not isinstance(seed, int) or not -1 <= seed < 2**32:
        raise InputError(
            zh=f"种子必须是 0 到 {2**32 - 1} 之间的整数（-1 表示随机），收到 {seed}。",
            en=f"The seed must be a whole number from 0 to {2**32 - 1} (-1 for random); got {seed}.",
        )
    return None if seed == -1 else seed


def instruction_language(text: str, language: str) -> str:
    """'zh' when the instruction template should be Chinese (Chinese text or language), else 'en'."""
    if language == "Chinese":
        return "zh"
    if language != "Auto":
        return "en"
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    return "zh" if cjk * 2 >= len(text.strip()) else "en"


def speaker_name(speaker: str, names: tuple[str, ...] = ()) -> str:
    """The speaker among ``names`` (default: the presets) called ``speaker``, case-insensitively."""
    names = names or tuple(n for n, _, _ in SPEAKERS)
    for name in names:
        if speaker.strip().lower() == name.lower():
            return name
    raise NotFoundError(
        zh=f"没有名为 “{speaker}” 的音色。可选：{', '.join(names)}。",
        en=f"No speaker called '{speaker}'. Choose one of {', '.join(names)}.",
    )


def checkpoint_speakers(loaded) -> tuple[str, ...]:
    """Speakers a loaded CustomVoice checkpoint knows (a fine-tuned one has its own)."""
    try:
        names = [str(s) for s in (loaded.tts.get_supported_speakers() or ())]
    except Exception:  # a model object without the method: presets only
        return ()
    presets = {n.lower(): n for n, _, _ in SPEAKERS}
    return tuple(presets.get(n.lower(), n) for n in names)  # presets keep their usual spelling
