"""Security: paths stay inside the studio's folders, archives and project files are distrusted, nothing unpickles.

Covers the HTTP API (file names in requests, symlinks, URLs, binding and
keys), voice archives (zip-slip, absolute names, links, bombs, lies in the
manifest), dubbing project files (line ids and take files that leave the
project), the code itself (``torch.load`` only with ``weights_only=True``, no
pickle, no unsafe YAML, no eval) and the UI's launch settings (uploads size
limited, data folders not served, no analytics, no open port without a key).
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import httpx
import pytest

from studio.audio import MODEL_SR
from studio.errors import InputError, NotFoundError, StudioError
from tests.helpers import ROOT, free_port, voiced_clip

VOICE = "安全测试"


# -- the code ---------------------------------------------------------------------------------------


def _sources() -> list[Path]:
    return [*sorted((ROOT / "studio").rglob("*.py")), ROOT / "app.py"]


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            yield node, owner, name


def _keyword(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name and isinstance(kw.value, ast.Constant):
            return kw.value.value
    return None


def test_torch_load_only_with_weights_only_and_no_pickle_yaml_or_eval():
    problems = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                restricted = str(where) == "studio/text/model.py"  # g2pM's data, through an arrays-only Unpickler
                if not restricted and any(
                    n.split(".")[0] in ("pickle", "cPickle", "dill", "shelve", "marshal") for n in names
                ):
                    problems.append(f"{where}:{node.lineno} imports a pickle module")
        for call, owner, name in _calls(tree):
            line = f"{where}:{call.lineno}"
            if owner == "torch" and name == "load" and _keyword(call, "weights_only") is not True:
                problems.append(f"{line} torch.load without weights_only=True")
            if owner in ("np", "numpy") and name == "load" and _keyword(call, "allow_pickle") is True:
                problems.append(f"{line} np.load(allow_pickle=True)")
            if owner == "yaml" and name in ("load", "load_all", "unsafe_load", "full_load"):
                problems.append(f"{line} yaml.{name} (use yaml.safe_load)")
            if isinstance(call.func, ast.Name) and name in ("eval", "exec"):
                problems.append(f"{line} {name}()")
    assert problems == []


def test_torch_load_is_called_at_least_once_and_every_call_is_checked():
    """The check above is not vacuous: the prompt cache does load tensors, safely."""
    found = [
        (path.name, call.lineno)
        for path in _sources()
        for call, owner, name in _calls(ast.parse(path.read_text(encoding="utf-8")))
        if owner == "torch" and name == "load"
    ]
    assert any(name == "prompts.py" for name, _ in found)  # the voices prompt cache; every call is checked above


def test_a_pickled_prompt_cache_is_never_executed(tmp_path):
    """A prompt file carrying a pickle payload is refused (weights_only) and the voice still works."""
    import torch

    from studio.voices import VoiceLibrary

    lib = VoiceLibrary(tmp_path / "voices")
    lib.create(VOICE, (MODEL_SR, voiced_clip(3.0)), "参考文字。", consent=True)
    lib.save_prompt(
        VOICE,
        "tiny",
        {
            "ref_spk_embedding": torch.zeros(4),
            "x_vector_only_mode": True,
            "icl_mode": False,
            "ref_code": None,
            "ref_text": None,
        },
    )
    prompt_files = list(lib.root.rglob("*.pt"))
    assert prompt_files
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"ref_spk_embedding": Evil()}, prompt_files[0])
    assert lib.load_prompt(VOICE, "tiny") is None
    assert not marker.exists()
    assert lib.get(VOICE).name == VOICE


# -- voice archives ---------------------------------------------------------------------------------


@pytest.fixture
def library(tmp_path):
    from studio.voices import VoiceLibrary

    lib = VoiceLibrary(tmp_path / "library" / "voices")
    lib.create(VOICE, (MODEL_SR, voiced_clip(3.0)), "参考文字。", consent=True)
    return lib


def _honest_members(library, tmp_path) -> dict[str, bytes]:
    archive = library.export(VOICE, tmp_path / "honest.zip")
    with zipfile.ZipFile(archive) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _manifest_for(members: dict[str, bytes], extra: dict[str, bytes] | None = None) -> bytes:
    manifest = json.loads(members["manifest.json"])
    for name, blob in (extra or {}).items():
        manifest["files"].append({"path": name, "size": len(blob), "sha256": hashlib.sha256(blob).hexdigest()})
    return json.dumps(manifest).encode()


def _write_zip(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for info, blob in members:
            zf.writestr(info, blob)
    return path


def _hostile(kind: str, members: dict[str, bytes], path: Path) -> Path:
    """One hostile archive built from an honest export's members."""
    honest = [(name, blob) for name, blob in members.items()]
    payload = b"owned"
    if kind in ("zip_slip", "absolute", "backslash", "drive_letter", "nul_byte"):
        name = {
            "zip_slip": "../../evil.txt",
            "absolute": "/tmp/evil.txt",
            "backslash": "..\\..\\evil.txt",
            "drive_letter": "C:/evil.txt",
            "nul_byte": "clips/evil.wav\x00.txt",
        }[kind]
        info = zipfile.ZipInfo("placeholder")
        info.filename = name  # ZipInfo() would normalise the name; an attacker's tool does not
        return _write_zip(path, [*honest, (info, payload)])
    if kind == "symlink":
        info = zipfile.ZipInfo("clips/link.wav")
        info.external_attr = (0o120777 << 16) | 0
        return _write_zip(path, [*honest, (info, b"/etc/passwd")])
    if kind == "zip_bomb":
        bomb = b"\0" * (40 * 1024 * 1024)
        listed = {**members, "manifest.json": _manifest_for(members, {"clips/bomb.wav": bomb})}
        return _write_zip(path, [*listed.items(), ("clips/bomb.wav", bomb)])
    if kind == "ratio_bomb":
        bomb = b"\0" * (8 * 1024 * 1024)
        listed = {**members, "manifest.json": _manifest_for(members, {"clips/bomb.wav": bomb})}
        return _write_zip(path, [*listed.items(), ("clips/bomb.wav", bomb)])
    if kind == "too_many_files":
        return _write_zip(path, [*honest, *((f"clips/x{i}.wav", b"") for i in range(60))])
    if kind == "encrypted_flag":
        info = zipfile.ZipInfo("clips/locked.wav")
        info.flag_bits |= 0x1
        return _write_zip(path, [*honest, (info, payload)])
    if kind == "unlisted_script":
        listed = {**members, "manifest.json": _manifest_for(members, {"run.py": payload})}
        return _write_zip(path, [*listed.items(), ("run.py", payload)])
    if kind == "tampered_clip":
        clip = next(n for n in members if n.startswith("clips/"))
        blob = bytearray(members[clip])
        blob[-10:] = b"\x7f" * 10
        return _write_zip(path, [(n, bytes(blob) if n == clip else b) for n, b in members.items()])
    if kind == "manifest_lies_about_size":
        manifest = json.loads(members["manifest.json"])
        manifest["files"][0]["size"] += 1
        return _write_zip(path, [(n, json.dumps(manifest).encode() if n == "manifest.json" else b) for n, b in honest])
    if kind == "no_consent":
        profile = json.loads(members["profile.json"])
        profile["consent"] = {"confirmed": False}
        blob = json.dumps(profile).encode()
        manifest = json.loads(members["manifest.json"])
        for entry in manifest["files"]:
            if entry["path"] == "profile.json":
                entry.update(size=len(blob), sha256=hashlib.sha256(blob).hexdigest())
        return _write_zip(path, [("manifest.json", json.dumps(manifest).encode()), ("profile.json", blob)])
    if kind == "not_a_zip":
        path.write_bytes(b"PK\x03\x04" + os.urandom(2000))
        return path
    if kind == "empty_file":
        path.write_bytes(b"")
        return path
    raise AssertionError(kind)


