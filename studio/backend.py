"""Importing qwen-tts safely, and the few facts about it the studio relies on.

Everything heavy (torch, transformers, qwen_tts) is imported here, on first
use, never at module import time of the rest of the studio.
"""

from __future__ import annotations

import importlib.machinery
import sys
import types
from functools import cache

#: Frames per second of the 12 Hz codec, and samples per frame at 24 kHz.
FRAME_RATE = 12.5
SAMPLES_PER_FRAME = 1920
SAMPLE_RATE = 24_000


def _install_torchaudio_placeholder(reason: BaseException) -> None:
    """Make ``import torchaudio`` succeed when the installed build cannot load.

    qwen-tts imports ``torchaudio.compliance.kaldi`` at import time for its
    25 Hz tokenizer only; the 12 Hz models the studio uses never call it. A CPU
    torch often has no matching torchaudio build (its compiled extension wants
    CUDA libraries), so we register a placeholder whose every attribute raises
    a clear error instead of letting the whole package fail to import.
    """
    for name in [m for m in sys.modules if m == "torchaudio" or m.startswith("torchaudio.")]:
        del sys.modules[name]

    def unavailable(attr: str):
        # AttributeError, so hasattr()/inspect treat the placeholder as a plain module.
        raise AttributeError(
            f"torchaudio is not usable in this install ({reason!r}); "
            f"'{attr}' is only needed by the 25 Hz tokenizer, which the studio does not use."
        )

    parent = None
    for name in ("torchaudio", "torchaudio.compliance", "torchaudio.compliance.kaldi"):
        module = types.ModuleType(name)
        module.__spec__ = importlib.machinery.ModuleSpec(name, loader=None, is_package=True)
        module.__path__ = []
        module.__getattr__ = unavailable  # PEP 562: module-level attribute fallback
        module.STUDIO_PLACEHOLDER = True
        sys.modules[name] = module
        if parent is not None:
            setattr(parent, name.rsplit(".", 1)[1], module)
        parent = module


@cache
def qwen_tts():
    """Return the imported ``qwen_tts`` package (imports it on first call)."""
    try:
        import torchaudio  # noqa: F401
    except Exception as exc:  # OSError (missing CUDA libs) or ImportError
        _install_torchaudio_placeholder(exc)
    from .quiet import import_qwen_tts

    return import_qwen_tts()


def torch():
    """Return the ``torch`` module (imported lazily)."""
    import torch as module

    return module
