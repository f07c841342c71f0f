"""One corpus of bad inputs, shared by every entry point's test (engine, CLI, HTTP API, UI).

Each :class:`Case` is something a user (or a hostile client) could send that
the studio must refuse with a clear message, without dying and without
leaving anything half-written. :func:`build_files` writes the file cases
(audio and project files) into a folder once per test session.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 24_000
#: Longer than studio.audio.MAX_DECODE_SECONDS (600 s).
HUGE_SECONDS = 620
#: Longer than studio.engine.MAX_TEXT_CHARS (5000).
HUGE_TEXT_CHARS = 5_001


@dataclass(frozen=True)
class Case:
    """One bad input: ``kind`` says where it goes, ``value`` is the input (a file name for files)."""

    id: str
    kind: str  # "audio" | "text" | "number" | "voice_name" | "project"
    value: object
    #: For numbers: which control (seed, duration, ratio, takes, loudness, intensity).
    field: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


def _speech(seconds: float, sr: int = SR, seed: int = 0) -> np.ndarray:
    from tests.audio_fixtures import speech

    return speech(seconds, sr, seed=seed)


AUDIO = [
    Case("corrupted", "audio", "corrupted.wav"),  # a RIFF header, then garbage
    Case("random_bytes", "audio", "random.wav"),
    Case("empty", "audio", "empty.wav"),  # 0 bytes
    Case("truncated", "audio", "truncated.wav"),  # a real wav cut off inside its header
    Case("huge", "audio", "huge.wav"),  # over the 600 s decode limit
    Case("silent", "audio", "silent.wav"),  # 3 s of digital silence
    Case("clipped", "audio", "clipped.wav"),  # a full-scale square wave: clipped, no voice
    Case("wrong_rate", "audio", "wrong_rate.wav"),  # declared at 200 Hz: no speech band at all
    Case("too_short", "audio", "too_short.wav"),  # 0.3 s of speech
    Case("nan_samples", "audio", "nan.wav"),  # float wav holding NaN and infinity
    Case("text_as_wav", "audio", "notes.wav"),  # wrong format: a text file
    Case("png_as_mp3", "audio", "image.mp3"),  # wrong format: an image
    Case("noise_only", "audio", "noise.wav"),  # 4 s of white noise, nobody speaking
]

TEXT = [
    Case("empty", "text", ""),
    Case("whitespace", "text", " \t\n\u3000 "),
    Case("huge", "text", "字" * HUGE_TEXT_CHARS),
    Case("binary", "text", bytes(range(0, 32)).decode("latin-1") + "\x7f\x80\x9f"),
    Case("control_chars", "text", "\x00\x07\x1b\x08\x0c\x7f\x1b"),
    Case("markup_only", "text", "<><//>&;<!---->"),
]

NUMBER = [
    Case("seed_nan", "number", math.nan, "seed"),
    Case("seed_huge", "number", 1e30, "seed"),
    Case("duration_nan", "number", math.nan, "duration"),
    Case("duration_negative", "number", -3.0, "duration"),
    Case("duration_huge", "number", 1e9, "duration"),
    Case("ratio_nan", "number", math.nan, "ratio"),
    Case("ratio_negative", "number", -1.0, "ratio"),
    Case("ratio_huge", "number", 1e6, "ratio"),
    Case("takes_zero", "number", 0, "takes"),
    Case("takes_huge", "number", 10_000, "takes"),
    Case("loudness_nan", "number", math.nan, "loudness"),
    Case("loudness_positive", "number", 30.0, "loudness"),
    Case("intensity_nan", "number", math.nan, "intensity"),
    Case("intensity_negative", "number", -0.5, "intensity"),
]

VOICE_NAME = [
    Case("empty", "voice_name", ""),
    Case("spaces", "voice_name", "   "),
    Case("dotdot", "voice_name", ".."),
    Case("traversal", "voice_name", "../../etc/passwd"),
    Case("backslash", "voice_name", "a\\b"),
    Case("too_long", "voice_name", "名" * 65),
    Case("control_chars", "voice_name", "bad\x00name\n"),
    Case("bidi_override", "voice_name", "evil\u202egnp.exe"),
]

PROJECT = [
    Case("not_json", "project", "not_json.json"),
    Case("json_array", "project", "array.json"),
    Case("wrong_format", "project", "wrong_format.json"),
    Case("future_version", "project", "future.json"),
    Case("end_before_start", "project", "end_before_start.json"),
    Case("nan_time", "project", "nan_time.json"),
    Case("take_outside", "project", "take_outside.json"),
    Case("binary", "project", "binary.json"),
]

ALL: list[Case] = [*AUDIO, *TEXT, *NUMBER, *VOICE_NAME, *PROJECT]


def _project(lines: list[dict], **top) -> dict:
    from studio.dubbing.project import PROJECT_FORMAT, PROJECT_VERSION

    return {"format": PROJECT_FORMAT, "version": PROJECT_VERSION, "name": "bad", "lines": lines, **top}


def build_files(folder: Path) -> Path:
    """Write every file case into ``folder`` (once; cheap to call again) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / ".complete").exists():
        return folder
    rng = np.random.default_rng(0)
    good = folder / "_good.wav"
    sf.write(good, _speech(3.0), SR)
    (folder / "corrupted.wav").write_bytes(b"RIFF\xff\xff\x00\x00WAVEfmt " + rng.bytes(3000))
    (folder / "random.wav").write_bytes(rng.bytes(4096))
    (folder / "empty.wav").write_bytes(b"")
    (folder / "truncated.wav").write_bytes(good.read_bytes()[:30])
    sf.write(folder / "huge.wav", np.zeros(HUGE_SECONDS * 8000, dtype=np.int16), 8000, subtype="PCM_16")
    sf.write(folder / "silent.wav", np.zeros(3 * SR, dtype=np.float32), SR)
    square = np.sign(np.sin(2 * np.pi * 220 * np.arange(3 * SR) / SR)).astype(np.float32)
    sf.write(folder / "clipped.wav", square, SR)
    sf.write(folder / "wrong_rate.wav", _speech(3.0)[: 3 * 200], 200)
    sf.write(folder / "too_short.wav", _speech(0.3), SR)
    nan = _speech(2.0).astype(np.float32)
    nan[100:200] = np.nan
    nan[300] = np.inf
    sf.write(folder / "nan.wav", nan, SR, subtype="FLOAT")
    (folder / "notes.wav").write_text("these are my notes, not audio\n" * 20, encoding="utf-8")
    (folder / "image.mp3").write_bytes(b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + rng.bytes(200))
    sf.write(folder / "noise.wav", (0.3 * rng.standard_normal(4 * SR)).astype(np.float32), SR)

    def dump(name: str, data: object) -> None:
        (folder / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    (folder / "not_json.json").write_text("{ this is not json", encoding="utf-8")
    dump("array.json", [1, 2, 3])
    dump("wrong_format.json", {"format": "something-else", "version": 1, "lines": []})
    dump("future.json", _project([], version=999))
    dump("end_before_start.json", _project([{"id": "l001", "text": "你好", "start": 5.0, "end": 1.0}]))
    dump("nan_time.json", _project([{"id": "l001", "text": "你好", "start": "NaN", "end": 2.0}]))
    take = {"file": "../../../../etc/passwd", "hash": "h", "seconds": 1, "seed": 1, "model": "m"}
    dump("take_outside.json", _project([{"id": "l001", "text": "你好", "chosen": 0, "takes": [take]}]))
    (folder / "binary.json").write_bytes(b"\xff\xfe\x00\x00" + rng.bytes(500))
    (folder / ".complete").write_text("ok")
    return folder


def count() -> dict[str, int]:
    """How many cases of each kind the corpus holds."""
    out: dict[str, int] = {}
    for case in ALL:
        out[case.kind] = out.get(case.kind, 0) + 1
    return out
