"""Text engine: readings of Chinese text, pins, pronunciation dictionary, normalisation, splitting.

Python over pypinyin and a small numpy polyphone model (g2pM's weights,
loaded on first use; :mod:`studio.text.model`); no TTS model, no UI. Start from
:func:`prepare_text` (text -> model text) and :func:`split_text` (long text ->
segments); :func:`pinyin_report` serves a CLI or pinyin editor.
"""

from studio.text.dictionary import (
    DEFAULT_PATH as DEFAULT_DICTIONARY_PATH,
)
from studio.text.dictionary import (
    AppliedRule,
    DictionaryResult,
    PronunciationDictionary,
    PronunciationRule,
    load_default,
)
from studio.text.homophones import Substitution, homophone_for, substitute, substitute_pinned
from studio.text.model import model_load_seconds
from studio.text.normalize import normalize, read_digits, read_integer, read_number
from studio.text.pins import PinnedText, parse_pins
from studio.text.prepare import MAX_TEXT_CHARS, PreparedText, TextWarning, pinyin_report, prepare_text
from studio.text.readings import CharReading, analyze
from studio.text.segment import DEFAULT_MAX_CHARS, Segment, split_text
from studio.text.syllables import SyllableError, marks_to_tone3, normalize_syllable, tone3_to_marks, valid_syllables
from studio.text.variants import to_simplified

__all__ = [
    "DEFAULT_DICTIONARY_PATH",
    "DEFAULT_MAX_CHARS",
    "MAX_TEXT_CHARS",
    "AppliedRule",
    "CharReading",
    "DictionaryResult",
    "PinnedText",
    "PreparedText",
    "PronunciationDictionary",
    "PronunciationRule",
    "Segment",
    "Substitution",
    "SyllableError",
    "TextWarning",
    "analyze",
    "homophone_for",
    "load_default",
    "marks_to_tone3",
    "model_load_seconds",
    "normalize",
    "normalize_syllable",
    "parse_pins",
    "pinyin_report",
    "prepare_text",
    "read_digits",
    "read_integer",
    "read_number",
    "split_text",
    "substitute",
    "substitute_pinned",
    "to_simplified",
    "tone3_to_marks",
    "valid_syllables",
]
