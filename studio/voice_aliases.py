"""Aliases of saved voices: the exact strings other programs send for them.

A client configured for a GPT-SoVITS server (xiaozhi-esp32-server, a
digital-human app) sends ``refer_wav_path`` / ``ref_audio_path`` as a path on
the machine that server ran on, e.g. ``E:\\alearn\\GPT-SoVITS\\纳西妲\\0.wav``.
Storing that string as an alias of a saved voice makes the client's config
work unchanged. Aliases are matched exactly (after Unicode NFC and trimming
surrounding spaces), unique across the library, and bounded in length and
number. They live in the voice's ``profile.json`` (``"aliases": [...]``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from .errors import InputError, NotFoundError

if TYPE_CHECKING:
    from .voices import Voice

MAX_ALIAS_CHARS = 260  #: Windows' classic MAX_PATH
MAX_ALIASES = 16  #: per voice


def validate_alias(alias: object) -> str:
    """An alias as stored (NFC, trimmed), or :class:`InputError` saying what is wrong."""
    if not isinstance(alias, str) or not alias.strip():
        raise InputError(
            zh="别名不能为空。请填写旧配置里发送的参考音频路径，例如 E:\\GPT-SoVITS\\纳西妲\\0.wav。",
            en="The alias is empty. Give the reference path the old config sends, e.g. E:\\GPT-SoVITS\\voice\\0.wav.",
            param="alias",
        )
    text = unicodedata.normalize("NFC", alias).strip()
    if len(text) > MAX_ALIAS_CHARS:
        raise InputError(
            zh=f"别名太长（{len(text)} 个字符），最多 {MAX_ALIAS_CHARS} 个。",
            en=f"The alias is too long ({len(text)} characters); the limit is {MAX_ALIAS_CHARS}.",
            param="alias",
        )
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") for ch in text):
        raise InputError(
            zh="别名不能包含控制字符（如换行或制表符）。",
            en="An alias cannot contain control characters.",
            param="alias",
        )
    return text


def parse_aliases(raw: object) -> tuple[str, ...]:
    """The ``aliases`` entry of a profile (absent: none); ``ValueError`` when it is not a short list of strings."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_ALIASES or not all(isinstance(a, str) for a in raw):
        raise ValueError(f"'aliases' must be a list of at most {MAX_ALIASES} strings")
    return tuple(validate_alias(a) for a in raw)


class AliasMixin:
    """Alias operations of :class:`~studio.voices.VoiceLibrary` (uses its locking and storage helpers)."""

    def find_alias(self, alias: str) -> Voice | None:
        """The voice that answers to ``alias`` exactly, or None."""
        if not isinstance(alias, str) or not alias.strip() or len(alias) > 4 * MAX_ALIAS_CHARS:
            return None
        wanted = unicodedata.normalize("NFC", alias).strip()
        return next((v for v in self._all() if wanted in v.aliases), None)

    def add_alias(self, name: str, alias: str) -> Voice:
        """Let the voice ``name`` answer to ``alias`` too; refuses an alias another voice (or name) holds."""
        alias = validate_alias(alias)
        with self._locked():
            voice = self._find(name)
            if alias in voice.aliases:
                return voice
            for other in self._all():
                if other.slug == voice.slug:
                    continue
                if alias in other.aliases or alias.casefold() == other.name.casefold():
                    raise InputError(
                        zh=f"别名“{alias}”已经属于声音“{other.name}”。一个别名只能对应一个声音："
                        f"先从“{other.name}”移除它（voices alias {other.name} --remove …）。",
                        en=f"The alias '{alias}' already belongs to the voice '{other.name}'. An alias names one "
                        f"voice only: remove it from '{other.name}' first (voices alias {other.name} --remove ...).",
                        param="alias",
                    )
            if len(voice.aliases) >= MAX_ALIASES:
                raise InputError(
                    zh=f"声音“{voice.name}”已有 {MAX_ALIASES} 个别名，达到上限。请先移除不用的别名。",
                    en=f"The voice '{voice.name}' already has {MAX_ALIASES} aliases, the limit. Remove unused ones first.",
                    param="alias",
                )
            return self._save(voice, aliases=(*voice.aliases, alias))

    def remove_alias(self, name: str, alias: str) -> Voice:
        """Stop the voice ``name`` answering to ``alias``; :class:`NotFoundError` if it does not."""
        wanted = unicodedata.normalize("NFC", alias if isinstance(alias, str) else "").strip()
        with self._locked():
            voice = self._find(name)
            if wanted not in voice.aliases:
                raise NotFoundError(
                    zh=f"声音“{voice.name}”没有别名“{wanted}”。现有别名：{'、'.join(voice.aliases) or '无'}。",
                    en=f"The voice '{voice.name}' has no alias '{wanted}'. Its aliases: "
                    f"{', '.join(voice.aliases) or 'none'}.",
                    param="alias",
                )
            return self._save(voice, aliases=tuple(a for a in voice.aliases if a != wanted))

    def _free_aliases(self, voice: Voice, others: Iterable[Voice]) -> Voice:
        """``voice`` without the aliases ``others`` already hold (an imported or restored voice never steals one)."""
        taken = {a for other in others if other.slug != voice.slug for a in other.aliases}
        kept = tuple(a for a in voice.aliases if a not in taken)
        return voice if kept == voice.aliases else replace(voice, aliases=kept)
