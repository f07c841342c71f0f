"""Bounded parsing of everything a user imports, over real HTTP where the API takes it.

Classes covered (each by its root mechanism, with several members of the class):
YAML/JSON bombs and deep nesting (studio.limits), field, line and time bounds
of a dubbing line (check_line, at import and at edit), NUL bytes and lone
surrogates in any request (the API's screen), CSV formula injection on export,
voice archives with oversized profiles, settings.json with wrong types, a full
disk while saving a voice, and cross-origin state changes.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
import zipfile

import httpx
import pytest

from studio.audio import MODEL_SR
from studio.errors import InputError
from studio.limits import MAX_ALIASES, MAX_DEPTH, MAX_LINES, MAX_TEXT_CHARS, load_json, load_yaml
from tests.helpers import ROOT, free_port, voiced_clip

APP = "http://app.example"  #: an origin the server is told to allow (--cors-origin)
EVIL = "http://evil.example"


def _alias_bomb(levels: int, width: int = 9) -> str:
    """~400 bytes of YAML whose ``lines`` expand to ``width ** levels`` strings."""
    rows = ['a0: &a0 ["lol lol lol lol lol lol"]']
    for i in range(1, levels + 1):
        rows.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    rows.append(f"lines: [{{text: *a{levels}}}]")
    return "\n".join(rows) + "\n"


def _deep_json(levels: int) -> str:
    return "[" * levels + "]" * levels


def _deep_yaml(levels: int) -> str:
    """Block-style nesting (each level one more indent), the way a hand-written file grows."""
    return "lines:\n" + "".join("  " * i + "-\n" for i in range(levels)) + "  " * levels + "- x\n"


# -- the parsers themselves -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "loader", "says"),
    [
        (_alias_bomb(9), load_yaml, "aliases are expanded"),
        ("x: &x [1]\ny: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n", load_yaml, "too many aliases"),
        (_deep_yaml(600), load_yaml, "nested too deeply"),
        ("[" * 5000 + "1" + "]" * 5000, load_yaml, "nested too deeply"),
        (_deep_json(100_000), load_json, "nested too deeply"),
        (_deep_json(MAX_DEPTH + 1), load_json, "nested too deeply"),
        ('{"ref_audio_path": "x\\u0000.wav"}', load_json, "NUL"),
        ('["a\\ud800b"]', load_json, "U+D800"),
        ('a: "b\\0c"\n', load_yaml, "NUL"),
    ],
    ids=[
        "alias-bomb",
        "alias-count",
        "deep-yaml-block",
        "deep-yaml-flow",
        "deep-json",
        "json-one-too-deep",
        "nul",
        "surrogate",
        "yaml-nul",
    ],
)
def test_bombs_depth_and_bad_characters_are_one_clear_refusal(text, loader, says):
    with pytest.raises(InputError) as err:
        loader(text, "script.x")
    assert says in err.value.en and err.value.zh
    assert "script.x" in err.value.en and "\n" not in err.value.en


def test_honest_files_with_a_few_aliases_and_ordinary_depth_still_load():
    data = load_yaml(
        "voice: &v Vivian\nlines:\n  - {text: 你好, speaker: *v}\n  - {text: 再见, speaker: *v}\n", "s.yaml"
    )
    assert [line["speaker"] for line in data["lines"]] == ["Vivian", "Vivian"]
    assert load_json(_deep_json(MAX_DEPTH), "s.json") is not None


# -- dubbing scripts and lines over HTTP ------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from studio.api import serve_in_thread
    from studio.engine import Engine

    root = tmp_path_factory.mktemp("bounds")
    srv = serve_in_thread(
        Engine(),
        port=free_port(),
        voices_root=root / "voices",
        projects_root=root / "projects",
        cors_origins=[APP],
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def url(server) -> str:
    return server.url


def _create(url: str, name: str, script: str, fmt: str, **headers: str) -> httpx.Response:
    body = {"name": name, "script": script, "format": fmt}
    return httpx.post(f"{url}/api/dubbing/projects", json=body, headers=headers, timeout=120)


def _refused(r: httpx.Response, status: int, *says: str) -> str:
    assert r.status_code == status, r.text
    message = r.json()["message"] if "message" in r.json() else r.json()["error"]["message"]
    assert "\n" not in message and "Traceback" not in message and "Internal" not in message
    for part in says:
        assert part in message, message
    return message


SRT_FAR = "1\n00:00:01,000 --> 99999999:00:00,000\nhello\n"
BAD_SCRIPTS = [
    ("bomb", _alias_bomb(9), "yaml", "aliases are expanded"),
    ("bomb-small", _alias_bomb(5), "yaml", "must be text"),  # 59,049 strings would become one 1.6M-character line
    ("deep-json", _deep_json(5000), "json", "nested too deeply"),
    ("deep-yaml", _deep_yaml(600), "yaml", "nested too deeply"),
    ("srt-far", SRT_FAR, "srt", "too large"),
    ("csv-end", "text,start,end\nhi,0,1e308\n", "csv", "too large"),
    ("json-duration", json.dumps([{"text": "hi", "duration": 1e300}]), "json", "too large"),
    ("long-line", "[A] " + "字" * (MAX_TEXT_CHARS + 1), "txt", "too long"),
    ("long-speaker", json.dumps([{"text": "hi", "speaker": "A" * 300}]), "json", "too long"),
    ("huge-cell", "text\n" + "x" * 200_000 + "\n", "csv", "invalid table"),
    ("many-lines", "\n".join(f"[A] line {i}" for i in range(MAX_LINES + 1)), "txt", "too many lines"),
    ("nul-escape", json.dumps([{"text": "a\x00b"}]), "json", "NUL"),
]


@pytest.mark.parametrize(("name", "script", "fmt", "says"), BAD_SCRIPTS, ids=[c[0] for c in BAD_SCRIPTS])
def test_oversized_or_malformed_scripts_are_400_and_create_nothing(url, server, name, script, fmt, says):
    _refused(_create(url, name, script, fmt), 400, says)
    assert httpx.get(f"{url}/api/dubbing/projects/{name}").status_code == 404
    assert httpx.get(f"{url}/api/health").status_code == 200


def test_deeply_nested_request_bodies_are_400(url):
    body = b'{"name": "deep", "format": "txt", "script": "x", "voices": ' + _deep_json(5000).encode() + b"}"
    r = httpx.post(f"{url}/api/dubbing/projects", content=body, headers={"Content-Type": "application/json"})
    _refused(r, 400, "nested too deeply")


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        ({"start": 0, "end": 1e308}, "too large"),
        ({"start": 0, "end": 24 * 3600 + 1}, "too large"),
        ({"duration": 1e308}, "too large"),
        ({"text": "字" * (MAX_TEXT_CHARS + 1)}, "too long"),
        ({"scene": "s" * 201}, "too long"),
    ],
)
def test_line_edits_are_bounded_like_imports(url, edit, says):
    if httpx.get(f"{url}/api/dubbing/projects/edit-me").status_code == 404:
        assert _create(url, "edit-me", "[A] 你好。\n[B] 再见。", "txt").status_code == 201
    before = httpx.get(f"{url}/api/dubbing/projects/edit-me/lines/1").json()
    _refused(httpx.patch(f"{url}/api/dubbing/projects/edit-me/lines/1", json=edit), 400, "line 1", says)
    assert httpx.get(f"{url}/api/dubbing/projects/edit-me/lines/1").json() == before  # nothing saved


def test_a_slot_within_a_day_is_still_accepted(url):
    script = "1\n23:59:58,000 --> 23:59:59,500\nlate\n"
    assert _create(url, "late", script, "srt").status_code == 201


# -- NUL bytes and lone surrogates, on every route family --------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("GET", "/tts?text=hi&text_lang=zh&ref_audio_path=x%00.wav&prompt_lang=zh", {}, "ref_audio_path"),
        ("POST", "/tts", {"json": {"text": "hi", "text_lang": "zh", "ref_audio_path": "x\x00.wav"}}, "ref_audio_path"),
        ("POST", "/api/clone", {"json": {"text": "hi", "ref_audio_path": "x\x00.wav"}}, "ref_audio_path"),
        ("POST", "/api/readings", {"json": {"text": "a\ud800b"}}, "text"),
        ("POST", "/v1/audio/speech", {"json": {"input": "a\ud800b", "voice": "Vivian"}}, "input"),
        ("GET", "/api/dubbing/projects/a%00b", {}, "path"),
    ],
    ids=["v2-query-nul", "v2-body-nul", "clone-nul", "readings-surrogate", "openai-surrogate", "path-nul"],
)
def test_nul_and_lone_surrogates_are_400_naming_the_field(url, method, path, kwargs, field):
    if "json" in kwargs:  # httpx refuses to encode a lone surrogate itself: send the JSON escape
        kwargs = {
            "content": json.dumps(kwargs["json"]).encode(),
            "headers": {"Content-Type": "application/json"},
        }
    _refused(httpx.request(method, url + path, **kwargs), 400, field, "not allowed")


def test_text_with_a_lone_surrogate_is_refused_by_the_engine_for_every_caller():
    from studio.engine import check_text
    from studio.errors import TextError

    with pytest.raises(TextError, match="U\\+D800"):
        check_text("a\ud800b")


# -- cross-origin state changes ---------------------------------------------------------------------


def _upload(url: str, name: str, **headers: str) -> httpx.Response:
    files = {"file": (f"{name}.txt", "[A] 你好。".encode(), "text/plain")}
    return httpx.post(f"{url}/api/dubbing/projects/upload", files=files, data={"name": name}, headers=headers)


def test_a_form_from_another_site_creates_nothing(url):
    _refused(_upload(url, "csrf", Origin=EVIL), 403, "another site")
    _refused(_upload(url, "csrf", Referer=f"{EVIL}/page.html"), 403, "another site")
    _refused(_upload(url, "csrf", Origin="null"), 403)
    assert httpx.get(f"{url}/api/dubbing/projects/csrf").status_code == 404


def test_changes_and_deletes_from_another_site_are_refused(url):
    assert _create(url, "keep", "[A] 你好。", "txt").status_code == 201
    _refused(httpx.patch(f"{url}/api/dubbing/projects/keep/lines/1", json={"text": "x"}, headers={"Origin": EVIL}), 403)
    _refused(httpx.delete(f"{url}/api/dubbing/projects/keep", headers={"Origin": EVIL}), 403)
    r = httpx.post(f"{url}/tts", json={"text": "hi", "text_lang": "zh"}, headers={"Origin": EVIL})
    _refused(r, 403)
    assert httpx.get(f"{url}/api/dubbing/projects/keep/lines/1").json()["text"] == "你好。"


def test_clients_without_origin_the_server_itself_and_allowed_origins_still_work(url):
    assert _upload(url, "plain").status_code == 201  # curl, SDKs, xiaozhi: no Origin
    assert _upload(url, "same", Origin=url).status_code == 201  # the server's own pages (/docs)
    assert _upload(url, "allowed", Origin=APP).status_code == 201  # --cors-origin
    assert httpx.get(f"{url}/api/dubbing/projects", headers={"Origin": EVIL}).status_code == 200  # reads unscreened


# -- CSV export ---------------------------------------------------------------------------------------


def test_exported_csv_cells_never_start_a_formula_and_round_trip():
    from studio.dubbing.scripts import parse_script, script_text

    texts = ['=HYPERLINK("http://x","hi")', "+1 555", "-3 度", "@SUM(A1)", "'quoted", "plain"]
    rows = "\n".join(f'"{t.replace(chr(34), chr(34) * 2)}",S' for t in texts)
    project = parse_script("text,speaker\n" + rows + "\n", "csv")
    for fmt in ("csv", "tsv"):
        out = script_text(project, fmt)
        import csv
        import io

        cells = [c for row in csv.reader(io.StringIO(out), delimiter="," if fmt == "csv" else "\t") for c in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], cells
        assert [line.text for line in parse_script(out, fmt).lines] == texts


# -- voice archives -----------------------------------------------------------------------------------


def test_a_voice_archive_with_a_huge_transcript_is_refused(tmp_path):
    from studio.voices import MAX_TRANSCRIPT_CHARS, VoiceLibrary

    lib = VoiceLibrary(tmp_path / "voices")
    lib.create("源", (MODEL_SR, voiced_clip(3.0)), "参考文字。", consent=True)
    archive = lib.export("源", tmp_path / "v.zip")
    with zipfile.ZipFile(archive) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    for field, size in (("transcript", 900_000), ("notes", 50_000)):
        profile = json.loads(members["profile.json"]) | {field: "字" * size}
        blob = json.dumps(profile, ensure_ascii=False).encode()
        manifest = json.loads(members["manifest.json"])
        for entry in manifest["files"]:
            if entry["path"] == "profile.json":
                entry.update(size=len(blob), sha256=hashlib.sha256(blob).hexdigest())
        hostile = tmp_path / f"{field}.zip"
        with zipfile.ZipFile(hostile, "w") as zf:
            for name, data in (
                members | {"profile.json": blob, "manifest.json": json.dumps(manifest).encode()}
            ).items():
                zf.writestr(name, data)
        with pytest.raises(InputError) as err:
            lib.import_(hostile, name="导入")
        assert "Nothing was imported" in err.value.en
        assert [v.name for v in lib.list()] == ["源"]
    assert MAX_TRANSCRIPT_CHARS < 900_000


# -- settings.json -------------------------------------------------------------------------------------


def test_settings_with_wrong_types_warn_once_and_use_the_defaults(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps({"local_models": "nope", "device": 5, "language": "en"}))
    env = {**os.environ, "STUDIO_HOME": str(home), "STUDIO_LANG": "en"}
    proc = subprocess.run(
        [sys.executable, "-m", "studio", "models", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert isinstance(json.loads(proc.stdout), list)
    warnings = [line for line in proc.stderr.splitlines() if "settings.json" in line]
    assert len(warnings) == 1 and "device" in warnings[0] and "local_models" in warnings[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_settings_keep_good_fields_beside_bad_ones(studio_home):
    from studio.settings import Settings

    (studio_home / "settings.json").write_text(json.dumps({"device": ["x"], "endpoint": "https://hf-mirror.com"}))
    settings = Settings.load()
    assert (settings.device, settings.endpoint, settings.local_models) == ("auto", "https://hf-mirror.com", {})
    (studio_home / "settings.json").write_text(_deep_json(5000))
    assert Settings.load() == Settings()


# -- a full disk ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("failure", ["enospc", "libsndfile"])
def test_a_full_disk_while_adding_a_voice_is_exit_2_and_leaves_nothing(
    studio_home, tmp_path, monkeypatch, capsys, failure
):
    import shutil
    from collections import namedtuple

    import soundfile as sf

    from studio import cli

    ref = tmp_path / "ref.wav"
    sf.write(str(ref), voiced_clip(3.0), MODEL_SR)

    def full(*args, **kwargs):
        if failure == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        raise sf.LibsndfileError(2, "")  # what libsndfile says on a full disk: "System error."

    monkeypatch.setattr(sf, "write", full)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 4096, 4096))
    monkeypatch.setenv("STUDIO_LANG", "en")
    code = cli.main(["voices", "add", "满盘", "--audio", str(ref), "--consent"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "disk is full" in err, err
    voices = studio_home / "voices"
    leftovers = [p for p in voices.rglob("*") if p.name != ".lock"] if voices.exists() else []
    assert leftovers == []


def test_a_libsndfile_error_on_a_disk_with_room_is_a_storage_error_not_disk_full(tmp_path, monkeypatch):
    import soundfile as sf

    from studio.errors import StorageError, writing

    with pytest.raises(StorageError) as err, writing(tmp_path / "x.wav"):
        raise sf.LibsndfileError(2, "")
    assert "disk is full" not in err.value.en and str(tmp_path) in err.value.en


# -- dub --video ------------------------------------------------------------------------------------------


def test_dub_refuses_slots_past_the_end_of_the_video_before_generating(tmp_path, video, monkeypatch, capsys):
    from studio import cli

    script = tmp_path / "film.srt"
    script.write_text("1\n00:00:00,500 --> 00:00:01,500\n你好。\n\n2\n00:00:30,000 --> 00:00:31,000\n再见。\n")
    monkeypatch.setenv("STUDIO_LANG", "en")
    code = cli.main(["dub", str(script), "--out", str(tmp_path / "out"), "--video", str(video), "--voice", "Vivian"])
    err = capsys.readouterr().err
    assert code == 2 and "line 2" in err and "length of the video" in err, err
    assert not (tmp_path / "out" / "project" / "takes").exists()


# -- project files ----------------------------------------------------------------------------------------


def test_a_project_file_with_bad_settings_opens_with_the_defaults_for_those(tmp_path):
    from studio.dubbing.project import Line, Project

    project = Project(lines=[Line(text="你好。")])
    project.settings.max_stretch = 1.5
    data = project.to_dict()
    data["settings"].update(gap_s="wide", seed=-5, loudness=float("nan"), format="exe", allow_overlap="yes")
    (tmp_path / "project.json").write_text(json.dumps(data), encoding="utf-8")
    loaded = Project.load(tmp_path).settings
    assert (loaded.gap_s, loaded.seed, loaded.loudness, loaded.format, loaded.allow_overlap) == (
        0.4,
        None,
        -16.0,
        "mp3",
        False,
    )
    assert loaded.max_stretch == 1.5  # good fields are kept


@pytest.mark.parametrize("bad", [{"seconds": 1e400}, {"seconds": "long"}, {"model": ["m"]}, {"seed": 1.5}])
def test_a_damaged_take_record_is_refused_naming_the_line(tmp_path, bad):
    from studio.dubbing.project import Line, Project

    data = Project(lines=[Line(text="你好。")]).to_dict()
    take = {"file": "takes/l001/a.wav", "hash": "h", "seconds": 1.0, "seed": 1, "model": "m", "created": ""}
    data["lines"][0].update(takes=[take | bad], chosen=0)
    (tmp_path / "project.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match="line 1: the take record"):
        Project.load(tmp_path)


def test_prepare_text_refuses_a_lone_surrogate_and_still_strips_nul():
    from studio.errors import TextError
    from studio.text.prepare import prepare_text

    with pytest.raises(TextError, match="U\\+DC80"):
        prepare_text("好\udc80")
    assert prepare_text("你\x00好").display_text == "你好"


def test_json_sent_without_a_content_type_is_screened_too(url):
    body = b'{"name": "untyped", "format": "txt", "script": "x", "voices": ' + _deep_json(5000).encode() + b"}"
    r = httpx.post(f"{url}/api/dubbing/projects", content=body, headers={"Content-Type": ""})
    _refused(r, 400, "nested too deeply")
