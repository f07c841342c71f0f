"""Files a client names must be files the client gave: the UI's file inputs, through HTTP against a running app.

Every event that takes a file is called the way a browser or a script can call it (Gradio's queue over
HTTP, or gradio_client) with ``FileData`` paths the caller never uploaded: the studio refuses each with the
one message of :class:`studio.errors.ForeignFileError`, in the same words whether the file exists, is
missing or cannot be read. Real uploads and the studio's own outputs going back in still work.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from pathlib import Path

import gradio as gr
import httpx
import pytest
import soundfile as sf

from studio import space, space_mode
from studio.audio import MODEL_SR
from studio.errors import ForeignFileError
from tests.helpers import free_port, voiced_clip

REFUSAL = {lang: ForeignFileError().message(lang) for lang in ("zh", "en")}
FILE_COMPONENTS = (gr.Audio, gr.File, gr.Image, gr.Video)


def file_data(path) -> dict:
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}}


def call(url: str, fn_index: int, data: list, session: str | None = None) -> tuple[bool, object]:
    """Run event ``fn_index`` through Gradio's queue as the browser does; (success, output data or error text)."""
    session = session or uuid.uuid4().hex
    join = httpx.post(
        f"{url}gradio_api/queue/join",
        json={"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": None},
        timeout=30,
    )
    assert join.status_code == 200, join.text
    event_id = join.json()["event_id"]
    with httpx.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}, timeout=120) as reply:
        for line in reply.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                output = message.get("output") or {}
                if message.get("success"):
                    return True, output.get("data")
                return False, output.get("error")
    raise AssertionError("the event never completed")


def file_events(demo) -> list[int]:
    """The index of every event whose inputs include a file component."""
    return [i for i, fn in demo.fns.items() if any(isinstance(c, FILE_COMPONENTS) for c in fn.inputs)]


def foreign_call(url, demo, fn_index, path, session=None):
    """Event ``fn_index`` with ``path`` in each file input and nothing in the others."""
    fn = demo.fns[fn_index]
    data = [file_data(path) if isinstance(c, FILE_COMPONENTS) else None for c in fn.inputs]
    return call(url, fn_index, data, session)


def event(demo, name: str, module: str = "") -> int:
    """The index of the event whose handler is called ``name`` (defined in a module whose name ends in ``module``)."""
    (index,) = [
        i
        for i, fn in demo.fns.items()
        if getattr(fn.fn, "__name__", "") == name and getattr(fn.fn, "__module__", "").endswith(module)
    ]
    return index


def write_wav(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), voiced_clip(3.0), MODEL_SR)
    return path


@contextlib.contextmanager
def served(demo, **kwargs):
    demo.launch(prevent_thread_lock=True, quiet=True, **kwargs)
    try:
        yield demo.local_url
    finally:
        demo.close()


@pytest.fixture
def desktop_app(studio_home):
    """The desktop app as ``python app.py`` launches it (same launch settings), served on a free port."""
    from studio import desktop

    demo = desktop._launch("127.0.0.1", free_port(), False, False)
    try:
        yield demo, demo.local_url
    finally:
        demo.close()


@pytest.fixture
def planted(tmp_path):
    """Files the client never uploaded: one in Gradio's shared upload folder (another app's or visitor's),
    one elsewhere on the server, a missing one and an unreadable one (a folder with a file's name)."""
    cache = Path(gr.utils.get_upload_folder())
    other = cache / f"other-{uuid.uuid4().hex}"
    unreadable = other / "unreadable.wav"
    unreadable.mkdir(parents=True)
    files = {
        "in_gradio_cache": write_wav(other / "secret.wav"),
        "on_server": write_wav(tmp_path / "server" / "secret.wav"),
        "missing": other / "missing.wav",
        "unreadable": unreadable,
    }
    yield files
    for path in (files["in_gradio_cache"],):
        path.unlink(missing_ok=True)
    unreadable.rmdir()
    other.rmdir()


def test_every_file_event_refuses_files_the_client_did_not_upload(desktop_app, planted):
    demo, url = desktop_app
    from studio.paths import voices_dir
    from studio.voices import VoiceLibrary

    library = VoiceLibrary(voices_dir())
    library.create("已存", (MODEL_SR, voiced_clip(3.0)), "参考文字。", consent=True)
    voice_clip = library.clip_path("已存")
    events = file_events(demo)
    names = {demo.fns[i].fn.__name__ for i in events}
    # Clone, the voice tab (check, trim, save, add a clip, transcribe, import), dubbing import, file check.
    assert {"generate", "on_analyse", "on_save", "on_import", "do_import", "check_upload"} <= names, names
    for fn_index in events:
        answers = set()
        for path in (*planted.values(), voice_clip):
            ok, error = foreign_call(url, demo, fn_index, path)
            assert not ok, (demo.fns[fn_index].fn.__name__, path)
            answers.add(error)
        # One answer for a file that exists, is missing or is unreadable: nothing to learn about the server.
        assert answers == {REFUSAL["zh"]}, (demo.fns[fn_index].fn.__name__, answers)
    assert [v.name for v in library.list()] == ["已存"]  # nothing was saved from any of them


