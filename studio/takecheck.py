"""Check a take by ear: what the recogniser heard against the text the model was given.

Pure logic (no model): both texts are normalised the same way (the studio's
number/unit normalisation, traditional to simplified, lower case, punctuation,
spaces and pause tags dropped), split into units (one per character), aligned
by edit distance, and scored:

* ``cer``: (substitutions + deletions + insertions) / intended units. A heard
  character that differs from the intended one but can be read with the
  intended syllable counts as a match: the recogniser writes sounds as the
  commonest character, and the model may have been given a homophone (a pin).
* flags: ``polyphone`` (at a polyphonic character the recogniser wrote a
  character whose readings include another reading of it, and not the intended
  one), ``dropped`` (two or more intended units in a row not heard),
  ``repeated`` (extra heard units that repeat their neighbours), ``runaway``
  (extra speech after the text's end, or audio far longer than the text
  needs), ``truncated`` (the text's last units not heard, or audio far too
  short), ``unintelligible`` (nothing of the text heard).

The recogniser call itself is :func:`checker` (lazy; see :mod:`studio.recogniser`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .text.pauses import PAUSE_TAG

#: A take is "ok" at or under this character error rate and with no flag.
CER_OK = 0.15
#: Each flag multiplies the score by this.
FLAG_PENALTY = 0.8
#: Expected speaking rate (syllables a second) and the ratios beyond which a take ran away / stopped short.
_RATE = 4.0
_RUNAWAY_RATIO, _RUNAWAY_MARGIN_S = 2.5, 1.0
_TRUNCATED_RATIO = 0.35
_UNIT = re.compile(
    r"[0-9a-z\u00c0-\u024f\u0400-\u04ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
_SYLLABIC = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_PAUSE_MARK = re.compile(r"[,.;:!?，。；：！？、…—]")
FLAG_KINDS = ("polyphone", "dropped", "repeated", "runaway", "truncated", "unintelligible")


@dataclass(frozen=True)
class Unit:
    """One intended or heard character: the character compared, its place, reading and times."""

    char: str
    position: int = -1  #: index in the intended display text (or in the heard text)
    reading: str = ""  #: tone3 the model was meant to say ("" when unknown)
    candidates: tuple[str, ...] = ()  #: every reading of a polyphone ((): not a polyphone)
    start: float = 0.0
    end: float = 0.0


@dataclass(frozen=True)
class Flag:
    """One problem found in a take; ``position`` indexes the intended display text (-1: the whole take)."""

    kind: str
    position: int = -1
    expected: str = ""
    heard: str = ""

    def describe(self, lang: str = "zh") -> str:
        """The flag in words, in ``lang``."""
        zh = lang.startswith("zh")
        if self.kind == "polyphone":
            return (
                f"多音字读错：应读 {self.expected}，听到 {self.heard}"
                if zh
                else (f"misread polyphone: {self.expected} expected, heard {self.heard}")
            )
        if self.kind in ("dropped", "truncated"):
            what = {"dropped": ("漏读", "dropped"), "truncated": ("结尾被截断", "truncated ending")}[self.kind]
            detail = f"“{self.expected}”" if self.expected else ""
            return f"{what[0]}{detail}" if zh else f"{what[1]}" + (f" '{self.expected}'" if self.expected else "")
        if self.kind == "repeated":
            return f"重复“{self.heard}”" if zh else f"repeated '{self.heard}'"
        if self.kind == "runaway":
            return (
                "结尾多出内容" + (f"“{self.heard}”" if self.heard else "")
                if zh
                else ("runaway ending" + (f" '{self.heard}'" if self.heard else ""))
            )
        return "听不出原文" if zh else "the text was not heard"


@dataclass
class TakeCheck:
    """What checking one take found."""

    score: float  #: 0-1, higher is better: (1 - cer) times FLAG_PENALTY per flag
    cer: float
    flags: list[Flag] = field(default_factory=list)
    heard: str = ""  #: the recogniser's text, as it wrote it
    seconds: float = 0.0  #: the take's length

    @property
    def ok(self) -> bool:
        """Whether the take sounds like its text: low error rate and no flag."""
        return self.cer <= CER_OK and not self.flags

    def summary(self, lang: str = "zh") -> str:
        """One short line: error rate and flags ("✓ 3%" when ok)."""
        head = f"{'✓' if self.ok else '⚠'} {self.cer:.0%}"
        return head + ("" if not self.flags else " · " + "; ".join(f.describe(lang) for f in self.flags[:3]))

    def to_dict(self) -> dict:
        """A JSON-ready form (stored with the take)."""
        return {
            "score": self.score,
            "cer": self.cer,
            "ok": self.ok,
            "flags": [[f.kind, f.position, f.expected, f.heard] for f in self.flags],
            "heard": self.heard,
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, data: dict) -> TakeCheck:
        """The inverse of :meth:`to_dict`."""
        flags = [Flag(str(k), int(p), str(e), str(h)) for k, p, e, h in data.get("flags") or []]
        return cls(
            float(data["score"]), float(data["cer"]), flags, str(data.get("heard", "")), float(data.get("seconds", 0))
        )


# -- normalisation ----------------------------------------------------------------------------------


def _keep(char: str) -> str:
    from .text.variants import to_simplified

    return to_simplified(char.lower())


def heard_units(text: str, start: float = 0.0, end: float = 0.0) -> list[Unit]:
    """The units of recognised ``text`` (normalised like the intended text), spread evenly over start-end."""
    from .text.normalize import normalize

    text = normalize(PAUSE_TAG.sub(" ", text))
    chars = [_keep(c) for c in text if _UNIT.match(_keep(c))]
    step = (end - start) / len(chars) if chars else 0.0
    return [Unit(c, k, start=start + k * step, end=start + (k + 1) * step) for k, c in enumerate(chars)]


def intended_units(display_text: str, readings=()) -> list[Unit]:
    """The units of an already prepared text (``PreparedText.display_text`` and its ``readings``)."""
    by_index = {r.index: r for r in readings}
    masked = PAUSE_TAG.sub(lambda m: " " * len(m.group(0)), display_text)
    units = []
    for k, char in enumerate(masked):
        kept = _keep(char)
        if not _UNIT.match(kept):
            continue
        r = by_index.get(k)
        candidates = tuple(r.candidates) if r is not None and r.is_polyphone else ()
        units.append(Unit(kept, k, r.tone3 if r is not None else "", candidates))
    return units


def prepared_units(text: str) -> tuple[str, list[Unit]]:
    """``text`` as the model is given it (:func:`~studio.text.prepare_text`): its display text and units."""
    from .text import prepare_text

    prepared = prepare_text(text)
    return prepared.display_text, intended_units(prepared.display_text, prepared.readings)


# -- alignment --------------------------------------------------------------------------------------


def _readings(char: str) -> tuple[str, ...]:
    from .text.syllables import char_readings

    return char_readings(char)


def same_sound(intended: Unit, heard: str) -> bool:
    """Whether ``heard`` is the intended character, or one read with its intended syllable."""
    return heard == intended.char or (bool(intended.reading) and intended.reading in _readings(heard))


def align(intended: list[Unit], heard: list[Unit]) -> list[tuple[int | None, int | None]]:
    """Edit-distance alignment: pairs (intended index, heard index), None on the side that has no unit."""
    n, m = len(intended), len(heard)
    cost = np.zeros((n + 1, m + 1), dtype=np.int32)
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    same = [[same_sound(a, b.char) for b in heard] for a in intended]
    for i in range(1, n + 1):
        row, prev, match = cost[i], cost[i - 1], same[i - 1]
        for j in range(1, m + 1):
            row[j] = min(prev[j - 1] + (0 if match[j - 1] else 1), prev[j] + 1, row[j - 1] + 1)
    pairs: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i > 0 or j > 0:  # from the end, gaps before matches on a tie: a text's missing end stays at the end
        if i > 0 and cost[i, j] == cost[i - 1, j] + 1:
            pairs.append((i - 1, None))
            i -= 1
        elif j > 0 and cost[i, j] == cost[i, j - 1] + 1:
            pairs.append((None, j - 1))
            j -= 1
        else:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
    return pairs[::-1]


def error_rate(intended: list[Unit], heard: list[Unit], pairs=None) -> float:
    """Character error rate of ``heard`` against ``intended`` (homophones of the intended reading match)."""
    pairs = align(intended, heard) if pairs is None else pairs
    errors = sum(1 for a, b in pairs if a is None or b is None or not same_sound(intended[a], heard[b].char))
    return errors / max(1, len(intended))


# -- flags ------------------------------------------------------------------------------------------


def expected_seconds(units: list[Unit], display_text: str = "") -> float:
    """How long an ordinary reading of ``units`` lasts: 4 syllables a second (3 Latin letters a syllable),
    0.3 s per punctuation pause, plus the written pauses of ``display_text``."""
    from .text.pauses import total_pause

    syllabic = sum(1 for u in units if _SYLLABIC.match(u.char))
    letters = len(units) - syllabic
    marks = len(_PAUSE_MARK.findall(PAUSE_TAG.sub("", display_text)))
    return (syllabic + letters / 3.0) / _RATE + 0.3 * marks + total_pause(display_text)


def find_flags(
    intended: list[Unit], heard: list[Unit], pairs, seconds: float | None = None, display_text: str = ""
) -> list[Flag]:
    """The flags (see the module docstring) of an alignment; ``seconds`` is the take's length when known."""
    matched = [(a, b) for a, b in pairs if a is not None and b is not None and same_sound(intended[a], heard[b].char)]
    if intended and not matched:
        return [Flag("unintelligible")]
    flags = [_polyphone(intended[a], heard[b].char) for a, b in pairs if a is not None and b is not None]
    flags = [f for f in flags if f is not None]
    last_matched = max((k for k, (a, b) in enumerate(pairs) if a is not None and b is not None), default=-1)
    run: list[int] = []
    for k, (a, b) in enumerate([*pairs, (None, 0)]):
        if a is not None and b is None:
            run.append(a)
            continue
        if len(run) >= 2:
            text = "".join(intended[x].char for x in run)
            kind = "truncated" if k >= len(pairs) else "dropped"
            flags.append(Flag(kind, intended[run[0]].position, text))
        run = []
    flags += _repeats(heard, pairs, last_matched)
    tail = [heard[b].char for a, b in pairs[last_matched + 1 :] if a is None and b is not None]
    if len(tail) >= 2:
        flags.append(Flag("runaway", heard="".join(tail)))
    if seconds is not None and intended:
        expected = expected_seconds(intended, display_text)
        kinds = {f.kind for f in flags}
        if seconds > _RUNAWAY_RATIO * expected + _RUNAWAY_MARGIN_S and "runaway" not in kinds:
            flags.append(Flag("runaway", expected=f"{expected:.1f}s", heard=""))
        if seconds < _TRUNCATED_RATIO * expected and "truncated" not in kinds:
            flags.append(Flag("truncated", expected=""))
    return flags


