"""Speakers per line of a re-dubbed video: clustering (no model), and the Base model's encoder (tiny, random).

The tiny model's embeddings are noise; with it the tests check plumbing (a label per line, vector shapes).
"""

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import speech

import studio.cli
from studio import speakers
from studio.dubbing.project import Project


def _voices(seed=0, n=3, dim=32):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=dim) for _ in range(n)], rng


def test_lines_of_one_voice_cluster_together_and_labels_follow_first_appearance():
    (a, b, c), rng = _voices()
    order = [b, a, b, c, a, a, c]
    embeddings = [v + 0.15 * rng.normal(size=v.size) for v in order]
    assert speakers.cluster(embeddings) == [0, 1, 0, 2, 1, 1, 2]
    assert speakers.cluster(embeddings, threshold=2.0) == [0] * 7  # everything is close enough
    assert speakers.cluster(embeddings, threshold=-1.0) == list(range(7))  # nothing is
    assert speakers.cluster([]) == [] and speakers.cluster([a]) == [0]


def test_clustering_does_not_depend_on_the_order_of_the_lines():
    (a, b, _), rng = _voices(seed=3)
    embeddings = [v + 0.2 * rng.normal(size=v.size) for v in [a, b] * 6]
    labels = speakers.cluster(embeddings)
    perm = rng.permutation(len(embeddings))
    shuffled = speakers.cluster([embeddings[i] for i in perm])
    groups = {frozenset(int(i) for i in np.flatnonzero(np.array(labels) == k)) for k in set(labels)}
    shuffled_groups = {frozenset(int(perm[i]) for i in np.flatnonzero(np.array(shuffled) == k)) for k in set(shuffled)}
    assert groups == shuffled_groups and len(groups) == 2


def test_label_lines_embeds_each_span_and_short_lines_take_the_nearest_speaker(tmp_path):
    sr = 16_000
    low, high = speech(2.0, sr=sr, seed=1, f0=100.0), speech(2.0, sr=sr, seed=2, f0=240.0)
    audio = np.concatenate([low, high, low])
    sf.write(tmp_path / "voice.wav", audio, sr)
    seen = []

    def embed(samples):  # a stand-in encoder: the clip's pitch-period autocorrelation peak
        seen.append(len(samples))
        frame = samples[: speakers.EMBED_RATE // 2]
        corr = np.correlate(frame, frame, "full")[len(frame) :]
        lag = int(np.argmax(corr[60:400])) + 60
        return np.array([np.cos(lag / 40), np.sin(lag / 40)])

    spans = [(0.0, 2.0), (2.0, 4.0), (4.0, 5.9), (5.9, 6.0)]
    labels = speakers.label_lines(spans, tmp_path / "voice.wav", embed)
    assert labels == ["S1", "S2", "S1", "S1"]
    assert len(seen) == 3 and seen[0] == 2 * speakers.EMBED_RATE  # the 0.1 s line is not embedded
    assert speakers.label_lines([(0.0, 0.2)], tmp_path / "voice.wav", embed) == ["S1"]


@pytest.mark.slow
def test_redub_speakers_labels_every_line_with_the_base_models_encoder(
    tmp_path, video, tiny_asr, tiny_base, studio_home, monkeypatch
):
    embed = speakers.base_model_embedder(str(tiny_base))
    vector = embed(np.zeros(speakers.EMBED_RATE, dtype=np.float32) + 0.01)
    assert vector.ndim == 1 and vector.size > 8 and np.isfinite(vector).all()
    monkeypatch.setenv("STUDIO_LANG", "en")
    out = tmp_path / "out"
    code = studio.cli.main(
        ["redub", str(video), "--out", str(out), "--asr-model", str(tiny_asr), "--language", "zh", "--no-vad",
         "--speakers", "--model", str(tiny_base)]
    )  # fmt: skip
    assert code == 0
    lines = Project.load(out / "project").lines
    assert lines and all(line.speaker.startswith("S") and line.speaker[1:].isdigit() for line in lines)
