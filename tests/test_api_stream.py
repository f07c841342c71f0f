"""Streaming through every HTTP route: audio leaves while the talker is still generating.

The causal check holds the generation a few frames after its first streamed
chunk until the client has its first bytes: a server that waited for the
whole segment would never release it (the hold gives up after a minute and
the test fails). No timing is asserted.
"""

from __future__ import annotations

import base64
import json
import threading

import httpx
import pytest

from studio.accel.stream import StreamDecoder
from studio.api import serve_in_thread
from studio.api.streaming import segments, split_gpt_sovits
from studio.engine import Engine
from studio.models import ModelManager
from studio.settings import Settings
from studio.synthesis import max_steps_for
from studio.watermark import detect
from tests.helpers import free_port
from tests.test_api import FRAME, TIMEOUT, assert_length, decode, v2_body

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine():
    return Engine(ModelManager(Settings(dtype="float32")))


@pytest.fixture(scope="module")
def url(engine, tmp_path_factory, tiny_base, tiny_custom):
    from studio.voices import VoiceLibrary
    from tests.helpers import voiced_clip
    from tests.test_api import VOICE

    library = VoiceLibrary(tmp_path_factory.mktemp("stream-voices"))
    library.create(VOICE, (24_000, voiced_clip(3.0)), transcript="参考文字。", language="Chinese", consent=True)
    models = {"base": str(tiny_base), "custom_voice": str(tiny_custom)}
    srv = serve_in_thread(engine, port=free_port(), models=models, voices_root=library.root)
    yield srv.url
    srv.stop()


@pytest.fixture
def hold(monkeypatch):
    """Generation stops 3 frames after its first streamed chunk until ``reached`` is set (the client's first bytes)."""
    reached = threading.Event()
    log = {"held": 0, "released": 0}

    def push(self, frame):
        original(self, frame)
        if self.pieces and self.frames == len(self.pieces[0]) // FRAME + 3 and not log["held"]:
            log["held"] += 1  # the first bytes may well be there already; if not, wait for them
            if reached.wait(timeout=60):
                log["released"] += 1

    original = StreamDecoder.push
    monkeypatch.setattr(StreamDecoder, "push", push)
    log["reached"] = reached
    return log


def stream(method: str, url: str, first, **kwargs) -> tuple[bytes, httpx.Headers]:
    """The body of a streamed answer; ``first`` is set when its first bytes arrive."""
    data = b""
    with httpx.stream(method, url, timeout=TIMEOUT, **kwargs) as r:
        assert r.status_code == 200, r.read()
        for chunk in r.iter_bytes():
            first.set()
            data += chunk
        return data, r.headers


def assert_streamed_early(hold) -> None:
    assert hold["held"] == 1 and hold["released"] == 1, hold  # first bytes came while generation was held


def test_gpt_sovits_streaming_mode(url, hold):
    text = "One. Two. Three."
    body = v2_body(text, text_split_method="cut5", streaming_mode=True, seed=5)
    data, headers = stream("POST", f"{url}/tts", hold["reached"], json=body)
    assert_streamed_early(hold)
    parts = split_gpt_sovits(text, "cut5")
    assert len(parts) == 3 and headers.get("transfer-encoding") == "chunked" and headers["x-seed"] == "5"
    assert data[:4] == b"RIFF" and data[40:44] == b"\xff\xff\xff\xff"  # header first, length unknown
    audio = decode(data, "wav")
    assert_length(len(audio), parts, pause_s=0.3)
    assert detect(audio, 24_000)[0]  # the mark added chunk by chunk is one continuous mark


def test_gpt_sovits_single_segment_streams_too(url, hold):
    body = v2_body("Hello there, my friend, how are you?", text_split_method="cut0", streaming_mode=1, seed=2)
    data, _ = stream("POST", f"{url}/tts", hold["reached"], json=body)
    assert_streamed_early(hold)
    # The same request answered whole (same seed, same codes) is as long, to a sample at the reference cut.
    whole = httpx.post(f"{url}/tts", json=body | {"streaming_mode": False}, timeout=TIMEOUT)
    assert abs(len(decode(data, "wav")) - len(decode(whole.content, "wav"))) <= 1