def _polyphone(intended: Unit, heard: str) -> Flag | None:
    if not intended.candidates or same_sound(intended, heard):
        return None
    other = [r for r in _readings(heard) if r in intended.candidates and r != intended.reading]
    if not other:
        return None
    from .text.syllables import tone3_to_marks

    return Flag(
        "polyphone", intended.position, tone3_to_marks(intended.reading), f"{heard}({tone3_to_marks(other[0])})"
    )


def _repeats(heard: list[Unit], pairs, last_matched: int) -> list[Flag]:
    """Runs of extra heard units (before the text's end) that repeat the units just before or after them."""
    flags, run = [], []
    chars = "".join(u.char for u in heard)
    for k, (a, b) in enumerate([*pairs, (0, None)]):
        if a is None and b is not None and k <= last_matched:
            run.append(b)
            continue
        if run:
            first, size = run[0], len(run)
            piece = chars[first : first + size]
            if piece == chars[first - size : first] or piece == chars[first + size : first + 2 * size]:
                flags.append(Flag("repeated", heard=piece))
        run = []
    return flags


# -- the check --------------------------------------------------------------------------------------


def score_of(cer: float, flags: list[Flag]) -> float:
    """The take's score: 1 - cer (at least 0), times :data:`FLAG_PENALTY` for each flag."""
    return round(max(0.0, 1.0 - cer) * FLAG_PENALTY ** len(flags), 4)


