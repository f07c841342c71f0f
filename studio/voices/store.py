"""The voice library's storage: one folder per voice, a file lock, reading and finding voices (:class:`VoiceStore`)."""

from __future__ import annotations

import builtins
import contextlib
import json
import logging
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from .. import atomic
from ..audio import Audio
from ..errors import DiskFullError, InputError, NotFoundError, StorageError, disk_full, writing
from ..limits import load_json
from ..paths import voices_dir
from ..reference import PreparedReference, prepare_reference
from .records import LOCK_TIMEOUT_S, Voice, _key, _now, _parse_profile, slugify

log = logging.getLogger(__name__)


def _storage_error(exc: OSError, path: Path) -> StorageError:
    if disk_full(exc, path):
        return DiskFullError(path, exc.strerror or "")
    reason = exc.strerror or type(exc).__name__
    return StorageError(
        zh=f"无法写入声音库（{path}）：{reason}。请检查磁盘空间和文件夹权限后重试。",
        en=f"Could not write to the voice library ({path}): {reason}. Check free disk space and folder permissions, then retry.",
        path=str(path),
    )


class VoiceStore:
    """The folders of a voice library: locking, atomic files, reading, finding (see :mod:`studio.voices`)."""

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
        atomic.write_bytes(path, data)

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

    def _save(self, voice: Voice, **changes: Any) -> Voice:
        updated = replace(voice, **changes, updated=_now())
        try:
            self._write_profile(voice.path, updated)
        except OSError as exc:
            raise _storage_error(exc, voice.path) from exc
        return updated

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
