"""A trained voice is a library voice: consent and report kept, and it speaks with its own checkpoint
through the engine, the HTTP dialects and dubbing; per-epoch evaluation with CER and an A/B pair.

One tiny training run (module fixture) serves every test here.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import httpx
import pytest
import soundfile as sf
from finetune_fixtures import make_clips

from studio.engine import Engine
from studio.errors import ConflictError, InputError
from studio.finetune import evaluate as finetune_evaluate
from studio.finetune import job as finetune_job
from studio.finetune.evaluate import _chars, edit_distance
from studio.finetune.job import FinetuneRequest, run_finetune
from studio.finetune.library import REPORT_FILE, TRAINED_FILE, trained_voice
from studio.finetune.train import TrainOptions
from studio.models import ModelManager
from studio.random_checkpoint import MARKER_FILE
from studio.settings import Settings
from tests.helpers import free_port

HEARD = "今天天气"  # what the stand-in recogniser hears, whatever is said


def _request(data, out, **changes):
    options = TrainOptions(epochs=2, lora_rank=2, batch_size=12, grad_accum=1, warmup_steps=1)
    fields = {"options": options, "eval_sentences": 1, "consent": True, "consent_by": "Ada L."}
    name, base = changes.pop("name", "Ada"), changes.pop("base")
    return FinetuneRequest(str(data), name, base, str(out), **{**fields, **changes})


@pytest.fixture(scope="module")
def trained(tiny_base, tmp_path_factory, one_thread):
    from studio.voices import VoiceLibrary

    root = tmp_path_factory.mktemp("trained")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STUDIO_HOME", str(root / "home"))
        mp.setattr(finetune_job, "_recogniser", lambda: lambda samples, sr: HEARD)
        mp.setattr(finetune_evaluate, "_limit", lambda text, rate: 8)  # random weights never stop: keep it short
        library = VoiceLibrary(root / "home" / "voices")  # the studio's own library (STUDIO_HOME above)
        data = make_clips(root / "data")
        result = run_finetune(_request(data, root / "voice", base=str(tiny_base)), library=library)
        engine = Engine(ModelManager(Settings(dtype="float32")), voices=library)
        yield SimpleNamespace(root=root, data=data, library=library, result=result, engine=engine)


def test_the_trained_voice_joins_the_library_with_its_consent_and_report(trained):
    voice = trained.library.get("Ada")
    assert voice.consent.confirmed and voice.consent.by == "Ada L." and "trained" in voice.tags
    assert voice.transcript  # the reference clip's words: the voice also clones zero-shot
    record = trained_voice(voice)
    assert record.speaker == "ada" and record.model == str(trained.result.out)
    assert record.report["exported_epoch"] in (1, 2) and len(record.report["epochs"]) == 2
    assert (voice.path / REPORT_FILE).is_file() and (voice.path / TRAINED_FILE).is_file()
    config = json.loads((trained.result.out / "config.json").read_text())
    assert list(config["talker_config"]["spk_id"]) == ["ada"]
    assert not (trained.result.out / MARKER_FILE).exists()


def test_the_custom_tab_lists_the_trained_checkpoint_and_its_speaker(trained):
    from studio.ui.generate_shared import model_choices
    from studio.ui.generate_tabs import _speaker_choices

    assert str(trained.result.out) in [value for _, value in model_choices("custom_voice")]
    assert "ada" in [value for _, value in _speaker_choices("en")]
    assert str(trained.result.out) not in [value for _, value in model_choices("base")]


def test_each_epoch_reports_cer_and_an_a_b_pair(trained):
    training = trained.result.out / "training"
    epochs = json.loads((training / "epochs.json").read_text())
    sentence = trained.result.report["held_out"][0]
    expected = edit_distance(_chars(sentence), _chars(HEARD)) / len(_chars(sentence))
    assert [e["epoch"] for e in epochs] == [1, 2]
    for entry in epochs:
        assert entry["evaluation"]["cer"] == pytest.approx(expected)
        assert entry["ab"]["text"] == sentence
        for side in ("trained", "zero_shot"):
            info = sf.info(str(training / entry["ab"][side]))
            assert info.samplerate == 24_000 and info.frames > 0


def test_cloning_a_trained_voice_speaks_with_its_own_checkpoint(trained, tiny_base):
    result = trained.engine.clone("你好。", voice="ada", model=str(tiny_base), seed=1)
    assert result.samples.size > 0
    assert trained.engine.manager.loaded.key == str(trained.result.out)


def test_dubbing_reads_a_trained_voice_with_its_checkpoint(trained):
    from studio.dubbing.project import Line, Project, VoiceChoice
    from studio.dubbing.runner import _generate
    from studio.progress import no_progress

    trained.engine.manager.unload()
    project = Project(lines=[Line(speaker="A", text="你好。")])
    result = _generate(trained.engine, project, 0, VoiceChoice("saved", "Ada"), trained.library, no_progress, None)
    assert result.samples.size > 0 and trained.engine.manager.loaded.key == str(trained.result.out)


def test_the_http_dialects_speak_a_trained_voice_by_name(trained, tiny_base):
    from studio.api import serve_in_thread

    engine = trained.engine
    server = serve_in_thread(
        engine, port=free_port(), models={"base": str(tiny_base)}, voices_root=trained.library.root
    )
    try:
        for path, body in (
            ("/v1/audio/speech", {"input": "你好。", "voice": "Ada", "response_format": "wav"}),
            ("/tts", {"text": "你好。", "text_lang": "zh", "ref_audio_path": "Ada", "prompt_lang": "zh"}),
        ):
            engine.manager.unload()
            r = httpx.post(server.url + path, json=body, timeout=120)
            assert r.status_code == 200, r.text
            assert engine.manager.loaded.key == str(trained.result.out), path
    finally:
        server.stop()


def test_training_needs_consent_and_a_free_name(trained, tiny_base):
    with pytest.raises(InputError) as info:
        run_finetune(_request(trained.data, trained.root / "other", base=str(tiny_base), consent=False))
    assert "consent" in info.value.message("en").lower()
    trained.library.create("Bo", trained.data / "clip00.wav", transcript="x", consent=True)
    with pytest.raises(ConflictError):
        run_finetune(
            _request(trained.data, trained.root / "other", base=str(tiny_base), name="Bo"), library=trained.library
        )
