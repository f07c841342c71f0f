"""Old GPT-SoVITS client configs against the studio over real HTTP: aliases and the prompt_text check."""

from __future__ import annotations

import io

import httpx
import pytest
import soundfile as sf

from studio.api import serve_in_thread
from studio.audio import MODEL_SR
from studio.engine import Engine
from studio.models import ModelManager
from studio.settings import Settings
from studio.voices import VoiceLibrary
from tests.helpers import free_port, voiced_clip

pytestmark = pytest.mark.slow

NAHIDA = "E:\\alearn\\GPT-SoVITS\\纳西妲\\0.wav"  # xiaozhi-esp32-server's config on the old Windows machine
FLASK = "参考音频.wav"  # the digital-human app's default reference
TRANSCRIPT = "你好，我是纳西妲。"
TIMEOUT = httpx.Timeout(300.0, connect=10.0)


@pytest.fixture(scope="module")
def url(tmp_path_factory, tiny_base):
    lib = VoiceLibrary(tmp_path_factory.mktemp("alias-voices"))
    lib.create("纳西妲", (MODEL_SR, voiced_clip(3.0)), transcript=TRANSCRIPT, language="Chinese", consent=True)
    lib.create("派蒙", (MODEL_SR, voiced_clip(3.0, seed=2)), transcript="", language="Chinese", consent=True)
    srv = serve_in_thread(
        Engine(ModelManager(Settings(dtype="float32"))),
        port=free_port(),
        models={"base": str(tiny_base)},
        voices_root=lib.root,
    )
    yield srv.url
    srv.stop()


def test_alias_routes(url):
    r = httpx.post(f"{url}/api/voices/纳西妲/aliases", json={"alias": NAHIDA})
    assert r.status_code == 201 and r.json() == {"voice": "纳西妲", "aliases": [NAHIDA]}
    r = httpx.post(f"{url}/api/voices/纳西妲/aliases", json={"alias": FLASK})
    assert r.json()["aliases"] == [NAHIDA, FLASK]
    assert httpx.get(f"{url}/api/voices/纳西妲/aliases").json()["aliases"] == [NAHIDA, FLASK]
    listed = {v["name"]: v["aliases"] for v in httpx.get(f"{url}/api/voices").json()["voices"]}
    assert listed == {"纳西妲": [NAHIDA, FLASK], "派蒙": []}
    r = httpx.post(f"{url}/api/voices/派蒙/aliases", json={"alias": NAHIDA}, headers={"Accept-Language": "en"})
    assert r.status_code == 400 and "already belongs to the voice '纳西妲'" in r.json()["message"]
    r = httpx.post(f"{url}/api/voices/派蒙/aliases", json={"alias": "x" * 261})
    assert r.status_code in (400, 422)
    assert httpx.post(f"{url}/api/voices/nobody/aliases", json={"alias": "a.wav"}).status_code == 404
    r = httpx.delete(f"{url}/api/voices/纳西妲/aliases", params={"alias": FLASK})
    assert r.status_code == 200 and r.json()["aliases"] == [NAHIDA]
    assert httpx.delete(f"{url}/api/voices/纳西妲/aliases", params={"alias": FLASK}).status_code == 404
    httpx.post(f"{url}/api/voices/纳西妲/aliases", json={"alias": FLASK}).raise_for_status()


def _wav(r: httpx.Response) -> int:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    samples, sr = sf.read(io.BytesIO(r.content))
    assert sr == MODEL_SR and len(samples) > 0
    return len(samples)


@pytest.mark.usefixtures("aliases_set")
def test_xiaozhi_v3_config_unchanged(url):
    # gpt_sovits_v3 ("python api.py"): GET on the root with the v1 fields, the Windows path as configured.
    params = {"refer_wav_path": NAHIDA, "prompt_text": TRANSCRIPT, "prompt_language": "zh", "text": "你好。"}
    params |= {"text_language": "auto", "cut_punc": "", "speed": 1.0, "top_k": 15}
    r = httpx.get(url, params=params, timeout=TIMEOUT)
    _wav(r)
    assert "x-prompt-text-mismatch" not in r.headers


