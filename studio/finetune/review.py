"""The review step between a folder of recordings and training: check, list, edit, drop, write back.

:func:`review` runs the same checks training runs (:func:`~studio.finetune.data.load_dataset`) and
writes every usable clip, cleaned (24 kHz, trimmed, levelled), with its transcript into a
``reviewed`` folder beside the data: one long recording becomes its slices there. The review table
lists them; :func:`apply_review` writes the edited transcripts and removes the dropped clips, and
training then reads the ``reviewed`` folder.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .data import AUDIO_SUFFIXES, MAX_TRANSCRIPT_CHARS, load_dataset

REVIEWED = "reviewed"


@dataclass
class ReviewRow:
    """One clip as the review table shows it."""

    keep: bool
    name: str
    seconds: float
    text: str


def review(
    folder, target=None, transcribe=None, min_clips: int | None = None
) -> tuple[Path, list[ReviewRow], list[tuple]]:
    """Check ``folder``; write its usable clips into ``target`` (default ``folder/reviewed``); (target, rows, rejected).

    ``rejected`` holds (name, zh reason, en reason) for each clip left out.
    """
    import soundfile as sf

    folder = Path(folder)
    kwargs = {} if min_clips is None else {"min_clips": min_clips}
    dataset = load_dataset(folder, transcribe, **kwargs)
    target = Path(target) if target is not None else folder / REVIEWED
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    rows = []
    for clip in dataset.clips:
        stem = _stem(clip.name)
        sf.write(str(target / f"{stem}.wav"), clip.audio.samples, clip.audio.sr, subtype="PCM_16")
        (target / f"{stem}.txt").write_text(clip.text, encoding="utf-8")
        rows.append(ReviewRow(True, stem, round(clip.seconds, 2), clip.text))
    return target, rows, [(r.name, r.zh, r.en) for r in dataset.rejected]


def _stem(name: str) -> str:
    """A file stem for a clip: its name without the audio suffix, other characters than word ones as ``_``."""
    for suffix in AUDIO_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return re.sub(r"[^\w-]+", "_", name).strip("_")[:100] or "clip"


def total_minutes(rows: list[ReviewRow]) -> float:
    """Minutes of the clips kept."""
    return round(sum(r.seconds for r in rows if r.keep) / 60, 2)


def apply_review(target, rows: list[ReviewRow]) -> int:
    """Write the edited transcripts into ``target`` and remove dropped clips; the number of clips kept."""
    target = Path(target)
    kept = 0
    for row in rows:
        wav, txt = target / f"{row.name}.wav", target / f"{row.name}.txt"
        if Path(row.name).name != row.name or not wav.is_file():
            raise InputError(
                zh=f"审阅表里的片段“{row.name}”不在数据里；请重新检查片段。",
                en=f"The clip '{row.name}' in the review table is not in the data; check the clips again.",
            )
        if not row.keep:
            wav.unlink()
            txt.unlink(missing_ok=True)
            continue
        text = " ".join(str(row.text).split())
        if not text or len(text) > MAX_TRANSCRIPT_CHARS:
            raise InputError(
                zh=f"片段 {row.name} 的文字稿是空的或超过 {MAX_TRANSCRIPT_CHARS} 字。",
                en=f"The transcript of {row.name} is empty or over {MAX_TRANSCRIPT_CHARS} characters.",
            )
        txt.write_text(text, encoding="utf-8")
        kept += 1
    return kept