def check_units(
    intended: list[Unit], heard: list[Unit], heard_text: str, seconds: float | None, display_text: str = ""
) -> TakeCheck:
    """A :class:`TakeCheck` from intended and heard units."""
    pairs = align(intended, heard)
    cer = round(error_rate(intended, heard, pairs), 4)
    flags = find_flags(intended, heard, pairs, seconds, display_text)
    return TakeCheck(score_of(cer, flags), cer, flags, heard_text.strip(), round(seconds or 0.0, 3))


def transcript_units(transcript) -> list[Unit]:
    """The heard units of a :class:`~studio.recogniser.Transcript`, each with its word's share of time."""
    units: list[Unit] = []
    for segment in transcript.segments:
        words = segment.words or ()
        if not words:
            units += heard_units(segment.text, segment.start, segment.end)
        for word in words:
            units += heard_units(word.text, word.start, word.end)
    return units


def check_transcript(text: str, transcript, seconds: float | None = None) -> TakeCheck:
    """Check what the recogniser heard (``transcript``) against ``text`` as the model was given it."""
    display, intended = prepared_units(text)
    seconds = transcript.duration if seconds is None else seconds
    return check_units(intended, transcript_units(transcript), transcript.text, seconds, display)


def rank_key(check: TakeCheck | None, fit: float) -> tuple[float, float]:
    """Sort key for best-of-N (smaller is better): check score first, then distance from the target length."""
    return (-(check.score if check is not None else 0.0), fit)


