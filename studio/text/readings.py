"""Per-character readings of Chinese text: a context model, word data, our rules, pins.

A reading comes from, in rising priority:

1. ``pypinyin``: pypinyin's phrase dictionary (forward maximum matching) or
   its single-character dictionary; what every non-polyphone gets, and a
   polyphone the context model does not know;
2. ``model``: the context model of :mod:`studio.text.model` (g2pM's BiLSTM)
   for every polyphone it knows;
3. ``phrase``: pypinyin's reading inside a dictionary word, where every word
   covering the character agrees (:func:`studio.text.phrases.phrase_readings`);
   on the CPP dev split this beats the model alone (97.59 % vs 97.36 %) and on
   everyday sentences by far (the model reads 着急 as zhe, 了解 as le);
4. ``rule``: a context rule of :mod:`studio.text.rules`;
5. ``correction``: a word of our own corrections file
   (``data/phrase_corrections.tsv``, each entry with its source);
6. ``dictionary`` / ``pinned``: a reading fixed by a pronunciation-dictionary
   rule or written inline by the user (``行(háng)``): a pin always wins.

``confidence`` is the model's probability of the reading used (1.0 for a
pin, ``None`` where the model does not score the character); below
:data:`LOW_CONFIDENCE` a reading from the model or the word data is flagged
for the user to check first (rules and corrections are deliberate choices).
Choices were measured on the CPP dev split and the project's own sets
(``bench/polyphone_accuracy.py``).

Traditional characters are looked up through their simplified form (phrases
are simplified in pypinyin); a traditional character that has a single
reading of its own keeps it, and ``char`` always shows the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pypinyin.constants import PHRASES_DICT, RE_HANS
from pypinyin.seg.simpleseg import seg

from studio.text import model as context_model
from studio.text.phrases import correction_readings, phrase_readings
from studio.text.pins import PinnedText, parse_pins
from studio.text.rules import rules_by_char
from studio.text.syllables import char_readings, marks_to_tone3, tone3_to_marks
from studio.text.variants import to_simplified

Source = Literal["pypinyin", "model", "phrase", "correction", "rule", "pinned", "dictionary"]
_RULES = rules_by_char()
#: Readings the model is less sure of than this are flagged for the user.
LOW_CONFIDENCE = 0.8
#: The model reads one sentence at a time; runs are cut at sentence ends and at MAX_RUN characters.
_SENTENCE_END = re.compile(r"[。！？!?；;…\n]")


@dataclass
class CharReading:
    """The reading chosen for one Chinese character.

    ``index`` is the character's position in the text without pin
    annotations; ``pinyin`` has tone marks ("háng"), ``tone3`` a tone digit
    ("hang2", 5 = neutral); ``candidates`` lists every reading the character
    has (tone3), the model's most probable first, and ``scores`` the model's
    probability of each (``None`` for a reading it does not score);
    ``confidence`` is the probability of the reading used and ``low_confidence``
    flags a reading to check; ``note`` explains a rule's or correction's choice.
    """

    index: int
    char: str
    pinyin: str
    tone3: str
    is_polyphone: bool
    candidates: list[str] = field(default_factory=list)
    source: Source = "pypinyin"
    note: str = ""
    confidence: float | None = None
    scores: list[float | None] = field(default_factory=list)
    low_confidence: bool = False


def analyze(text: str, *, use_rules: bool = True, use_model: bool = True) -> list[CharReading]:
    """Readings of every Chinese character in ``text`` (which may contain inline pins).

    Indices refer to ``text`` with its pin annotations removed. Raises
    :class:`~studio.errors.TextError` for an invalid pin. ``use_model=False``
    reads without the context model (pypinyin, word data and rules only).
    """
    return analyze_pinned(parse_pins(text), use_rules=use_rules, use_model=use_model)


def analyze_pinned(pinned: PinnedText, *, use_rules: bool = True, use_model: bool = True) -> list[CharReading]:
    """Readings of every Chinese character of an already parsed :class:`PinnedText`."""
    text = pinned.text
    lookup = to_simplified(text)
    base, in_phrase = _pypinyin_readings(lookup)
    polyphones = [i for i in base if len(char_readings(text[i]) or char_readings(lookup[i])) > 1]
    scored = _model_scores(lookup, [i for i in polyphones if i not in pinned.pins]) if use_model else {}
    phrases = phrase_readings(lookup) if polyphones else {}
    fixes = correction_readings(lookup) if polyphones else {}
    out: list[CharReading] = []
    for index, tone3 in base.items():
        char = text[index]
        known = char_readings(char) or char_readings(lookup[index])
        source: Source = "pypinyin"
        note = ""
        prediction = scored.get(index)
        if prediction is not None:
            tone3, source = prediction.readings[0], "model"
            phrase = phrases.get(index)
            if phrase and phrase != tone3:
                tone3, source = phrase, "phrase"
        if use_rules and lookup[index] in _RULES:
            for rule in _RULES[lookup[index]]:
                if rule.single and in_phrase[index]:
                    continue
                if rule.matches(lookup, index):
                    if rule.reading != tone3:
                        tone3, source, note = rule.reading, "rule", rule.note
                    break
        if index in fixes and len(known) > 1 and fixes[index] != tone3:
            tone3, source, note = fixes[index], "correction", "phrase_corrections.tsv"
        own = char_readings(char)
        if char != lookup[index] and len(own) == 1:
            tone3, source, note = own[0], "pypinyin", ""
        confidence: float | None = None
        if index in pinned.pins:
            tone3 = pinned.pins[index]
            source = "dictionary" if pinned.sources.get(index) == "dictionary" else "pinned"
            note = ""
            confidence = 1.0
        elif len(known) <= 1:
            confidence = 1.0
        probs = dict(zip(prediction.readings, prediction.probs, strict=False)) if prediction is not None else {}
        if confidence is None and probs:
            confidence = probs.get(tone3, 0.0)
        order = list(prediction.readings) if prediction is not None else []
        candidates = list(dict.fromkeys((*[r for r in order if r in known or not known], *known, tone3)))
        out.append(
            CharReading(
                index,
                char,
                tone3_to_marks(tone3),
                tone3,
                len(known) > 1,
                candidates,
                source,
                note,
                confidence,
                [probs.get(c) for c in candidates],
                source in ("model", "phrase") and confidence is not None and confidence < LOW_CONFIDENCE,
            )
        )
    return out


def _model_scores(lookup: str, positions: list[int]) -> dict[int, context_model.Prediction]:
    """The context model's predictions for ``positions``, one sentence at a time (loads the model on first use)."""
    if not positions:
        return {}
    model = context_model.get_model()
    wanted = [i for i in positions if model.covers(lookup[i])]
    starts = [0] + [m.end() for m in _SENTENCE_END.finditer(lookup)]
    runs: list[tuple[int, int, list[int]]] = []
    k = 0
    for start, end in zip(starts, [*starts[1:], len(lookup)], strict=True):
        inside = []
        while k < len(wanted) and wanted[k] < end:
            inside.append(wanted[k])
            k += 1
        # an over-long sentence is read in windows of MAX_RUN characters
        for lo in range(start, end, context_model.MAX_RUN):
            hi = min(end, lo + context_model.MAX_RUN)
            here = [i - lo for i in inside if lo <= i < hi]
            if here:
                runs.append((lo, hi, here))
    predictions = model.predict_many([(lookup[lo:hi], here) for lo, hi, here in runs])
    out: dict[int, context_model.Prediction] = {}
    for (lo, _, _), found in zip(runs, predictions, strict=True):
        for pos, prediction in found.items():
            out[pos + lo] = prediction
    return out


def _pypinyin_readings(lookup: str) -> tuple[dict[int, str], list[bool]]:
    """pypinyin's readings by index, and whether each character sat inside a dictionary phrase."""
    base: dict[int, str] = {}
    in_phrase = [False] * len(lookup)
    pos = 0
    for token in seg(lookup):
        phrase = PHRASES_DICT.get(token) if len(token) > 1 else None
        if phrase:
            for k, syllables in enumerate(phrase):
                base[pos + k] = marks_to_tone3(syllables[0])
                in_phrase[pos + k] = True
        elif RE_HANS.match(token):
            for k, char in enumerate(token):
                readings = char_readings(char)
                if readings:
                    base[pos + k] = readings[0]
        pos += len(token)
    return base, in_phrase
