"""The voice library: one folder per voice under :func:`~studio.paths.voices_dir`.

Layout of a voice folder ``<root>/<slug>/``::

    profile.json          name, language, transcript, tags, notes, consent, clips ...
    clips/<stem>.wav      24 kHz mono PCM-16 reference clips
    prompts/<model>.pt    cached voice-clone prompts (``<model>@<clip-stem>.pt`` for other clips)

Every change holds a :class:`filelock.FileLock` on ``<root>/.lock`` (two app
windows, or the app and the CLI, may share a library) and becomes visible in
one ``os.replace``: new voices are built in ``<root>/.tmp-*`` and renamed into
place; single files are written beside their target and renamed over it.
Leftover temporary folders and files from a crash are ignored by readers and
removed the next time a library is opened. Deleted voices go to ``<root>/.trash``.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import unicodedata
import uuid
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from .audio import MODEL_SR, REF_MAX_SECONDS, Audio, load_audio
from .errors import AudioError, DiskFullError, InputError, NotFoundError, StorageError, disk_full, writing
from .limits import load_json
from .paths import voices_dir
from .reference import PreparedReference, prepare_reference
from .voice_aliases import AliasMixin, parse_aliases

log = logging.getLogger(__name__)

PROFILE_VERSION = 1
ARCHIVE_FORMAT = "qwen-voice-studio/voice"
ARCHIVE_VERSION = 1
PROMPT_FORMAT = "qwen-voice-studio/prompt"
PROMPT_VERSION = 1

MAX_NAME_CHARS = 64
MAX_TAG_CHARS = 32
MAX_TAGS = 20
MAX_CLIPS = 32
MAX_TRANSCRIPT_CHARS = 2000
MAX_NOTES_CHARS = 4000
LOCK_TIMEOUT_S = 30.0
DEFAULT_TAG = "neutral"

#: Import limits: a voice is a profile and at most MAX_CLIPS clips of at most 60 s.
MAX_ARCHIVE_MEMBERS = MAX_CLIPS + 8
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024
MAX_MEMBER_BYTES = 32 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024
#: Uncompressed/compressed size above which a member larger than 1 MiB is taken for a zip bomb.
MAX_COMPRESSION_RATIO = 100

#: Prompt entries written by qwen-tts' ``VoiceClonePromptItem`` (``dataclasses.asdict``).
PROMPT_REQUIRED = ("ref_spk_embedding", "x_vector_only_mode", "icl_mode")
MAX_PROMPT_ENTRIES = 32
MAX_PROMPT_NUMEL = 10_000_000

CONSENT_STATEMENT = (
    "我确认这是我本人的声音，或者我已获得声音主人的明确许可来克隆和使用这个声音。"
    " / I confirm that this is my own voice, or that I have the explicit permission "
    "of its owner to clone and use it."
)

_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(1, 10)}
_MODEL_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_CLIP_MEMBER = re.compile(r"^clips/[a-z0-9][a-z0-9-]{0,47}\.wav$")


# ------------------------------------------------------------------ records


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


def _model_file(model_key: str) -> str:
    file = model_key.replace("/", "--") if isinstance(model_key, str) else ""
    if not _MODEL_KEY.match(file) or ".." in file:
        raise InputError(
            zh=f"模型标识无效：{model_key!r}。只能用字母、数字和 . _ - /。",
            en=f"Invalid model key {model_key!r}: use letters, digits and . _ - / only.",
        )
    return file


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


def _check_prompt(tensors: object) -> dict[str, Any]:
    """Validate a voice-clone prompt; ``ValueError`` says what is wrong."""
    import torch

    if not isinstance(tensors, Mapping) or not tensors or len(tensors) > MAX_PROMPT_ENTRIES:
        raise ValueError("a prompt is a non-empty dict of at most 32 entries")
    out: dict[str, Any] = {}
    for key, value in tensors.items():
        if not isinstance(key, str) or not key or len(key) > 64:
            raise ValueError(f"bad prompt key {key!r}")
        if isinstance(value, torch.Tensor):
            if value.ndim > 4 or value.numel() > MAX_PROMPT_NUMEL or value.is_complex():
                raise ValueError(f"'{key}' has an unsupported shape or type")
            if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                raise ValueError(f"'{key}' holds NaN or infinity")
            value = value.detach().cpu().contiguous()
        elif not (value is None or isinstance(value, (bool, str, int, float))):
            raise ValueError(f"'{key}' has unsupported type {type(value).__name__}")
        out[key] = value
    missing = [k for k in PROMPT_REQUIRED if k not in out]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    emb = out["ref_spk_embedding"]
    if not isinstance(emb, torch.Tensor) or not emb.is_floating_point() or emb.ndim != 1 or emb.numel() == 0:
        raise ValueError("'ref_spk_embedding' must be a 1-D float tensor")
    if not isinstance(out["x_vector_only_mode"], bool) or not isinstance(out["icl_mode"], bool):
        raise ValueError("'x_vector_only_mode' and 'icl_mode' must be booleans")
    code = out.get("ref_code")
    if code is not None and (
        not isinstance(code, torch.Tensor) or code.is_floating_point() or code.ndim not in (1, 2) or code.numel() == 0
    ):
        raise ValueError("'ref_code' must be a 1-D or 2-D integer tensor")
    text = out.get("ref_text")
    if text is not None and not isinstance(text, str):
        raise ValueError("'ref_text' must be a string")
    if out["icl_mode"] and (code is None or not text):
        raise ValueError("an ICL prompt needs 'ref_code' and 'ref_text'")
    return out


# ------------------------------------------------------------------ errors


def _storage_error(exc: OSError, path: Path) -> StorageError:
    if disk_full(exc, path):
        return DiskFullError(path, exc.strerror or "")
    reason = exc.strerror or type(exc).__name__
    return StorageError(
        zh=f"无法写入声音库（{path}）：{reason}。请检查磁盘空间和文件夹权限后重试。",
        en=f"Could not write to the voice library ({path}): {reason}. Check free disk space and folder permissions, then retry.",
        path=str(path),
    )


def _bad_archive(zh: str, en: str) -> InputError:
    return InputError(zh=f"无法导入：{zh}没有导入任何内容。", en=f"Cannot import: {en} Nothing was imported.")


# ------------------------------------------------------------------ library


class VoiceLibrary(AliasMixin):
    """The user's saved voices (see the module docstring for the layout and guarantees)."""

    def __init__(self, root: str | Path | None = None) -> None:
        """Open (creating if needed) the library at ``root`` (default: ``voices_dir()``)."""
        self.root = Path(root) if root is not None else voices_dir()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _storage_error(exc, self.root) from exc
        from filelock import FileLock

        self._lock = FileLock(str(self.root / ".lock"), timeout=LOCK_TIMEOUT_S)
        self._cleanup()

    # -- locking and files

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        from filelock import Timeout

        try:
            self._lock.acquire()
        except Timeout as exc:
            raise StorageError(
                zh="声音库正被另一个窗口或命令行占用，请稍后再试。",
                en="The voice library is busy in another window or the command line. Try again in a moment.",
            ) from exc
        except OSError as exc:
            raise _storage_error(exc, self.root / ".lock") from exc
        try:
            yield
        finally:
            self._lock.release()

    def _cleanup(self) -> None:
        """Remove what a crashed writer left behind, if no other process is writing now."""
        from filelock import Timeout

        try:
            self._lock.acquire(timeout=0)
        except (Timeout, OSError):
            return
        try:
            for entry in self.root.iterdir():
                if entry.name.startswith(".tmp-"):
                    shutil.rmtree(entry, ignore_errors=True)
                elif entry.is_dir() and not entry.is_symlink() and not entry.name.startswith("."):
                    for part in (*entry.glob(".*.part"), *entry.glob("*/.*.part")):
                        part.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("voice library cleanup failed: %s", exc)
        finally:
            self._lock.release()

    def _tmp_dir(self) -> Path:
        path = self.root / f".tmp-{uuid.uuid4().hex}"
        path.mkdir()
        return path

    @staticmethod
    def _write_bytes(path: Path, data: bytes) -> None:
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def _write_profile(self, folder: Path, voice: Voice) -> None:
        text = json.dumps(voice.to_profile(), ensure_ascii=False, indent=2) + "\n"
        self._write_bytes(folder / "profile.json", text.encode("utf-8"))

    # -- reading

    def _folders(self) -> Iterator[Path]:
        try:
            entries = sorted(self.root.iterdir())
        except OSError as exc:
            raise _storage_error(exc, self.root) from exc
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                # A link to a folder elsewhere would make that folder's files a voice: refused like a linked clip.
                log.warning("skipping %s: a voice folder may not be a symbolic link", entry.name)
                continue
            if entry.is_dir():
                yield entry

    @staticmethod
    def _read(folder: Path) -> Voice:
        try:
            if folder.is_symlink() or (folder / "profile.json").is_symlink():
                raise ValueError("a voice folder and its profile may not be symbolic links")
            data = load_json((folder / "profile.json").read_text(encoding="utf-8"), "profile.json")
            voice = _parse_profile(data, folder)
            if any((folder / c.file).is_symlink() for c in voice.clips):
                raise ValueError("a clip file may not be a symbolic link")
            return voice
        except (OSError, ValueError, InputError) as exc:
            raise StorageError(
                zh=f"声音文件夹“{folder.name}”已损坏（profile.json 无法读取）。可以删除这个文件夹，或从导出的备份重新导入。",
                en=f"The voice folder '{folder.name}' is damaged (profile.json cannot be read). "
                "Delete the folder or import it again from an exported backup.",
                reason=str(exc),
            ) from exc

    def _all(self) -> builtins.list[Voice]:
        voices = []
        for folder in self._folders():
            try:
                voices.append(self._read(folder))
            except StorageError as exc:
                log.warning("skipping %s: %s", folder, exc.details.get("reason"))
        return voices

    def _find(self, name: str) -> Voice:
        if isinstance(name, str):
            wanted = _key(name)
            voices = self._all()
            for voice in voices:
                if _key(voice.name) == wanted:
                    return voice
            for voice in voices:
                if voice.slug == name:
                    return voice
        raise NotFoundError(
            zh=f"找不到名为“{name}”的声音。请检查名字，或先创建这个声音。",
            en=f"No voice named '{name}'. Check the name or create the voice first.",
        )

    def _ensure_free(self, name: str, ignore: Voice | None = None) -> None:
        for voice in self._all():
            if _key(voice.name) == _key(name) and (ignore is None or voice.slug != ignore.slug):
                raise InputError(
                    zh=f"已经有一个名为“{voice.name}”的声音了。请换一个名字，或先删除/改名原来的声音。",
                    en=f"A voice named '{voice.name}' already exists. Choose another name, or delete or rename that one first.",
                )

    def _free_slug(self, name: str) -> str:
        base = slugify(name)
        taken = {p.name.casefold() for p in self.root.iterdir()}
        slug, n = base, 2
        while slug.casefold() in taken:
            slug, n = f"{base}-{n}", n + 1
        return slug

    def get(self, name: str) -> Voice:
        """The voice called ``name`` (case-insensitive; its folder name works too), or :class:`NotFoundError`."""
        return self._find(name)

    def exists(self, name: str) -> bool:
        """True when a voice called ``name`` exists."""
        try:
            self._find(name)
        except NotFoundError:
            return False
        return True

    def clip_path(self, name: str, tag: str | None = None) -> Path:
        """The WAV file of the voice's clip tagged ``tag`` (default: ``neutral``, else the first)."""
        voice = self._find(name)
        return voice.path / voice.clip(tag).file

    # -- creating and editing

    @staticmethod
    def _prepare(audio: Audio | PreparedReference | str | Path | tuple) -> Audio:
        if isinstance(audio, PreparedReference):
            return audio.audio
        # No window: the transcript the user typed is for the whole clip.
        return prepare_reference(audio, window=False).audio

    @staticmethod
    def _write_clip(path: Path, audio: Audio) -> None:
        with writing(path):
            sf.write(str(path), np.clip(audio.samples, -1.0, 1.0), audio.sr, format="WAV", subtype="PCM_16")

    def create(
        self,
        name: str,
        audio: Audio | PreparedReference | str | Path | tuple,
        transcript: str = "",
        language: str = "auto",
        tags: Sequence[str] | str | None = (),
        consent: bool = False,
        notes: str = "",
        *,
        source: str = "",
        consent_by: str = "",
    ) -> Voice:
        """Save a new voice from a reference recording.

        ``audio`` is a path, an :class:`Audio`, a ``(sr, array)`` tuple (run
        through :func:`prepare_reference` without windowing) or a
        :class:`PreparedReference` (used as is). ``consent`` must be True: the
        user confirms the voice is theirs or that they may clone it.
        """
        if consent is not True:
            raise InputError(
                zh="必须先确认授权：只能克隆你自己的声音，或已获得声音主人明确同意的声音。请勾选授权确认后再保存。",
                en="Consent is required: only clone your own voice, or a voice whose owner has explicitly agreed. "
                "Tick the consent box, then save again.",
            )
        name = validate_name(name)
        transcript = _validate_text(transcript, "参考文本", "transcript", MAX_TRANSCRIPT_CHARS)
        notes = _validate_text(notes, "备注", "notes", MAX_NOTES_CHARS)
        source = _validate_text(source, "来源", "source", 500)
        language = _validate_language(language)
        tag_tuple = _validate_tags(tags)
        clip_audio = self._prepare(audio)
        with self._locked():
            self._ensure_free(name)
            slug = self._free_slug(name)
            now = _now()
            clip = Clip(file=f"clips/{_ascii_stem(DEFAULT_TAG)}.wav", tag=DEFAULT_TAG, transcript=transcript)
            voice = Voice(
                name=name,
                slug=slug,
                path=self.root / slug,
                language=language,
                transcript=transcript,
                tags=tag_tuple,
                notes=notes,
                created=now,
                updated=now,
                source=source,
                consent=Consent(confirmed=True, by=consent_by.strip(), date=now),
                clips=(clip,),
            )
            tmp = self._tmp_dir()
            try:
                (tmp / "clips").mkdir()
                self._write_clip(tmp / clip.file, clip_audio)
                self._write_profile(tmp, voice)
                os.replace(tmp, voice.path)
            except OSError as exc:
                raise _storage_error(exc, voice.path) from exc
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return self._read(voice.path)

    def update(
        self,
        name: str,
        *,
        transcript: str | None = None,
        language: str | None = None,
        tags: Sequence[str] | str | None = None,
        notes: str | None = None,
        source: str | None = None,
    ) -> Voice:
        """Change a voice's details; arguments left as None keep their value.

        ``transcript`` is the default clip's transcript (cached prompts for it go stale).
        """
        with self._locked():
            voice = self._find(name)
            changes: dict[str, Any] = {}
            if transcript is not None:
                text = _validate_text(transcript, "参考文本", "transcript", MAX_TRANSCRIPT_CHARS)
                default = voice.clip()
                changes["transcript"] = text
                changes["clips"] = tuple(replace(c, transcript=text) if c == default else c for c in voice.clips)
            if language is not None:
                changes["language"] = _validate_language(language)
            if tags is not None:
                changes["tags"] = _validate_tags(tags)
            if notes is not None:
                changes["notes"] = _validate_text(notes, "备注", "notes", MAX_NOTES_CHARS)
            if source is not None:
                changes["source"] = _validate_text(source, "来源", "source", 500)
            return self._save(voice, **changes)

    def _save(self, voice: Voice, **changes: Any) -> Voice:
        updated = replace(voice, **changes, updated=_now())
        try:
            self._write_profile(voice.path, updated)
        except OSError as exc:
            raise _storage_error(exc, voice.path) from exc
        return updated

    def rename(self, name: str, new_name: str) -> Voice:
        """Give a voice a new name (its folder is renamed to match)."""
        new_name = validate_name(new_name)
        with self._locked():
            voice = self._find(name)
            self._ensure_free(new_name, ignore=voice)
            # Profile first: a crash before the folder rename leaves a consistent voice.
            voice = self._save(voice, name=new_name)
            if slugify(new_name) == voice.slug:
                return voice
            slug = self._free_slug(new_name)
            try:
                os.replace(voice.path, self.root / slug)
            except OSError as exc:
                raise _storage_error(exc, self.root / slug) from exc
            return self._read(self.root / slug)

    def duplicate(self, name: str, new_name: str) -> Voice:
        """Copy a voice (clips, cached prompts and details) under ``new_name``."""
        new_name = validate_name(new_name)
        with self._locked():
            voice = self._find(name)
            self._ensure_free(new_name)
            slug = self._free_slug(new_name)
            tmp = self._tmp_dir()
            try:
                shutil.copytree(voice.path, tmp / "v", ignore=shutil.ignore_patterns(".*.part"))
                now = _now()
                copy = replace(
                    voice, name=new_name, slug=slug, path=self.root / slug, created=now, updated=now, aliases=()
                )
                self._write_profile(tmp / "v", copy)
                os.replace(tmp / "v", copy.path)
            except OSError as exc:
                raise _storage_error(exc, self.root / slug) from exc
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return self._read(self.root / slug)

    def delete(self, name: str) -> None:
        """Move a voice to the library's ``.trash`` folder (undo with :meth:`restore`)."""
        with self._locked():
            voice = self._find(name)
            trash = self.root / ".trash"
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            target = trash / f"{voice.slug}~{stamp}-{uuid.uuid4().hex[:6]}"
            try:
                trash.mkdir(exist_ok=True)
                os.replace(voice.path, target)
            except OSError as exc:
                raise _storage_error(exc, target) from exc

    def deleted(self) -> builtins.list[Voice]:
        """Voices in the trash, most recently deleted first."""
        trash = self.root / ".trash"
        found = []
        for folder in sorted(trash.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True) if trash.is_dir() else []:
            with contextlib.suppress(StorageError):
                found.append(self._read(folder))
        return found

    def restore(self, name: str) -> Voice:
        """Bring the most recently deleted voice called ``name`` back from the trash."""
        with self._locked():
            matches = [v for v in self.deleted() if _key(v.name) == _key(name)]
            if not matches:
                raise NotFoundError(
                    zh=f"回收站里没有名为“{name}”的声音。", en=f"There is no voice named '{name}' in the trash."
                )
            voice = matches[0]
            self._ensure_free(voice.name)
            slug = self._free_slug(voice.name)
            freed = self._free_aliases(voice, self._all())
            try:
                if freed is not voice:
                    self._write_profile(voice.path, freed)
                os.replace(voice.path, self.root / slug)
            except OSError as exc:
                raise _storage_error(exc, self.root / slug) from exc
        return self._read(self.root / slug)

    def empty_trash(self) -> int:
        """Delete the voices in the trash for good; returns how many there were."""
        with self._locked():
            trash = self.root / ".trash"
            folders = [p for p in trash.iterdir() if p.is_dir()] if trash.is_dir() else []
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)
            return len(folders)

    def add_clip(
        self,
        name: str,
        audio: Audio | PreparedReference | str | Path | tuple,
        tag: str,
        transcript: str = "",
        *,
        replace_existing: bool = False,
    ) -> Voice:
        """Add a reference clip with a style tag (``happy``, ``whisper``, ``开心`` ...) to a voice.

        A tag the voice already has is refused unless ``replace_existing`` is True.
        """
        tag = _validate_tag(tag)
        transcript = _validate_text(transcript, "参考文本", "transcript", MAX_TRANSCRIPT_CHARS)
        clip_audio = self._prepare(audio)
        with self._locked():
            voice = self._find(name)
            old = next((c for c in voice.clips if _key(c.tag) == _key(tag)), None)
            if old is not None and not replace_existing:
                raise InputError(
                    zh=f"声音“{voice.name}”已经有标签为“{old.tag}”的片段。换一个标签，或选择替换。",
                    en=f"Voice '{voice.name}' already has a clip tagged '{old.tag}'. Use another tag or choose to replace it.",
                )
            if old is None and len(voice.clips) >= MAX_CLIPS:
                raise InputError(
                    zh=f"每个声音最多 {MAX_CLIPS} 个片段。请先删除不用的片段。",
                    en=f"A voice can have at most {MAX_CLIPS} clips. Remove one you no longer use first.",
                )
            if old is not None:
                file = old.file
            else:
                stem, used = _ascii_stem(tag), {c.file for c in voice.clips}
                file, n = f"clips/{stem}.wav", 2
                while file in used:
                    file, n = f"clips/{stem}-{n}.wav", n + 1
            clip = Clip(file=file, tag=tag, transcript=transcript)
            target = voice.path / file
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
            try:
                target.parent.mkdir(exist_ok=True)
                self._write_clip(tmp, clip_audio)
                os.replace(tmp, target)
            except OSError as exc:
                raise _storage_error(exc, target) from exc
            finally:
                tmp.unlink(missing_ok=True)
            clips = tuple(clip if c is old else c for c in voice.clips) if old else (*voice.clips, clip)
            changes: dict[str, Any] = {"clips": clips}
            if old is not None and old == voice.clip():
                changes["transcript"] = transcript
            return self._save(voice, **changes)

    def remove_clip(self, name: str, tag: str) -> Voice:
        """Remove the clip tagged ``tag`` (a voice keeps at least one clip)."""
        with self._locked():
            voice = self._find(name)
            clip = voice.clip(tag)
            if len(voice.clips) == 1:
                raise InputError(
                    zh="这是这个声音唯一的片段，不能删除。可以先添加一个新片段，或直接删除整个声音。",
                    en="This is the voice's only clip and cannot be removed. Add another clip first, or delete the voice.",
                )
            clips = tuple(c for c in voice.clips if c is not clip)
            updated = self._save(voice, clips=clips, transcript=replace(voice, clips=clips).clip().transcript)
            (voice.path / clip.file).unlink(missing_ok=True)
            return updated

    # -- export and import

    def export(self, name: str, dest_zip: str | Path) -> Path:
        """Write the voice (profile and clips, no cached prompts) to a zip with a checksummed manifest."""
        dest = Path(dest_zip)
        with self._locked():
            voice = self._find(name)
            members = ["profile.json", *(c.file for c in voice.clips)]
            try:
                blobs = {m: (voice.path / m).read_bytes() for m in members}
            except OSError as exc:
                raise StorageError(
                    zh=f"声音“{voice.name}”的文件缺失或无法读取，无法导出。",
                    en=f"Files of voice '{voice.name}' are missing or unreadable; it cannot be exported.",
                    reason=str(exc),
                ) from exc
        manifest = {
            "format": ARCHIVE_FORMAT,
            "version": ARCHIVE_VERSION,
            "name": voice.name,
            "exported": _now(),
            "files": [{"path": m, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for m, b in blobs.items()],
        }
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
                for member, blob in blobs.items():
                    zf.writestr(member, blob)
            os.replace(tmp, dest)
        except OSError as exc:
            raise _storage_error(exc, dest) from exc
        finally:
            tmp.unlink(missing_ok=True)
        return dest

    def import_(self, zip_path: str | Path, name: str | None = None) -> Voice:
        """Add a voice from an archive made by :meth:`export`, optionally under a new ``name``.

        The archive is checked in full (zip structure, unsafe paths, symlinks,
        size and compression limits, manifest version, checksums, profile,
        audio) before anything appears in the library.
        """
        path = Path(zip_path)
        if not path.is_file():
            raise NotFoundError(
                zh=f"找不到要导入的文件：{path.name}", en=f"The file to import was not found: {path.name}"
            )
        if name is not None:
            name = validate_name(name)
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise _bad_archive(
                f"{path.name} 不是有效的 zip 文件（可能已损坏）。请重新导出。",
                f"{path.name} is not a valid zip file (it may be damaged). Export it again.",
            ) from exc
        with zf:
            listed = self._check_archive(zf, path.name)
            with self._locked():
                tmp = self._tmp_dir()
                try:
                    return self._import_into(zf, listed, tmp, name)
                except OSError as exc:
                    raise _storage_error(exc, self.root) from exc
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)

    @staticmethod
    def _check_archive(zf: zipfile.ZipFile, label: str) -> dict[str, dict]:
        """Validate structure and manifest; return the listed files by path."""
        infos = zf.infolist()
        if len(infos) > MAX_ARCHIVE_MEMBERS:
            raise _bad_archive(
                f"压缩包里的文件太多（{len(infos)} 个）。", f"the archive holds too many files ({len(infos)})."
            )
        files: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            member = info.filename
            parts = member.rstrip("/").split("/")
            if (
                member.startswith(("/", "\\"))
                or "\\" in member
                or "\x00" in member
                or re.match(r"^[A-Za-z]:", member)
                or any(p in ("", ".", "..") for p in parts)
            ):
                raise _bad_archive(
                    f"压缩包里有不安全的路径“{member}”（绝对路径或 ../）。这个文件可能被篡改过。",
                    f"the archive contains an unsafe path '{member}' (absolute or ../). It may have been tampered with.",
                )
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise _bad_archive(
                    f"压缩包里有符号链接“{member}”。", f"the archive contains a symbolic link '{member}'."
                )
            if info.flag_bits & 0x1:
                raise _bad_archive("压缩包有密码保护。", "the archive is password-protected.")
            if info.is_dir():
                continue
            if member in files:
                raise _bad_archive(f"压缩包里有重复的文件“{member}”。", f"the archive lists '{member}' twice.")
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if (
                info.file_size > MAX_MEMBER_BYTES
                or total > MAX_ARCHIVE_BYTES
                or (info.file_size > 1024 * 1024 and ratio > MAX_COMPRESSION_RATIO)
            ):
                raise _bad_archive(
                    f"压缩包解压后太大（单个文件上限 {MAX_MEMBER_BYTES >> 20} MB，总计 {MAX_ARCHIVE_BYTES >> 20} MB，"
                    f"压缩比上限 {MAX_COMPRESSION_RATIO}:1），可能是压缩炸弹。",
                    f"the archive unpacks too large (limits: {MAX_MEMBER_BYTES >> 20} MB a file, "
                    f"{MAX_ARCHIVE_BYTES >> 20} MB in all, {MAX_COMPRESSION_RATIO}:1 compression); it may be a zip bomb.",
                )
            files[member] = info
        if "manifest.json" not in files:
            raise _bad_archive(
                f"{label} 里没有 manifest.json，不是本软件导出的声音包。",
                f"{label} has no manifest.json; it is not a voice exported by this studio.",
            )
        if files["manifest.json"].file_size > MAX_JSON_BYTES:
            raise _bad_archive("manifest.json 太大。", "manifest.json is too large.")
        try:
            manifest = load_json(zf.read("manifest.json").decode("utf-8"), "manifest.json")
        except (ValueError, InputError, zipfile.BadZipFile, OSError) as exc:
            raise _bad_archive("manifest.json 已损坏。", "manifest.json is damaged.") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
            raise _bad_archive(
                f"{label} 不是本软件导出的声音包（格式不对）。",
                f"{label} is not a voice exported by this studio (wrong format).",
            )
        version = manifest.get("version")
        if version != ARCHIVE_VERSION:
            raise _bad_archive(
                f"声音包的版本是 {version!r}，本软件只支持版本 {ARCHIVE_VERSION}。请把软件更新到最新版本后再导入。",
                f"the archive has version {version!r}; this studio reads version {ARCHIVE_VERSION}. "
                "Update the studio, then import again.",
            )
        listed: dict[str, dict] = {}
        for entry in manifest.get("files") if isinstance(manifest.get("files"), list) else [None]:
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("path"), str)
                or not isinstance(entry.get("size"), int)
                or not re.fullmatch(r"[0-9a-f]{64}", str(entry.get("sha256")))
            ):
                raise _bad_archive("manifest.json 的文件列表无效。", "the file list in manifest.json is invalid.")
            listed[entry["path"]] = entry
        for member, entry in listed.items():
            if member != "profile.json" and not _CLIP_MEMBER.match(member):
                raise _bad_archive(
                    f"声音包里有不认识的文件“{member}”。", f"the archive lists an unexpected file '{member}'."
                )
            if member not in files:
                raise _bad_archive(f"声音包缺少文件“{member}”。", f"the archive is missing '{member}'.")
            if files[member].file_size != entry["size"]:
                raise _bad_archive(
                    f"文件“{member}”的大小和清单不符。", f"'{member}' does not have the size its manifest says."
                )
        if "profile.json" in listed and listed["profile.json"]["size"] > MAX_JSON_BYTES:
            raise _bad_archive("profile.json 太大。", "profile.json is too large.")
        extra = set(files) - set(listed) - {"manifest.json"}
        if extra or "profile.json" not in listed:
            what = sorted(extra)[0] if extra else "profile.json"
            raise _bad_archive(
                f"声音包里的文件和清单不一致（{what}）。", f"the archive's files do not match its manifest ({what})."
            )
        return listed

    def _import_into(self, zf: zipfile.ZipFile, listed: dict[str, dict], tmp: Path, name: str | None) -> Voice:
        stage = tmp / "v"
        (stage / "clips").mkdir(parents=True)
        for member, entry in listed.items():
            digest = hashlib.sha256()
            size = 0
            try:
                with zf.open(member) as src, open(stage / member, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        size += len(chunk)
                        if size > entry["size"]:
                            break
                        digest.update(chunk)
                        dst.write(chunk)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise _bad_archive(
                    f"文件“{member}”无法解压，声音包已损坏。请重新导出。",
                    f"'{member}' cannot be unpacked: the archive is damaged. Export it again.",
                ) from exc
            if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
                raise _bad_archive(
                    f"文件“{member}”的校验和不对，声音包已损坏或被修改。请重新导出。",
                    f"the checksum of '{member}' does not match: the archive is damaged or was modified. Export it again.",
                )
        raw = (stage / "profile.json").read_bytes()
        try:
            voice = _parse_profile(load_json(raw.decode("utf-8"), "profile.json"), stage)
        except ValueError as exc:
            raise _bad_archive(f"profile.json 无效（{exc}）。", f"profile.json is invalid ({exc}).") from exc
        except InputError as exc:
            raise _bad_archive(f"profile.json 无效：{exc.zh}", f"profile.json is invalid: {exc.en}") from exc
        if not voice.consent.confirmed:
            raise _bad_archive(
                "声音包没有记录声音主人的授权确认。", "the archive does not record the voice owner's consent."
            )
        unused = set(listed) - {"profile.json"} - {c.file for c in voice.clips}
        if unused:
            what = sorted(unused)[0]
            raise _bad_archive(
                f"声音包里的“{what}”没有登记在 profile.json 里。", f"'{what}' is not a clip in profile.json."
            )
        for clip in voice.clips:
            if clip.file not in listed:
                raise _bad_archive(f"缺少片段文件“{clip.file}”。", f"the clip file '{clip.file}' is missing.")
            try:
                clip_audio = load_audio(stage / clip.file)
            except AudioError as exc:
                raise _bad_archive(
                    f"片段“{clip.file}”不是有效的音频。", f"the clip '{clip.file}' is not valid audio."
                ) from exc
            if (
                clip_audio.sr != MODEL_SR
                or sf.info(str(stage / clip.file)).channels != 1
                or clip_audio.seconds > REF_MAX_SECONDS
            ):
                raise _bad_archive(
                    f"片段“{clip.file}”不是 24 kHz 单声道、60 秒以内的音频。",
                    f"the clip '{clip.file}' is not 24 kHz mono audio of at most 60 s.",
                )
        final_name = name or voice.name
        self._ensure_free(final_name)
        slug = self._free_slug(final_name)
        freed = self._free_aliases(voice, self._all())
        if final_name != voice.name or freed is not voice:
            self._write_profile(stage, replace(freed, name=final_name, updated=_now()))
        os.replace(stage, self.root / slug)
        return self._read(self.root / slug)

    # -- prompt cache

    def _prompt_file(self, voice: Voice, model_key: str, clip: Clip) -> Path:
        model = _model_file(model_key)
        stem = "" if clip == voice.clip() else "@" + Path(clip.file).stem
        return voice.path / "prompts" / f"{model}{stem}.pt"

    @staticmethod
    def _fingerprint(voice: Voice, clip: Clip) -> str:
        digest = hashlib.sha256((voice.path / clip.file).read_bytes())
        digest.update(b"\x00" + clip.transcript.encode("utf-8"))
        return digest.hexdigest()

    def save_prompt(self, name: str, model_key: str, tensors: Mapping[str, Any], *, tag: str | None = None) -> Path:
        """Cache a voice-clone prompt built by ``model_key`` from the clip tagged ``tag``.

        ``tensors`` is ``dataclasses.asdict(VoiceClonePromptItem)``: ``ref_spk_embedding``
        (1-D float), ``x_vector_only_mode``/``icl_mode`` (bool), ``ref_code``
        (1-D/2-D int or None), ``ref_text`` (str or None).
        """
        import torch

        try:
            entries = _check_prompt(tensors)
        except ValueError as exc:
            raise InputError(zh=f"声音提示无效：{exc}。", en=f"Invalid voice-clone prompt: {exc}.") from exc
        with self._locked():
            voice = self._find(name)
            clip = voice.clip(tag)
            path = self._prompt_file(voice, model_key, clip)
            payload = {
                "format": PROMPT_FORMAT,
                "version": PROMPT_VERSION,
                "model_key": model_key,
                "clip": clip.file,
                "fingerprint": self._fingerprint(voice, clip),
                "tensors": entries,
            }
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
            try:
                path.parent.mkdir(exist_ok=True)
                torch.save(payload, tmp)
                os.replace(tmp, path)
            except OSError as exc:
                raise _storage_error(exc, path) from exc
            finally:
                tmp.unlink(missing_ok=True)
        return path

    def load_prompt(self, name: str, model_key: str, *, tag: str | None = None) -> dict[str, Any] | None:
        """The cached prompt for ``model_key`` and the clip tagged ``tag``, or None.

        A file that is unreadable, malformed, made for another model or clip, or
        older than the clip's audio or transcript is deleted and reported as None.
        """
        import torch

        voice = self._find(name)
        clip = voice.clip(tag)
        path = self._prompt_file(voice, model_key, clip)
        if not path.is_file():
            return None
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(payload, dict) or payload.get("format") != PROMPT_FORMAT:
                raise ValueError("not a prompt file")
            if payload.get("version") != PROMPT_VERSION or payload.get("model_key") != model_key:
                raise ValueError("other version or model")
            if payload.get("clip") != clip.file or payload.get("fingerprint") != self._fingerprint(voice, clip):
                raise ValueError("stale: the clip or its transcript changed")
            return _check_prompt(payload.get("tensors"))
        except Exception as exc:  # any unreadable cache file is a cache miss
            log.info("discarding cached prompt %s: %s", path, exc)
            with self._locked():
                path.unlink(missing_ok=True)
            return None

    def list(self, tag: str | None = None, query: str | None = None) -> builtins.list[Voice]:
        """All voices sorted by name; ``tag`` keeps those with that tag, ``query`` searches names, tags, notes, transcripts."""
        voices = self._all()
        if tag:
            wanted = _key(tag)
            voices = [v for v in voices if wanted in {_key(t) for t in (*v.tags, *(c.tag for c in v.clips))}]
        if query:
            q = _key(query)
            voices = [
                v for v in voices if any(q in _key(s) for s in (v.name, v.notes, v.transcript, v.language, *v.tags))
            ]
        return sorted(voices, key=lambda v: _key(v.name))
