"""User settings persisted as one small JSON file in the studio's home."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .paths import studio_home


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

    @classmethod
    def path(cls) -> Path:
        """The settings file."""
        return studio_home() / "settings.json"

    @classmethod
    def load(cls) -> Settings:
        """Read the settings; a missing or unreadable file gives the defaults."""
        try:
            data = json.loads(cls.path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known}) if isinstance(data, dict) else cls()

    def save(self) -> None:
        """Write the settings atomically."""
        target = self.path()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False), encoding="utf-8")
        if self.remote_key:
            os.chmod(tmp, 0o600)  # it holds a secret: readable by its owner only
        os.replace(tmp, target)
