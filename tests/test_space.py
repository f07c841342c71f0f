"""Space mode (many visitors, private storage, limits) and the first-run download's missing cases."""

import hashlib
import os
import shutil
import time
from collections import namedtuple

import gradio as gr
import httpx
import pytest

from studio import checkpoints, space
from studio.errors import ResourceError, TextError
from studio.registry import get_spec
from tests.helpers import free_port, running_app

# --- two visitors of a Space-mode app ---------------------------------------------------------------


@pytest.fixture(scope="module")
def two_visitor_app(tmp_path_factory):
    """A Blocks app wired like the studio's Space mode: each session's voices in its own library."""
    store = space.SessionStorage(tmp_path_factory.mktemp("sessions"))

    def save_voice(audio_path: str, name: str, request: gr.Request) -> str:
        return store.voices(request).create(name, audio_path, transcript="参考", consent=True).name

    def list_voices(request: gr.Request) -> str:
        return ",".join(v.name for v in store.voices(request).list())

    def voice_clip(name: str, request: gr.Request) -> str:
        try:
            return str(store.voices(request).clip_path(name))
        except Exception as exc:
            raise gr.Error(f"not found: {name}") from exc

    with gr.Blocks() as demo:
        audio, name, names, clip = gr.Audio(type="filepath"), gr.Textbox(), gr.Textbox(), gr.File()
        gr.Button("save").click(save_voice, [audio, name], names, api_name="save_voice")
        gr.Button("list").click(list_voices, None, names, api_name="list_voices")
        gr.Button("clip").click(voice_clip, name, clip, api_name="voice_clip")
    space.install(demo, space.SpaceLimits(queue_size=4), store)
    demo.launch(**space.launch_kwargs("127.0.0.1", free_port()), prevent_thread_lock=True, quiet=True)
    yield demo, store
    demo.close()


def test_two_sessions_cannot_see_each_others_voices_or_files(two_visitor_app, reference_wav):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    demo, store = two_visitor_app
    alice, bob = Client(demo.local_url, verbose=False), Client(demo.local_url, verbose=False)
    assert alice.predict(handle_file(str(reference_wav)), "Alice", api_name="/save_voice") == "Alice"
    assert alice.predict(api_name="/list_voices") == "Alice"
    assert bob.predict(api_name="/list_voices") == ""
    with pytest.raises(AppError, match="not found"):
        bob.predict("Alice", api_name="/voice_clip")
    own = alice.predict("Alice", api_name="/voice_clip")  # her own clip comes back to her
    assert os.path.getsize(own) > 1000
    # Bob knows where Alice's clip lies on the server: Gradio still refuses to serve it.
    (stolen,) = store.root.rglob("clips/*.wav")
    answer = httpx.get(f"{demo.local_url}gradio_api/file={stolen}", timeout=10)
    assert answer.status_code in (403, 404)
    assert len([p for p in store.root.iterdir() if p.is_dir()]) == 2  # one folder per visitor


def test_session_folders_are_hashed_removed_on_unload_and_swept(tmp_path):
    store = space.SessionStorage(tmp_path)
    Request = namedtuple("Request", "session_hash")
    a, b = Request("abc"), Request("../../etc")
    folder = store.folder(b)
    assert folder.parent == tmp_path and ".." not in folder.name and folder.name != "etc"
    (store.outputs(a) / "take.wav").write_bytes(b"x")
    assert store.forget(a) and not (tmp_path / store.key(a)).exists()
    old = time.time() - 7200
    os.utime(folder / store.STAMP, (old, old))
    store.folder(a)
    assert store.sweep(max_age_s=3600) == 1
    assert [p.name for p in tmp_path.iterdir()] == [store.key(a)]
    with pytest.raises(Exception, match="session"):
        store.folder(Request(""))


def test_text_limit_applies_only_in_space_mode(monkeypatch):
    limits = space.SpaceLimits(max_text_chars=10)
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.delenv(space.FLAG_ENV, raising=False)
    assert space.check_text("x" * 50, limits) == "x" * 50
    monkeypatch.setenv("SPACE_ID", "someone/qwen-voice-studio")
    assert space.check_text("短文本", limits) == "短文本"
    with pytest.raises(TextError) as info:
        space.check_text("x" * 11, limits)
    assert "10" in info.value.zh and "desktop app" in info.value.en


def test_gpu_decorator_is_a_no_op_without_zero_gpu(monkeypatch):
    monkeypatch.delenv("SPACE_ID", raising=False)
    space._spaces_module.cache_clear()

    def work(x):
        return x * 2

    assert space.gpu(work) is work and space.gpu(seconds=30)(work) is work
    assert not space.zero_gpu_available()


