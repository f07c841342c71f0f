"""Build a random-weight Demucs separator offline, in the hub layout :mod:`studio.separator` loads.

The model is a real ``demucs.htdemucs.HTDemucs`` (four stems: drums, bass,
other, vocals; 44.1 kHz stereo; the released depth, FFT size and transformer
layout) with tiny channel counts, a 1 s segment and random weights, saved as the hub export
is: ``htdemucs.yaml`` naming the bag and ``SIG.safetensors`` with the class and
its arguments in the metadata. Nothing is downloaded; its stems are noise.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

MARKER_FILE = "studio_random_separator.json"
SIG = "0badc0de"
SOURCES = ["drums", "bass", "other", "vocals"]


def _encode(value):
    """JSON form of the init arguments, fractions as the hub export writes them."""
    if isinstance(value, Fraction):
        return {"_type": "fraction", "numerator": value.numerator, "denominator": value.denominator}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def build_random_separator(out_dir: str | Path, seed: int = 0) -> Path:
    """Write a tiny random HTDemucs bag to ``out_dir``; return the folder."""
    import torch
    import yaml
    from demucs.htdemucs import HTDemucs
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    kwargs = dict(sources=SOURCES, audio_channels=2, samplerate=44100, segment=Fraction(1), channels=8, t_layers=1)
    model = HTDemucs(**kwargs)
    tensors = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    metadata = {
        "klass": "demucs.htdemucs.HTDemucs",
        "args": "[]",
        "kwargs": json.dumps(_encode(kwargs)),
    }
    save_file(tensors, str(out / f"{SIG}.safetensors"), metadata=metadata)
    (out / "htdemucs.yaml").write_text(yaml.safe_dump({"models": [SIG]}), encoding="utf-8")
    (out / MARKER_FILE).write_text(json.dumps({"random": True, "seed": seed}), encoding="utf-8")
    return out
