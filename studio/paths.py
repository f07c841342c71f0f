"""Where the studio keeps models, voices, outputs and its bundled assets."""

from __future__ import annotations

import sys
from pathlib import Path

#: The source checkout (or the PyInstaller bundle's root when frozen).
ROOT = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))
ASSETS_DIR = ROOT / "assets"
PRESETS_DIR = ROOT / "presets"


def is_frozen() -> bool:
    """True inside the PyInstaller desktop build."""
    return bool(getattr(sys, "frozen", False))


def studio_home() -> Path:
    """The folder that holds the user's data.

    ``STUDIO_HOME`` wins; a source checkout keeps data beside the code (its
    ``voices/`` folder is the library); the desktop build uses the platform's
    user data directory so updates never touch it.
    """
    from . import config

    env = config.home()
    if env:
        return Path(env).expanduser().resolve()
    if is_frozen():
        from platformdirs import user_data_dir

        return Path(user_data_dir("QwenVoiceStudio", appauthor=False))
    return ROOT


def voices_dir() -> Path:
    """The voice library."""
    return studio_home() / "voices"


def models_dir() -> Path:
    """Downloaded checkpoints (one folder per registry id)."""
    return studio_home() / "models"


def outputs_dir() -> Path:
    """Generated audio kept for the user."""
    return studio_home() / "outputs"


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if missing; return it."""
    path.mkdir(parents=True, exist_ok=True)
    return path
