"""A re-dub job's record in its project: the options (``redub/job.json``), the input video, the lock.

The job owns its input: the video lives in ``<project>/redub/input/`` and the
options the run was asked for are written to ``redub/job.json`` before it
starts, so a run a crash interrupted can be started again with the same
options (:meth:`studio.redub_jobs.RedubRegistry.resume`). ``redub/.lock`` is an
OS file lock held while the run works (the system drops it when the process
dies): a ``job.json`` whose lock is free was left by a run that no longer runs.
Everything read back from ``job.json`` is bounded and validated like a request.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from .dubbing.project import write_text_atomic
from .errors import ConflictError, InputError
from .redub import WORK_DIR

JOB_FILE = "job.json"
INPUT_DIR = "input"
LOCK_FILE = ".lock"
_MAX_JOB_BYTES = 64_000
_MAX_NAME_CHARS = 120  #: the input video's file name
_MAX_TEXT = {"language": 32, "voice": 300, "asr_model": 1000, "separator_model": 1000, "clone_voice": 200}
_FLAGS = ("vad", "keep_background", "consent", "speakers")


@dataclass
class RedubOptions:
    """What a re-dub run is asked to do (the arguments of :func:`studio.redub.create_project`)."""

    language: str | None = None
    voice: str | None = None
    asr_model: str | None = None  #: a registry id or a model folder (adapters decide which they accept)
    vad: bool = True
    keep_background: bool = False
    separator_model: str | None = None
    clone_voice: str | None = None  #: the name of the voice cloned from the video
    consent: bool = False
    speakers: bool = False  #: label each line with its speaker

    def checked(self) -> RedubOptions:
        """These options, validated (:class:`InputError` saying what is wrong); the clone name normalised."""
        from .dubbing.project import parse_voice
        from .recogniser import language_code
        from .redub_stems import consent_error

        for key, limit in _MAX_TEXT.items():
            value = getattr(self, key)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                raise InputError(
                    zh=f"{key} 无效或太长（最多 {limit} 个字符）。",
                    en=f"{key} is invalid or too long (at most {limit}).",
                )
            if isinstance(value, str) and not value.strip():
                setattr(self, key, None)
        for key in _FLAGS:
            if not isinstance(getattr(self, key), bool):
                raise InputError(zh=f"{key} 必须是 true 或 false。", en=f"{key} must be true or false.")
        language_code(self.language)
        if self.voice:
            parse_voice(self.voice)
        if self.clone_voice is not None:
            from .voices import validate_name

            if self.voice:
                raise InputError(
                    zh="默认声音和从视频克隆只能选一个。",
                    en="Choose either a voice or cloning from the video, not both.",
                )
            if self.consent is not True:
                raise consent_error()
            self.clone_voice = validate_name(self.clone_voice)
        return self

    @classmethod
    def from_dict(cls, data: object) -> RedubOptions:
        """Options read back from ``job.json`` (unknown keys ignored), validated."""
        if not isinstance(data, dict):
            raise InputError(zh="任务记录里的选项无效。", en="The job record's options are invalid.")
        known = {k: data[k] for k in (*_MAX_TEXT, *_FLAGS) if k in data}
        return cls(**known).checked()


def work_dir(folder: Path) -> Path:
    """The project's re-dub work folder."""
    return Path(folder) / WORK_DIR


def safe_video_name(name: str, fallback: str = "video") -> str:
    """``name`` (a file name from a user) as a plain file name for ``redub/input``: no folders, bounded."""
    base = Path(str(name).replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = re.sub(r"[^\w .\-]", "_", stem)[:80].strip(" .") or fallback
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ".mp4"
    return stem + suffix


def place_video(folder: Path, video: Path, name: str, take: str) -> Path:
    """Put ``video`` into the project's ``redub/input`` as ``name`` (``take``: copy, link or move); its path.

    Older inputs are removed. A link falls back to a copy (another file system); copies keep the file's
    times, which the cached stages are keyed by.
    """
    inputs = work_dir(folder) / INPUT_DIR
    target = inputs / name
    if video.resolve() == target.resolve():
        return target
    inputs.mkdir(parents=True, exist_ok=True)
    for old in inputs.iterdir():
        with contextlib.suppress(OSError):
            old.unlink()
    if take == "move":
        shutil.move(str(video), target)
    elif take == "link":
        try:
            os.link(video, target)
        except OSError:
            shutil.copy2(video, target)
    else:
        shutil.copy2(video, target)
    return target


def write_job(
    folder: Path, job_id: str, video: Path, options: RedubOptions, levels: int, stopped: bool = False
) -> None:
    """Record the job (see the module docstring); ``levels``: how many folders the job created (0: none)."""
    data = {
        "version": 1,
        "job": job_id,
        "video": video.name,
        "options": asdict(options),
        "levels": levels,
        "stopped": stopped,
    }
    write_text_atomic(work_dir(folder) / JOB_FILE, json.dumps(data, ensure_ascii=False))


def read_job(folder: Path) -> dict | None:
    """The job record in ``folder``, checked (options validated, video a plain file in ``redub/input``), or None.

    The answer: ``job`` (id), ``video`` (path), ``options`` (:class:`RedubOptions`), ``levels``, ``stopped``.
    """
    path = work_dir(folder) / JOB_FILE
    try:
        if path.is_symlink() or path.stat().st_size > _MAX_JOB_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            return None
        name, job_id, levels = data.get("video"), data.get("job"), data.get("levels", 0)
        if not isinstance(name, str) or len(name) > _MAX_NAME_CHARS or name != safe_video_name(name):
            return None
        if not isinstance(job_id, str) or not re.fullmatch(r"[0-9a-f]{1,32}", job_id):
            return None
        if not isinstance(levels, int) or isinstance(levels, bool) or not 0 <= levels <= 32:
            return None
        video = work_dir(folder) / INPUT_DIR / name
        if video.is_symlink() or not video.is_file():
            return None
        options = RedubOptions.from_dict(data.get("options"))
    except (OSError, ValueError, TypeError, InputError):
        return None
    return {"job": job_id, "video": video, "options": options, "levels": levels, "stopped": data.get("stopped") is True}


def remove_job(folder: Path) -> None:
    """Forget the job record (the run finished)."""
    with contextlib.suppress(OSError):
        (work_dir(folder) / JOB_FILE).unlink(missing_ok=True)


def _file_lock(folder: Path):
    from filelock import FileLock

    return FileLock(str(work_dir(folder) / LOCK_FILE), timeout=0)


def lock_is_free(folder: Path) -> bool:
    """Whether no process (this one included) runs a re-dub of the project in ``folder`` now."""
    from .dubbing.lock import file_lock_is_free

    return file_lock_is_free(work_dir(folder) / LOCK_FILE)


def busy_elsewhere(folder: Path) -> ConflictError:
    """The refusal while another process re-dubs the project in ``folder``."""
    return ConflictError(
        zh=f"项目 “{Path(folder).name}” 正在另一个窗口或程序里识别视频。等它结束，或先停止它。",
        en=f"Project '{Path(folder).name}' is being re-dubbed in another window or program. Wait for it to end, "
        "or stop it first.",
    )


@contextlib.contextmanager
def holding_lock(folder: Path):
    """Hold the project's re-dub lock while the run works; :class:`ConflictError` if another process holds it."""
    from filelock import Timeout

    work_dir(folder).mkdir(parents=True, exist_ok=True)
    lock = _file_lock(folder)
    try:
        lock.acquire()
    except Timeout as exc:
        raise busy_elsewhere(folder) from exc
    try:
        yield
    finally:
        lock.release()
