"""No library warning in normal use: a UI request and a CLI refusal, run with warnings turned into errors."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import ROOT, running_app


def test_a_ui_request_raises_no_library_warning(tmp_path):
    # PYTHONWARNINGS=error makes any warning raised while serving an exception inside the request,
    # so the request fails; Gradio's queue used to raise Starlette's HTTP_422 deprecation on every event.
    from gradio_client import Client

    with running_app(tmp_path / "home", env={"PYTHONWARNINGS": "error", "STUDIO_LANG": "en"}) as url:
        client = Client(url, verbose=False)
        for lang in ("en", "zh"):
            client.predict(lang, api_name="/set_language")


def test_voices_check_on_a_text_file_prints_only_the_error(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("这不是音频。\nnot audio either\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-W", "error", "-m", "studio", "voices", "check", str(notes)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "STUDIO_HOME": str(tmp_path / "home"), "STUDIO_LANG": "en"},
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines() == [
        "error: Cannot read notes.txt: the file is damaged or not audio. Use a wav, mp3, flac or ogg file."
    ]
    assert "Warning" not in out.stdout + out.stderr


def test_api_requests_raise_no_library_warning(tmp_path, recwarn):
    # The server runs in this process: pytest's warning capture sees what its threads raise.
    import warnings

    import httpx

    from studio.api import serve_in_thread
    from studio.engine import Engine
    from tests.helpers import free_port

    warnings.simplefilter("always")
    srv = serve_in_thread(Engine(), port=free_port(), voices_root=tmp_path / "voices")
    try:
        for method, path, body in [
            ("GET", "/", None),
            ("GET", "/api/voices", None),
            ("POST", "/tts", {"text": 1}),  # a validation error: the path Starlette's renamed 422 constant is on
            ("POST", "/api/clone", {"nonsense": True}),
            ("GET", "/openapi.json", None),
        ]:
            assert httpx.request(method, srv.url + path, json=body, timeout=60).status_code < 500
    finally:
        srv.stop()
    raised = [f"{w.category.__name__}: {w.message} ({w.filename})" for w in recwarn]
    assert raised == []


def test_generating_prints_no_library_chatter(tmp_path, tiny_base, reference_wav):
    # qwen-tts' import prints a flash-attn banner, the sox module it imports a shell error and a log
    # warning, and transformers' generate() a pad_token_id notice per call: none reach the console.
    out_wav = tmp_path / "x.wav"
    argv = ["clone", "--voice-audio", str(reference_wav), "--x-vector-only", "--text", "你好。"]
    out = subprocess.run(
        [sys.executable, "-m", "studio", *argv, "--model", str(tiny_base), "--out", str(out_wav)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "STUDIO_HOME": str(tmp_path / "home"), "STUDIO_LANG": "en"},
    )
    assert out.returncode == 0, out.stderr
    for chatter in ("flash-attn", "SoX", "sox", "pad_token_id", "Warning"):
        assert chatter not in out.stdout + out.stderr, chatter
    result = next(line for line in out.stdout.splitlines() if line.startswith(str(out_wav)))
    assert "[test model: noise]" in result and "测试" not in result  # the random-weight note in one language
