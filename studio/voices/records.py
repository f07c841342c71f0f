"""A saved voice's records: :class:`Voice`, :class:`Clip`, :class:`Consent`, the ``profile.json`` they
are read from and written to, and the checks on every name, tag and text a person types."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import InputError, NotFoundError
from ..voice_aliases import parse_aliases

log = logging.getLogger(__name__)


PROFILE_VERSION = 1

MAX_NAME_CHARS = 64
MAX_TAG_CHARS = 32
MAX_TAGS = 20
MAX_CLIPS = 32
MAX_TRANSCRIPT_CHARS = 2000
MAX_NOTES_CHARS = 4000
LOCK_TIMEOUT_S = 30.0
DEFAULT_TAG = "neutral"

CONSENT_STATEMENT = (
    "我确认这是我本人的声音，或者我已获得声音主人的明确许可来克隆和使用这个声音。"
    " / I confirm that this is my own voice, or that I have the explicit permission "
    "of its owner to clone and use it."
)

_CLIP_MEMBER = re.compile(r"^clips/[a-z0-9][a-z0-9-]{0,47}\.wav$")
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(1, 10)}


@dataclass(frozen=True)
class Consent:
    """The owner's permission to clone the voice."""

    confirmed: bool
    by: str = ""
    date: str = ""
    statement: str = CONSENT_STATEMENT


@dataclass(frozen=True)
class Clip:
    """One reference clip of a voice; ``file`` is relative to the voice folder."""

    file: str
    tag: str
    transcript: str = ""


@dataclass(frozen=True)
class Voice:
    """A saved voice as read from its ``profile.json``."""

    name: str
    slug: str
    path: Path
    language: str
    transcript: str
    tags: tuple[str, ...]
    notes: str
    created: str
    updated: str
    source: str
    consent: Consent
    clips: tuple[Clip, ...] = field(default_factory=tuple)
    aliases: tuple[str, ...] = ()  #: exact strings other programs send for this voice (see voice_aliases)

    def clip(self, tag: str | None = None) -> Clip:
        """The clip tagged ``tag``; by default the ``neutral`` one, else the first."""
        if tag is None:
            return next((c for c in self.clips if c.tag == DEFAULT_TAG), self.clips[0])
        wanted = _key(tag)
        for c in self.clips:
            if _key(c.tag) == wanted:
                return c
        tags = "、".join(c.tag for c in self.clips)
        raise NotFoundError(
            zh=f"声音“{self.name}”没有标签为“{tag}”的片段。现有标签：{tags}。"
            f"可以在“声音库”里录制或导入一段“{tag}”情绪的录音（命令行：voices add-clip --tag {tag}）。",
            en=f"Voice '{self.name}' has no clip tagged '{tag}'. Its tags: {', '.join(c.tag for c in self.clips)}. "
            f"Record or import a '{tag}' clip in the Voices tab (command line: voices add-clip --tag {tag}).",
        )

    def to_profile(self) -> dict[str, Any]:
        """The JSON object stored as ``profile.json``."""
        return {
            "version": PROFILE_VERSION,
            "name": self.name,
            "language": self.language,
            "transcript": self.transcript,
            "tags": list(self.tags),
            "notes": self.notes,
            "created": self.created,
            "updated": self.updated,
            "source": self.source,
            "consent": {
                "confirmed": self.consent.confirmed,
                "by": self.consent.by,
                "date": self.consent.date,
                "statement": self.consent.statement,
            },
            "clips": [{"file": c.file, "tag": c.tag, "transcript": c.transcript} for c in self.clips],
            "aliases": list(self.aliases),
        }


# ------------------------------------------------------------------ validation


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def _key(name: str) -> str:
    """Names that differ only in case or Unicode form are the same name."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _bad_chars(text: str, allow_newlines: bool = False) -> bool:
    for ch in text:
        if allow_newlines and ch in "\n\t":
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Zl", "Zp") or (cat == "Cf" and ch != "\u200d"):
            return True
    return False


def validate_name(name: object) -> str:
    """A voice name as stored (NFC, stripped), or :class:`InputError` saying what is wrong."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(
            zh="声音名称不能为空。请输入一个名字，例如“小明”。",
            en="The voice name is empty. Enter a name, e.g. 'Alice'.",
        )
    name = unicodedata.normalize("NFC", name).strip()
    if len(name) > MAX_NAME_CHARS:
        raise InputError(
            zh=f"声音名称太长（{len(name)} 个字符），最多 {MAX_NAME_CHARS} 个。请起个短一点的名字。",
            en=f"The voice name is too long ({len(name)} characters); the limit is {MAX_NAME_CHARS}. Use a shorter name.",
        )
    if "/" in name or "\\" in name:
        raise InputError(
            zh="声音名称不能包含斜杠（/ 或 \\）。请去掉斜杠，例如用“-”代替。",
            en="The voice name cannot contain a slash (/ or \\). Remove it, e.g. use '-' instead.",
        )
    if _bad_chars(name):
        raise InputError(
            zh="声音名称包含控制字符（如换行或制表符）。请只用普通文字。",
            en="The voice name contains control characters (such as a line break or tab). Use plain text only.",
        )
    if name in (".", ".."):
        raise InputError(
            zh="“.” 和 “..” 不能用作声音名称。请换一个名字。",
            en="'.' and '..' cannot be used as a voice name. Choose another name.",
        )
    return name


