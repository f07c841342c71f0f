"""The HTTP API over real HTTP, with requests built the way its clients build them.

Two servers run in background threads over one engine and the tiny
checkpoints: an open one on loopback, and one with an API key and no queue
room. The tiny models never stop early, so every segment lasts exactly its
length cap (``max_steps_for(text) - 1`` frames of 1920 samples, up to rounding
at an ICL reference cut): lengths show which request a reply belongs to.
"""

from __future__ import annotations

import base64
import io
import os
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from studio.api import serve_in_thread
from studio.api.encode import FORMATS, encode, encode_stream, ffmpeg_exe
from studio.audio import MODEL_SR, to_wav_bytes
from studio.engine import Engine
from studio.errors import InputError
from studio.models import ModelManager
from studio.settings import Settings
from studio.synthesis import max_steps_for
from tests.helpers import free_port, voiced_clip

pytestmark = pytest.mark.slow

FRAME = 1920
KEY = "sk-test-key"
VOICE = "小明"  # saved with a transcript
BARE = "无字"  # the same clip, no transcript: x-vector cloning
TIMEOUT = httpx.Timeout(300.0, connect=10.0)


def expected_samples(parts: list[str], pause_s: float = 0.0, speed: float = 1.0) -> int:
    """Length of the tiny model's reply for these segments."""
    frames = [round((max_steps_for(p) - 1) * FRAME / speed) for p in parts]
    return sum(frames) + round(pause_s * MODEL_SR) * (len(parts) - 1)


def assert_length(n: int, parts: list[str], pause_s: float = 0.0, speed: float = 1.0, slack: int = 2 * FRAME) -> None:
    want = expected_samples(parts, pause_s, speed)
    assert abs(n - want) <= slack * len(parts), f"{n} samples, expected {want} for {parts}"