def token_budget(text: str) -> int:
    """The most text tokens worth decoding for a take of ``text``: room for a runaway, not for endless noise."""
    return max(24, min(400, 3 * len(text) + 16))


def checker(folder, language: str | None = None) -> Callable[[np.ndarray, int, str], TakeCheck]:
    """A function checking (samples, sample rate, text) with the recogniser in ``folder`` (loaded lazily)."""
    from . import recogniser

    def check(samples: np.ndarray, sr: int, text: str) -> TakeCheck:
        audio = np.asarray(samples, dtype=np.float32)
        if audio.ndim > 1:
            audio = audio.mean(axis=1)
        if sr != recogniser.SAMPLE_RATE:
            import soxr

            audio = soxr.resample(audio, sr, recogniser.SAMPLE_RATE)
        transcript = recogniser.get(folder).transcribe(
            audio.astype(np.float32), language, vad=False, greedy=True, max_new_tokens=token_budget(text)
        )
        return check_transcript(text, transcript, len(samples) / float(sr))

    return check


def hear_take(check: Callable, result, text: str) -> None:
    """Set ``result.check`` to ``check`` of the take; a recogniser that fails keeps the take, unchecked, with a note.

    A take is the user's work: a damaged model or an out-of-memory recogniser must not throw it away.
    """
    import logging

    from .errors import Cancelled, StudioError
    from .text.prepare import TextWarning

    try:
        result.check = check(result.samples, result.sr, text)
    except Cancelled:
        raise
    except Exception as exc:  # any failure of the recogniser leaves the take as it is
        logging.getLogger(__name__).warning("could not check the take: %r", exc)
        zh_why = exc.zh if isinstance(exc, StudioError) else type(exc).__name__
        en_why = exc.en if isinstance(exc, StudioError) else type(exc).__name__
        result.check = None
        result.notes.append(
            TextWarning(
                "take_unchecked",
                zh=f"这一条没能听一遍检查（语音识别出错：{zh_why}），音频照常保留。",
                en=f"This take could not be checked by ear (the recogniser failed: {en_why}); the audio is kept.",
            )
        )
