"""The voice library: create, edit, rename, copy, delete and restore voices and their clips."""

from __future__ import annotations

import builtins
import contextlib
import logging
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import atomic
from ..audio import Audio
from ..errors import InputError, NotFoundError, StorageError
from ..reference import PreparedReference
from ..voice_aliases import AliasMixin
from .archive import ArchiveMixin
from .prompts import PromptMixin
from .records import (
    DEFAULT_TAG,
    MAX_CLIPS,
    MAX_NOTES_CHARS,
    MAX_TRANSCRIPT_CHARS,
    Clip,
    Consent,
    Voice,
    _ascii_stem,
    _key,
    _now,
    _validate_language,
    _validate_tag,
    _validate_tags,
    _validate_text,
    slugify,
    validate_name,
)
from .store import VoiceStore, _storage_error

log = logging.getLogger(__name__)


class VoiceLibrary(AliasMixin, ArchiveMixin, PromptMixin, VoiceStore):
    """The user's saved voices (see the module docstring for the layout and guarantees)."""

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
            try:
                with atomic.replacing(target) as tmp:
                    self._write_clip(tmp, clip_audio)
            except OSError as exc:
                raise _storage_error(exc, target) from exc
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