HOSTILE_ARCHIVES = [
    "zip_slip",
    "absolute",
    "backslash",
    "drive_letter",
    "nul_byte",
    "symlink",
    "zip_bomb",
    "ratio_bomb",
    "too_many_files",
    "encrypted_flag",
    "unlisted_script",
    "tampered_clip",
    "manifest_lies_about_size",
    "no_consent",
    "not_a_zip",
    "empty_file",
]


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize("kind", HOSTILE_ARCHIVES)
def test_hostile_voice_archives_are_refused_before_anything_is_written(library, tmp_path, kind):
    members = _honest_members(library, tmp_path)
    archive = _hostile(kind, members, tmp_path / f"{kind}.zip")
    outer = tmp_path / "library"
    before = _tree(outer)
    with pytest.raises(InputError) as err:
        library.import_(archive, name="导入的声音")
    assert err.value.zh and err.value.en and "Traceback" not in err.value.en
    assert _tree(outer) == before  # nothing half-written, no staging folder left behind
    assert not any(p.name == "evil.txt" for p in tmp_path.parent.rglob("evil.txt"))
    assert [v.name for v in library.list()] == [VOICE]


def test_an_honest_archive_still_imports(library, tmp_path):
    archive = library.export(VOICE, tmp_path / "honest.zip")
    assert library.import_(archive, name="副本").name == "副本"


