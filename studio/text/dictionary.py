"""Pronunciation dictionary: ElevenLabs-style alias and reading rules.

A rule maps a word either to a *reading* (pinyin, one syllable per Chinese
character, applied as pins: ``银行 -> yin2 hang2``) or to an *alias*, the text
to speak instead (``MSE -> M S E``, ``2% -> 百分之二``; an alias may carry
inline pins). Rules are stored as a plain UTF-8 TSV file::

    # comment
    word<TAB>reading|alias<TAB>value[<TAB>scope]

``scope`` is an optional label (a project, a voice): a scoped rule applies
only when that scope is asked for, and then wins over a global rule for the
same word. Matching is case-sensitive, longest word first, left to right;
a word that starts or ends with a Latin letter or digit only matches whole
(``MSE`` not inside ``MSEs``, ``2%`` not inside ``12%``). A pin the user
wrote inline always wins over a rule.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from studio import atomic
from studio.errors import InputError, NotFoundError, StorageError, StudioError
from studio.paths import PRESETS_DIR
from studio.text.pins import Edit, PinnedText, apply_edits, parse_pins
from studio.text.syllables import SyllableError, is_hanzi, normalize_syllable

RuleKind = Literal["reading", "alias"]
KINDS: tuple[str, ...] = ("reading", "alias")
#: The global dictionary shipped with the studio.
DEFAULT_PATH = PRESETS_DIR / "pronunciation.tsv"
_HEADER = (
    "# 发音词典 Pronunciation dictionary (UTF-8, tab-separated)\n"
    "# 词语<TAB>reading|alias<TAB>值<TAB>范围(可选) / word<TAB>reading|alias<TAB>value<TAB>scope (optional)\n"
)
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True)
class PronunciationRule:
    """One rule: ``word`` is read as ``value`` (pinyin for "reading", text for "alias")."""

    word: str
    kind: RuleKind
    value: str
    scope: str = ""

    def pins(self) -> dict[int, str]:
        """Index in ``word`` -> tone3 for a reading rule (``*`` leaves a character unpinned)."""
        if self.kind != "reading":
            return {}
        hanzi = [i for i, c in enumerate(self.word) if is_hanzi(c)]
        syllables = self.value.split()
        if len(syllables) != len(hanzi):
            raise InputError(
                zh=f"词条“{self.word}”有 {len(hanzi)} 个汉字，却给了 {len(syllables)} 个拼音；请每个汉字写一个（不指定的写 *）。",
                en=(
                    f"Rule '{self.word}' has {len(hanzi)} Chinese characters but {len(syllables)} syllables; "
                    "give one per character (* to leave one as is)."
                ),
            )
        out = {}
        for index, raw in zip(hanzi, syllables, strict=True):
            if raw == "*":
                continue
            try:
                out[index] = normalize_syllable(raw)
            except SyllableError as exc:
                raise InputError(
                    zh=f"词条“{self.word}”的拼音“{raw}”无效：{exc.zh}。",
                    en=f"Rule '{self.word}': '{raw}' is not valid pinyin: {exc}.",
                ) from exc
        return out

    def replacement(self) -> PinnedText:
        """What the word becomes: the word itself with pins, or the parsed alias text."""
        if self.kind == "reading":
            return PinnedText(self.word, self.pins(), dict.fromkeys(self.pins(), "dictionary"))
        return parse_pins(self.value, source="dictionary")

    def validate(self) -> None:
        """Raise :class:`InputError` if the rule cannot be applied."""
        if not self.word or "\t" in self.word or "\n" in self.word:
            raise InputError(
                zh="词条的词语不能为空，也不能含制表符或换行。",
                en="A rule's word must be non-empty, without tabs or newlines.",
            )
        if self.kind not in KINDS:
            raise InputError(
                zh=f"词条“{self.word}”的类型“{self.kind}”无效，只能是 reading 或 alias。",
                en=f"Rule '{self.word}': kind '{self.kind}' must be 'reading' or 'alias'.",
            )
        if "\t" in self.value or "\n" in self.value or "\t" in self.scope:
            raise InputError(
                zh=f"词条“{self.word}”的值不能含制表符或换行。",
                en=f"Rule '{self.word}': no tabs or newlines in the value.",
            )
        try:
            self.replacement()
        except InputError:
            raise
        except StudioError as exc:
            raise InputError(zh=f"词条“{self.word}”：{exc.zh}", en=f"Rule '{self.word}': {exc.en}") from exc


@dataclass(frozen=True)
class AppliedRule:
    """A rule applied at ``text[start:end]`` of the text given to :meth:`PronunciationDictionary.apply`."""

    start: int
    end: int
    rule: PronunciationRule


@dataclass
class DictionaryResult:
    """The text with rules applied (reading rules as inline pins) and what was applied, in order."""

    text: str
    applied: list[AppliedRule] = field(default_factory=list)


class PronunciationDictionary:
    """An ordered set of :class:`PronunciationRule`, at most one per (word, scope)."""

    def __init__(self, rules: Iterable[PronunciationRule] = ()) -> None:
        self._rules: dict[tuple[str, str], PronunciationRule] = {}
        self._patterns: dict[str, tuple[re.Pattern[str] | None, dict[str, PronunciationRule]]] = {}
        for rule in rules:
            self.add(rule)

    @property
    def rules(self) -> list[PronunciationRule]:
        """All rules, in insertion order."""
        return list(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def add(self, rule: PronunciationRule) -> None:
        """Add ``rule`` (replacing one for the same word and scope); raises :class:`InputError` if invalid."""
        rule.validate()
        self._rules[(rule.word, rule.scope)] = rule
        self._patterns.clear()

    def remove(self, word: str, scope: str = "") -> bool:
        """Remove the rule for ``word`` in ``scope``; False if there was none."""
        self._patterns.clear()
        return self._rules.pop((word, scope), None) is not None

    # ---- files -------------------------------------------------------------------------------

    @classmethod
    def from_tsv(cls, text: str, *, source: str = "TSV") -> PronunciationDictionary:
        """Parse the TSV format; raises :class:`InputError` naming the bad line."""
        rules = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = line.rstrip("\r").split("\t")
            if len(fields) not in (3, 4):
                raise InputError(
                    zh=f"{source} 第 {number} 行应有 3 或 4 列（用制表符分隔），实际 {len(fields)} 列。",
                    en=f"{source} line {number}: expected 3 or 4 tab-separated columns, found {len(fields)}.",
                )
            word, kind, value = (f.strip() for f in fields[:3])
            scope = fields[3].strip() if len(fields) == 4 else ""
            rule = PronunciationRule(word, kind, value, scope)  # type: ignore[arg-type]
            try:
                rule.validate()
            except InputError as exc:
                raise InputError(
                    zh=f"{source} 第 {number} 行：{exc.zh}", en=f"{source} line {number}: {exc.en}"
                ) from exc
            rules.append(rule)
        return cls(rules)

    def to_tsv(self) -> str:
        """The TSV text of all rules, with a header comment."""
        lines = [_HEADER.rstrip("\n")]
        for rule in self._rules.values():
            row = [rule.word, rule.kind, rule.value] + ([rule.scope] if rule.scope else [])
            lines.append("\t".join(row))
        return "\n".join(lines) + "\n"

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PronunciationDictionary:
        """Load a TSV file; :class:`NotFoundError` if missing, :class:`InputError` if malformed."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError as exc:
            raise NotFoundError(
                zh=f"找不到发音词典文件：{path}", en=f"Pronunciation dictionary not found: {path}"
            ) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise StorageError(
                zh=f"无法读取发音词典 {path}（需要 UTF-8 文本）：{exc}",
                en=f"Cannot read the pronunciation dictionary {path} (UTF-8 text expected): {exc}",
            ) from exc
        return cls.from_tsv(text, source=path.name)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the TSV file atomically (temporary file in the same folder, then ``os.replace``)."""
        path = Path(path)
        try:
            atomic.write_text(path, self.to_tsv())
        except OSError as exc:
            raise StorageError(
                zh=f"无法保存发音词典 {path}：{exc}", en=f"Cannot save the pronunciation dictionary {path}: {exc}"
            ) from exc

    # ---- matching ----------------------------------------------------------------------------

    def _active(self, scope: str | None) -> tuple[re.Pattern[str] | None, dict[str, PronunciationRule]]:
        key = scope or ""
        if key not in self._patterns:
            active: dict[str, PronunciationRule] = {}
            for rule in self._rules.values():
                if rule.scope == "" and rule.word not in active:
                    active[rule.word] = rule
            for rule in self._rules.values():
                if key and rule.scope == key:
                    active[rule.word] = rule
            words = sorted(active, key=lambda w: (-len(w), w))
            pattern = re.compile("|".join(_word_pattern(w) for w in words)) if words else None
            self._patterns[key] = (pattern, active)
        return self._patterns[key]

    def edits(self, text: str, scope: str | None = None) -> list[tuple[Edit, PronunciationRule]]:
        """Every rule match in ``text`` (no pins in it), longest first, as edits with their rule."""
        pattern, active = self._active(scope)
        if pattern is None:
            return []
        out = []
        for match in pattern.finditer(text):
            rule = active[match.group()]
            new = rule.replacement()
            out.append((Edit(match.start(), match.end(), new.text, new.pins, "dictionary"), rule))
        return out

    def apply_pinned(self, pinned: PinnedText, scope: str | None = None) -> tuple[PinnedText, list[AppliedRule]]:
        """Apply the rules to parsed text; spans in the result refer to ``pinned.origin`` offsets."""
        found = self.edits(pinned.text, scope)
        by_edit = {id(edit): rule for edit, rule in found}
        result, applied = apply_edits(pinned, [edit for edit, _ in found])
        return result, [AppliedRule(pinned.origin[e.start], pinned.origin[e.end], by_edit[id(e)]) for e in applied]

    def apply(self, text: str, *, scope: str | None = None) -> DictionaryResult:
        """Apply the rules to ``text`` (which may hold inline pins).

        Returns the new text, reading rules written as inline pins
        (``银(yin2)行(hang2)``), and the applied rules with their spans in
        ``text``.
        """
        result, applied = self.apply_pinned(parse_pins(text), scope)
        return DictionaryResult(result.render(), applied)


def _word_pattern(word: str) -> str:
    pattern = re.escape(word)
    if _ASCII_ALNUM.match(word[0]):
        pattern = r"(?<![A-Za-z0-9.])" + pattern
    if _ASCII_ALNUM.match(word[-1]):
        pattern += r"(?![A-Za-z0-9]|\.[0-9])"
    return pattern


def load_default() -> PronunciationDictionary:
    """The global dictionary (``presets/pronunciation.tsv``); empty if the file is missing."""
    if not DEFAULT_PATH.exists():
        return PronunciationDictionary()
    return PronunciationDictionary.load(DEFAULT_PATH)
