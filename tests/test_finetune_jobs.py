"""Training as a job: the review step, the HTTP routes (confined data, consent, status, cancel, resume, A/B)
and the Train tab's wording of a job's state."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import soundfile as sf
from finetune_fixtures import make_clips

from studio.errors import InputError
from studio.finetune.review import ReviewRow, apply_review, review, total_minutes
from tests.helpers import free_port


def test_review_writes_clean_clips_then_applies_edits_and_drops(tmp_path):
    target, rows, rejected = review(make_clips(tmp_path / "data"), tmp_path / "reviewed")
    assert len(rows) == 12 and not rejected and all(r.keep for r in rows)
    assert total_minutes(rows) == pytest.approx(sum(r.seconds for r in rows) / 60, abs=0.01)
    assert sf.info(str(target / f"{rows[0].name}.wav")).samplerate == 24_000
    rows[0].keep = False
    rows[1].text = "  改过的  文字  "
    assert apply_review(target, rows) == 11
    assert not (target / f"{rows[0].name}.wav").exists()
    assert (target / f"{rows[1].name}.txt").read_text(encoding="utf-8") == "改过的 文字"
    with pytest.raises(InputError):
        apply_review(target, [ReviewRow(True, "../data/clip00", 1.0, "x")])


def _files(folder, names):
    return [("files", (name, (folder / name).read_bytes())) for name in names]


def _wait(url, job_id, states, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snapshot = httpx.get(f"{url}/api/finetune/jobs/{job_id}", timeout=30).json()
        if snapshot["state"] in states:
            return snapshot
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} never reached {states}: {snapshot}")


@pytest.mark.usefixtures("one_thread")
def test_an_http_training_job_starts_cancels_resumes_and_its_voice_speaks(
    tiny_base, studio_home, tmp_path, monkeypatch
):
    from studio.finetune import evaluate

    monkeypatch.setattr(evaluate, "_limit", lambda text, rate: 8)  # random weights never stop: keep it short
    from studio.api import serve_in_thread
    from studio.engine import Engine
    from studio.models import ModelManager
    from studio.settings import Settings
    from studio.voices import VoiceLibrary

    data = make_clips(tmp_path / "data")
    names = sorted(p.name for p in data.iterdir())
    engine = Engine(ModelManager(Settings(dtype="float32")))
    voices = tmp_path / "voices"
    server = serve_in_thread(engine, port=free_port(), models={"base": str(tiny_base)}, voices_root=voices)
    url = server.url
    try:
        bad = httpx.post(f"{url}/api/finetune/datasets", files=[("files", ("run.py", b"x"))], timeout=30)
        assert bad.status_code == 400
        assert httpx.get(f"{url}/api/finetune/jobs/../../etc", timeout=30).status_code == 404
        first = httpx.post(f"{url}/api/finetune/datasets", files=_files(data, names[:12]), timeout=60).json()
        dataset = first["dataset"]
        added = httpx.post(f"{url}/api/finetune/datasets/{dataset}", files=_files(data, names[12:]), timeout=60)
        assert added.json()["files"] == 24
        body = {"dataset": dataset, "name": "Cleo", "lora": 2, "epochs": 2, "batch_size": 12, "grad_accum": 1}
        body["eval_sentences"] = 1
        refused = httpx.post(f"{url}/api/finetune/jobs", json=body, timeout=30)
        assert refused.status_code == 400 and "onsent" in refused.json()["message"]
        assert (
            httpx.post(
                f"{url}/api/finetune/jobs", json={**body, "dataset": "0" * 12, "consent": True}, timeout=30
            ).status_code
            == 404
        )

        started = httpx.post(f"{url}/api/finetune/jobs", json={**body, "consent": True}, timeout=30)
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        busy = httpx.post(f"{url}/api/finetune/jobs", json={**body, "consent": True}, timeout=30)
        assert busy.status_code == 409
        httpx.post(f"{url}/api/finetune/jobs/{job_id}/cancel", timeout=30).raise_for_status()
        stopped = _wait(url, job_id, ("cancelled", "done", "failed"))
        assert stopped["state"] == "cancelled", stopped
        assert httpx.post(f"{url}/api/finetune/jobs/{job_id}/resume", timeout=30).status_code == 200
        done = _wait(url, job_id, ("done", "failed", "cancelled"))
        assert done["state"] == "done", done
        assert done["speaker"] == "cleo" and done["epoch"] == 2 and done["steps"] == 2 and done["loss"] > 0
        assert [e["epoch"] for e in done["report"]] == [1, 2] and "similarity" in done["report"][0]["evaluation"]
        for file in ("epoch-001.wav", "zero-shot.wav"):
            clip = httpx.get(f"{url}/api/finetune/jobs/{job_id}/ab/{file}", timeout=30)
            assert clip.status_code == 200 and clip.content[:4] == b"RIFF"
        assert httpx.get(f"{url}/api/finetune/jobs/{job_id}/ab/report.json", timeout=30).status_code == 404

        assert VoiceLibrary(voices).get("Cleo").consent.confirmed
        spoken = httpx.post(f"{url}/v1/audio/speech", json={"input": "你好。", "voice": "Cleo"}, timeout=120)
        assert (
            spoken.status_code == 200
            and (studio_home / "outputs" / "finetune") in Path(engine.manager.loaded.key).parents
        )
    finally:
        server.stop()


def test_the_train_tab_words_a_job_s_state_in_the_session_language():
    from studio.ui.train_tab import progress_percent, report_rows, status_text

    running = {"state": "running", "epoch": 1, "epochs": 3, "step": 4, "steps": 12, "loss": 2.5, "eta_s": 90}
    running |= {"message": "", "fraction": 0.3}
    assert "第 1/3 轮" in status_text(running, "zh") and "Epoch 1/3, step 4/12" in status_text(running, "en")
    failed = {**running, "state": "failed", "error": {"zh": "磁盘满了", "en": "disk full"}}
    assert status_text(failed, "zh").endswith("磁盘满了") and status_text(failed, "en").endswith("disk full")
    assert progress_percent(0.3) == 30.0 and progress_percent(1.5) == 100.0
    entry = {
        "epoch": 1,
        "loss": 1.23456,
        "evaluation": {"rate_ratio": 1.1, "similarity": 0.5, "cer": None, "score": 0.4},
    }
    assert report_rows([entry]) == [[1, 1.235, 1.1, 0.5, "", 0.4]]


def test_the_train_tab_checks_uploaded_clips_or_a_local_folder(tmp_path):
    from studio.ui.train_tab import check_clips

    data = make_clips(tmp_path / "data")
    uploads = [{"path": str(p)} for p in sorted(data.iterdir())]
    target, rows, _ = check_clips(uploads, "", tmp_path / "upload-ws")
    assert len(rows) == 12 and target == tmp_path / "upload-ws" / "reviewed"
    _, rows, _ = check_clips([u["path"] for u in uploads], "", tmp_path / "paths-ws")  # as gr.File hands them
    assert len(rows) == 12
    assert (tmp_path / "upload-ws" / "data" / "clip00.txt").is_file()
    _, rows, _ = check_clips(None, str(data), tmp_path / "folder-ws")
    assert len(rows) == 12 and not (data / "reviewed").exists()  # the user's folder is only read
    with pytest.raises(InputError):
        check_clips(None, "  ", tmp_path / "empty-ws")
