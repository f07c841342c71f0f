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
        if positions is None:
            positions = [i for i, c in enumerate(text) if c in self._classes]
        positions = [i for i in positions if 0 <= i < len(text) and text[i] in self._classes]
        if not positions:
            return {}
        ids = [self._char2idx[_BOS], *(self._char2idx.get(c, self._unk) for c in text), self._char2idx[_EOS]]
        x = self._emb[np.array(ids)]
        fw = _lstm(x, *self._fw)
        bw = _lstm(x[::-1], *self._bw)[::-1]
        rows = np.array(positions) + 1
        hidden = np.concatenate([fw[rows], bw[rows]], axis=1)
        w0, b0, w1 = self._fc
        h = np.maximum(hidden @ w0 + b0, 0.0)
        out: dict[int, Prediction] = {}
        for k, pos in enumerate(positions):
            names, idx = self._classes[text[pos]]
            logits = h[k] @ w1[:, idx] + self._fc_bias[idx]
            p = np.exp(logits - logits.max())
            p /= p.sum()
            order = np.argsort(-p, kind="stable")
            out[pos] = Prediction(tuple(names[j] for j in order), tuple(float(p[j]) for j in order))
        return out


def _lstm(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Run one LSTM direction over ``x`` [T, D]; PyTorch's gate order (input, forget, cell, output)."""
    gates_x = x @ w_ih + bias
    n = w_hh.shape[0]
    h = np.zeros(n, dtype=np.float32)
    c = np.zeros(n, dtype=np.float32)
    out = np.empty((len(x), n), dtype=np.float32)
    for t in range(len(x)):
        g = gates_x[t] + h @ w_hh
        input_forget = 1.0 / (1.0 + np.exp(-g[: 2 * n]))
        i, f = input_forget[:n], input_forget[n:]
        o = 1.0 / (1.0 + np.exp(-g[3 * n :]))
        c = f * c + i * np.tanh(g[2 * n : 3 * n])
        h = o * np.tanh(c)
        out[t] = h
    return out


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
                        return pickle.load(fh)  # the package's own files, installed with it

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
