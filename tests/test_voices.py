"""The voice library: round trips, atomic writes, locking, archives, prompt cache, bad input."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from audio_fixtures import noise, utterance, write_wav

from studio import voices as voices_mod
from studio.audio import MODEL_SR
from studio.errors import AudioError, InputError, NotFoundError, StorageError
from studio.reference import PreparedReference, prepare_reference
from studio.voices import VoiceLibrary, slugify

SR = 24_000
MODEL = "Qwen/Qwen3-TTS-12Hz-0.6B-Base"


@pytest.fixture(scope="module")
def prepared() -> PreparedReference:
    """One processed reference clip, shared so tests skip the VAD."""
    x, _ = utterance([("sil", 0.5), ("speech", 4.0), ("sil", 0.5)], seed=42)
    return prepare_reference((SR, x))


@pytest.fixture
def lib(tmp_path) -> VoiceLibrary:
    return VoiceLibrary(tmp_path / "voices")


def _make(lib: VoiceLibrary, prepared: PreparedReference, name: str = "小明", **kw) -> voices_mod.Voice:
    args = {
        "transcript": "大家好，欢迎来到我的频道。",
        "language": "Chinese",
        "tags": ["男声", "温柔"],
        "consent": True,
        "notes": "录于 2026 年",
    }
    args.update(kw)
    return lib.create(name, prepared, **args)


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (lock file aside) and its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".lock"
    }


def _prompt(frames: int = 40) -> dict:
    return {
        "ref_code": torch.randint(0, 2048, (frames, 16)),
        "ref_spk_embedding": torch.randn(1024),
        "x_vector_only_mode": False,
        "icl_mode": True,
        "ref_text": "大家好",
    }


# ------------------------------------------------------------------ round trips


def test_create_then_reopen_keeps_every_field(lib, prepared):
    voice = _make(lib, prepared, consent_by="小明本人", source="手机录音.m4a")
    assert voice.consent.confirmed and voice.consent.by == "小明本人" and "I confirm" in voice.consent.statement
    reopened = VoiceLibrary(lib.root).get("小明")
    assert reopened == voice
    assert reopened.tags == ("男声", "温柔") and reopened.notes == "录于 2026 年"
    assert reopened.transcript == reopened.clip().transcript == "大家好，欢迎来到我的频道。"
    info = sf.info(str(lib.clip_path("小明")))
    assert (info.samplerate, info.channels) == (MODEL_SR, 1)
    data, _ = sf.read(str(lib.clip_path("小明")), dtype="float32")
    assert np.allclose(data, prepared.audio.samples, atol=1 / 32767)


def test_create_runs_raw_audio_through_the_reference_chain(lib):
    x, _ = utterance([("sil", 2.0), ("speech", 3.0), ("sil", 2.0)], sr=44_100, seed=3)
    lib.create("raw", (44_100, x), consent=True)
    info = sf.info(str(lib.clip_path("raw")))
    assert info.samplerate == MODEL_SR
    assert info.duration == pytest.approx(3.2, abs=0.15)  # the silence was trimmed


def test_export_then_import_keeps_every_field_and_byte(lib, prepared, tmp_path):
    _make(lib, prepared)
    lib.add_clip("小明", prepared, "开心", "哈哈，太好了！")
    src = lib.get("小明")
    archive = lib.export("小明", tmp_path / "xiaoming.zip")
    with zipfile.ZipFile(archive) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["format"] == "qwen-voice-studio/voice" and manifest["version"] == 1
        for entry in manifest["files"]:
            assert hashlib.sha256(zf.read(entry["path"])).hexdigest() == entry["sha256"]
        assert sorted(e["path"] for e in manifest["files"]) == sorted(["profile.json", *(c.file for c in src.clips)])
    other = VoiceLibrary(tmp_path / "other")
    imported = other.import_(archive)
    assert dataclasses.replace(imported, path=src.path) == src
    assert _snapshot(imported.path) == _snapshot(src.path)


def test_import_refuses_a_name_that_exists_unless_renamed(lib, prepared, tmp_path):
    _make(lib, prepared)
    archive = lib.export("小明", tmp_path / "a.zip")
    before = _snapshot(lib.root)
    with pytest.raises(InputError, match="already exists"):
        lib.import_(archive)
    assert _snapshot(lib.root) == before
    copy = lib.import_(archive, name="小明（备份）")
    assert copy.name == "小明（备份）" and copy.clips == lib.get("小明").clips


# ------------------------------------------------------------------ editing


def test_list_filters_by_tag_and_query(lib, prepared):
    _make(lib, prepared, "小明", tags=["男声"])
    _make(lib, prepared, "Alice", tags=["female", "English"], notes="podcast host", language="English")
    assert [v.name for v in lib.list()] == ["Alice", "小明"]
    assert [v.name for v in lib.list(tag="男声")] == ["小明"]
    assert [v.name for v in lib.list(tag="FEMALE")] == ["Alice"]
    assert [v.name for v in lib.list(query="podcast")] == ["Alice"]
    assert [v.name for v in lib.list(query="欢迎")] == ["Alice", "小明"]  # both transcripts
    assert lib.list(query="nothing like this") == []


def test_rename_duplicate_update(lib, prepared):
    _make(lib, prepared)
    renamed = lib.rename("小明", "Xiao Ming")
    assert renamed.slug == "xiao-ming" and not (lib.root / "小明").exists()
    with pytest.raises(NotFoundError):
        lib.get("小明")
    assert lib.get("xiao ming") == renamed  # names are case-insensitive
    copy = lib.duplicate("Xiao Ming", "小明 2")
    assert _snapshot(copy.path / "clips") == _snapshot(renamed.path / "clips")
    updated = lib.update("小明 2", transcript="新的文本", tags="a，b, c", notes="", language="English")
    assert (updated.transcript, updated.clip().transcript, updated.tags) == ("新的文本", "新的文本", ("a", "b", "c"))
    assert lib.get("小明 2") == updated
    assert lib.get("Xiao Ming").transcript == "大家好，欢迎来到我的频道。"  # the original is untouched
    with pytest.raises(InputError, match="already exists"):
        lib.rename("小明 2", "XIAO MING")


def test_delete_moves_to_trash_and_restore_brings_it_back(lib, prepared):
    voice = _make(lib, prepared)
    files = _snapshot(voice.path)
    lib.delete("小明")
    assert lib.list() == [] and [v.name for v in lib.deleted()] == ["小明"]
    restored = lib.restore("小明")
    assert _snapshot(restored.path) == files and lib.deleted() == []
    lib.delete("小明")
    _make(lib, prepared)
    with pytest.raises(InputError, match="already exists"):
        lib.restore("小明")
    assert lib.empty_trash() == 1 and lib.deleted() == []


def test_clips_by_tag(lib, prepared):
    _make(lib, prepared)
    lib.add_clip("小明", prepared, "whisper", "悄悄话")
    voice = lib.add_clip("小明", prepared, "开心", "哈哈")
    assert [c.tag for c in voice.clips] == ["neutral", "whisper", "开心"]
    assert lib.clip_path("小明") == voice.path / "clips" / "neutral.wav"
    assert lib.clip_path("小明", "Whisper").name == "whisper.wav"
    assert lib.clip_path("小明", "开心").is_file()
    with pytest.raises(NotFoundError, match="whisper"):
        lib.clip_path("小明", "angry")
    with pytest.raises(InputError, match="already has a clip"):
        lib.add_clip("小明", prepared, "开心", "again")
    again = lib.add_clip("小明", prepared, "开心", "再来", replace_existing=True)
    assert again.clip("开心").transcript == "再来" and len(again.clips) == 3
    assert [c.tag for c in lib.remove_clip("小明", "whisper").clips] == ["neutral", "开心"]
    assert not (voice.path / "clips" / "whisper.wav").exists()


# ------------------------------------------------------------------ names and consent


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a/b", "slash"),
        ("../../etc/passwd", "slash"),
        ("a\\b", "slash"),
        (".", "'.'"),
        ("..", "'.'"),
        ("x" * 500, "too long"),
        ("x" * 65, "too long"),
        ("line\nbreak", "control"),
        ("nul\x00byte", "control"),
    ],
)
def test_bad_voice_names_are_refused_and_nothing_is_saved(lib, prepared, name, words):
    with pytest.raises(InputError) as err:
        _make(lib, prepared, name)
    assert words in err.value.en and err.value.zh
    assert _snapshot(lib.root) == {}
    assert [p.name for p in lib.root.iterdir()] == [".lock"]


@pytest.mark.parametrize(
    "name", ["小明", "x" * 64, "Alice's voice", "...", "CON", "a:b?c*", "  spaced  ", "声音 #1 (温柔)", "👩‍🎤"]
)
def test_good_names_get_safe_folder_names(lib, prepared, name):
    voice = _make(lib, prepared, name)
    assert voice.name == name.strip()
    assert voice.path.parent == lib.root
    assert not set(voice.slug) & set('/\\:*?"<>|') and not voice.slug.startswith(".")
    assert voice.slug.split(".")[0].lower() not in {"con", "nul", "prn", "aux"}
    assert lib.get(name) == voice


def test_names_are_unique_ignoring_case_and_width(lib, prepared):
    _make(lib, prepared, "Alice")
    with pytest.raises(InputError, match="already exists"):
        _make(lib, prepared, "ALICE")
    with pytest.raises(InputError, match="already exists"):
        _make(lib, prepared, "Ａｌｉｃｅ")  # full-width letters
    assert len(lib.list()) == 1


def test_slugs_never_collide(lib, prepared):
    assert slugify("a:b") == slugify("a?b") == "a-b"
    slugs = {_make(lib, prepared, n).slug for n in ("a:b", "a?b", "a*b")}
    assert slugs == {"a-b", "a-b-2", "a-b-3"}


def test_consent_is_required(lib, prepared):
    for consent in (False, None, "yes"):
        with pytest.raises(InputError) as err:
            _make(lib, prepared, consent=consent)
        assert "Consent" in err.value.en and "授权" in err.value.zh
    assert lib.list() == [] and _snapshot(lib.root) == {}


# ------------------------------------------------------------------ bad audio


def _bad_file(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.wav"
    if kind == "zero-bytes":
        path.write_bytes(b"")
    elif kind == "truncated-header":
        path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    elif kind == "text-named-wav":
        path.write_text("这不是音频 / this is not audio\n" * 20, encoding="utf-8")
    elif kind == "nan-samples":
        x = np.concatenate([np.zeros(SR), utterance([("speech", 2.0)])[0], np.zeros(SR)])
        x[SR + 100] = np.nan
        x[SR + 200] = np.inf
        write_wav(path, x, SR, subtype="FLOAT")
    elif kind == "one-hour":
        with sf.SoundFile(str(path), "w", samplerate=1000, channels=1, subtype="PCM_16") as f:
            f.write(np.zeros(3600 * 1000, dtype=np.int16))
    elif kind == "silence":
        write_wav(path, np.zeros(5 * SR), SR)
    elif kind == "noise":
        write_wav(path, noise(5.0, level=0.2), SR)
    return path


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("zero-bytes", "empty (0 bytes)"),
        ("truncated-header", "damaged or not audio"),
        ("text-named-wav", "damaged or not audio"),
        ("nan-samples", "NaN"),
        ("one-hour", "limit is 600 s"),
        ("silence", "No speech"),
        ("noise", "No speech"),
    ],
)
def test_bad_audio_is_refused_and_nothing_is_saved(lib, tmp_path, kind, words):
    path = _bad_file(tmp_path, kind)
    with pytest.raises(AudioError) as err:
        lib.create("小明", path, "大家好", consent=True)
    assert words in err.value.en and err.value.zh
    assert lib.list() == [] and _snapshot(lib.root) == {}
    assert [p.name for p in lib.root.iterdir()] == [".lock"]


@pytest.mark.parametrize(("sr", "channels"), [(8_000, 1), (96_000, 1), (48_000, 2)])
def test_any_rate_or_channel_count_is_stored_as_24k_mono(lib, tmp_path, sr, channels):
    x, _ = utterance([("sil", 0.5), ("speech", 3.0), ("sil", 0.5)], sr=sr, seed=7)
    path = write_wav(tmp_path / "in.wav", np.stack([x, 0.5 * x], axis=1) if channels == 2 else x, sr)
    lib.create("v", path, consent=True)
    info = sf.info(str(lib.clip_path("v")))
    assert (info.samplerate, info.channels) == (MODEL_SR, 1)


# ------------------------------------------------------------------ crash safety and locking


def test_a_failed_rename_into_place_leaves_no_half_voice(lib, prepared, monkeypatch):
    _make(lib, prepared, "existing")
    before = _snapshot(lib.root)
    real_replace = os.replace

    def crash_on_final_move(src, dst, *a, **kw):
        if Path(src).name.startswith(".tmp-"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst, *a, **kw)

    monkeypatch.setattr(os, "replace", crash_on_final_move)
    with pytest.raises(StorageError) as err:
        _make(lib, prepared, "new one")
    assert "No space left" in err.value.en and "磁盘空间" in err.value.zh
    monkeypatch.setattr(os, "replace", real_replace)
    assert sorted(p.name for p in lib.root.iterdir()) == [".lock", "existing"]
    assert _snapshot(lib.root) == before
    assert [v.name for v in VoiceLibrary(lib.root).list()] == ["existing"]


def test_a_failed_profile_write_keeps_the_old_profile(lib, prepared, monkeypatch):
    voice = _make(lib, prepared)
    before = _snapshot(lib.root)

    def crash(*a, **kw):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", crash)
    for change in (lambda: lib.update("小明", notes="changed"), lambda: lib.add_clip("小明", prepared, "sad")):
        with pytest.raises(StorageError):
            change()
    monkeypatch.undo()
    assert lib.get("小明") == voice
    assert _snapshot(lib.root) == before


def test_leftovers_of_a_killed_writer_are_ignored_then_cleaned(lib, prepared):
    voice = _make(lib, prepared)
    half = lib.root / ".tmp-0123456789abcdef"
    (half / "clips").mkdir(parents=True)
    (half / "clips" / "neutral.wav").write_bytes(b"RIFF\x00")  # a voice killed mid-write
    (voice.path / ".profile.json.1234abcd.part").write_text('{"name": "half')
    (lib.root / "not-a-voice").mkdir()  # a folder without a profile
    assert [v.name for v in lib.list()] == ["小明"]
    VoiceLibrary(lib.root)
    assert not half.exists() and not (voice.path / ".profile.json.1234abcd.part").exists()
    assert lib.get("小明") == voice


def test_a_damaged_profile_is_skipped_in_lists_and_named_in_errors(lib, prepared):
    _make(lib, prepared, "good")
    bad = _make(lib, prepared, "bad")
    (bad.path / "profile.json").write_text("{ not json", encoding="utf-8")
    assert [v.name for v in lib.list()] == ["good"]
    with pytest.raises(StorageError, match="damaged"):
        VoiceLibrary._read(bad.path)


def test_writes_wait_for_the_library_lock(lib, prepared):
    from filelock import FileLock

    lib._lock.timeout = 0.2
    other = FileLock(str(lib.root / ".lock"))  # e.g. the CLI in another process
    with other:
        with pytest.raises(StorageError) as err:
            _make(lib, prepared)
        assert "busy" in err.value.en
    assert lib.list() == []
    _make(lib, prepared)
    assert [v.name for v in lib.list()] == ["小明"]


def test_concurrent_writers_do_not_collide(tmp_path, prepared):
    root = tmp_path / "shared"
    names = ["a:b", "a?b", "a*b", "a|b"]
    errors: list[BaseException] = []

    def create(name: str) -> None:
        try:
            VoiceLibrary(root).create(name, prepared, consent=True)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    voices = VoiceLibrary(root).list()
    assert sorted(v.name for v in voices) == sorted(names)
    assert sorted(v.slug for v in voices) == ["a-b", "a-b-2", "a-b-3", "a-b-4"]


# ------------------------------------------------------------------ archives


def _archive(
    tmp_path: Path, members: dict[str, bytes], manifest: dict | None = None, name: str = "v.zip", stored: bool = False
) -> Path:
    if manifest is None:
        manifest = {
            "format": "qwen-voice-studio/voice",
            "version": 1,
            "files": [{"path": p, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for p, b in members.items()],
        }
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for member, blob in members.items():
            zf.writestr(member, blob)
    return path


@pytest.fixture
def good_members(lib, prepared, tmp_path) -> dict[str, bytes]:
    _make(lib, prepared, "source")
    with zipfile.ZipFile(lib.export("source", tmp_path / "good.zip")) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if n != "manifest.json"}
    lib.delete("source")
    lib.empty_trash()
    return members


def _bad_archive(tmp_path: Path, kind: str, members: dict[str, bytes]) -> Path:
    if kind == "not-a-zip":
        path = tmp_path / "v.zip"
        path.write_text("PK? no, just text", encoding="utf-8")
        return path
    if kind == "truncated":
        good = _archive(tmp_path, members, name="full.zip").read_bytes()
        path = tmp_path / "v.zip"
        path.write_bytes(good[: len(good) // 2])
        return path
    if kind == "dot-dot-path":
        return _archive(tmp_path, {**members, "../../evil.txt": b"x"})
    if kind == "absolute-path":
        return _archive(tmp_path, {**members, "/etc/evil.wav": b"x"})
    if kind == "dot-dot-in-manifest":
        evil = dict(members)
        evil["clips/../../evil.wav"] = evil.pop("clips/neutral.wav")
        return _archive(tmp_path, evil)
    if kind == "symlink":
        path = _archive(tmp_path, members)
        with zipfile.ZipFile(path, "a") as zf:
            info = zipfile.ZipInfo("clips/link.wav")
            info.external_attr = (0o120777 << 16) | 0
            zf.writestr(info, "/etc/passwd")
        return path
    if kind == "missing-file":
        manifest = {
            "format": "qwen-voice-studio/voice",
            "version": 1,
            "files": [{"path": p, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for p, b in members.items()],
        }
        return _archive(tmp_path, {k: v for k, v in members.items() if k != "clips/neutral.wav"}, manifest)
    if kind == "checksum-mismatch":
        path = _archive(tmp_path, members)
        tampered = dict(members)
        clip = bytearray(tampered["clips/neutral.wav"])
        clip[-10] ^= 0xFF
        tampered["clips/neutral.wav"] = bytes(clip)
        manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
        return _archive(tmp_path, tampered, manifest, name="tampered.zip")
    if kind in ("future-version", "wrong-format"):
        manifest = json.loads(zipfile.ZipFile(_archive(tmp_path, members)).read("manifest.json"))
        manifest.update({"version": 2} if kind == "future-version" else {"format": "something-else"})
        return _archive(tmp_path, members, manifest, name="odd.zip")
    if kind == "unlisted-file":
        path = _archive(tmp_path, members)
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("clips/extra.wav", members["clips/neutral.wav"])
        return path
    if kind == "zip-bomb-ratio":  # 8 MiB of zeros deflate ~1000:1
        return _archive(tmp_path, {**members, "clips/bomb.wav": bytes(8 * 1024 * 1024)})
    if kind == "zip-bomb-size":  # incompressible, but over the per-file limit
        big = np.random.default_rng(0).bytes(voices_mod.MAX_MEMBER_BYTES + 1)
        return _archive(tmp_path, {**members, "clips/big.wav": big}, stored=True)
    if kind == "no-consent":
        profile = json.loads(members["profile.json"])
        profile["consent"]["confirmed"] = False
        return _archive(tmp_path, {**members, "profile.json": json.dumps(profile).encode()})
    if kind == "corrupt-data":
        path = _archive(tmp_path, members)
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("clips/neutral.wav")
        blob = bytearray(path.read_bytes())
        # Flip bytes inside the member's compressed data; the directory stays intact.
        at = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
        blob[at : at + 8] = bytes(b ^ 0xFF for b in blob[at : at + 8])
        path.write_bytes(bytes(blob))
        return path
    if kind == "clip-not-in-profile":
        return _archive(tmp_path, {**members, "clips/extra.wav": members["clips/neutral.wav"]})
    if kind == "clip-not-audio":
        return _archive(tmp_path, {**members, "clips/neutral.wav": b"not a wav file at all" * 10})
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("not-a-zip", "not a valid zip"),
        ("truncated", "not a valid zip"),
        ("dot-dot-path", "unsafe path"),
        ("absolute-path", "unsafe path"),
        ("dot-dot-in-manifest", "unsafe path"),
        ("symlink", "symbolic link"),
        ("missing-file", "missing"),
        ("checksum-mismatch", "checksum"),
        ("future-version", "Update the studio"),
        ("wrong-format", "not a voice exported"),
        ("unlisted-file", "do not match its manifest"),
        ("zip-bomb-ratio", "zip bomb"),
        ("zip-bomb-size", "zip bomb"),
        ("no-consent", "consent"),
        ("clip-not-audio", "not valid audio"),
        ("corrupt-data", "damaged"),
        ("clip-not-in-profile", "not a clip in profile.json"),
    ],
)
def test_bad_archives_are_refused_and_nothing_is_imported(lib, tmp_path, good_members, kind, words):
    archive = _bad_archive(tmp_path, kind, good_members)
    before = sorted(p.name for p in lib.root.iterdir())
    with pytest.raises(InputError) as err:
        lib.import_(archive)
    assert words in err.value.en and "Nothing was imported" in err.value.en and "没有导入任何内容" in err.value.zh
    assert sorted(p.name for p in lib.root.iterdir()) == before
    assert lib.list() == []
    assert not (tmp_path / "evil.txt").exists() and not Path("/etc/evil.wav").exists()


def test_the_good_archive_fixture_imports(lib, tmp_path, good_members):
    # Guards the test above: its archives differ from a valid one only by the defect.
    assert lib.import_(_archive(tmp_path, good_members)).name == "source"


# ------------------------------------------------------------------ prompt cache


def test_prompt_cache_round_trip(lib, prepared):
    _make(lib, prepared)
    prompt = _prompt()
    path = lib.save_prompt("小明", MODEL, prompt)
    assert path == lib.get("小明").path / "prompts" / "Qwen--Qwen3-TTS-12Hz-0.6B-Base.pt"
    loaded = lib.load_prompt("小明", MODEL)
    assert loaded.keys() == prompt.keys()
    for key, value in prompt.items():
        assert torch.equal(loaded[key], value) if isinstance(value, torch.Tensor) else loaded[key] == value
    assert lib.load_prompt("小明", "other-model") is None


def test_x_vector_only_prompt_and_per_clip_prompts(lib, prepared):
    _make(lib, prepared)
    lib.add_clip("小明", prepared, "开心", "哈哈")
    xvec = {"ref_code": None, "ref_spk_embedding": torch.randn(2048), "x_vector_only_mode": True, "icl_mode": False}
    lib.save_prompt("小明", MODEL, xvec, tag="开心")
    assert lib.load_prompt("小明", MODEL) is None  # the default clip has none yet
    loaded = lib.load_prompt("小明", MODEL, tag="开心")
    assert loaded["ref_code"] is None and torch.equal(loaded["ref_spk_embedding"], xvec["ref_spk_embedding"])


def test_prompt_goes_stale_when_the_clip_or_transcript_changes(lib, prepared):
    voice = _make(lib, prepared)
    path = lib.save_prompt("小明", MODEL, _prompt())
    lib.update("小明", notes="unrelated")
    assert lib.load_prompt("小明", MODEL) is not None
    lib.update("小明", transcript="另一段文字")
    assert lib.load_prompt("小明", MODEL) is None and not path.exists()
    lib.save_prompt("小明", MODEL, _prompt())
    x, _ = utterance([("sil", 0.3), ("speech", 3.0), ("sil", 0.3)], seed=99)
    lib.add_clip("小明", (SR, x), "neutral", "另一段文字", replace_existing=True)
    assert lib.load_prompt("小明", MODEL) is None
    assert voice.path.is_dir()


def _corrupt(path: Path, kind: str) -> None:
    good = torch.load(path, weights_only=True)
    if kind == "garbage-bytes":
        path.write_bytes(b"\x00garbage" * 100)
    elif kind == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    elif kind == "pickled-object":
        buf = io.BytesIO()
        torch.save({**good, "tensors": {**good["tensors"], "evil": os.system}}, buf)  # code, not data
        path.write_bytes(buf.getvalue())
    else:
        tensors = dict(good["tensors"])
        if kind == "wrong-shape":
            tensors["ref_spk_embedding"] = torch.randn(4, 1024)
        elif kind == "wrong-type":
            tensors["icl_mode"] = "yes"
        elif kind == "missing-key":
            del tensors["ref_spk_embedding"]
        elif kind == "nan":
            tensors["ref_spk_embedding"] = torch.full((1024,), float("nan"))
        elif kind == "float-codes":
            tensors["ref_code"] = tensors["ref_code"].float()
        torch.save({**good, "tensors": tensors}, path)


@pytest.mark.parametrize(
    "kind",
    ["garbage-bytes", "truncated", "pickled-object", "wrong-shape", "wrong-type", "missing-key", "nan", "float-codes"],
)
def test_a_corrupt_prompt_file_is_rejected_and_removed(lib, prepared, kind):
    _make(lib, prepared)
    path = lib.save_prompt("小明", MODEL, _prompt())
    _corrupt(path, kind)
    assert lib.load_prompt("小明", MODEL) is None
    assert not path.exists()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"ref_spk_embedding": torch.randn(2, 8)}, "1-D float"),
        ({"icl_mode": 1}, "booleans"),
        ({"ref_code": None}, "ICL prompt needs"),
        ({"extra": object()}, "unsupported type"),
    ],
)
def test_an_invalid_prompt_is_not_saved(lib, prepared, change, words):
    _make(lib, prepared)
    with pytest.raises(InputError, match=words):
        lib.save_prompt("小明", MODEL, {**_prompt(), **change})
    assert not (lib.get("小明").path / "prompts").exists()


@pytest.mark.parametrize("key", ["../evil", "a/../b", "", ".hidden", "a@b", "x" * 200])
def test_unsafe_model_keys_are_refused(lib, prepared, key):
    _make(lib, prepared)
    with pytest.raises(InputError, match="model key"):
        lib.save_prompt("小明", key, _prompt())


def test_a_voice_folder_that_is_a_symbolic_link_is_refused(lib, prepared, tmp_path):
    """A link in the library to a voice folder elsewhere is neither listed nor used, like a linked clip."""
    _make(lib, prepared, "本地")
    elsewhere = VoiceLibrary(tmp_path / "elsewhere")
    outside = _make(elsewhere, prepared, "外面")
    (lib.root / "outside").symlink_to(outside.path, target_is_directory=True)
    assert [v.name for v in lib.list()] == ["本地"]
    assert not lib.exists("外面") and not lib.exists("outside")
    with pytest.raises(NotFoundError):
        lib.clip_path("外面")
    with pytest.raises(NotFoundError):
        lib.delete("外面")
    assert (outside.path / "profile.json").is_file()  # the linked folder is left alone


def test_a_voice_whose_clip_file_is_a_symbolic_link_is_refused(lib, prepared, tmp_path):
    voice = _make(lib, prepared, "片段")
    secret = tmp_path / "secret.wav"
    clip = voice.path / voice.clip().file
    secret.write_bytes(clip.read_bytes())
    clip.unlink()
    clip.symlink_to(secret)
    assert lib.list() == []
    with pytest.raises(NotFoundError):
        lib.clip_path("片段")
