"""The polyphone context model: g2pM's BiLSTM, run by our own numpy code, scored over each character's readings.

The weights, vocabulary and reading lists come from the ``g2pM`` package
(Park & Lee, "A Neural Grapheme-to-Phoneme Conversion Package for Mandarin
Chinese Based on a New Open Benchmark Dataset", Interspeech 2020; Apache-2.0;
github.com/kakaobrain/g2pM): a one-layer bidirectional LSTM over characters
and a two-layer classifier over 876 readings, 1.6 MB in its wheel. Its own
``G2pM`` class picks the best reading among all 876; this module keeps only
the readings the character has and gives their probabilities, so the
readings panel can order candidates and flag unsure ones.

Nothing is loaded at import: :func:`get_model` loads once, on first use, from
the installed package (no network) and records the load time.
"""

from __future__ import annotations

import pickle
import threading
import time
from dataclasses import dataclass
from importlib import resources

import numpy as np

_BOS, _EOS, _UNK = "시", "끝", "<UNK>"  # g2pM's own begin/end/unknown tokens
#: The longest run the model reads at once; longer runs are cut (a sentence rarely comes near).
MAX_RUN = 512


@dataclass(frozen=True)
class Prediction:
    """The model's readings (tone3, most probable first) and their probabilities for one character."""

    readings: tuple[str, ...]
    probs: tuple[float, ...]


class PolyphoneModel:
    """g2pM's weights in numpy; :meth:`predict` scores the polyphones of one run of text."""

    def __init__(self, state: dict, char2idx: dict, class2idx: dict, cedict: dict) -> None:
        f32 = {k: np.asarray(v, dtype=np.float32) for k, v in state.items()}
        self._emb = f32["embedding.weight"]
        self._fw = (
            f32["lstm.weight_ih_l0"].T,
            f32["lstm.weight_hh_l0"].T,
            f32["lstm.bias_ih_l0"] + f32["lstm.bias_hh_l0"],
        )
        self._bw = (
            f32["lstm.weight_ih_l0_reverse"].T,
            f32["lstm.weight_hh_l0_reverse"].T,
            f32["lstm.bias_ih_l0_reverse"] + f32["lstm.bias_hh_l0_reverse"],
        )
        self._fc = (f32["logit_layer.0.weight"].T, f32["logit_layer.0.bias"], f32["logit_layer.2.weight"].T)
        self._fc_bias = f32["logit_layer.2.bias"]
        self._char2idx = char2idx
        self._unk = char2idx[_UNK]
        self._class2idx = class2idx
        # The model's candidate classes per polyphonic character (its CEDICT digest), in tone3 with v for ü.
        self._classes: dict[str, tuple[list[str], np.ndarray]] = {}
        for char, prons in cedict.items():
            known = [p for p in prons if p in class2idx]
            if len(known) > 1:
                names = [p.replace("u:", "v") for p in known]
                self._classes[char] = (names, np.array([class2idx[p] for p in known]))
        self.load_seconds = 0.0

    def covers(self, char: str) -> bool:
        """True when the model knows ``char`` as a polyphone."""
        return char in self._classes

    def readings_of(self, char: str) -> list[str]:
        """The readings the model chooses among for ``char`` (tone3), empty when it is not one of its polyphones."""
        return list(self._classes[char][0]) if char in self._classes else []

    def predict(self, text: str, positions: list[int] | None = None) -> dict[int, Prediction]:
        """Readings with probabilities for the polyphones of ``text`` (all, or those at ``positions``).

        ``text`` should be one sentence or clause (the model was trained on
        sentences); characters it does not know are read as unknown tokens.
        """
        return self.predict_many([(text, positions)])[0]

    def predict_many(self, runs: list[tuple[str, list[int] | None]], batch: int = 64) -> list[dict[int, Prediction]]:
        """:meth:`predict` for many ``(text, positions)`` runs at once (batched by length: far faster)."""
        wanted = []
        for text, positions in runs:
            if positions is None:
                positions = [i for i, c in enumerate(text) if c in self._classes]
            wanted.append([i for i in positions if 0 <= i < len(text) and text[i] in self._classes])
        out: list[dict[int, Prediction]] = [{} for _ in runs]
        todo = sorted((k for k in range(len(runs)) if wanted[k]), key=lambda k: len(runs[k][0]))
        for lo in range(0, len(todo), batch):
            group = todo[lo : lo + batch]
            hidden = self._hidden([runs[k][0] for k in group], [wanted[k] for k in group])
            w0, b0, w1 = self._fc
            h = np.maximum(np.concatenate(hidden) @ w0 + b0, 0.0)
            row = 0
            for k in group:
                text = runs[k][0]
                for pos in wanted[k]:
                    names, idx = self._classes[text[pos]]
                    logits = h[row] @ w1[:, idx] + self._fc_bias[idx]
                    row += 1
                    p = np.exp(logits - logits.max())
                    p /= p.sum()
                    order = np.argsort(-p, kind="stable")
                    out[k][pos] = Prediction(tuple(names[j] for j in order), tuple(float(p[j]) for j in order))
        return out

    def _hidden(self, texts: list[str], positions: list[list[int]]) -> list[np.ndarray]:
        """BiLSTM states at ``positions`` of each text, one [len(positions), 2n] array per text."""
        seqs = [
            [self._char2idx[_BOS], *(self._char2idx.get(c, self._unk) for c in t), self._char2idx[_EOS]] for t in texts
        ]
        longest = max(len(q) for q in seqs)
        fw_ids = np.zeros((len(seqs), longest), dtype=np.int64)
        bw_ids = np.zeros((len(seqs), longest), dtype=np.int64)
        for b, q in enumerate(seqs):
            fw_ids[b, : len(q)] = q
            bw_ids[b, : len(q)] = q[::-1]
        # Padding sits after each sequence in both directions, so it never reaches a state that is read.
        fw = _lstm(self._emb[fw_ids], *self._fw)
        bw = _lstm(self._emb[bw_ids], *self._bw)
        out = []
        for b, q in enumerate(seqs):
            rows = np.array(positions[b]) + 1
            out.append(np.concatenate([fw[b, rows], bw[b, len(q) - 1 - rows]], axis=1))
        return out