def test_missing_and_unreadable_files_answer_alike_without_exception_text(desktop_app, planted):
    demo, url = desktop_app
    save = event(demo, "on_save", "voice_tab")
    answers = []
    for path in (planted["missing"], planted["unreadable"], "/nonexistent/x.wav", "http://127.0.0.1:1/a.wav"):
        ok, error = call(url, save, [None, file_data(path), None, "甲", "参考文字。", "auto", "", True])
        assert not ok
        answers.append(error)
    assert set(answers) == {REFUSAL["zh"]}
    assert not any(word in str(answers) for word in ("Errno", "Error:", "FileNotFound", "Permission", "/"))


def test_real_uploads_and_the_apps_own_outputs_still_work(desktop_app, tmp_path):
    from gradio_client import Client, handle_file

    demo, url = desktop_app
    client = Client(url, verbose=False)
    clip = write_wav(tmp_path / "mine.wav")
    status, rows = client.predict(
        handle_file(str(clip)), "我的声音", "参考文字。", "auto", "", True, api_name="/save_voice"
    )
    assert "我的声音" in status and rows["data"][0][0] == "我的声音"
    # The exported archive (an output) goes back into the import button of the same session...
    session = uuid.uuid4().hex
    ok, (archive,) = call(url, event(demo, "on_export", "voice_tab"), [None, "我的声音"], session)
    assert ok and archive["path"].endswith(".zip")
    ok, _ = call(url, event(demo, "on_import", "voice_tab"), [None, archive, "另一个"], session)
    assert ok, _
    # ...but not into another session's: a file given to one visitor is not another's to name.
    ok, error = call(url, event(demo, "on_import", "voice_tab"), [None, archive, "第三个"], uuid.uuid4().hex)
    assert not ok and error == REFUSAL["zh"]
    from studio.paths import voices_dir
    from studio.voices import VoiceLibrary

    assert sorted(v.name for v in VoiceLibrary(voices_dir()).list()) == sorted(["我的声音", "另一个"])


def test_the_refusal_speaks_the_pages_language(desktop_app, planted):
    demo, url = desktop_app
    session = uuid.uuid4().hex
    ok, _ = call(url, event(demo, "switch_language"), ["en"], session)
    assert ok
    ok, error = call(
        url, event(demo, "check_upload", "takes_tab"), [None, file_data(planted["in_gradio_cache"])], session
    )
    assert not ok and error == REFUSAL["en"]


def test_unexpected_errors_reach_the_client_without_their_text(desktop_app, monkeypatch):
    from studio.paths import voices_dir
    from studio.voices import VoiceLibrary

    demo, url = desktop_app

    def broken(*_args, **_kwargs):
        raise FileNotFoundError(2, "No such file or directory", "/srv/secret/clip.wav")

    VoiceLibrary(voices_dir()).create("导出", (MODEL_SR, voiced_clip(3.0)), "参考文字。", consent=True)
    monkeypatch.setattr(VoiceLibrary, "export", broken)  # the app runs in this process: its next export fails
    ok, error = call(url, event(demo, "on_export", "voice_tab"), [None, "导出"])
    assert not ok and error.startswith("内部错误")
    assert "secret" not in error and "Errno" not in error and "FileNotFound" not in error


def test_a_voice_folder_that_is_a_link_is_neither_listed_nor_used(desktop_app, tmp_path):
    from studio.paths import voices_dir
    from studio.voices import VoiceLibrary

    demo, url = desktop_app
    library = VoiceLibrary(voices_dir())
    library.create("真的", (MODEL_SR, voiced_clip(3.0)), "参考文字。", consent=True)
    elsewhere = VoiceLibrary(tmp_path / "elsewhere")
    linked = elsewhere.create("链接", (MODEL_SR, voiced_clip(3.0, seed=1)), "别处的声音。", consent=True)
    (library.root / "linked").symlink_to(linked.path, target_is_directory=True)
    ok, (rows,) = call(url, event(demo, "on_search", "voice_tab"), [None, ""])
    assert ok and [row[0] for row in rows["data"]] == ["真的"]
    ok, preview = call(url, event(demo, "on_preview", "voice_tab"), ["链接"])
    assert ok and preview == [None]  # no clip of the linked folder is played
    ok, error = call(url, event(demo, "on_export", "voice_tab"), [None, "链接"])
    assert not ok and "链接" in error and "找不到" in error


# --- Space mode -------------------------------------------------------------------------------------


@pytest.fixture
def space_app(tmp_path, monkeypatch):
    """The studio in Space mode, installed and launched as ``python app.py --space`` does, in this process."""
    from studio.ui.app import build_app

    monkeypatch.setenv(space.FLAG_ENV, "1")
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    store = space.SessionStorage(tmp_path / "sessions")
    monkeypatch.setattr(space_mode, "_STORAGE", store)
    monkeypatch.setattr(space, "start_sweeper", lambda *a: None)
    demo = build_app()
    space.install(demo, space.SpaceLimits(), store)
    with served(demo, **space.launch_kwargs("127.0.0.1", free_port())) as url:
        yield demo, url, store


