"""Give back the memory of weights a loaded model no longer uses (Linux).

transformers maps each ``model.safetensors`` into memory (a private file
mapping) and, where the file's dtype is the one asked for, uses its tensors in
place. Touched pages of that mapping count towards the process's RSS for as long
as the mapping lives, and it lives while any one tensor still points into it.
Two things leave pages behind that nothing reads any more:

- loading in another dtype (the speech tokenizer's float32 file loaded in
  bfloat16): the converted copies are new memory, but a few float32 buffers
  keep the whole mapping, and every page the conversion read, alive (~0.7 GB);
- packing linear weights into oneDNN's layout (:mod:`studio.accel.packing`):
  the packed copy replaces the weight, the original pages stay (~1 GB for 0.6B).

:func:`release_unused_pages` finds the parts of each mapping that no live tensor
of the model covers and drops their pages with ``madvise(MADV_DONTNEED)``. The
ranges are exactly the ones no tensor of the model points into, and should
anything read them again the kernel reads the file back in.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import sys
from collections.abc import Iterable

_PAGE = mmap.PAGESIZE
_MADV_DONTNEED = 4


def _file_mappings(folder: str, suffix: str = ".safetensors") -> list[tuple[int, int]]:
    """Address ranges of this process's mappings of files under ``folder`` ending with ``suffix``."""
    ranges = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                path = fields[5].strip() if len(fields) == 6 else ""
                if path.startswith(folder) and path.endswith(suffix):
                    start, end = (int(x, 16) for x in fields[0].split("-"))
                    ranges.append((start, end))
    except OSError:
        return []
    return ranges


def _live_ranges(modules: Iterable) -> list[tuple[int, int]]:
    """[start, end) of every parameter's and buffer's storage under ``modules``."""
    ranges = []
    for module in modules:
        for tensor in [*module.parameters(), *module.buffers()]:
            if tensor.device.type != "cpu":
                continue
            storage = tensor.untyped_storage()
            if storage.nbytes():
                ranges.append((storage.data_ptr(), storage.data_ptr() + storage.nbytes()))
    return sorted(ranges)


def unused_ranges(mapping: tuple[int, int], live: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Whole pages of ``mapping`` that no ``live`` range touches (``live`` sorted by start)."""
    start, end = mapping
    gaps = []
    cursor = start
    for lo, hi in live:
        if hi <= start or lo >= end:
            continue
        if lo > cursor:
            gaps.append((cursor, lo))
        cursor = max(cursor, hi)
    if cursor < end:
        gaps.append((cursor, end))
    pages = []
    for lo, hi in gaps:
        lo = -(-lo // _PAGE) * _PAGE  # round inwards: a page shared with a live tensor stays
        hi = hi // _PAGE * _PAGE
        if hi > lo:
            pages.append((lo, hi))
    return pages


def release_unused_pages(folder: str | os.PathLike, modules: Iterable) -> int:
    """Drop the resident pages of ``folder``'s safetensors mappings that no tensor of ``modules`` uses.

    Returns the bytes advised; 0 off Linux. ``modules`` must be every module
    holding tensors loaded from those files (the model and its speech tokenizer).
    """
    if not sys.platform.startswith("linux"):
        return 0
    mappings = _file_mappings(os.path.realpath(folder) + os.sep)
    if not mappings:
        return 0
    live = _live_ranges(modules)
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return 0
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    released = 0
    for mapping in mappings:
        if not any(lo < mapping[1] and hi > mapping[0] for lo, hi in live):
            continue  # another model's mapping of the same file (e.g. a second instance): not ours to trim
        for lo, hi in unused_ranges(mapping, live):
            if libc.madvise(ctypes.c_void_p(lo), hi - lo, _MADV_DONTNEED) == 0:
                released += hi - lo
    return released


def release_model_pages(tts) -> int:
    """:func:`release_unused_pages` for a loaded ``qwen_tts.Qwen3TTSModel`` (its folder, model and speech tokenizer)."""
    model = tts.model
    folder = getattr(model, "name_or_path", "")
    if not folder or not os.path.isdir(folder):
        return 0
    modules = [model]
    tokenizer = getattr(getattr(model, "speech_tokenizer", None), "model", None)
    if tokenizer is not None:
        modules.append(tokenizer)
    return release_unused_pages(folder, modules)
