"""The remote engine, tested against the studio's own HTTP server started on another port.

One studio (a local engine over the tiny checkpoints, with an API key) serves
``/v1/audio/speech``; a second :class:`Engine` has that server's URL as its
remote engine and never loads a model. The tiny models never stop early, so
a request runs to exactly the step cap the client sent (``max_new_tokens``):
lengths show the cap travelled, and that text preparation, segmentation and
timing ran on the client as they do locally.
"""

from __future__ import annotations

import base64
import io
import math
import os
import subprocess
import sys

import httpx
import numpy as np
import pytest
import soundfile as sf

from studio.api import serve_in_thread
from studio.audio import MODEL_SR, to_wav_bytes
from studio.backend import SAMPLES_PER_FRAME
from studio.dubbing.project import Line, Project
from studio.dubbing.runner import line_hash, load_takes, resolve_voice, run_project
from studio.engine import SEGMENT_CHARS, SEGMENT_PAUSE_S, Delivery, Engine
from studio.errors import Cancelled, InputError, RemoteEngineError
from studio.models import ModelManager
from studio.progress import CancelToken
from studio.remote import KEY_ENV, URL_ENV, RemoteModel, decode_audio, normalize_url, remote_config
from studio.settings import Settings
from studio.synthesis import Sampling, max_steps_for
from studio.text import split_text
from studio.timing import MIN_STRETCH
from studio.voices import VoiceLibrary
from tests.helpers import ROOT, free_port, voiced_clip

pytestmark = pytest.mark.slow

KEY = "sk-remote-test"
REF = (MODEL_SR, voiced_clip(3.0))
TIMEOUT = httpx.Timeout(300.0, connect=10.0)


def frames(result) -> float:
    return len(result.samples) / SAMPLES_PER_FRAME


def assert_ran_to_cap(result, text: str) -> None:
    """The tiny model ran to the cap for ``text`` (up to rounding at an in-context reference cut)."""
    assert result.max_new_tokens == max_steps_for(text)
    assert result.max_new_tokens - 2 <= frames(result) <= result.max_new_tokens


# -- servers and engines ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server_library(tmp_path_factory):
    lib = VoiceLibrary(tmp_path_factory.mktemp("server-voices"))
    lib.create("服务端", (MODEL_SR, voiced_clip(3.0, seed=3)), transcript="服务器上的声音。", consent=True)
    return lib


@pytest.fixture(scope="module")
def client_library(tmp_path_factory):
    """The second studio's own voices: the server has never heard of them."""
    lib = VoiceLibrary(tmp_path_factory.mktemp("client-voices"))
    lib.create("远方", (MODEL_SR, voiced_clip(3.5, seed=1)), transcript="这是远方的参考录音。", consent=True)
    lib.add_clip("远方", (MODEL_SR, voiced_clip(3.0, seed=2)), "angry", "我生气了，真的。")
    return lib