def test_a_visitor_cannot_save_a_server_file_as_their_voice(space_app, planted):
    demo, url, store = space_app
    save = event(demo, "on_save", "voice_tab")
    for path in planted.values():
        ok, error = call(url, save, [None, file_data(path), None, "偷来的", "参考文字。", "auto", "", True])
        assert not ok and error == REFUSAL["zh"]
    assert not list(store.root.rglob("profile.json"))


def test_closing_the_tab_deletes_the_visitors_folder(space_app, tmp_path, monkeypatch):
    from gradio_client import Client, handle_file

    monkeypatch.setenv("GRADIO_HEARTBEAT_INTERVAL", "1")  # the server notices a closed tab within a second

    demo, url, store = space_app
    client = Client(url, verbose=False)
    client.predict(
        handle_file(str(write_wav(tmp_path / "v.wav"))), "访客", "参考文字。", "auto", "", True, api_name="/save_voice"
    )
    # The visitor's page: a heartbeat (the open tab) and a voice saved in the same session.
    session = uuid.uuid4().hex
    closed = threading.Event()

    def tab():
        with httpx.stream("GET", f"{url}gradio_api/heartbeat/{session}", timeout=60) as reply:
            for _ in reply.iter_lines():
                if closed.is_set():
                    return

    heartbeat = threading.Thread(target=tab, daemon=True)
    heartbeat.start()
    upload = httpx.post(
        f"{url}gradio_api/upload", files={"files": ("me.wav", write_wav(tmp_path / "me.wav").read_bytes())}, timeout=30
    ).json()[0]
    ok, _ = call(
        url,
        event(demo, "on_save", "voice_tab"),
        [None, file_data(upload), None, "我", "参考文字。", "auto", "", True],
        session,
    )
    assert ok, _
    folder = store.root / store.key(session)
    assert (folder / "voices").is_dir() and list(folder.rglob("profile.json"))
    assert Path(upload).exists()
    closed.set()  # the tab closes: the heartbeat connection ends
    deadline = time.monotonic() + 120  # a bound for a loaded machine, not a speed check
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not folder.exists(), "the visitor's folder outlived the tab"
    assert not Path(upload).exists()  # the visitor's upload left Gradio's cache too
    assert len([p for p in store.root.iterdir() if p.is_dir()]) == 1  # the other visitor keeps theirs


def test_visitors_do_not_share_dubbing_projects(space_app):
    demo, url, store = space_app
    alice, bob = uuid.uuid4().hex, uuid.uuid4().hex
    table = {"headers": ["#", "id", "scene", "speaker", "text"], "data": [[1, "", "s1", "A", "爱丽丝的台词。"]]}
    settings = ["dubbing/my-dub", table, {"headers": ["speaker", "voice"], "data": [["A", ""]]}, "", 0.4, 1.33]
    ok, _ = call(url, event(demo, "do_save", "dubbing_tab"), [None, *settings, False, "wav"], alice)
    assert ok, _
    ok, shown = call(url, event(demo, "do_open", "dubbing_tab"), [None, "dubbing/my-dub"], alice)
    assert ok and shown[0]["data"][0][4] == "爱丽丝的台词。"
    ok, shown = call(
        url, event(demo, "do_open", "dubbing_tab"), [None, "dubbing/my-dub"], bob
    )  # the same default folder name
    assert ok and "爱丽丝的台词。" not in json.dumps(shown, ensure_ascii=False)
    assert (store.root / store.key(alice) / "outputs" / "dubbing" / "my-dub" / "project.json").is_file()


def test_a_visitor_cannot_name_server_folders_as_models_or_change_settings(space_app, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    demo, url, _store = space_app
    refusal = "在线演示不能选择服务器上的文件夹"
    client = Client(url, verbose=False)
    clip = handle_file(str(write_wav(tmp_path / "ref.wav")))
    for folder in (str(tmp_path), "/nonexistent/model", "./models"):
        with pytest.raises(AppError, match=refusal):
            client.predict(ref=clip, transcript="参考。", txt="你好。", model_id=folder, api_name="/clone")
    for name, data in (
        ("do_use_folder", [None, "0.6b-base", str(tmp_path)]),
        ("do_save", [None, "http://mirror.example", "cpu", "float32"]),
        ("do_delete", [None, "0.6b-base"]),
    ):
        ok, error = call(url, event(demo, name, "models_tab"), data)
        assert not ok and error.startswith(refusal), (name, error)


def test_api_switch_starts_and_stops_the_http_api(studio_home):
    import httpx

    from studio.api import serve_in_thread
    from studio.ui.app import build_app
    from tests.helpers import free_port

    demo = build_app(serve_api=serve_in_thread)  # as the desktop launcher builds it
    toggle = next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "toggle")
    port = free_port()
    message = toggle("en", True, port)
    try:
        assert f"http://127.0.0.1:{port}" in message
        assert httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=10).status_code == 200
    finally:
        assert toggle("en", False, port) == "HTTP API stopped."
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