# -- dubbing project files --------------------------------------------------------------------------


def _project(lines: list[dict]) -> dict:
    return {"format": "qwen-voice-studio/dubbing", "version": 1, "name": "p", "lines": lines}


@pytest.mark.parametrize(
    "line",
    [
        {"id": "../../evil", "text": "你好"},
        {"id": "a/b", "text": "你好"},
        {"id": "ok", "text": "你好", "chosen": 0, "takes": [{"file": "/etc/passwd", "hash": "h", "seconds": 1, "seed": 1, "model": "m"}]},
        {"id": "ok", "text": "你好", "chosen": 0, "takes": [{"file": "takes/ok/../../../../etc/x.wav", "hash": "h", "seconds": 1, "seed": 1, "model": "m"}]},
        {"id": "ok", "text": "你好", "chosen": 0, "takes": [{"file": "../outside.wav", "hash": "h", "seconds": 1, "seed": 1, "model": "m"}]},
        {"id": "ok", "text": "你好", "chosen": "0", "takes": []},
        {"id": "ok", "text": "你好", "chosen": 5, "takes": []},
    ],
    ids=["id_dotdot", "id_slash", "take_absolute", "take_dotdot", "take_outside", "chosen_string", "chosen_range"],
)  # fmt: skip
def test_project_files_cannot_name_files_outside_the_project(tmp_path, line):
    from studio.dubbing.project import PROJECT_FORMAT, Project

    data = _project([line])
    data["format"] = PROJECT_FORMAT
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "project.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError):
        Project.load(folder)


def test_a_symlinked_take_is_never_read(tmp_path):
    import numpy as np
    import soundfile as sf

    from studio.dubbing.project import PROJECT_FORMAT, Project
    from studio.dubbing.runner import read_take

    secret = tmp_path / "secret.wav"
    sf.write(secret, np.full(2400, 0.5, dtype=np.float32), MODEL_SR)
    folder = tmp_path / "proj"
    (folder / "takes" / "l001").mkdir(parents=True)
    (folder / "takes" / "l001" / "abc-1.wav").symlink_to(secret)
    take = {"file": "takes/l001/abc-1.wav", "hash": "h", "seconds": 0.1, "seed": 1, "model": "m"}
    data = {**_project([{"id": "l001", "text": "你好", "chosen": 0, "takes": [take]}]), "format": PROJECT_FORMAT}
    (folder / "project.json").write_text(json.dumps(data), encoding="utf-8")
    project = Project.load(folder)
    assert read_take(project, project.lines[0]) is None


