"""Self-check on this CPU: does a faster matmul give bit for bit what the plain one gives?

Whether two kernels round alike depends on the processor: oneDNN picks its
kernels by instruction set and problem size. On an AMD EPYC (AVX512-BF16)
packed bf16 weights give exactly the plain result for every size; on an Intel
Xeon with AMX they agree for one or a few rows but not for a prompt-sized
prefill, where oneDNN switches the plain matmul to AMX tiles and the packed one
keeps its layout. So nothing is assumed: before a faster path is used for a
weight shape, :func:`check` runs it and the plain path on probe inputs of the
row counts a generation step uses (:data:`SMALL_PROBES`, up to :data:`SMALL_ROWS`:
one token per batch item, the code predictor's two-token prefill) and at
prompt-sized counts (:data:`LARGE_PROBES`), and the faster path serves only the
sizes where every probe was identical: nothing if a small probe differs, calls
of up to SMALL_ROWS rows if only a large one does. oneDNN switches kernels at
row-count thresholds, so the probes bracket each range at its ends. Each probe
size compiles its kernels once (they are reused when generation meets that size),
so the probes are few. Verdicts are cached per shape, dtype and thread count for
the process.

A probe can only show a difference, never prove there is none for every input;
differing kernels differ in a fraction of outputs on any random input, and the
probes cover tens of thousands of outputs per shape of the real model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

#: Calls of up to this many rows are decode steps (one token per batch item) or the code predictor's prefill.
SMALL_ROWS = 16
#: Row counts probed for those; if any differs, the faster path is not used at all.
SMALL_PROBES = (1, 2, 3, 4, 6, 8, 12, SMALL_ROWS)
#: Prompt-sized row counts probed; if any differs, calls above SMALL_ROWS rows take the plain path.
LARGE_PROBES = (SMALL_ROWS + 1, 32, 97, 300)
_VERDICTS: dict[tuple, Verdict] = {}


@dataclass(frozen=True)
class Verdict:
    """Which call sizes a faster path may serve on this CPU, and why not the others."""

    small: bool  #: calls of up to SMALL_ROWS rows are bit-identical
    large: bool  #: larger calls are too (as far as the probes show)
    reason: str = ""  #: what differed (empty when nothing did)

    @property
    def max_rows(self) -> int | None:
        """Largest call (in rows) the faster path may serve: None for any, 0 for none."""
        if not self.small:
            return 0
        return None if self.large else SMALL_ROWS


def _outputs_differing(reference: Callable, candidate: Callable, hidden: torch.Tensor) -> int:
    with torch.inference_mode():
        return int((reference(hidden) != candidate(hidden)).sum())


def check(
    key: tuple,
    reference: Callable,
    candidate: Callable,
    in_features: int,
    dtype: torch.dtype,
    label: str,
    large: bool = True,
) -> Verdict:
    """Compare ``candidate(x)`` with ``reference(x)`` bit for bit on probe inputs; cached under ``key``.

    ``label`` names the computation in the verdict's reason. ``large=False``
    probes only the small sizes (the verdict then never allows larger calls).
    A candidate that raises is refused. Uses its own random generator: the
    caller's seeded generation sees the same random stream as without the check.
    """
    full_key = (*key, dtype, large, torch.get_num_threads())
    known = _VERDICTS.get(full_key)
    if known is not None:
        return known
    generator = torch.Generator().manual_seed(1234)

    def probe(rows: int) -> tuple[int, int]:
        hidden = torch.randn((1, rows, in_features), generator=generator).to(dtype)
        return _outputs_differing(reference, candidate, hidden), rows

    reason = ""
    try:
        small_diff = [probe(rows) for rows in SMALL_PROBES]
        bad = [rows for diff, rows in small_diff if diff]
        small = not bad
        if bad:
            reason = f"{label}: differs from the plain result for {bad[0]} input rows on this CPU"
        large_diff = [probe(rows) for rows in LARGE_PROBES] if small and large else []
        bad = [rows for diff, rows in large_diff if diff]
        large = large and small and not bad
        if small and bad:
            reason = (
                f"{label}: differs from the plain result for {bad[0]} input rows on this CPU (plain above {SMALL_ROWS})"
            )
    except RuntimeError as exc:  # e.g. a kernel this CPU lacks
        small = large = False
        reason = f"{label}: unavailable on this CPU ({type(exc).__name__})"
    verdict = Verdict(small, large, reason)
    _VERDICTS[full_key] = verdict
    return verdict


def forget() -> None:
    """Drop the cached verdicts (tests that simulate another CPU)."""
    _VERDICTS.clear()