@pytest.mark.usefixtures("aliases_set")
def test_digital_human_v2_call_with_another_prompt_text_is_flagged(url):
    body = {"text": "你好。", "text_lang": "zh", "ref_audio_path": FLASK, "prompt_text": "别的录音说的话。"}
    body |= {"prompt_lang": "zh"}
    r = httpx.post(f"{url}/tts", json=body, timeout=TIMEOUT)
    _wav(r)
    assert r.headers["x-prompt-text-mismatch"] == "stored-transcript-used"
    # punctuation, spaces and case aside, the same words are no mismatch; an empty prompt_text never is
    for text in ("你好 我是纳西妲", ""):
        r = httpx.post(f"{url}/tts", json={**body, "prompt_text": text}, timeout=TIMEOUT)
        _wav(r)
        assert "x-prompt-text-mismatch" not in r.headers


@pytest.mark.usefixtures("aliases_set")
def test_change_refer_with_an_alias(url):
    r = httpx.post(f"{url}/change_refer", json={"refer_wav_path": NAHIDA, "prompt_text": TRANSCRIPT})
    assert r.json() == {"code": 0, "message": "Success"}
    _wav(httpx.post(url, json={"text": "好的。", "text_language": "zh"}, timeout=TIMEOUT))


def test_an_unknown_windows_path_is_refused_saying_how_to_alias_it(url):
    body = {"text": "你好。", "text_lang": "zh", "ref_audio_path": "E:\\other\\1.wav"}
    r = httpx.post(f"{url}/tts", json=body, headers={"Accept-Language": "en"})
    assert r.status_code == 404
    assert "voices alias NAME" in r.json()["message"] and "/api/voices/NAME/aliases" in r.json()["message"]


@pytest.fixture
def aliases_set(url):
    """The client tests need the aliases set up by :func:`test_alias_routes`; set them here if it did not run."""
    for alias in (NAHIDA, FLASK):
        if httpx.get(f"{url}/api/voices/纳西妲/aliases").json()["aliases"].count(alias) == 0:
            httpx.post(f"{url}/api/voices/纳西妲/aliases", json={"alias": alias}).raise_for_status()


@pytest.mark.usefixtures("aliases_set")
def test_import_a_gpt_sovits_config_over_http(url):
    from tests.test_voice_aliases import XIAOZHI_YAML

    clip = io.BytesIO()
    sf.write(clip, voiced_clip(3.0, seed=4), MODEL_SR, format="WAV")
    config = ("config.yaml", XIAOZHI_YAML.encode(), "application/yaml")
    form = {"block": "GPT_SOVITS_V3", "name": "坤", "consent": "true"}
    # The config names a file on the server ("caixukun.wav" beside nothing): without the clip it is refused.
    r = httpx.post(
        f"{url}/api/voices/import-gsv", files={"config": config}, data=form, headers={"Accept-Language": "en"}
    )
    assert r.status_code == 400 and "is not here" in r.json()["message"]
    files = {"config": config, "audio": ("0.wav", clip.getvalue(), "audio/wav")}
    r = httpx.post(f"{url}/api/voices/import-gsv", files=files, data=form)
    assert r.status_code == 201 and r.json() == {"voice": "坤", "alias": "caixukun.wav", "created": True}
    # the client's v3 call works unchanged (prompt_text "": the voice's own transcript, here none: x-vector mode)
    params = {"refer_wav_path": "caixukun.wav", "prompt_text": "", "prompt_language": "zh", "text": "你好。"}
    assert _wav(httpx.get(f"{url}/", params=params | {"text_language": "zh"}, timeout=TIMEOUT)) > 0
    # the other block's path already belongs to 纳西妲 (aliases_set): adding it to 派蒙 is refused, naming the holder
    r = httpx.post(
        f"{url}/api/voices/import-gsv",
        files={"config": config},
        data={"block": "GPT_SOVITS_V2", "voice": "派蒙"},
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 400 and "纳西妲" in r.json()["message"]
    bad = httpx.post(f"{url}/api/voices/import-gsv", files={"config": ("config.exe", b"x", "text/plain")})
    assert bad.status_code == 400
