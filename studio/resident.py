"""One loaded model of a kind, kept for reuse: the recogniser and the separator each hold one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

Model = TypeVar("Model")


class Resident(Generic[Model]):
    """The model built from one folder, replaced when another folder is asked for (thread-safe)."""

    def __init__(self, validate: Callable[[str | Path], Path], build: Callable[[Path], Model]) -> None:
        self._validate, self._build = validate, build
        self._lock = threading.Lock()
        self._model: Model | None = None
        self._folder: Path | None = None

    def get(self, folder: str | Path) -> Model:
        """The model of ``folder`` (checked first), built on the first call or when the folder changes."""
        path = self._validate(folder)
        with self._lock:
            if self._model is None or self._folder != path:
                self._model, self._folder = self._build(path), path
            return self._model

    def unload(self) -> None:
        """Drop the model (the next :meth:`get` builds it again)."""
        with self._lock:
            self._model = self._folder = None
