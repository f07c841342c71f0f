"""One error hierarchy for the whole studio.

Every error a user can cause or fix is a :class:`StudioError` carrying its
message in Chinese and English. The UI turns it into ``gr.Error`` in one place
(``studio.ui.common``), the HTTP API into a JSON answer in one place, and the
CLI into a printed line; nothing else catches it.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
from collections.abc import Iterator
from pathlib import Path


class StudioError(Exception):
    """Base class: a problem the user can understand and act on."""

    code = "studio_error"
    http_status = 400

    def __init__(self, zh: str, en: str, **details: object) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en
        self.details = details

    def message(self, lang: str = "zh") -> str:
        """The message in ``lang`` ("zh" or "en"; anything else means English)."""
        return self.zh if lang.startswith("zh") else self.en

    def to_dict(self, lang: str = "en") -> dict:
        """A JSON-ready description (used by the HTTP API)."""
        return {"error": self.code, "message": self.message(lang), **{k: str(v) for k, v in self.details.items()}}


class InputError(StudioError):
    """A request that cannot be served as given (bad text, numbers, names)."""

    code = "invalid_input"


class TextError(InputError):
    """The text to speak is empty, too long or malformed."""

    code = "invalid_text"


class AudioError(InputError):
    """A reference or uploaded audio file that cannot be used."""

    code = "invalid_audio"


class ForeignFileError(InputError):
    """A file a client names that it did not upload (or that is gone): one answer for every such case.

    The same words whether the file exists elsewhere, is missing or cannot be read, so the answer tells
    nothing about the server's files.
    """

    code = "foreign_file"

    def __init__(self) -> None:
        super().__init__(
            zh="无法使用这个文件：它不是你在本页面上传的文件，或者已经过期。请重新上传。",
            en="This file cannot be used: it is not a file you uploaded in this page, or it has expired. "
            "Upload it again.",
        )


class NotFoundError(StudioError):
    """A named thing (voice, model, speaker, file) does not exist."""

    code = "not_found"
    http_status = 404


class CheckpointError(StudioError):
    """A model folder that is missing files or is not a Qwen3-TTS checkpoint."""

    code = "invalid_checkpoint"
    http_status = 422


class ModelMismatchError(StudioError):
    """The loaded model cannot do what was asked (e.g. clone with CustomVoice)."""

    code = "wrong_model"
    http_status = 409


class DownloadError(StudioError):
    """A checkpoint could not be downloaded (network, mirror, disk)."""

    code = "download_failed"
    http_status = 503


class ResourceError(StudioError):
    """Out of GPU/CPU memory or disk space."""

    code = "out_of_resources"
    http_status = 507


def _shown(path: str | Path) -> Path:
    """``path`` as a user knows it: cut before a hidden staging part (``.tmp-...``, ``.name.part``)."""
    parts = Path(path).parts
    cut = next((i for i, p in enumerate(parts) if p.startswith(".") and p not in (".", "..")), len(parts))
    return Path(*parts[:cut]) if cut else Path(path)


#: Below this many free bytes, a sound file that fails to write is taken to have hit a full disk.
_NEARLY_FULL_BYTES = 64 * 1024 * 1024


def disk_full(exc: BaseException, path: str | Path) -> bool:
    """Whether ``exc``, raised writing ``path``, means the disk is full.

    True for ENOSPC and EDQUOT; libsndfile reports a full disk only as
    "System error.", so a sound-file error counts when the disk holding
    ``path`` has less than 64 MB free.
    """
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if type(exc).__module__.split(".")[0] != "soundfile":
        return False
    folder = Path(path)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL_BYTES
    except OSError:
        return False


@contextlib.contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn a failed write of ``path`` (OS or sound-file error) into :class:`DiskFullError` or :class:`StorageError`.

    The one place that maps write failures; the writer itself removes its partial file.
    """
    try:
        yield
    except StudioError:
        raise
    except Exception as exc:
        if disk_full(exc, path):
            raise DiskFullError(path, getattr(exc, "strerror", None) or "") from exc
        if isinstance(exc, OSError) or type(exc).__module__.split(".")[0] == "soundfile":
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise StorageError(
                zh=f"无法写入 {_shown(path)}：{reason}。请检查磁盘空间和文件夹权限后重试。",
                en=f"Cannot write {_shown(path)}: {reason}. Check free disk space and folder permissions, then retry.",
                path=str(path),
            ) from exc
        raise


class BusyError(StudioError):
    """The studio is busy and its queue is full; try again shortly."""

    code = "busy"
    http_status = 503


class ConflictError(StudioError):
    """The request clashes with the current state (a job runs on that project, the name exists already)."""

    code = "conflict"
    http_status = 409


class StorageError(StudioError):
    """Something saved by the user could not be written or read back."""

    code = "storage_error"
    http_status = 500


class DiskFullError(StorageError):
    """A write failed because the disk (or the user's quota) is full; what was saved before is unchanged."""

    code = "disk_full"
    http_status = 507

    def __init__(self, path: str | Path, reason: str = "") -> None:
        path = _shown(path)
        why = f" ({reason})" if reason else ""
        super().__init__(
            zh=f"磁盘已满，无法写入 {path}。请清理磁盘空间后重试；之前保存的内容没有改动。",
            en=f"The disk is full{why}: cannot write {path}. Free some disk space and retry; nothing saved before "
            "was changed.",
            path=str(path),
        )


class RemoteEngineError(StudioError):
    """The remote speech server (Models > Remote engine) cannot be reached, refused the key, or answered nonsense."""

    code = "remote_engine_error"
    http_status = 502


class Cancelled(StudioError):
    """The user cancelled a long job."""

    code = "cancelled"
    http_status = 499

    def __init__(self) -> None:
        super().__init__(zh="已取消。", en="Cancelled.")
