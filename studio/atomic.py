"""Replacing a file so that a crash leaves the old file or the new one, never half of either.

The one way the studio rewrites a file: write a hidden temporary file in the
same folder (``.NAME.<hex>.part``; same folder, so the rename stays on one
file system), flush it to the disk, then ``os.replace`` it over the target.
Folders that sweep leftovers (the voice library) look for that name.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path


def temp_path(path: Path, suffix: str = "") -> Path:
    """A fresh hidden temporary name beside ``path`` (``suffix`` keeps an extension a writer needs, e.g. ``.wav``)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part{suffix}")


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError), open(path, "rb+") as handle:
        os.fsync(handle.fileno())


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str], suffix: str = "", mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path to write; on a clean exit it replaces ``path`` (fsync first), else it is removed.

    ``mode`` (e.g. ``0o600`` for a file holding a secret) is set before the
    file takes the target's name. The parent folder is created if missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path, suffix)
    try:
        yield tmp
        if mode is not None:
            os.chmod(tmp, mode)
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike[str], text: str, mode: int | None = None) -> None:
    """Replace ``path`` with ``text`` (UTF-8, ``\\n`` line ends) atomically."""
    with replacing(path, mode=mode) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)
