"""User settings persisted as one small JSON file in the studio's home.

:meth:`Settings.load` is the only reader. A file that cannot be read or parsed
gives the defaults; a field of the wrong type (``"local_models": "nope"``,
``"device": 5``) is dropped with a one-line warning and its default used, so a
hand-edited file never stops the studio.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from . import atomic
from .errors import InputError
from .limits import MAX_LABEL_CHARS, load_json
from .paths import studio_home

log = logging.getLogger(__name__)
_warned: set[str] = set()
_NOT_SAVED = ("remote_choice",)


@dataclass
class Settings:
    """What the user chose on the Models tab (and the CLI reads too)."""

    device: str = "auto"
    dtype: str = "auto"
    endpoint: str = ""  #: Hugging Face mirror, e.g. https://hf-mirror.com ("" = HF_ENDPOINT or the official hub)
    local_models: dict[str, str] = field(default_factory=dict)  #: registry id -> local checkpoint folder
    language: str = "zh"  #: UI language
    #: Remote engine: base URL of an OpenAI-compatible speech server (vLLM-Omni, another studio); "" = local.
    #: ``STUDIO_REMOTE_URL`` overrides it (see :mod:`studio.remote`).
    remote_url: str = ""
    #: Its API key, sent as ``Authorization: Bearer``; kept out of repr and logs. ``STUDIO_REMOTE_KEY`` overrides it.
    remote_key: str = field(default="", repr=False)
    #: This run's own choice (``--remote URL`` / ``--local``, a :class:`studio.config.RemoteChoice`): never saved,
    #: it beats ``STUDIO_REMOTE_URL`` and the fields above (see :func:`studio.config.remote`).
    remote_choice: object = field(default=None, repr=False, compare=False)

    @classmethod
    def path(cls) -> Path:
        """The settings file."""
        return studio_home() / "settings.json"

    @classmethod
    def load(cls) -> Settings:
        """Read the settings; a missing or unreadable file gives the defaults."""
        path = cls.path()
        try:
            data = load_json(path.read_text(encoding="utf-8"), path.name)
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, InputError) as exc:
            _warn_once(f"ignoring {path}: {getattr(exc, 'en', exc)}; using the default settings")
            return cls()
        if not isinstance(data, dict):
            _warn_once(f"ignoring {path}: it is not a JSON object; using the default settings")
            return cls()
        saved = [f.name for f in fields(cls) if f.name not in _NOT_SAVED]
        good = {name: data[name] for name in saved if name in data and _valid(name, data[name])}
        bad = [name for name in saved if name in data and name not in good]
        if bad:
            _warn_once(f"ignoring {', '.join(bad)} in {path} (wrong type or too long); using the defaults")
        return cls(**good)

    def saved(self) -> dict:
        """The fields written to the settings file (not this run's choices)."""
        return {k: v for k, v in asdict(self).items() if k not in _NOT_SAVED}

    def save(self) -> None:
        """Write the settings atomically."""
        text = json.dumps(self.saved(), indent=2, ensure_ascii=False)
        atomic.write_text(self.path(), text, mode=0o600 if self.remote_key else None)  # a secret: owner only


def _valid(name: str, value: object) -> bool:
    """Whether ``value`` has the type of the field ``name`` (local_models: text -> text; the rest: text)."""
    if name == "local_models":
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) and len(k) <= MAX_LABEL_CHARS and len(v) <= 4096
            for k, v in value.items()
        )
    return isinstance(value, str) and len(value) <= 4096


def _warn_once(message: str) -> None:
    """Log ``message`` as a warning the first time it comes up in this process."""
    if message not in _warned:
        _warned.add(message)
        log.warning(message)