def test_openai_pcm_stream(url, hold):
    text = "Hi. Hello there."
    parts = segments(text)
    assert parts == ["Hi.", "Hello there."]
    body = {"model": "tts-1", "input": text, "voice": "Vivian", "response_format": "pcm", "seed": 3}
    data, headers = stream("POST", f"{url}/v1/audio/speech", hold["reached"], json=body)
    assert_streamed_early(hold)
    assert headers["x-seed"] == "3"
    assert_length(len(data) // 2, parts, slack=0)


def test_openai_sse_sends_chunks_of_the_asked_size(url, hold):
    text = "Hello there, my friend."
    body = {"model": "tts-1", "input": text, "voice": "Vivian", "response_format": "pcm", "stream_format": "sse"}
    body |= {"stream_chunk_frames": 5, "seed": 4}  # a fixed seed: the random model's length (and chunk count) varies
    data, headers = stream("POST", f"{url}/v1/audio/speech", hold["reached"], json=body)
    assert_streamed_early(hold)
    assert headers["content-type"].startswith("text/event-stream")
    events = [json.loads(line[6:]) for line in data.decode().splitlines() if line.startswith("data: ")]
    assert events[-1]["type"] == "speech.audio.done" and events[-1]["usage"]["output_tokens"] > 0
    deltas = [base64.b64decode(e["audio"]) for e in events[:-1]]
    assert all(e["type"] == "speech.audio.delta" for e in events[:-1])
    sizes = [len(d) // 2 // FRAME for d in deltas]
    assert len(sizes) >= 3, sizes  # a first chunk, at least one full one, and the rest
    assert sizes[0] == 4 and all(size == 5 for size in sizes[1:-1]) and 1 <= sizes[-1] <= 5  # first chunk min(4, 5)
    assert_length(sum(len(d) for d in deltas) // 2, [text], slack=0)


def test_native_stream_with_chunk_sizes(url, hold):
    body = {"text": "Hello there, my friend.", "speaker": "Vivian", "format": "pcm", "stream": True, "seed": 1}
    body |= {"first_chunk_frames": 2, "chunk_frames": 7}
    data, headers = stream("POST", f"{url}/api/custom", hold["reached"], json=body)
    assert_streamed_early(hold)
    assert headers["x-seed"] == "1"
    assert_length(len(data) // 2, [body["text"]], slack=0)


def test_native_stream_with_a_speed_change_goes_whole(url):
    body = {"text": "Hello there.", "speaker": "Vivian", "format": "pcm", "stream": True, "speed": 1.5, "seed": 1}
    r = httpx.post(f"{url}/api/custom", json=body, timeout=TIMEOUT)
    assert r.status_code == 200 and r.headers.get("transfer-encoding") != "chunked"
    assert_length(len(r.content) // 2, [body["text"]], speed=1.5)


def test_leaving_mid_stream_stops_the_generation(url, monkeypatch):
    frames = {"n": 0}
    original = StreamDecoder.push

    def push(self, frame):
        frames["n"] = self.frames + 1
        original(self, frame)

    monkeypatch.setattr(StreamDecoder, "push", push)
    text = "Hello there, my friend, how are you today? " * 3
    body = {"text": text.strip(), "speaker": "Vivian", "format": "pcm", "stream": True, "split": "none"}
    with httpx.stream("POST", f"{url}/api/custom", json=body, timeout=TIMEOUT) as r:
        assert r.status_code == 200
        next(r.iter_bytes())  # one chunk, then the client goes away
    # The engine is free again: the next request is served, and the left one stopped early.
    r = httpx.post(f"{url}/api/custom", json={"text": "Hi", "speaker": "Vivian", "format": "pcm"}, timeout=TIMEOUT)
    assert r.status_code == 200
    assert frames["n"] < max_steps_for(text.strip()) - 1
