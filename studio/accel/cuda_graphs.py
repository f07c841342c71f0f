"""CUDA only: the code predictor's 15-step loop, and the talker's decode step, captured as CUDA graphs.

On a GPU the lean loop (:mod:`.code_predictor`) costs its kernel launches, not
its arithmetic: 15 small passes a frame. Every step of that loop has a fixed
shape (step ``i`` attends over ``i + 2`` positions of pre-allocated buffers,
sampling is ``torch.multinomial`` on the device, no value ever comes back to
the host), so the whole loop is captured as one graph per batch size and
sampling setting and replayed with one launch. The talker's step
(:mod:`.static_talker`) is captured once per generation call, after the prompt.

Imported only when the model is on a CUDA device; never on CPU or MPS.
NOT RUN on the machine this was written on (no GPU there): its correctness on
CUDA is unverified until the GPU benchmark runs it. Greedy decoding replays
the same kernels as the eager loop; with sampling, a seed still gives the same
codes run after run, but not the same draws as the eager loop (CUDA graphs
advance the random generator their own way). ``STUDIO_CUDA_GRAPHS=0`` turns it
off; a capture that fails turns it off for that model and runs eagerly.
"""

from __future__ import annotations

import logging

import torch

from .. import config

log = logging.getLogger(__name__)
_MAX_GRAPHS = 16  #: per code predictor: batch sizes x sampling settings kept


def enabled() -> bool:
    """Whether graphs may be used (``STUDIO_CUDA_GRAPHS``, default on)."""
    return config.switch("STUDIO_CUDA_GRAPHS", True)


class _Captured:
    """One captured loop: its input buffer, its output, the graph."""

    def __init__(self, lean, embeds: torch.Tensor, args: tuple) -> None:
        self.embeds = embeds.clone()
        side = torch.cuda.Stream(device=embeds.device)
        side.wait_stream(torch.cuda.current_stream(embeds.device))
        with torch.cuda.stream(side):
            for _ in range(2):  # warm-up: allocations, kernel selection, lazily built tables
                lean.run(self.embeds, *args)
        torch.cuda.current_stream(embeds.device).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.out = lean.run(self.embeds, *args)
        self.buffers = (lean._kv, lean._rope)  # the graph reads these addresses: keep them alive with it

    def __call__(self, embeds: torch.Tensor) -> torch.Tensor:
        self.embeds.copy_(embeds)
        self.graph.replay()
        return self.out.clone()


def graphed_run(lean, embeds: torch.Tensor, steps: int, do_sample: bool, top_k: int, top_p: float, temperature: float):
    """``lean.run(embeds, ...)`` through a CUDA graph captured for this shape and setting (None: run eagerly)."""
    graphs = lean.__dict__.setdefault("_cuda_graphs", {})
    if graphs.get("failed"):
        return None
    args = (steps, do_sample, top_k, top_p, temperature)
    key = (tuple(embeds.shape), embeds.dtype, embeds.device, *args)
    captured = graphs.get(key)
    if captured is None:
        if len(graphs) >= _MAX_GRAPHS:
            graphs.clear()
        try:
            captured = graphs[key] = _Captured(lean, embeds, args)
        except Exception:  # a kernel that cannot be captured: stay eager for this model
            log.warning("CUDA graph capture of the code predictor failed; running it eagerly", exc_info=True)
            graphs.clear()
            graphs["failed"] = True
            return None
    return captured(embeds)


def capture_talker_step(step) -> None:
    """Capture ``step.run()`` (a :class:`.static_talker.StaticTalkerStep`, inputs loaded) as a CUDA graph.

    Warm-up runs and the capture repeat the loaded step: they write the same keys
    and values at the same position, so running it again changes nothing. A
    capture that fails leaves the step eager for the rest of its generation.
    """
    device = step.embeds.device
    try:
        side = torch.cuda.Stream(device=device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(2):
                step.run()
        torch.cuda.current_stream(device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            step.output = step.run()
        step.graph = graph
    except Exception:
        log.warning("CUDA graph capture of the talker step failed; running it eagerly", exc_info=True)
        step.graph, step.output, step.capture_failed = None, None, True
