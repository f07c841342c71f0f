"""The Train tab driven through gradio_client on a served app (clips uploaded, reviewed, trained one epoch on the
tiny checkpoint, polled until done), and the voice lists of the running app picking the new voice up."""

from __future__ import annotations

import time

import pytest
from finetune_fixtures import make_clips

from tests.helpers import free_port


def _event(demo, name: str, module: str):
    (fn,) = [
        fn
        for fn in demo.fns.values()
        if getattr(fn.fn, "__name__", "") == name and getattr(fn.fn, "__module__", "").endswith(module)
    ]
    return fn


@pytest.fixture
def app(studio_home, monkeypatch, one_thread):
    from studio.engine import Engine
    from studio.finetune import evaluate
    from studio.models import ModelManager
    from studio.settings import Settings
    from studio.ui import train_tab
    from studio.ui.app import build_app

    monkeypatch.setattr(evaluate, "_limit", lambda text, rate: 8)  # random weights never stop: keep it short
    monkeypatch.setattr(train_tab, "_JOBS", {})  # this app's own training jobs
    demo = build_app(Engine(ModelManager(Settings(dtype="float32"))))
    demo.launch(prevent_thread_lock=True, quiet=True, server_port=free_port())
    try:
        yield demo
    finally:
        jobs = train_tab._JOBS.get("jobs")
        if jobs is not None:
            jobs.close()
        demo.close()


def test_a_voice_trained_in_the_train_tab_joins_the_library_and_every_voice_list(app, tiny_base, tmp_path):
    from gradio_client import Client, handle_file

    from studio.finetune.library import trained_voice
    from studio.ui import train_tab
    from studio.voices import VoiceLibrary

    refresh, poll = _event(app, "refresh", "voice_lists"), _event(app, "poll", "train_tab")
    finished = poll.outputs[3]  # the state the Train tab sets when a job's voice has joined the library
    assert (finished._id, "change") in refresh.targets
    assert poll.queue  # the page learns of a changed state only from a queued event's answer
    assert sum(event == "select" for _, event in refresh.targets) == 3  # Clone, Voices, Custom voice tabs
    lists_before = refresh.fn("en", None)

    client = Client(app.local_url, verbose=False)
    client.predict("en", api_name="/set_language")
    data = make_clips(tmp_path / "data")
    uploads = [handle_file(str(p)) for p in sorted(data.iterdir())]
    summary, table = client.predict(uploads, "", api_name="/train_check")
    assert "12 usable clips" in summary and len(table["data"]) == 12 and all(row[0] for row in table["data"])
    table["data"][3][0] = False  # drop one clip in the review table

    with pytest.raises(Exception, match="Consent is required"):
        client.predict(table, "Dora", str(tiny_base), 2, 1, False, api_name="/train_start")
    client.predict(table, "Dora", str(tiny_base), 2, 1, True, api_name="/train_start")
    deadline = time.monotonic() + 600
    while True:
        status, bar, report = client.predict(api_name="/train_status")
        if "failed" in status.lower() or (bar == 100 and "dora" in status.lower()):
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    assert "failed" not in status.lower(), status
    assert [row[0] for row in report["data"]] == [1]

    library = VoiceLibrary()
    trained = trained_voice(library.get("Dora"))
    assert trained is not None and trained.speaker == "dora"
    used = trained.report["data"]
    assert used["clips"] + len(used["rejected"]) == 11  # the clip dropped in the review was not trained on
    # the lists the page built at its start do not have it; opening a tab or the job's end refreshes them
    assert "dora" not in [value for _, value in refresh.outputs[2].choices]
    (job_id,) = train_tab._JOBS["jobs"]._jobs
    assert poll.fn("en", {"job": job_id}, None)[3] == job_id  # so the lists refresh as the job ends
    clone, models, speakers, rows = refresh.fn("en", None)
    assert "Dora" in [value for _, value in clone["choices"]]
    assert trained.model in [value for _, value in models["choices"]]
    assert "dora" in [value for _, value in speakers["choices"]]
    assert any(row[0] == "Dora" for row in rows)
    assert "Dora" not in [value for _, value in lists_before[0]["choices"]]
