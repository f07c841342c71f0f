"""The optional local speech recogniser: found only on disk, never downloaded; clear reasons when absent."""

import importlib.util

import pytest

from studio import asr
from studio.errors import NotFoundError


def fake_model(folder):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "model.bin").write_bytes(b"\0" * 10)
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")  # without it faster-whisper would fetch one
    return folder


def test_cached_and_named_models_are_found(tmp_path, monkeypatch):
    monkeypatch.delenv("STUDIO_ASR_MODEL", raising=False)
    cache = tmp_path / "hub"
    assert asr.find_local_model(cache) is None
    small = fake_model(cache / "models--Systran--faster-whisper-small" / "snapshots" / "abc")
    (cache / "models--Systran--faster-whisper-tiny" / "snapshots" / "def").mkdir(parents=True)  # incomplete
    assert asr.find_local_model(cache) == small
    named = fake_model(tmp_path / "my-whisper")
    monkeypatch.setenv("STUDIO_ASR_MODEL", str(named))
    assert asr.find_local_model(cache) == named
    monkeypatch.setenv("STUDIO_ASR_MODEL", str(tmp_path / "nothing-here"))
    assert asr.find_local_model(cache) is None


def test_without_the_package_it_says_so_and_transcribe_refuses(tmp_path, monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    state = asr.status(tmp_path)
    assert not state.available and "faster-whisper" in state.message("en") and "输入" in state.message("zh")
    with pytest.raises(NotFoundError, match="faster-whisper"):
        asr.transcribe(tmp_path / "clip.wav")


def test_with_the_package_but_no_model_nothing_is_downloaded(tmp_path, monkeypatch):
    monkeypatch.delenv("STUDIO_ASR_MODEL", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    state = asr.status(tmp_path / "empty-cache")
    assert not state.available and "STUDIO_ASR_MODEL" in state.message("en")
    fake_model(tmp_path / "cache" / "models--Systran--faster-whisper-base" / "snapshots" / "1")
    ready = asr.status(tmp_path / "cache")
    assert ready.available and ready.model.name == "1"
