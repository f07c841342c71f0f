"""The takes history: every generation kept with its text, voice, settings, seed and length.

A folder of 24 kHz wav files plus ``takes.json``; both written atomically, so a
crash never leaves a half-written index. Knows nothing of the UI.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from . import atomic
from .errors import DiskFullError, InputError, NotFoundError, StorageError, disk_full, writing
from .paths import outputs_dir

INDEX = "takes.json"
FORMAT = "qwen-voice-studio/takes"
VERSION = 1
#: Oldest unstarred takes are dropped beyond this many.
MAX_TAKES = 500


@dataclass
class Take:
    """One generation as kept in the history."""

    id: str
    created: str
    kind: str  #: clone, custom or design
    text: str
    voice: str  #: what spoke: a saved voice, a reference file name, a speaker or a description
    seed: int
    seconds: float
    model: str
    file: str  #: wav file name inside the history folder
    settings: dict[str, Any] = field(default_factory=dict)  #: engine keyword arguments to regenerate it
    starred: bool = False


class TakeHistory:
    """The takes of one user (the studio's outputs folder, or a Space visitor's own folder)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else outputs_dir() / "takes"
        self._lock = threading.Lock()

    # -- reading
    def list(self) -> list[Take]:
        """All takes, newest first."""
        return sorted(self._read(), key=lambda take: take.created, reverse=True)

    def get(self, take_id: str) -> Take:
        """The take ``take_id``; :class:`NotFoundError` if there is none."""
        for take in self._read():
            if take.id == str(take_id).strip():
                return take
        raise NotFoundError(
            zh=f"找不到编号为“{take_id}”的生成记录，可能已被删除。",
            en=f"There is no take '{take_id}'; it may have been deleted.",
        )

    def path(self, take_id: str) -> Path:
        """The take's audio file."""
        return self.root / self.get(take_id).file

    # -- writing
    def add(
        self,
        samples: np.ndarray,
        sr: int,
        *,
        kind: str,
        text: str,
        voice: str,
        seed: int,
        model: str,
        settings: dict[str, Any] | None = None,
    ) -> Take:
        """Keep a new take; the oldest unstarred ones go beyond :data:`MAX_TAKES`."""
        take_id = datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        take = Take(
            id=take_id,
            created=datetime.now(timezone.utc).astimezone().isoformat(timespec="milliseconds"),
            kind=kind,
            text=text,
            voice=voice,
            seed=int(seed),
            seconds=round(len(samples) / float(sr), 3),
            model=model,
            file=f"{take_id}.wav",
            settings=_json_safe(settings or {}),
        )
        with self._lock:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
                with writing(self.root), atomic.replacing(self.root / take.file) as tmp:
                    sf.write(str(tmp), np.clip(samples, -1.0, 1.0), sr, format="WAV", subtype="PCM_16")
            except OSError as exc:
                raise _storage_error(exc, self.root) from exc
            try:
                takes = [*self._read(), take]
                dropped = _over_limit(takes)
                self._write([t for t in takes if t not in dropped])
            except StorageError:
                (self.root / take.file).unlink(missing_ok=True)  # no audio without its entry in the index
                raise
        for old in dropped:
            (self.root / old.file).unlink(missing_ok=True)
        return take

    def star(self, take_id: str, starred: bool = True) -> Take:
        """Star (keep) or unstar a take."""
        with self._lock:
            takes = self._read()
            take = next((t for t in takes if t.id == str(take_id).strip()), None)
            if take is None:
                self.get(take_id)  # raises the clear message
            take.starred = bool(starred)
            self._write(takes)
        return take

    def delete(self, take_id: str) -> None:
        """Delete a take and its audio."""
        with self._lock:
            takes = self._read()
            keep = [t for t in takes if t.id != str(take_id).strip()]
            if len(keep) == len(takes):
                self.get(take_id)
            self._write(keep)
        (self.root / f"{take_id}.wav").unlink(missing_ok=True)

    # -- storage
    def _read(self) -> list[Take]:
        path = self.root / INDEX
        if not path.exists():
            return []
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError("not a takes index")
            if data.get("version", 0) > VERSION:
                raise InputError(
                    zh=f"生成记录 {path} 来自更新版本的工作室，请升级后再打开。",
                    en=f"The takes history {path} was written by a newer version of the studio; update to open it.",
                )
            fields = Take.__dataclass_fields__
            return [Take(**{k: v for k, v in item.items() if k in fields}) for item in data.get("takes", [])]
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise StorageError(
                zh=f"生成记录文件 {path} 已损坏（{exc}）。可以删除它，音频文件仍在同一文件夹中。",
                en=f"The takes history {path} is damaged ({exc}). You can delete it; the audio files stay in that folder.",
            ) from exc

    def _write(self, takes: list[Take]) -> None:
        path = self.root / INDEX
        payload = {"format": FORMAT, "version": VERSION, "takes": [asdict(t) for t in takes]}
        try:
            atomic.write_text(path, json.dumps(payload, ensure_ascii=False, indent=1))
        except OSError as exc:
            raise _storage_error(exc, self.root) from exc


def _over_limit(takes: list[Take]) -> list[Take]:
    extra = len(takes) - MAX_TAKES
    if extra <= 0:
        return []
    unstarred = sorted((t for t in takes if not t.starred), key=lambda t: t.created)
    return unstarred[:extra]


def _json_safe(settings: dict[str, Any]) -> dict[str, Any]:
    """Keep only values JSON can hold (numbers, strings, booleans, None, and lists/dicts of them)."""
    return json.loads(json.dumps(settings, default=lambda value: None))


def _storage_error(exc: OSError, folder: Path) -> StorageError:
    if disk_full(exc, folder):
        return DiskFullError(folder, exc.strerror or "")
    return StorageError(
        zh=f"无法写入生成记录文件夹 {folder}：{exc.strerror or exc}。请检查磁盘空间和写入权限。",
        en=f"Cannot write to the takes folder {folder}: {exc.strerror or exc}. Check free disk space and permissions.",
    )
