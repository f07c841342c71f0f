"""Fine-tuning data and job: bad data gets a clear refusal; a folder of clips becomes a voice the studio speaks with."""

from __future__ import annotations

import json
from collections import namedtuple

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import utterance, write_wav
from finetune_fixtures import SENTENCES
from finetune_fixtures import make_clips as _clips

from studio.errors import InputError, ResourceError
from studio.finetune import data as finetune_data
from studio.finetune.data import load_dataset, slice_recording, text_units


def test_rate_units_count_cjk_characters_and_words():
    assert text_units("你好，世界。") == 4
    assert text_units("Hello there, 2 friends!") == 4


def test_a_folder_of_paired_clips_is_cleaned_to_24_khz_and_a_reference_is_chosen(tmp_path):
    dataset = load_dataset(_clips(tmp_path / "data"))
    assert len(dataset.clips) == 12 and not dataset.rejected
    assert all(c.audio.sr == 24_000 and 3.0 <= c.seconds <= 15.0 for c in dataset.clips)
    assert dataset.reference in dataset.clips
    assert 1.0 < dataset.units_per_second() < 8.0


def test_three_clips_are_refused_with_the_counts(tmp_path):
    with pytest.raises(InputError) as info:
        load_dataset(_clips(tmp_path / "data", count=3))
    assert "Only 3 usable clips" in info.value.message("en") and "3 个" in info.value.message("zh")


def test_silent_clips_are_left_out_and_then_refused(tmp_path):
    with pytest.raises(InputError) as info:
        load_dataset(_clips(tmp_path / "data", silent=True))
    assert "Only 0 usable clips" in info.value.message("en") and "no speech" in info.value.message("en")


def test_transcripts_paired_with_the_wrong_files_are_refused(tmp_path):
    long = "这是一段很长很长的文字，" * 12  # ~130 characters for 6 s: 20 a second
    texts = [SENTENCES[i] if i % 2 else long for i in range(12)]
    with pytest.raises(InputError) as info:
        load_dataset(_clips(tmp_path / "data", texts=texts))
    assert "paired with the right files" in info.value.message("en")


def test_a_clip_without_its_transcript_is_named(tmp_path):
    folder = _clips(tmp_path / "data")
    (folder / "clip03.txt").unlink()
    with pytest.raises(InputError) as info:
        load_dataset(folder)
    assert "clip03.wav" in info.value.message("en")


def test_a_two_hour_recording_is_refused_before_it_is_decoded(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    # Two hours at a 1 kHz 8-bit rate: 7 MB on disk, the length is what counts.
    sf.write(folder / "talk.wav", np.zeros(2 * 3600 * 1000, dtype=np.float32), 1000, subtype="PCM_U8")
    with pytest.raises(InputError) as info:
        load_dataset(folder, transcribe=lambda path: "不会被调用")
    assert "120 min" in info.value.message("en")


def test_a_long_recording_is_sliced_at_pauses_and_transcribed(tmp_path):
    layout = []
    for _ in range(12):
        layout += [("speech", 2.5), ("sil", 0.15), ("speech", 2.5), ("sil", 0.8)]
    samples, _ = utterance(layout, seed=3)
    folder = tmp_path / "data"
    folder.mkdir()
    write_wav(folder / "talk.wav", samples, 24_000)
    heard = []

    def transcribe(path):
        heard.append(path)
        return SENTENCES[len(heard) % len(SENTENCES)]

    pieces = slice_recording(finetune_data.Audio(samples, 24_000))
    assert len(pieces) >= 6 and all(3.0 <= e - s <= 15.5 for s, e in pieces)
    dataset = load_dataset(folder, transcribe=transcribe, min_clips=6)
    assert len(heard) == len(pieces) and len(dataset.clips) >= 6


def test_the_job_refuses_when_the_disk_is_too_small(tiny_base, tmp_path, monkeypatch):
    from studio.finetune import job
    from studio.finetune.job import FinetuneRequest, run_finetune

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(job.shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    request = FinetuneRequest(
        str(_clips(tmp_path / "data")), "Ada", str(tiny_base), str(tmp_path / "voice"), consent=True
    )
    with pytest.raises(ResourceError) as info:
        run_finetune(request)
    assert "GB of disk" in info.value.message("en") and "0.00 GB free" in info.value.message("en")


def test_the_memory_check_refuses_with_both_numbers(tiny_base, tmp_path):
    from studio.finetune.job import check_resources, estimate
    from studio.finetune.train import TrainOptions

    lora = estimate(tiny_base, TrainOptions(lora_rank=16), 15.0, False)
    full = estimate(tiny_base, TrainOptions(lora_rank=0), 15.0, False)
    assert 0 < lora.trainable < full.trainable < full.parameters and lora.memory < full.memory
    with pytest.raises(ResourceError) as info:
        check_resources(full, "cuda", tmp_path, free_memory=full.memory // 2)
    message = info.value.message("en")
    assert f"{full.memory / 1024**3:.1f} GB" in message and f"{full.memory / 2 / 1024**3:.1f} GB free" in message


def test_cli_trains_a_voice_that_the_custom_command_speaks_with(tiny_base, tmp_path, studio_home):
    from studio.cli import main

    out = tmp_path / "voice"
    argv = ["finetune", str(_clips(tmp_path / "data")), "--name", "Ada", "--base", str(tiny_base), "--out", str(out)]
    assert main(argv) == 2  # no --consent: refused before anything is read
    argv.append("--consent")
    options = ["--epochs", "1", "--lora", "2", "--batch-size", "12", "--grad-accum", "1", "--eval-sentences", "1"]
    assert main([*argv, *options]) == 0
    report = json.loads((out / "training" / "report.json").read_text())
    assert report["speaker"] == "ada" and report["data"]["clips"] == 12 and len(report["epochs"]) == 1
    evaluation = report["epochs"][0]["evaluation"]
    assert evaluation["units_per_second"] > 0 and -1 <= evaluation["similarity"] <= 1
    assert report["exported_epoch"] == 1 and len(report["held_out"]) == 1
    wav = tmp_path / "ada.wav"
    code = main(["custom", "--model", str(out), "--speaker", "Ada", "--text", "好。", "--out", str(wav), "--seed", "1"])
    assert code == 0 and sf.info(str(wav)).frames > 0
    assert main(["custom", "--model", str(out), "--speaker", "Vivian", "--text", "好。", "--out", str(wav)]) == 2
