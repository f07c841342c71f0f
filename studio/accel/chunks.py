"""How a streamed answer is cut: codec frames per chunk (torch-free, so request models can use it)."""

from __future__ import annotations

from dataclasses import dataclass

from .. import config

#: Frames in the first chunk (4 = 0.32 s of audio) and in every later one (12 = 0.96 s).
FIRST_FRAMES = 4
CHUNK_FRAMES = 12
#: The most frames a chunk may hold (a request or the environment can ask for fewer).
MAX_CHUNK_FRAMES = 250


@dataclass(frozen=True)
class ChunkPlan:
    """How many codec frames (12.5 a second) go into the first streamed chunk and into each later one."""

    first: int = FIRST_FRAMES
    size: int = CHUNK_FRAMES

    def __post_init__(self) -> None:
        for name in ("first", "size"):
            value = getattr(self, name)
            if not 1 <= value <= MAX_CHUNK_FRAMES:
                raise ValueError(f"{name} must be 1-{MAX_CHUNK_FRAMES} frames, got {value}")


def _frames_from_env(name: str, default: int) -> int:
    value = config.integer(name, default)
    return min(max(value, 1), MAX_CHUNK_FRAMES)


def chunk_plan(first: int | None = None, size: int | None = None) -> ChunkPlan:
    """The chunk plan: a request's values, else ``STUDIO_STREAM_FIRST`` / ``STUDIO_STREAM_CHUNK``, else the defaults.

    The one place these settings are read. Without an explicit first size, the
    first chunk is the smaller of the default first size and the chunk size.
    """
    size = size if size is not None else _frames_from_env("STUDIO_STREAM_CHUNK", CHUNK_FRAMES)
    if first is None:
        first = min(_frames_from_env("STUDIO_STREAM_FIRST", FIRST_FRAMES), size)
    return ChunkPlan(first=first, size=size)
