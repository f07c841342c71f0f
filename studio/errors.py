"""One error hierarchy for the whole studio.

Every error a user can cause or fix is a :class:`StudioError` carrying its
message in Chinese and English. The UI turns it into ``gr.Error`` in one place
(``studio.ui.common``), the HTTP API into a JSON answer in one place, and the
CLI into a printed line; nothing else catches it.
"""

from __future__ import annotations


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