@pytest.mark.parametrize("value", ["/etc", "../x", "a/../../b", "C:/x", "~/x", "", "a\\..\\..\\b", "link/p"])
def test_ui_project_folders_stay_in_the_outputs_folder(tmp_path, value):
    from studio.dubbing.project import project_folder

    root = tmp_path / "outputs"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(InputError):
        project_folder(value, root)
    assert project_folder("dubbing/my-dub", root) == root / "dubbing" / "my-dub"


# -- the HTTP API -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """An API over a library with one voice; no model is needed: every request here is refused first."""
    from studio.api import serve_in_thread
    from studio.engine import Engine
    from studio.voices import VoiceLibrary

    root = tmp_path_factory.mktemp("sec-api")
    lib = VoiceLibrary(root / "voices")
    lib.create(VOICE, (MODEL_SR, voiced_clip(3.0)), "参考文字。", consent=True)
    outside = root / "outside.wav"
    outside.write_bytes((lib.clip_path(VOICE)).read_bytes())
    (lib.root / "escape.wav").symlink_to(outside)
    (lib.root / "inner-link.wav").symlink_to(lib.clip_path(VOICE))
    srv = serve_in_thread(Engine(), port=free_port(), models={"base": str(root / "no-model")}, voices_root=lib.root)
    yield srv.url, lib, outside
    srv.stop()


@pytest.mark.parametrize(
    "ref",
    [
        "/etc/passwd",
        "../../../../etc/passwd",
        "..\\..\\etc\\passwd",
        "file:///etc/passwd",
        "http://127.0.0.1:1/a.wav",
        "//server/share/a.wav",
        "escape.wav",
        "inner-link.wav",
        "OUTSIDE",
    ],
)
def test_api_reference_paths_are_confined(api, ref):
    url, _lib, outside = api
    ref = str(outside) if ref == "OUTSIDE" else ref
    for params in (
        {"text": "你好", "text_lang": "zh", "ref_audio_path": ref, "prompt_lang": "zh"},
        {"text": "你好", "text_lang": "zh", "ref_audio_path": VOICE, "prompt_lang": "zh", "aux_ref_audio_paths": [ref]},
    ):
        reply = httpx.post(f"{url}/tts", json=params, timeout=30)
        assert reply.status_code in (400, 404), reply.text
        body = reply.json()
        assert body["message"] and "Traceback" not in reply.text
        assert "root:" not in reply.text  # no file content echoed
        if params.get("aux_ref_audio_paths"):
            break  # aux paths are checked before any model work, like the main one
    reply = httpx.get(f"{url}/set_refer_audio", params={"refer_audio_path": ref}, timeout=30)
    assert reply.status_code in (400, 404)
    assert httpx.get(f"{url}/api/health", timeout=10).status_code == 200


def test_api_weights_and_control_routes_touch_nothing(api):
    url, _, _ = api
    reply = httpx.get(f"{url}/set_gpt_weights", params={"weights_path": "/etc/passwd"}, timeout=10)
    assert reply.status_code == 200 and "ignored" in reply.json()["note"]
    assert httpx.get(f"{url}/control", params={"command": "exit"}, timeout=10).status_code == 403
    assert httpx.get(f"{url}/api/health", timeout=10).status_code == 200


def test_api_refuses_foreign_host_headers_on_loopback(api):
    url, _, _ = api
    reply = httpx.get(f"{url}/api/voices", headers={"Host": "attacker.example"}, timeout=10)
    assert reply.status_code == 400


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.com"])
def test_api_refuses_to_listen_beyond_loopback_without_a_key(host):
    from studio.api.server import check_bind

    with pytest.raises(InputError, match="API key"):
        check_bind(host, None)
    check_bind(host, "a-long-secret-key")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "localhost"])
def test_api_loopback_needs_no_key(host):
    from studio.api.server import check_bind

    check_bind(host, None)