@pytest.fixture(scope="module")
def server(server_library, tiny_base, tiny_custom, tiny_design):
    srv = serve_in_thread(
        Engine(ModelManager(Settings(dtype="float32"))),
        port=free_port(),
        api_key=KEY,
        models={"base": str(tiny_base), "custom_voice": str(tiny_custom), "voice_design": str(tiny_design)},
        voices_root=server_library.root,
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def remote(server, client_library):
    """An engine whose generation goes to ``server``; its model manager must never load anything."""
    engine = Engine(ModelManager(Settings(remote_url=server.url + "/v1", remote_key=KEY)), voices=client_library)

    def no_local_model(*args, **kwargs):
        raise AssertionError("a remote engine loaded a local model")

    engine.manager.get = no_local_model
    yield engine
    assert engine.manager.loaded is None


def auth() -> dict:
    return {"Authorization": f"Bearer {KEY}"}


# -- generation over the remote engine ---------------------------------------------------------------


def test_clone_with_a_reference_clip(remote, server):
    text = "你好，世界。"
    result = remote.clone(text, REF, transcript="这是参考音频。", seed=5)
    assert result.sr == MODEL_SR and result.samples.dtype == np.float32 and result.samples.ndim == 1
    assert_ran_to_cap(result, text)
    assert result.seed == 5 and result.model_text == text
    assert result.model.startswith("remote: ") and result.model.endswith("@ " + server.url.split("//")[1])
    assert "tiny-base" in result.model  # the server says which model it used
    assert np.sqrt(np.mean(result.samples**2)) > 1e-3
    assert remote.manager.loaded is None


def test_same_seed_same_audio_and_a_drawn_seed_is_reported(remote):
    first = remote.clone("种子测试。", REF, transcript="参考。", seed=7)
    again = remote.clone("种子测试。", REF, transcript="参考。", seed=7)
    other = remote.clone("种子测试。", REF, transcript="参考。", seed=8)
    assert np.array_equal(first.samples, again.samples)
    assert not np.array_equal(first.samples, other.samples)
    drawn = remote.clone("种子测试。", REF, transcript="参考。")
    replay = remote.clone("种子测试。", REF, transcript="参考。", seed=drawn.seed)
    assert np.array_equal(drawn.samples, replay.samples)


def test_the_server_sends_raw_audio_to_a_studio_which_polishes_it_once(remote, tiny_base):
    """Loudness and watermark happen on the client only: its raw result equals a local engine's."""
    raw = Delivery(loudness=None, watermark=False)
    local = Engine(ModelManager(Settings(dtype="float32")))
    expected = local.clone("只处理一次。", REF, transcript="参考。", seed=4, model=str(tiny_base), delivery=raw)
    got = remote.clone("只处理一次。", REF, transcript="参考。", seed=4, delivery=raw)
    assert len(got.samples) == len(expected.samples)
    # 16-bit transport only: a server-side loudness change or watermark would be far larger
    assert np.abs(got.samples - expected.samples).max() <= 2 / 32768
    polished = remote.clone("只处理一次。", REF, transcript="参考。", seed=4)
    assert np.abs(polished.samples - got.samples).max() > 1e-3  # the client's own polish still happens


def test_text_preparation_runs_here_and_the_prepared_text_is_sent(remote):
    result = remote.clone("利率是 2%。", REF, x_vector_only=True, seed=1)
    assert result.model_text == "利率是 百分之二。"
    assert_ran_to_cap(result, result.model_text)  # the cap of the spelled-out text, not of "2%"


def test_clone_with_a_saved_voice_and_its_emotion_clip(remote, client_library):
    text = "用保存的声音说话。"
    result = remote.clone(text, voice="远方", library=client_library, seed=3)
    assert_ran_to_cap(result, text)
    assert not result.notes

    angry = remote.clone(text, voice="远方", clip="angry", intensity=0.4, library=client_library, seed=3)
    assert_ran_to_cap(angry, text)
    assert not np.array_equal(angry.samples, result.samples)  # the emotional clip went, not the neutral one
    (note,) = angry.notes
    assert note.code == "remote_intensity" and "intensity 1" in note.message("en") and note.message("zh")
    full = remote.clone(text, voice="远方", clip="angry", intensity=1.0, library=client_library, seed=3)
    assert not full.notes and np.array_equal(full.samples, angry.samples)


def test_clone_batch(remote):
    texts = ["一。", "二三四五六七。"]
    results = remote.clone_batch(texts, REF, transcript="参考。", seed=2)
    assert [r.seed for r in results] == [2, 2]
    for result, text in zip(results, texts, strict=True):
        assert_ran_to_cap(result, text)


def test_custom_voice_with_an_emotion(remote):
    text = "Hello there, nice to meet you."
    result = remote.custom(text, "vivian", emotion="happy", intensity=0.8, seed=11)
    assert_ran_to_cap(result, text)
    assert result.seed == 11 and result.instruction and "tiny-custom" in result.model


def test_voice_design(remote):
    text = "我是设计出来的声音。"
    result = remote.design(text, "温柔的年轻女声", seed=4)
    assert_ran_to_cap(result, text)
    assert "温柔的年轻女声" in result.instruction and "tiny-voice_design" in result.model


def test_long_text_is_segmented_here(remote):
    sentence = "这是一段很长的文字，用来测试远程引擎的分段生成。"
    text = sentence * 8
    pieces = [s.text for s in split_text(remote.prepare_text(text).model_text, max_chars=SEGMENT_CHARS)]
    assert len(pieces) > 1
    result = remote.custom(text, "Serena", seed=6)
    assert result.segments == len(pieces) and result.seed == 6
    want = sum(max_steps_for(p) for p in pieces) * SAMPLES_PER_FRAME
    want += round(SEGMENT_PAUSE_S * MODEL_SR) * (len(pieces) - 1)
    assert abs(len(result.samples) - want) <= 2 * SAMPLES_PER_FRAME * len(pieces)


def test_exact_duration_and_takes(remote):
    delivery = Delivery(duration=2.0, takes=2)
    result = remote.clone("时长正好两秒钟的一句话。", REF, transcript="参考。", seed=9, delivery=delivery)
    assert len(result.samples) == 2 * MODEL_SR and result.fit is not None
    # The cap that keeps every take fittable was sent: the server generated no more than that.
    assert result.max_new_tokens <= math.ceil((2.0 / MIN_STRETCH - 0.1) * 12.5)
    assert result.fit.natural_s <= result.max_new_tokens * SAMPLES_PER_FRAME / MODEL_SR


def test_sampling_beyond_the_protocol_is_noted(remote):
    sampling = Sampling(temperature=0.5, max_new_tokens=30)
    result = remote.custom("采样设置。", "Vivian", seed=1, sampling=sampling)
    assert result.max_new_tokens == 30 and 28 <= frames(result) <= 30
    assert [n.code for n in result.notes] == ["remote_sampling"]


def test_a_dubbing_project_runs_over_the_remote_engine(tmp_path, remote, client_library):
    lines = [
        Line(scene="s1", speaker="A", text="我是远方。"),
        Line(scene="s2", speaker="B", text="I am Vivian."),
        Line(scene="s3", speaker="C", text="我是设计出来的声音。"),
        Line(scene="s4", speaker="A", text="我生气了！", emotion="angry"),
    ]
    project = Project(lines=lines, voices={"A": "远方", "B": "preset:vivian", "C": "design:低沉的中年男声"})
    project.settings.max_new_tokens, project.settings.loudness, project.settings.seed = 8, None, 5
    project.save(tmp_path / "p")
    report = run_project(project, remote, client_library)
    assert [r.status for r in report.results] == ["generated"] * 4, [r.message("en") for r in report.failed]
    takes = load_takes(Project.load(tmp_path / "p"))
    assert set(takes) == {line.id for line in lines}
    assert all(6 * SAMPLES_PER_FRAME <= len(a) <= 8 * SAMPLES_PER_FRAME for a in takes.values())
    assert all(take.model.startswith("remote: ") for line in project.lines for take in line.takes)
    again = run_project(Project.load(tmp_path / "p"), remote, client_library)
    assert again.count("reused") == 4
    # Switching to the local model (or another server) regenerates instead of reusing the remote takes.
    local = Engine(ModelManager(Settings()), voices=client_library)
    voice = resolve_voice(project, 0, client_library)
    assert line_hash(project, 0, voice, remote, client_library) != line_hash(project, 0, voice, local, client_library)


# -- failures ------------------------------------------------------------------------------------------


def test_a_wrong_key_is_reported(server, client_library):
    engine = Engine(ModelManager(Settings(remote_url=server.url, remote_key="sk-bad-9f3a")), voices=client_library)
    with pytest.raises(RemoteEngineError) as info:
        engine.custom("你好。", "Vivian", seed=1)
    assert info.value.http_status == 502
    assert "refused the API key" in info.value.en and "密钥" in info.value.zh
    assert "9f3a" not in info.value.en + info.value.zh  # the key itself is never echoed


def test_an_unreachable_url_is_reported(client_library):
    url = f"http://127.0.0.1:{free_port()}"
    engine = Engine(ModelManager(Settings(remote_url=url)), voices=client_library)
    with pytest.raises(RemoteEngineError) as info:
        engine.design("你好。", "温柔的女声")
    assert f"Cannot reach the remote engine at {url}" in info.value.en
    assert "Models > Remote engine" in info.value.en and "远程引擎" in info.value.zh
    assert engine.manager.loaded is None


def test_a_url_that_is_not_a_speech_server_and_a_refused_request(server):
    engine = Engine(ModelManager(Settings(remote_url=server.url + "/nothing-here", remote_key=KEY)))
    with pytest.raises(RemoteEngineError, match="not a speech server"):
        engine.custom("你好。", "Vivian")
    with pytest.raises(RemoteEngineError, match="not like a speech server"):  # Test connection
        RemoteModel(server.url + "/nothing-here", KEY).check()
    with pytest.raises(RemoteEngineError, match="refused the API key"):
        RemoteModel(server.url, "sk-bad").check()
    report = RemoteModel(server.url + "/v1/", KEY).check()
    assert report["url"] == server.url and "qwen3-tts" in report["models"] and "Vivian" in report["voices"]
    strict = serve_in_thread(Engine(ModelManager(Settings(dtype="float32"))), port=free_port(), max_text_chars=10)
    try:
        engine = Engine(ModelManager(Settings(remote_url=strict.url)))
        with pytest.raises(InputError) as info:  # the server's own message comes through
            engine.custom("这一句超过了十个字的限制。", "Vivian")
        assert info.value.http_status == 400
        assert info.value.en.startswith(f"Remote engine ({strict.url.split('//')[1]}): The text is too long")
        assert "at most 10" in info.value.en and info.value.zh.startswith("远程引擎")
    finally:
        strict.stop()


def test_non_audio_answers_are_refused():
    for data, kind in ((b'{"ok": true}', "application/json"), (b"<html>proxy login</html>", "text/html")):
        with pytest.raises(RemoteEngineError, match="not audio"):
            decode_audio(data, kind, "http://example.invalid")
    with pytest.raises(RemoteEngineError, match="not audio"):
        decode_audio(b"\x00\x01garbage", "audio/wav", "http://example.invalid")
    wav = to_wav_bytes(voiced_clip(1.0, 16_000), 16_000)
    assert len(decode_audio(wav, "audio/wav", "http://example.invalid")) == MODEL_SR  # resampled to 24 kHz


def test_cancel_before_and_during_a_request(remote):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        remote.clone("取消。", REF, transcript="参考。", cancel=token)

    token = CancelToken()
    sent = []

    def cancel_once_sent(fraction, message):
        if "remote " in getattr(message, "model", str(message)):
            sent.append(message)
            token.cancel()  # the request is on its way: stop it

    with pytest.raises(Cancelled):
        remote.custom("这一句会在生成途中被取消。" * 6, "Vivian", progress=cancel_once_sent, cancel=token)
    assert sent
    # Nothing is left hanging: the engine serves the next request normally.
    assert_ran_to_cap(remote.custom("取消之后。", "Vivian", seed=1), "取消之后。")


def test_a_studio_that_is_remote_itself_refuses_to_forward(server):
    relay = serve_in_thread(
        Engine(ModelManager(Settings(remote_url=server.url, remote_key=KEY))), port=free_port(), api_key=KEY
    )
    try:
        engine = Engine(ModelManager(Settings(remote_url=relay.url, remote_key=KEY)))
        with pytest.raises(RemoteEngineError, match="could loop"):
            engine.custom("你好。", "Vivian")
        # A client that is not a studio (no hop header) is served through the relay.
        r = httpx.post(f"{relay.url}/v1/audio/speech", json={"input": "你好。", "voice": "Vivian"}, headers=auth())
        assert r.status_code == 200, r.text
    finally:
        relay.stop()


# -- the server side: vLLM-Omni's extras on /v1/audio/speech ---------------------------------------------


def _speech(server, **body):
    return httpx.post(f"{server.url}/v1/audio/speech", json=body, headers=auth(), timeout=TIMEOUT)


def test_server_accepts_vllm_omni_base_requests(server):
    clip = base64.b64encode(to_wav_bytes(voiced_clip(3.0), MODEL_SR)).decode()
    text = "Hello from a vLLM client."
    r = _speech(
        server,
        model="Qwen/Qwen3-TTS-12Hz-1.7B-Base",
        input=text,
        task_type="Base",
        language="English",
        ref_audio=f"data:audio/wav;base64,{clip}",
        ref_text="The reference transcript.",
        response_format="wav",
        max_new_tokens=20,
        seed=42,
    )
    assert r.status_code == 200, r.text
    assert r.headers["x-seed"] == "42" and r.headers["x-segments"] == "1"
    samples, sr = sf.read(io.BytesIO(r.content))
    assert sr == MODEL_SR and 18 * SAMPLES_PER_FRAME <= len(samples) <= 20 * SAMPLES_PER_FRAME
    # Plain base64 and x-vector-only mode (no transcript needed); the task type is inferred from ref_audio.
    r = _speech(server, input="你好。", ref_audio=clip, x_vector_only_mode=True, response_format="wav", seed=1)
    assert r.status_code == 200, r.text


def test_server_voice_design_and_a_saved_voice_as_base(server):
    r = _speech(server, input="你好。", task_type="VoiceDesign", instructions="低沉的男声", response_format="wav")
    assert r.status_code == 200, r.text
    r = _speech(server, input="你好。", task_type="Base", voice="服务端", response_format="wav", max_new_tokens=10)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"task_type": "Base", "ref_audio": "https://example.com/a.wav", "ref_text": "x"}, "ref_audio", "URLs"),
        ({"ref_audio": "file:///etc/passwd", "ref_text": "x"}, "ref_audio", "URLs"),
        ({"ref_audio": "/etc/passwd", "ref_text": "x"}, "ref_audio", "base64"),
        ({"ref_audio": "data:audio/wav,plain", "ref_text": "x"}, "ref_audio", "base64"),
        ({"ref_audio": base64.b64encode(b"not audio at all").decode(), "ref_text": "x"}, None, ""),
        ({"ref_audio": base64.b64encode(to_wav_bytes(voiced_clip(3.0), MODEL_SR)).decode()}, "ref_text", "ref_text"),
        ({"task_type": "Base", "voice": "Vivian"}, "ref_audio", "ref_audio"),
        ({"task_type": "VoiceDesign"}, "instructions", "instructions"),
        ({"voice": "Vivian", "language": "Klingon"}, "language", "Klingon"),
        ({"voice": "Vivian", "seed": 2**40}, None, "seed"),
        ({"voice": "Vivian", "max_new_tokens": 0}, "max_new_tokens", ""),
        ({}, "voice", "voice"),
    ],
)
def test_server_refuses_bad_extras_with_a_clear_400(server, body, param, words):
    r = _speech(server, input="你好。", **body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    if param is not None:
        assert error["param"] == param
    assert words in error["message"]


# -- settings, URL and the command line ------------------------------------------------------------------


def test_settings_environment_and_url(monkeypatch):
    settings = Settings(remote_url="http://a:1", remote_key="secret-key-1234")
    assert "secret" not in repr(settings)
    assert "secret" not in repr(RemoteModel("http://a:1", "secret-key-1234"))
    monkeypatch.delenv(URL_ENV, raising=False)
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert remote_config(settings) == ("http://a:1", "secret-key-1234")
    monkeypatch.setenv(URL_ENV, "http://b:2")
    monkeypatch.setenv(KEY_ENV, "other")
    assert remote_config(settings) == ("http://b:2", "other")
    monkeypatch.setenv(URL_ENV, "")  # set but empty: local, whatever the settings say
    assert remote_config(settings)[0] == ""
    assert Engine(ModelManager(settings)).remote is None
    for given in ("http://h:8091", "http://h:8091/", "http://h:8091/v1", "http://h:8091/v1/audio/speech"):
        assert normalize_url(given) == "http://h:8091"
    for bad in ("h:8091", "ftp://h", "", "http://"):
        with pytest.raises(InputError):
            normalize_url(bad)


def test_cli_sets_shows_tests_and_clears(studio_home, server, capsys, monkeypatch):
    from studio.cli import main

    monkeypatch.delenv(URL_ENV, raising=False)
    monkeypatch.setenv("STUDIO_LANG", "en")
    assert main(["remote", "set", server.url + "/v1/", "--key", KEY]) == 0
    saved = Settings.load()
    assert saved.remote_url == server.url and saved.remote_key == KEY
    capsys.readouterr()
    assert main(["remote", "show"]) == 0
    shown = capsys.readouterr().out
    assert server.url in shown and KEY not in shown and KEY[-4:] in shown
    assert main(["remote", "test"]) == 0
    tested = capsys.readouterr().out
    assert tested.startswith(f"ok {server.url}") and "Vivian" in tested and "服务端" in tested
    assert main(["remote", "clear"]) == 0
    assert Settings.load().remote_url == "" and Settings.load().remote_key == ""

    # Per invocation: --remote and --remote-key, and the environment is restored afterwards.
    assert main(["--remote", server.url, "--remote-key", "wrong", "remote", "test"]) == 2
    assert "refused the API key" in capsys.readouterr().err
    assert URL_ENV not in os.environ and KEY_ENV not in os.environ


def test_cli_generates_over_the_remote_engine(studio_home, server, tmp_path):
    # In a process of its own, as a user runs it (--remote sets the engine for that whole process).
    out = tmp_path / "hi.wav"
    argv = ["--remote", server.url, "--remote-key", KEY, "custom", "--speaker", "Vivian", "--text", "你好。"]
    env = {**os.environ, "STUDIO_HOME": str(studio_home), "STUDIO_LANG": "en"}
    proc = subprocess.run(
        [sys.executable, "-m", "studio", *argv, "--seed", "3", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "seed 3" in proc.stdout and "remote: tiny-custom_voice @ 127.0.0.1" in proc.stdout
    samples, sr = sf.read(out)
    assert sr == MODEL_SR and max_steps_for("你好。") - 2 <= len(samples) / SAMPLES_PER_FRAME <= max_steps_for("你好。")