def _lstm(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Run one LSTM direction over ``x`` [B, T, D]; PyTorch's gate order (input, forget, cell, output)."""
    gates_x = x @ w_ih + bias
    n = w_hh.shape[0]
    h = np.zeros((x.shape[0], n), dtype=np.float32)
    c = np.zeros((x.shape[0], n), dtype=np.float32)
    out = np.empty((x.shape[0], x.shape[1], n), dtype=np.float32)
    for t in range(x.shape[1]):
        g = gates_x[:, t] + h @ w_hh
        input_forget = 1.0 / (1.0 + np.exp(-g[:, : 2 * n]))
        i, f = input_forget[:, :n], input_forget[:, n:]
        o = 1.0 / (1.0 + np.exp(-g[:, 3 * n :]))
        c = f * c + i * np.tanh(g[:, 2 * n : 3 * n])
        h = o * np.tanh(c)
        out[:, t] = h
    return out


class _ArraysOnly(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays only: g2pM ships its weights and tables as pickles."""

    _ALLOWED = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"),
            ("collections", "OrderedDict"),
            ("collections", "defaultdict"),
        }
    )

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"g2pM data may hold only arrays and containers, not {module}.{name}")
        return super().find_class(module, name)


_lock = threading.Lock()
_model: PolyphoneModel | None = None


def get_model() -> PolyphoneModel:
    """The shared model, loaded from the installed ``g2pM`` package on first use (thread-safe, no network)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                start = time.perf_counter()
                files = resources.files("g2pM")

                def load(name: str):
                    with files.joinpath(name).open("rb") as fh:
                        return _ArraysOnly(fh).load()  # the package's own files, arrays and tables only

                model = PolyphoneModel(
                    load("np_ckpt.pkl"), load("char2idx.pkl"), load("class2idx.pkl"), load("digest_cedict.pkl")
                )
                model.load_seconds = time.perf_counter() - start
                _model = model
    return _model


def loaded() -> bool:
    """True once the model has been loaded in this process."""
    return _model is not None


def model_load_seconds() -> float | None:
    """Seconds the model took to load in this process, or ``None`` while it is not loaded."""
    return _model.load_seconds if _model is not None else None