def test_api_key_is_required_when_set(tmp_path):
    from studio.api import serve_in_thread
    from studio.engine import Engine

    srv = serve_in_thread(Engine(), port=free_port(), api_key="k-123456", voices_root=tmp_path)
    try:
        assert httpx.get(f"{srv.url}/api/voices", timeout=10).status_code == 401
        assert (
            httpx.get(f"{srv.url}/api/voices", headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
        )
        ok = httpx.get(f"{srv.url}/api/voices", headers={"Authorization": "Bearer k-123456"}, timeout=10)
        assert ok.status_code == 200
    finally:
        srv.stop()


def test_api_uploads_are_size_limited(tmp_path):
    from studio.api import serve_in_thread
    from studio.engine import Engine

    srv = serve_in_thread(Engine(), port=free_port(), voices_root=tmp_path, max_body_bytes=64 * 1024)
    try:
        big = io.BytesIO(b"\0" * (200 * 1024))
        reply = httpx.post(f"{srv.url}/api/uploads", files={"file": ("a.wav", big, "audio/wav")}, timeout=30)
        assert reply.status_code == 413 and reply.json()["message"]
    finally:
        srv.stop()


# -- the UI's launch settings -----------------------------------------------------------------------


class _FakeDemo:
    local_url = "http://127.0.0.1:1/"

    def __init__(self) -> None:
        self.kwargs: dict = {}

    def launch(self, **kwargs):
        self.kwargs = kwargs
        return self

    def block_thread(self) -> None:
        return None


def _size(value) -> int:
    units = {"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "b": 1}
    text = str(value).strip().lower()
    for unit, factor in units.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def test_desktop_launch_limits_uploads_and_serves_no_private_folder(studio_home, monkeypatch):
    import studio.ui.app
    from studio import desktop
    from studio.paths import models_dir, voices_dir

    demo = _FakeDemo()
    monkeypatch.setattr(studio.ui.app, "build_app", lambda *a, **k: demo)
    desktop._launch("127.0.0.1", free_port(), False, False)
    kwargs = demo.kwargs
    assert kwargs["server_name"] == "127.0.0.1" and not kwargs.get("share")
    assert 0 < _size(kwargs["max_file_size"]) <= 500 * (1 << 20)
    allowed = [Path(p).resolve() for p in kwargs.get("allowed_paths") or []]
    private = [voices_dir().resolve(), models_dir().resolve(), (studio_home / "logs").resolve(), studio_home.resolve()]
    # Only generated outputs may be served; the voice library, models, logs and settings never.
    assert all(p not in private and not any(q.is_relative_to(p) for q in private) for p in allowed), allowed
    blocked = [Path(p).resolve() for p in kwargs.get("blocked_paths") or []]
    assert voices_dir().resolve() in blocked and models_dir().resolve() in blocked


def test_space_launch_serves_nothing_and_limits_uploads():
    from studio import space

    kwargs = space.launch_kwargs()
    assert kwargs["allowed_paths"] == []
    assert 0 < _size(kwargs["max_file_size"]) <= 50 * (1 << 20)


def test_ui_refuses_an_open_interface_without_a_key(studio_home, monkeypatch, capsys):
    import studio.ui.app
    from studio import desktop

    demo = _FakeDemo()
    monkeypatch.setattr(studio.ui.app, "build_app", lambda *a, **k: demo)
    monkeypatch.delenv("STUDIO_API_KEY", raising=False)
    code = desktop.serve(host="0.0.0.0", port=free_port(), open_browser=False, new_instance=True)
    assert code == 2 and demo.kwargs == {}
    assert "STUDIO_API_KEY" in capsys.readouterr().err


def test_analytics_are_off():
    from studio.ui.app import build_app

    assert os.environ.get("GRADIO_ANALYTICS_ENABLED") == "False"
    assert build_app().analytics_enabled is False
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    assert 'setdefault("GRADIO_ANALYTICS_ENABLED", "False")' in source


def test_studio_errors_carry_both_languages():
    for error in (InputError(zh="中", en="en"), NotFoundError(zh="中", en="en")):
        assert isinstance(error, StudioError) and error.message("zh") == "中" and error.message("en") == "en"