def _validate_tag(tag: object) -> str:
    if not isinstance(tag, str) or not tag.strip():
        raise InputError(zh="标签不能为空。", en="A tag cannot be empty.")
    tag = unicodedata.normalize("NFC", tag).strip()
    if len(tag) > MAX_TAG_CHARS or _bad_chars(tag) or "/" in tag or "\\" in tag:
        raise InputError(
            zh=f"标签“{tag[:40]}”无效：最多 {MAX_TAG_CHARS} 个字符，不能含斜杠或控制字符。",
            en=f"The tag '{tag[:40]}' is invalid: at most {MAX_TAG_CHARS} characters, no slashes or control characters.",
        )
    return tag


def _validate_tags(tags: Sequence[str] | str | None) -> tuple[str, ...]:
    if tags is None:
        return ()
    if isinstance(tags, str):
        tags = [t for t in re.split(r"[,，、]+", tags) if t.strip()]
    out: list[str] = []
    for tag in tags:
        tag = _validate_tag(tag)
        if _key(tag) not in {_key(t) for t in out}:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise InputError(
            zh=f"标签太多（{len(out)} 个），最多 {MAX_TAGS} 个。",
            en=f"Too many tags ({len(out)}); the limit is {MAX_TAGS}.",
        )
    return tuple(out)


def _validate_text(text: object, what_zh: str, what_en: str, limit: int) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        raise InputError(zh=f"{what_zh}必须是文字。", en=f"The {what_en} must be text.")
    text = unicodedata.normalize("NFC", text).strip()
    if len(text) > limit:
        raise InputError(
            zh=f"{what_zh}太长（{len(text)} 个字符），最多 {limit} 个。",
            en=f"The {what_en} is too long ({len(text)} characters); the limit is {limit}.",
        )
    if _bad_chars(text, allow_newlines=True):
        raise InputError(
            zh=f"{what_zh}包含控制字符，请只用普通文字。",
            en=f"The {what_en} contains control characters; use plain text.",
        )
    return text


def _validate_language(language: object) -> str:
    if not isinstance(language, str) or not language.strip() or len(language.strip()) > 32 or _bad_chars(language):
        raise InputError(
            zh="语言无效。请填写语言，例如“Chinese”、“English”或“auto”。",
            en="Invalid language. Give a language such as 'Chinese', 'English' or 'auto'.",
        )
    return language.strip()


def slugify(name: str) -> str:
    """A folder name for ``name``, safe on Windows, macOS and Linux (Chinese is kept)."""
    slug = unicodedata.normalize("NFKC", name).casefold()
    slug = re.sub(r'[\s<>:"/\\|?*\x00-\x1f\x7f]+', "-", slug)
    slug = "".join(ch for ch in slug if unicodedata.category(ch)[0] != "C")
    slug = slug.strip(" .-")[:48].rstrip(" .-")
    if not slug or slug.split(".")[0] in _WINDOWS_RESERVED:
        slug = f"voice-{slug}" if slug else "voice"
    return slug


def _ascii_stem(tag: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", tag).casefold()).strip("-")[:32].strip("-")
    return stem or "clip"


def _parse_profile(data: object, folder: Path) -> Voice:
    """Turn a profile.json object into a :class:`Voice`; ``ValueError`` says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("profile.json is not a JSON object")
    version = data.get("version", PROFILE_VERSION)
    if not isinstance(version, int) or version > PROFILE_VERSION:
        raise ValueError(f"profile version {version!r} is newer than this studio understands ({PROFILE_VERSION})")

    def text(key: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            raise ValueError(f"'{key}' must be a string")
        return value

    consent = data.get("consent")
    if not isinstance(consent, dict) or not isinstance(consent.get("confirmed"), bool):
        raise ValueError("'consent' must be an object with a boolean 'confirmed'")
    clips_raw = data.get("clips")
    if not isinstance(clips_raw, list) or not clips_raw:
        raise ValueError("'clips' must be a non-empty list")
    if len(clips_raw) > MAX_CLIPS:
        raise ValueError(f"a voice has at most {MAX_CLIPS} clips, this one lists {len(clips_raw)}")
    clips = []
    for c in clips_raw:
        if not isinstance(c, dict) or not all(isinstance(c.get(k), str) for k in ("file", "tag")):
            raise ValueError("every clip needs a string 'file' and 'tag'")
        if not _CLIP_MEMBER.match(c["file"]):
            raise ValueError(f"clip file name {c['file']!r} is not allowed")
        spoken = _validate_text(c.get("transcript", ""), "片段参考文本", "clip transcript", MAX_TRANSCRIPT_CHARS)
        clips.append(Clip(file=c["file"], tag=_validate_tag(c["tag"]), transcript=spoken))
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("'tags' must be a list of strings")
    # The limits of typing a voice in (create, update) hold for a profile read from disk or an archive too.
    return Voice(
        name=validate_name(text("name")),
        slug=folder.name,
        path=folder,
        language=_validate_language(text("language", "auto")),
        transcript=_validate_text(text("transcript", ""), "参考文本", "transcript", MAX_TRANSCRIPT_CHARS),
        tags=_validate_tags(tags),
        notes=_validate_text(text("notes", ""), "备注", "notes", MAX_NOTES_CHARS),
        created=text("created", "")[:64],
        updated=text("updated", "")[:64],
        source=_validate_text(text("source", ""), "来源", "source", 500),
        consent=Consent(
            confirmed=consent["confirmed"],
            by=_validate_text(str(consent.get("by", "")), "授权人", "consent name", 500),
            date=str(consent.get("date", ""))[:64],
            statement=_validate_text(str(consent.get("statement", "")), "授权声明", "consent statement", 4000),
        ),
        clips=tuple(clips),
        aliases=parse_aliases(data.get("aliases")),
    )
