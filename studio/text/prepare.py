"""One entry point from user text to model text: :func:`prepare_text`.

Steps, in order: check the size; parse inline pins (``行(háng)``); strip
emoji and control characters (with a warning); apply the pronunciation
dictionary; normalise numbers and symbols (optional); read every character
(:mod:`studio.text.readings`); swap pinned characters for unambiguous
homophones (:mod:`studio.text.homophones`). Every problem the user can fix
is a :class:`~studio.errors.TextError`; everything else that changed the
text is a :class:`TextWarning`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field

from studio.errors import TextError
from studio.limits import bad_char
from studio.text.dictionary import AppliedRule, PronunciationDictionary
from studio.text.homophones import substitute_pinned
from studio.text.normalize import normalize_edits
from studio.text.pauses import find_pauses, pause_tag
from studio.text.pins import Edit, PinnedText, apply_edits, parse_pins, toneless_pins, unexpected_pins
from studio.text.readings import CharReading, analyze_pinned
from studio.text.syllables import tone3_to_marks

#: The longest text :func:`prepare_text` accepts, in characters.
MAX_TEXT_CHARS = 100_000

_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U0001f1e6-\U0001f1ff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff"
    "\ufe0e\ufe0f\u200d\u20e3\U000e0020-\U000e007f]+"
)
_KEEP_CONTROLS = "\n\r\t"


@dataclass(frozen=True)
class TextWarning:
    """Something :func:`prepare_text` changed or could not honour; ``position`` is an index in the original."""

    code: str
    zh: str
    en: str
    position: int | None = None

    def message(self, lang: str = "zh") -> str:
        """The message in ``lang`` ("zh" or anything else for English)."""
        return self.zh if lang.startswith("zh") else self.en


@dataclass
class PreparedText:
    """The result of :func:`prepare_text`.

    ``display_text`` is what will be spoken, in the user's characters
    (dictionary and normalisation applied, pin annotations removed);
    ``model_text`` is what goes to the TTS model (pinned characters swapped
    for homophones; same length as ``display_text``). ``readings`` and
    ``pins`` index ``display_text``; ``applied_rules`` spans and warning
    positions index ``original``.
    """

    original: str
    display_text: str
    model_text: str
    readings: list[CharReading] = field(default_factory=list)
    applied_rules: list[AppliedRule] = field(default_factory=list)
    warnings: list[TextWarning] = field(default_factory=list)
    pins: dict[int, str] = field(default_factory=dict)
    #: (index in display_text, original char, homophone, tone3) for each swapped character.
    substitutions: list[tuple[int, str, str, str]] = field(default_factory=list)


def prepare_text(
    text: str,
    *,
    dictionary: PronunciationDictionary | None = None,
    normalize: bool = True,
    scope: str | None = None,
) -> PreparedText:
    """Validate and prepare ``text`` for synthesis (see the module docstring).

    ``dictionary`` rules (global ones, plus those of ``scope``) are applied
    before normalisation; ``normalize=False`` leaves numbers and symbols as
    written. Raises :class:`TextError` for empty text, text with nothing to
    speak, text over :data:`MAX_TEXT_CHARS`, or an invalid pin.
    """
    _check_size(text)
    warnings: list[TextWarning] = []
    pinned, pauses = _hold_pauses(parse_pins(text))
    pinned = _strip_unspeakable(pinned, warnings)
    _check_speakable(pinned.text, text)
    applied: list[AppliedRule] = []
    if dictionary is not None:
        pinned, applied = dictionary.apply_pinned(pinned, scope)
    if normalize:
        pinned, _ = apply_edits(pinned, normalize_edits(pinned.text))
    pinned = _write_pauses(pinned, pauses)
    readings = analyze_pinned(pinned)
    substitution = substitute_pinned(pinned)
    warnings += _pin_warnings(text, pinned, substitution.kept)
    return PreparedText(
        original=text,
        display_text=pinned.text,
        model_text=substitution.text,
        readings=readings,
        applied_rules=applied,
        warnings=warnings,
        pins=dict(pinned.pins),
        substitutions=substitution.replaced,
    )


def pinyin_report(
    text: str, *, dictionary: PronunciationDictionary | None = None, scope: str | None = None
) -> list[dict]:
    """Per Chinese character of ``text``: the chosen reading, whether it is a polyphone, the candidates.

    For a CLI or a pinyin editor. No normalisation, so entries are the
    characters the user wrote (an alias rule's inserted text maps to the
    start of the word it replaced): ``position`` is the index in ``text``,
    ``index`` the index once pins and aliases are applied. Keys: index,
    position, char, pinyin, tone3, is_polyphone, candidates (tone marks),
    source, note.
    """
    _check_size(text)
    pinned = parse_pins(text)
    if dictionary is not None:
        pinned, _ = dictionary.apply_pinned(pinned, scope)
    report = []
    for reading in analyze_pinned(pinned):
        entry = asdict(reading)
        entry["position"] = pinned.origin[reading.index]
        entry["candidates"] = [tone3_to_marks(c) for c in reading.candidates]
        report.append(entry)
    return report


#: Stands for a pause tag while the text is cleaned, looked up and normalised (a private-use character).
_HELD = "\ue000"


def _hold_pauses(pinned: PinnedText) -> tuple[PinnedText, list[float]]:
    """Replace each pause tag by one placeholder character, so no later step reads or changes it."""
    held = [Edit(i, i + 1, "", source="pause") for i, c in enumerate(pinned.text) if c == _HELD]
    pauses = find_pauses(pinned.text)
    if not held and not pauses:
        return pinned, []
    held += [Edit(p.start, p.end, _HELD, source="pause") for p in pauses]
    pinned, _ = apply_edits(pinned, sorted(held, key=lambda e: e.start))
    return pinned, [p.seconds for p in pauses]


def _write_pauses(pinned: PinnedText, pauses: list[float]) -> PinnedText:
    """Put the pauses back, each in its canonical spelling (see :mod:`studio.text.pauses`)."""
    if not pauses:
        return pinned
    at = [i for i, c in enumerate(pinned.text) if c == _HELD]
    edits = [Edit(i, i + 1, pause_tag(seconds), source="pause") for i, seconds in zip(at, pauses, strict=True)]
    pinned, _ = apply_edits(pinned, edits)
    return pinned


def _check_size(text: str) -> None:
    if not isinstance(text, str):
        raise TextError(zh="没有收到要朗读的文本。", en="No text to speak was given.")
    if len(text) > MAX_TEXT_CHARS:
        raise TextError(
            zh=f"文本太长：共 {len(text)} 个字符，上限是 {MAX_TEXT_CHARS} 个字符。请分成几部分分别合成。",
            en=f"The text is too long: {len(text)} characters, the limit is {MAX_TEXT_CHARS}. Split it into parts.",
            length=len(text),
            limit=MAX_TEXT_CHARS,
        )
    if not text.strip():
        raise TextError(zh="文本是空的，请输入要朗读的内容。", en="The text is empty; type what should be spoken.")
    found = bad_char(text.replace("\x00", ""))  # NUL is a control character: removed later, with a warning
    if found is not None:
        raise TextError(
            zh=f"文本含有无法朗读的字符 {found}（不成对的代理字符）。请删除它后重试。",
            en=f"The text holds a character that cannot be spoken, {found} (an unpaired surrogate). Remove it.",
        )


def _check_speakable(clean: str, original: str) -> None:
    if any(unicodedata.category(c)[0] in "LN" for c in clean):
        return
    raise TextError(
        zh="文本里只有标点、空白或表情符号，没有可以朗读的文字。请输入汉字、字母或数字。",
        en="The text holds only punctuation, whitespace or emoji, nothing to speak. Type words or numbers.",
        length=len(original),
    )


def _strip_unspeakable(pinned: PinnedText, warnings: list[TextWarning]) -> PinnedText:
    """Remove emoji and control/format characters, with one warning per kind."""
    text = pinned.text
    emoji = [m.span() for m in _EMOJI.finditer(text)]
    controls = [
        (i, i + 1)
        for i, c in enumerate(text)
        if unicodedata.category(c) in ("Cc", "Cf") and c not in _KEEP_CONTROLS and not _EMOJI.match(c)
    ]
    if not emoji and not controls:
        return pinned
    if emoji:
        first = pinned.origin[emoji[0][0]]
        warnings.append(
            TextWarning(
                "emoji_removed",
                zh=f"已删除 {len(emoji)} 处表情符号（第一处在第 {first + 1} 个字符），模型无法朗读它们。",
                en=f"Removed {len(emoji)} emoji (the first at character {first + 1}); the model cannot speak them.",
                position=first,
            )
        )
    if controls:
        first = pinned.origin[controls[0][0]]
        code = f"U+{ord(text[controls[0][0]]):04X}"
        warnings.append(
            TextWarning(
                "control_removed",
                zh=f"已删除 {len(controls)} 个不可见的控制字符（第一个是第 {first + 1} 个字符 {code}）。",
                en=f"Removed {len(controls)} invisible control characters (the first, {code}, at character {first + 1}).",
                position=first,
            )
        )
    edits = [Edit(a, b, "", source="strip") for a, b in sorted(emoji + controls)]
    stripped, _ = apply_edits(pinned, edits)
    return stripped


def _pin_warnings(original: str, pinned: PinnedText, kept: list[tuple[int, str, str]]) -> list[TextWarning]:
    out = []
    for position, letters in toneless_pins(original):
        out.append(
            TextWarning(
                "pin_without_tone",
                zh=f"第 {position + 1} 个字符后的“({letters})”像注音但没有声调，已按原文朗读；注音请写成 {letters}1–{letters}4（轻声 {letters}5）。",
                en=f"'({letters})' after character {position + 1} looks like a reading without a tone and is read as "
                f"written; to pin a reading write {letters}1-{letters}4 ({letters}5 for the neutral tone).",
                position=position,
            )
        )
    for index, tone3, known in unexpected_pins(pinned):
        char = pinned.text[index]
        listed = "、".join(tone3_to_marks(k) for k in known)
        out.append(
            TextWarning(
                "pin_unusual",
                zh=f"“{char}”通常不读 {tone3_to_marks(tone3)}（字典读音：{listed}），仍按注音朗读。",
                en=f"'{char}' is not usually read {tone3_to_marks(tone3)} (dictionary: {', '.join(tone3_to_marks(k) for k in known)}); "
                "the pin is used anyway.",
                position=pinned.origin[index],
            )
        )
    for index, char, tone3 in kept:
        out.append(
            TextWarning(
                "pin_not_enforced",
                zh=f"没有只读 {tone3_to_marks(tone3)} 的常用同音字，“{char}”保持原字，模型可能不按注音朗读。",
                en=f"No common character is read only {tone3_to_marks(tone3)}; '{char}' is kept and the model may "
                "not follow the pin.",
                position=pinned.origin[index],
            )
        )
    return out