def decode(data: bytes, fmt: str) -> np.ndarray:
    """Decode ``data`` as ``fmt``: soundfile where it can, else the ffmpeg binary."""
    if fmt in ("pcm", "raw"):
        return np.frombuffer(data, "<i2").astype(np.float32) / 32768
    if fmt == "aac":
        exe = ffmpeg_exe()
        cmd = [exe, "-v", "error", "-f", "aac", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "pipe:1"]
        out = subprocess.run(cmd, input=data, capture_output=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return np.frombuffer(out.stdout, "<i2").astype(np.float32) / 32768
    samples, sr = sf.read(io.BytesIO(data), dtype="float32")
    assert sr == MODEL_SR
    info = sf.info(io.BytesIO(data))
    assert info.format == {"wav": "WAV", "mp3": "MP3", "flac": "FLAC", "ogg": "OGG", "opus": "OGG"}[fmt]
    return samples


# -- servers ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    from studio.voices import VoiceLibrary

    lib = VoiceLibrary(tmp_path_factory.mktemp("api-voices"))
    lib.create(VOICE, (MODEL_SR, voiced_clip(3.0)), transcript="参考文字。", language="Chinese", consent=True)
    lib.duplicate(VOICE, BARE)
    lib.update(BARE, transcript="")
    return lib


@pytest.fixture(scope="module")
def engine():
    return Engine(ModelManager(Settings(dtype="float32")))


@pytest.fixture(scope="module")
def server(engine, library, tiny_base, tiny_custom, tiny_design):
    srv = serve_in_thread(
        engine,
        port=free_port(),
        models={"base": str(tiny_base), "custom_voice": str(tiny_custom), "voice_design": str(tiny_design)},
        voices_root=library.root,
        max_text_chars=300,
        max_body_bytes=2 * 1024 * 1024,
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def url(server) -> str:
    return server.url


@pytest.fixture(scope="module")
def keyed(engine, library, tiny_base, tiny_custom):
    srv = serve_in_thread(
        engine,
        port=free_port(),
        api_key=KEY,
        max_queue=0,
        models={"base": str(tiny_base), "custom_voice": str(tiny_custom)},
        voices_root=library.root,
    )
    yield srv
    srv.stop()


def v2_body(text: str, **extra) -> dict:
    """The JSON xiaozhi-esp32-server's gpt_sovits_v2 provider posts (its shipped config)."""
    body = {
        "text": text,
        "text_lang": "auto",
        "ref_audio_path": VOICE,
        "aux_ref_audio_paths": [],
        "prompt_text": "",
        "prompt_lang": "zh",
        "top_k": 5,
        "top_p": 1,
        "temperature": 1,
        "text_split_method": "cut0",
        "batch_size": 1,
        "batch_threshold": 0.75,
        "split_bucket": True,
        "return_fragment": False,
        "speed_factor": 1.0,
        "streaming_mode": False,
        "seed": -1,
        "parallel_infer": True,
        "repetition_penalty": 1.35,
    }
    body.update(extra)
    return body


# -- the clients ---------------------------------------------------------------------------------


def test_xiaozhi_gpt_sovits_v2(url):
    r = httpx.post(f"{url}/tts", json=v2_body("你好。", seed=11), timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav" and r.headers["x-seed"] == "11"
    assert_length(len(decode(r.content, "wav")), ["你好。"])


def test_xiaozhi_gpt_sovits_v3_with_empty_prompt_text(url):
    # gpt_sovits_v3 ("python api.py"): GET on the root with the v1 fields; its config sends prompt_text "".
    params = {
        "refer_wav_path": f"{BARE}.wav",  # a file name as in its config finds the voice of that name
        "prompt_text": "",
        "prompt_language": "zh",
        "text": "Hi",
        "text_language": "auto",
        "top_k": 15,
        "top_p": 1.0,
        "temperature": 1.0,
        "cut_punc": "",
        "speed": 1.0,
        "sample_steps": 32,
        "if_sr": "False",
    }
    r = httpx.get(url, params=params, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    # No transcript stored: x-vector mode. The random model samples (no seed in this dialect) and may stop early,
    # so the reply is checked against the step budget, not for its exact length.
    n = len(decode(r.content, "wav"))
    assert 0 < n <= expected_samples(["Hi"]) + 2 * FRAME


def test_xiaozhi_openai_provider_with_bearer(keyed):
    body = {"model": "tts-1", "input": "Hi", "voice": VOICE, "response_format": "wav", "speed": 1.0}
    r = httpx.post(
        f"{keyed.url}/v1/audio/speech", json=body, headers={"Authorization": f"Bearer {KEY}"}, timeout=TIMEOUT
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    assert_length(len(decode(r.content, "wav")), ["Hi"])


def test_open_webui(url):
    models = httpx.get(f"{url}/audio/models").json()
    voices = httpx.get(f"{url}/audio/voices").json()
    assert {"id": "qwen3-tts"} in models["models"]
    assert {VOICE, BARE, "Vivian"} <= {v["id"] for v in voices["voices"]}
    assert all(set(v) >= {"id", "name"} for v in voices["voices"])
    assert httpx.get(f"{url}/v1/audio/voices").json() == voices
    r = httpx.post(f"{url}/v1/audio/speech", json={"input": "Hi", "voice": "Vivian", "model": "tts-1"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/mpeg"  # mp3 by default
    # Streamed mp3 has no Info frame, so a decoder keeps the encoder's delay and padding (< 1 frame each).
    assert_length(len(decode(r.content, "mp3")), ["Hi"], slack=2 * FRAME)


def test_sillytavern_with_empty_bearer_and_speed(url):
    body = {"input": "Hello there.", "response_format": "mp3", "voice": VOICE, "speed": 1.5, "model": "tts-1"}
    # An empty key gives "Bearer " on the client, and "Bearer" on the wire (header values are trimmed).
    r = httpx.post(f"{url}/v1/audio/speech", json=body, headers={"Authorization": "Bearer"}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert_length(len(decode(r.content, "mp3")), ["Hello there."], speed=1.5)


class TTSService:
    """A Flask digital-human app's wrapper around api_v2, as such apps write it."""

    def __init__(self, base_url: str, ref_audio_path: str | None = None) -> None:
        self.base_url = base_url
        self.ref_audio_path = ref_audio_path

    def available(self) -> bool:
        try:
            return httpx.get(self.base_url, timeout=3).status_code < 500
        except httpx.HTTPError:
            return False

    def text_to_speech(self, text: str, output_path: str, ref_audio_path: str | None = None) -> str:
        payload = {
            "text": text,
            "text_lang": "zh",
            "ref_audio_path": ref_audio_path or self.ref_audio_path,
            "prompt_text": "",
            "prompt_lang": "zh",
            "media_type": "wav",
            "streaming_mode": False,
        }
        response = httpx.post(f"{self.base_url}/tts", json=payload, timeout=TIMEOUT)
        response.raise_for_status()
        Path(output_path).write_bytes(response.content)
        return output_path


def test_flask_wrapper_with_default_reference(url, library, tmp_path):
    service = TTSService(url)
    assert service.available()
    clip = library.clip_path(VOICE)
    assert httpx.get(f"{url}/set_refer_audio", params={"refer_audio_path": str(clip)}).json() == {"message": "success"}
    out = service.text_to_speech("你好", str(tmp_path / "out.wav"))  # no ref_audio_path: the default
    data, sr = sf.read(out)
    assert sr == MODEL_SR
    assert_length(len(data), ["你好"])


def test_v1_change_refer_and_chinese_language_labels(url):
    r = httpx.post(f"{url}/change_refer", json={"refer_wav_path": VOICE, "prompt_text": "", "prompt_language": "中文"})
    assert r.json() == {"code": 0, "message": "Success"}
    r = httpx.post(url + "/", json={"text": "好", "text_language": "中文", "speed": 2.0}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert_length(len(decode(r.content, "wav")), ["好"], speed=2.0)


@pytest.mark.parametrize("fmt", ["raw", "ogg", "aac"])
def test_gpt_sovits_get_media_types(url, fmt):
    params = {"text": "Hi", "text_lang": "en", "ref_audio_path": VOICE, "media_type": fmt, "seed": 3}
    r = httpx.get(f"{url}/tts", params=params, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == f"audio/{fmt}"
    assert_length(len(decode(r.content, fmt)), ["Hi"], slack=2 * FRAME if fmt == "raw" else 3 * FRAME)


@pytest.mark.parametrize("fmt", ["opus", "flac", "aac"])
def test_openai_formats(url, fmt):
    body = {"model": "qwen3-tts", "input": "Hi", "voice": "Vivian", "response_format": fmt}
    r = httpx.post(f"{url}/v1/audio/speech", json=body, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert_length(len(decode(r.content, fmt)), ["Hi"])


def test_every_format_encodes_whole_and_streamed():
    tone = (0.3 * np.sin(np.arange(MODEL_SR) * 2 * np.pi * 220 / MODEL_SR)).astype(np.float32)
    for fmt in FORMATS:
        whole = decode(encode(tone, MODEL_SR, fmt), fmt)
        streamed = decode(b"".join(encode_stream([tone, tone, tone], MODEL_SR, fmt)), fmt)
        tolerance = 0 if fmt in ("wav", "pcm", "raw", "flac") else 3000
        assert abs(len(whole) - MODEL_SR) <= tolerance, fmt
        assert abs(len(streamed) - 3 * MODEL_SR) <= 3 * tolerance, fmt


# -- native API ------------------------------------------------------------------------------------


def test_native_clone_from_base64_and_upload(url, server):
    clip = base64.b64encode(to_wav_bytes(voiced_clip(3.0, 16_000), 16_000)).decode()
    body = {"text": "Hi", "ref_audio_base64": clip, "x_vector_only": True, "seed": 4, "format": "flac"}
    r = httpx.post(f"{url}/api/clone", json=body, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers["x-seed"] == "4" and r.headers["content-type"] == "audio/flac"
    assert_length(len(decode(r.content, "flac")), ["Hi"], slack=0)

    uploads = server.server.config.app.state.studio.upload_dir
    assert not list(uploads.glob("tmp-*"))  # the decoded upload is gone
    up = httpx.post(f"{url}/api/uploads", files={"file": ("ref.wav", to_wav_bytes(voiced_clip(3.0), MODEL_SR))})
    assert up.status_code == 200, up.text
    name = up.json()["ref_audio_path"]
    assert (uploads / name).is_file() and not list(uploads.glob("tmp-*"))
    r = httpx.post(f"{url}/tts", json=v2_body("Hi", ref_audio_path=name, seed=2), timeout=TIMEOUT)
    assert r.status_code == 200, r.text


def test_native_design_and_lists(url):
    r = httpx.post(f"{url}/api/design", json={"text": "Hi", "description": "温柔的女声", "seed": 1}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert_length(len(decode(r.content, "wav")), ["Hi"], slack=0)
    voices = httpx.get(f"{url}/api/voices").json()
    assert [v["name"] for v in voices["voices"]] == sorted([VOICE, BARE], key=str.casefold)
    assert next(v for v in voices["voices"] if v["name"] == VOICE)["transcript"] == "参考文字。"
    assert "Vivian" in {s["name"] for s in voices["speakers"]}
    models = httpx.get(f"{url}/api/models").json()
    assert models["defaults"]["voice_design"].endswith("tiny-voice_design")
    assert "0.6b-base" in {m["id"] for m in models["models"]}


# -- concurrency -----------------------------------------------------------------------------------


def test_concurrent_requests_are_served_one_by_one_without_mixing(url):
    texts = {1: "Hi", 2: "Hello there", 3: "Hello there, my friend"}

    def ask(seed: int) -> httpx.Response:
        body = {"text": texts[seed], "speaker": "Vivian", "seed": seed, "format": "pcm", "split": "none"}
        return httpx.post(f"{url}/api/custom", json=body, timeout=TIMEOUT)

    with ThreadPoolExecutor(3) as pool:
        replies = dict(zip(texts, pool.map(ask, texts), strict=True))
    for seed, r in replies.items():
        assert r.status_code == 200, r.text
        assert r.headers["x-seed"] == str(seed)
        assert_length(len(r.content) // 2, [texts[seed]], slack=0)


def test_a_full_queue_answers_503_with_retry_after(keyed):
    headers = {"Authorization": f"Bearer {KEY}"}
    body = {"model": "tts-1", "input": "Hi", "voice": "Vivian", "response_format": "wav"}

    def ask(_: int) -> httpx.Response:
        return httpx.post(f"{keyed.url}/v1/audio/speech", json=body, headers=headers, timeout=TIMEOUT)

    with ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(ask, range(3)))
    codes = sorted(r.status_code for r in replies)
    assert codes[0] == 200 and codes[-1] == 503, codes
    busy = next(r for r in replies if r.status_code == 503)
    assert int(busy.headers["retry-after"]) >= 1
    assert busy.json()["error"]["code"] == "busy"
    assert httpx.post(f"{keyed.url}/v1/audio/speech", json=body, headers=headers, timeout=TIMEOUT).status_code == 200


# -- safety ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outside_wav(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("outside") / "secret.wav"
    path.write_bytes(to_wav_bytes(voiced_clip(3.0), MODEL_SR))
    return path


def test_path_traversal_is_refused(url, library, outside_wav):
    link = library.root / "link.wav"
    if not link.exists():
        os.symlink(outside_wav, link)
    bad = [
        "../secret.wav",
        f"{VOICE}/../../outside/secret.wav",
        "..\\..\\Windows\\win.ini",
        "/etc/passwd",
        str(outside_wav),
        "link.wav",  # inside the library, pointing out
        str(link),
        "http://127.0.0.1:1/a.wav",
        "file:///etc/passwd",
        "//server/share/a.wav",
    ]
    for value in bad:
        r = httpx.get(f"{url}/set_refer_audio", params={"refer_audio_path": value})
        assert r.status_code == 400, (value, r.text)
        assert set(r.json()) == {"message", "Exception"}
        r = httpx.post(f"{url}/tts", json=v2_body("Hi", ref_audio_path=value))
        assert r.status_code == 400, (value, r.text)
        r = httpx.get(url, params={"text": "Hi", "refer_wav_path": value})
        assert r.status_code == 400 and r.json()["code"] == 400, (value, r.text)
    r = httpx.post(f"{url}/tts", json=v2_body("Hi", aux_ref_audio_paths=["../../etc/passwd"]))
    assert r.status_code == 400
    clip = library.clip_path(VOICE)
    for good in (str(clip), str(clip.relative_to(library.root))):  # files inside the library are fine
        assert httpx.get(f"{url}/set_refer_audio", params={"refer_audio_path": good}).status_code == 200


BAD_REQUESTS = [
    # (method, path, json body or query, status, where the error code sits)
    ("post", "/v1/audio/speech", {"input": "Hi", "voice": "alloy"}, 404, "openai"),
    ("post", "/tts", v2_body("Hi", ref_audio_path="nobody"), 404, "v2"),
    ("post", "/api/clone", {"text": "Hi", "voice": "nobody"}, 404, "native"),
    ("post", "/api/custom", {"text": "Hi", "speaker": "nobody"}, 404, "native"),
    ("post", "/tts", v2_body("Hi", text_lang="klingon"), 400, "v2"),
    ("post", "/api/custom", {"text": "Hi", "speaker": "Vivian", "language": "xx"}, 400, "native"),
    ("get", "/", {"text": "Hi", "refer_wav_path": VOICE, "text_language": "火星文"}, 400, "v1"),
    ("post", "/tts", v2_body(""), 400, "v2"),
    ("post", "/v1/audio/speech", {"input": " ", "voice": "Vivian"}, 400, "openai"),
    ("get", "/", {"text": "", "refer_wav_path": VOICE}, 400, "v1"),
    ("post", "/tts", v2_body("长" * 301), 400, "v2"),
    ("post", "/v1/audio/speech", {"input": "x" * 4097, "voice": "Vivian"}, 400, "openai"),
    ("post", "/tts", v2_body("Hi", text_lang=5), 400, "v2"),
    ("post", "/tts", {"text_lang": "en", "ref_audio_path": VOICE}, 400, "v2"),
    ("post", "/v1/audio/speech", {"input": "Hi", "voice": "Vivian", "speed": "fast"}, 400, "openai"),
    ("post", "/v1/audio/speech", {"input": "Hi", "voice": "Vivian", "speed": 5.0}, 400, "openai"),
    ("post", "/api/custom", {"text": "Hi", "speaker": "Vivian", "seed": "abc"}, 400, "native"),
    ("post", "/api/custom", {"text": "Hi", "speaker": "Vivian", "sped": 1.0}, 400, "native"),
    ("post", "/tts", v2_body("Hi", media_type="mp4"), 400, "v2"),
    ("post", "/v1/audio/speech", {"input": "Hi", "voice": "Vivian", "response_format": "m4a"}, 400, "openai"),
    ("post", "/api/custom", {"text": "Hi", "speaker": "Vivian", "format": "avi"}, 400, "native"),
    ("post", "/api/custom", {"text": "Hi", "speaker": "Vivian", "model": "gpt-4"}, 404, "native"),
    ("post", "/api/clone", {"text": "Hi", "voice": VOICE, "ref_audio_path": VOICE}, 400, "native"),
    ("post", "/api/clone", {"text": "Hi", "ref_audio_base64": "not base64!"}, 400, "native"),
    ("get", "/control", {"command": "exit"}, 403, "v2"),
    ("get", "/no/such/route", {}, 404, "native"),
]


@pytest.mark.parametrize(("method", "path", "payload", "status", "shape"), BAD_REQUESTS)
def test_bad_input_gets_a_documented_json_error(url, method, path, payload, status, shape):
    if method == "get":
        r = httpx.get(url + path, params=payload, timeout=30)
    else:
        r = httpx.post(url + path, json=payload, timeout=30)
    assert r.status_code == status, r.text
    body = r.json()
    if shape == "openai":
        assert set(body["error"]) == {"message", "type", "code", "param"} and body["error"]["message"]
    elif shape == "v2":
        assert set(body) == {"message", "Exception"} and body["message"]
    elif shape == "v1":
        assert body["code"] == status and body["message"]
    else:
        assert body["error"] and body["message"]


@pytest.mark.parametrize("path", ["/tts", "/", "/v1/audio/speech", "/api/clone"])
def test_malformed_json_is_400_and_the_server_keeps_serving(url, path):
    r = httpx.post(url + path, content=b'{"text": "Hi",', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert "JSON" in r.text
    assert httpx.get(f"{url}/api/health").json()["status"] == "ok"


def test_errors_speak_chinese_when_asked(url):
    r = httpx.post(f"{url}/tts", json=v2_body(""), headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "文本是空的" in r.json()["message"]


def test_gpt_sovits_weight_routes_are_harmless(url):
    for route in ("/set_gpt_weights", "/set_sovits_weights"):
        r = httpx.get(url + route, params={"weights_path": "/etc/passwd"})
        assert r.status_code == 200 and r.json()["message"] == "success"


def test_body_size_limit(url):
    big = {"input": "x" * (3 * 1024 * 1024), "voice": "Vivian"}
    r = httpx.post(f"{url}/v1/audio/speech", json=big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"

    def chunked():
        for _ in range(3):
            yield b"x" * (1024 * 1024)

    r = httpx.post(f"{url}/tts", content=chunked(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and set(r.json()) == {"message", "Exception"}


def test_loopback_server_refuses_foreign_host_headers(url):
    r = httpx.get(f"{url}/api/health", headers={"Host": "evil.example:9880"})
    assert r.status_code == 400
    assert httpx.get(f"{url}/api/health", headers={"Host": "localhost:9880"}).status_code == 200


def test_api_key(keyed):
    base = keyed.url
    r = httpx.post(f"{base}/v1/audio/speech", json={"input": "Hi", "voice": "Vivian"})
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    assert r.headers["www-authenticate"] == "Bearer"
    r = httpx.post(f"{base}/tts", json=v2_body("Hi"), headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and set(r.json()) == {"message", "Exception"}
    assert httpx.get(f"{base}/audio/voices", headers={"X-API-Key": KEY}).status_code == 200
    assert httpx.get(f"{base}/audio/voices", params={"api_key": KEY}).status_code == 200
    assert httpx.get(f"{base}/audio/voices", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert httpx.get(f"{base}/api/health").status_code == 200  # liveness needs no key


def test_cors_is_closed_by_default(url):
    origin = {"Origin": "https://evil.example"}
    r = httpx.options(f"{url}/v1/audio/speech", headers={**origin, "Access-Control-Request-Method": "POST"}, timeout=10)
    assert "access-control-allow-origin" not in r.headers
    assert "access-control-allow-origin" not in httpx.get(f"{url}/api/health", headers=origin).headers


def test_cors_opens_for_listed_origins(engine, library):
    srv = serve_in_thread(engine, port=free_port(), voices_root=library.root, cors_origins=["http://app.local"])
    try:
        r = httpx.get(f"{srv.url}/api/health", headers={"Origin": "http://app.local"})
        assert r.headers["access-control-allow-origin"] == "http://app.local"
    finally:
        srv.stop()
    assert not srv.server.config.app.state.studio.upload_dir.exists()  # the upload area goes with the server


def test_refuses_to_listen_beyond_loopback_without_a_key():
    from studio.api import run_server

    with pytest.raises(InputError, match="API key"):
        run_server("0.0.0.0", free_port(), None)


def test_serve_subcommand(monkeypatch):
    import argparse

    from studio.api import cli as api_cli
    from studio.api import server as api_server

    parser = argparse.ArgumentParser()
    api_cli.add_serve_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve"])
    assert (args.host, args.port, args.max_queue) == ("127.0.0.1", 9880, 8)
    with pytest.raises(InputError):
        args = parser.parse_args(["serve", "--host", "0.0.0.0"])
        monkeypatch.setattr(args, "api_key", None)
        args.func(args)
    started = threading.Event()
    monkeypatch.setattr(api_server, "run_server", lambda *a, **kw: started.set())
    args = parser.parse_args(["serve", "--host", "0.0.0.0", "--api-key", KEY, "--port", "9999"])
    assert args.func(args) == 0 and started.is_set()
