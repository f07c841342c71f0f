"""Who speaks each line of a re-dubbed video: speaker embeddings of the lines, clustered into speakers.

The embeddings come from the Base model's own speaker encoder (the x-vector it
clones from), so no other model is needed. Clustering is agglomerative with
average linkage on cosine distance, merging until the closest two clusters are
further apart than a threshold; ties go to the earliest lines, so the same
embeddings always give the same speakers. Speakers are named ``S1``, ``S2``...
in order of first appearance; the creator renames or corrects them in the
table. Lines too short to embed take the speaker of the nearest embedded line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .progress import CancelToken, ProgressFn, Status, no_progress

#: cosine distance (1 - similarity) above which two clusters stay apart; x-vectors of one voice are
#: usually > 0.6 similar, of different voices < 0.4
THRESHOLD = 0.5
MIN_SECONDS = 0.5  #: shorter lines are not embedded
MAX_SECONDS = 20.0  #: at most this much of a line is embedded (bounded memory and time)
EMBED_RATE = 24_000  #: the speaker encoder's sample rate
Embedder = Callable[[np.ndarray], np.ndarray]  #: 24 kHz mono float32 samples -> embedding vector


def cluster(embeddings: Sequence[np.ndarray], threshold: float = THRESHOLD) -> list[int]:
    """Cluster labels (0, 1, ... in order of first appearance) of ``embeddings``."""
    n = len(embeddings)
    if n == 0:
        return []
    vectors = np.stack([np.asarray(e, dtype=np.float64).ravel() for e in embeddings])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    distance = 1.0 - vectors @ vectors.T
    np.fill_diagonal(distance, np.inf)
    sizes = np.ones(n)
    labels = list(range(n))  #: each embedding's cluster, named by the cluster's first row
    alive = np.ones(n, dtype=bool)
    while alive.sum() > 1:
        # argmin scans row-major, so ties go to the earliest pair: the result never depends on chance
        flat = int(np.argmin(distance))
        a, b = divmod(flat, n)
        if distance[a, b] > threshold:
            break
        a, b = min(a, b), max(a, b)
        # average linkage (Lance-Williams): the merged cluster's distance is the size-weighted mean
        merged = (sizes[a] * distance[a] + sizes[b] * distance[b]) / (sizes[a] + sizes[b])
        distance[a], distance[:, a] = merged, merged
        distance[a, a] = np.inf
        distance[b], distance[:, b] = np.inf, np.inf
        sizes[a] += sizes[b]
        alive[b] = False
        labels = [a if label == b else label for label in labels]
    order = {first: k for k, first in enumerate(sorted(set(labels)))}
    return [order[label] for label in labels]


def _read_span(path: Path, start: float, end: float) -> np.ndarray:
    """``path``'s samples between ``start`` and ``end`` seconds, mono, at :data:`EMBED_RATE`."""
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        f.seek(min(int(start * f.samplerate), f.frames))
        data = f.read(max(0, int((end - start) * f.samplerate)), dtype="float32", always_2d=True).mean(axis=1)
        rate = f.samplerate
    if rate != EMBED_RATE and len(data):
        import soxr

        data = soxr.resample(data, rate, EMBED_RATE).astype(np.float32)
    return data


def label_lines(
    spans: Sequence[tuple[float, float]],
    audio: Path,
    embed: Embedder,
    threshold: float = THRESHOLD,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> list[str]:
    """A speaker label (``S1``...) for each ``(start, end)`` span of ``audio``."""
    vectors: dict[int, np.ndarray] = {}
    for i, (start, end) in enumerate(spans):
        if cancel is not None:
            cancel.check()
        if end - start >= MIN_SECONDS:
            samples = _read_span(audio, start, min(end, start + MAX_SECONDS))
            if len(samples) >= MIN_SECONDS * EMBED_RATE:
                vectors[i] = np.asarray(embed(samples), dtype=np.float64).ravel()
        progress((i + 1) / len(spans), Status("speakers", line=i + 1, lines=len(spans)))
    if not vectors:
        return ["S1"] * len(spans)
    embedded = sorted(vectors)
    labels = dict(zip(embedded, cluster([vectors[i] for i in embedded], threshold), strict=True))
    middle = [(s + e) / 2 for s, e in spans]
    out = []
    for i in range(len(spans)):
        k = i if i in labels else min(embedded, key=lambda j: (abs(middle[j] - middle[i]), j))
        out.append(f"S{labels[k] + 1}")
    return out


def base_model_embedder(model: str | None = None, progress: ProgressFn = no_progress, manager=None) -> Embedder:
    """An :data:`Embedder` using the speaker encoder of the Base model ``model`` (default: the studio's).

    ``manager`` is the :class:`studio.models.ModelManager` to load it with (a new one by default).
    """
    if manager is None:
        from .models import ModelManager

        manager = ModelManager()
    loaded = manager.get(model or manager.default_model("base"), "base", progress)

    def embed(samples: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            vector = loaded.tts.model.extract_speaker_embedding(samples.astype(np.float32), EMBED_RATE)
        return vector.float().cpu().numpy()

    return embed
