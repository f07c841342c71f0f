"""The one speech request and the one dubbing service the adapters share, without a model."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from studio.audio import MODEL_SR, Audio
from studio.dubbing import service
from studio.dubbing.project import Line, Project
from studio.engine import Engine
from studio.errors import InputError
from studio.models import ModelManager
from studio.speech import SpeechRequest
from studio.speech_stream import SegmentedSpeech, stretch


class _NoModel(ModelManager):
    """A manager that fails the test if anything asks it for a model."""

    def get(self, *args, **kwargs):
        raise AssertionError("a model was requested")


def test_an_unknown_kind_is_refused_before_any_model_is_loaded(studio_home):
    engine = Engine(_NoModel())
    with pytest.raises(InputError, match="Unknown speech kind"):
        list(engine.speak(SpeechRequest("sing", ["你好。"])))


def test_a_clone_without_reference_or_voice_is_refused_before_any_model_is_loaded(studio_home):
    engine = Engine(_NoModel())
    with pytest.raises(InputError, match="reference clip"):
        list(engine.speak(SpeechRequest("clone", ["你好。"])))


def test_custom_checks_its_text_first_then_its_settings(studio_home):
    engine = Engine(_NoModel())
    with pytest.raises(InputError, match="text is empty"):
        list(engine.speak(SpeechRequest("custom", [" "], speaker="Vivian", seed=1.5)))
    with pytest.raises(InputError, match="seed"):
        list(engine.speak(SpeechRequest("custom", ["你好。"], speaker="Vivian", seed=1.5)))


def test_each_kind_has_its_default_intensity():
    assert SpeechRequest("clone").strength() == 1.0
    assert SpeechRequest("custom").strength() == 0.5
    assert SpeechRequest("design", intensity=0.2).strength() == 0.2


def test_a_segment_request_takes_the_server_model_and_the_reference():
    ref = SimpleNamespace(audio=Audio(np.zeros(MODEL_SR, np.float32), MODEL_SR), transcript="")
    speech = SegmentedSpeech("clone", ["一。", "二。"], reference=ref, intensity=0.3)
    request = speech.request("二。", 7, {"base": "server-model"})
    assert (request.texts, request.seed, request.model) == (["二。"], 7, "server-model")
    assert request.reference is ref.audio and request.x_vector_only  # no transcript: x-vector only
    assert request.intensity is None  # a blend needs a saved voice


def test_a_saved_voice_segment_gets_the_library_only_when_asked():
    calls = []
    speech = SegmentedSpeech("clone", ["一。"], voice="主播", clip="happy", model="mine")
    request = speech.request("一。", None, {"base": "server-model"}, lambda: calls.append(1) or "library")
    assert (request.voice, request.clip, request.library, request.model) == ("主播", "happy", "library", "mine")
    custom = SegmentedSpeech("custom", ["一。"], speaker="Vivian").request("一。", None, {}, lambda: calls.append(1))
    assert custom.library is None and len(calls) == 1


def test_a_speed_change_shortens_the_audio_by_its_factor():
    rng = np.random.default_rng(0)
    samples = (0.1 * rng.standard_normal(2 * MODEL_SR)).astype(np.float32)
    assert stretch(samples, 1.0) is samples
    faster = stretch(samples, 2.0)
    assert abs(len(faster) - MODEL_SR) <= MODEL_SR * 0.05


def _project(tmp_path, count: int) -> Project:
    project = Project(lines=[Line(id=f"l{i + 1}", text=f"第{i + 1}句。") for i in range(count)])
    project.folder = tmp_path / "p"
    return project


def test_line_selections_become_line_ids(tmp_path):
    project = _project(tmp_path, 4)
    assert service.select_lines(project, "1, 3-4") == ["l1", "l3", "l4"]
    assert service.select_lines(project, [2]) == ["l2"]
    assert service.select_lines(project, None) is None
    assert service.select_lines(project, "  ") is None
    with pytest.raises(InputError, match="4 lines"):
        service.select_lines(project, "5")


def _report(*messages: str):
    failed = [SimpleNamespace(message=lambda lang, m=m: m) for m in messages]
    return SimpleNamespace(failed=failed, results=[SimpleNamespace(status="failed") for _ in failed])


def test_building_before_anything_was_generated_says_why(tmp_path):
    project = _project(tmp_path, 2)
    with pytest.raises(InputError, match="None of the project's 2 lines has audio"):
        service.build(project)
    with pytest.raises(InputError, match="No audio was generated: voice missing"):
        service.build(project, _report("voice missing"))
    assert not (tmp_path / "p" / "outputs").exists()


def test_a_run_that_failed_every_line_has_nothing_usable():
    report = _report("a", "b")
    assert service.nothing_usable(report)
    assert "2 line(s) not generated" in service.failed_lines(report).message("en")
    report.results.append(SimpleNamespace(status="reused"))
    assert not service.nothing_usable(report)