def test_a_cpu_space_with_the_real_spaces_package_runs_gpu_work_in_place(monkeypatch):
    """On a Space without ZeroGPU hardware, Hugging Face's own ``spaces.GPU`` takes our call and changes nothing."""
    import spaces
    from spaces.config import Config

    monkeypatch.setenv("SPACE_ID", "someone/qwen-voice-studio")
    monkeypatch.setattr(Config, "zero_gpu", False)
    space._spaces_module.cache_clear()
    seen = []
    real_gpu = spaces.GPU

    def recording_gpu(*args, **kwargs):
        seen.append(kwargs)
        return real_gpu(*args, **kwargs)

    monkeypatch.setattr(spaces, "GPU", recording_gpu)
    try:
        assert space.zero_gpu_available()

        def work(x):
            return x * 2

        def stream(n):
            yield from range(n)

        assert space.gpu(work)(21) == 42 and space.gpu(seconds=30)(work)(1) == 2
        assert list(space.gpu(stream)(3)) == [0, 1, 2]
        limits = space.SpaceLimits.from_env()
        assert seen == [{"duration": limits.gpu_seconds}, {"duration": 30}, {"duration": limits.gpu_seconds}]
    finally:
        space._spaces_module.cache_clear()


def test_limits_and_launch_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("STUDIO_SPACE_MAX_TEXT", "123")
    monkeypatch.setenv("STUDIO_SPACE_QUEUE", "not a number")
    limits = space.SpaceLimits.from_env()
    assert limits.max_text_chars == 123 and limits.queue_size == space.SpaceLimits.queue_size
    kwargs = space.launch_kwargs()
    assert kwargs["allowed_paths"] == [] and kwargs["server_name"] == "0.0.0.0" and kwargs["share"] is False


@pytest.mark.slow
def test_app_py_space_flag_serves_no_data_file(tmp_path):
    """``python app.py --space``: the page is served; the data folder is not (the desktop app allows it)."""
    home, sessions = tmp_path / "home", tmp_path / "sessions"
    home.mkdir()
    (home / "settings.json").write_text('{"endpoint": "secret"}', encoding="utf-8")
    started = time.monotonic()
    with running_app(
        home, "--space", "--host", "127.0.0.1", env={"STUDIO_SESSIONS_DIR": str(sessions), "SPACE_ID": ""}
    ) as url:
        print(f"Space-mode app answered HTTP after {time.monotonic() - started:.1f} s")
        leak = httpx.get(f"{url}gradio_api/file={home / 'settings.json'}", timeout=10)
        assert leak.status_code in (403, 404) and "secret" not in leak.text
        config = httpx.get(f"{url}config", timeout=10).json()
        assert config.get("max_file_size") == 20 * 1024 * 1024
        assert sessions.is_dir()  # the session store was set up
        assert not (home / "instance.json").exists()  # no desktop single-instance record on a Space


# --- the first-run download: what tests/test_checkpoints.py does not cover ---------------------------


@pytest.fixture
def hub(tiny_base):
    from tests.fake_hub import FakeHub

    server = FakeHub(tiny_base, get_spec("0.6b-base").repo_id)
    yield server
    server.close()


def test_first_run_download_follows_hf_endpoint(studio_home, hub, monkeypatch):
    """The first Generate downloads through HF_ENDPOINT (a mirror) when no endpoint is configured."""
    from studio.models import ModelManager

    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    info = ModelManager().resolve("0.6b-base")
    assert info.kind == "base" and info.path == checkpoints.local_dir(get_spec("0.6b-base"))
    assert any(path.startswith("/api/models/") for path, _ in hub.requests)


def test_no_disk_space_is_refused_before_any_file_is_fetched(studio_home, hub, monkeypatch):
    real = shutil.disk_usage
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(checkpoints.shutil, "disk_usage", lambda path: Usage(real(path).total, 0, 1_000_000))
    with pytest.raises(ResourceError) as info:
        checkpoints.download(get_spec("0.6b-base"), endpoint=hub.url)
    assert "磁盘空间不足" in info.value.zh and "STUDIO_HOME" in info.value.en
    assert all(path.startswith("/api/") for path, _ in hub.requests)  # only the file list was asked for
    assert not [p for p in checkpoints.local_dir(get_spec("0.6b-base")).rglob("*") if p.is_file()]


def test_a_file_damaged_on_disk_is_fetched_again(studio_home, hub):
    spec = get_spec("0.6b-base")
    checkpoints.download(spec, endpoint=hub.url)
    weights = checkpoints.local_dir(spec) / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 3] ^= 0xFF  # same size, wrong bytes: only the hash can tell
    weights.write_bytes(bytes(data))
    hub.requests.clear()
    checkpoints.download(spec, endpoint=hub.url)
    fetched = [path for path, _ in hub.requests if "/resolve/" in path]
    assert fetched == [f"/{spec.repo_id}/resolve/main/model.safetensors"]
    expected = next(f["lfs"]["sha256"] for f in hub.info()["siblings"] if f["rfilename"] == "model.safetensors")
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == expected
