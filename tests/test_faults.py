"""Load and faults: a burst of concurrent API requests, many generations in a row, kill -9 mid-write, failing writes, OOM.

The tiny random checkpoints never stop early, so an API reply lasts exactly its
length cap (``max_steps_for(text) - 1`` frames of 1920 samples): the length
tells which text a reply belongs to, and a seed fixes its samples.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from studio.api import serve_in_thread
from studio.audio import MODEL_SR, load_audio
from studio.engine import Engine
from studio.errors import ResourceError, StorageError
from studio.models import ModelManager
from studio.settings import Settings
from studio.synthesis import Sampling, max_steps_for
from tests.fault_helpers import DOWNLOAD, SAVE_VOICES, kill_when, rss_bytes, start, studio_temp_entries
from tests.helpers import free_port, voiced_clip

pytestmark = pytest.mark.slow

FRAME = 1920
TIMEOUT = httpx.Timeout(300.0, connect=30.0)
MAX_QUEUE = 4
TEXTS = ["Hi", "Hello there", "Hello there, my friend", "One two three four five", "Good"]
REF = (MODEL_SR, voiced_clip(3.0))
QUICK = Sampling(max_new_tokens=6)


@pytest.fixture(scope="module")
def engine():
    return Engine(ModelManager(Settings(dtype="float32")))


# -- 1. a burst of concurrent requests while another client generates --------------------------------


@pytest.fixture(scope="module")
def server(engine, tiny_base, tiny_custom, tmp_path_factory):
    srv = serve_in_thread(
        engine,
        port=free_port(),
        models={"base": str(tiny_base), "custom_voice": str(tiny_custom)},
        voices_root=tmp_path_factory.mktemp("fault-voices"),
        max_queue=MAX_QUEUE,
    )
    yield srv
    srv.stop()


def _ask(url: str, i: int) -> tuple[int, httpx.Response]:
    body = {"text": TEXTS[i % 5], "speaker": "Vivian", "seed": 100 + i % 5, "format": "pcm", "split": "none"}
    return i, httpx.post(f"{url}/api/custom", json=body, timeout=TIMEOUT)


def _check_replies(replies: dict[int, httpx.Response], reference: dict[int, bytes]) -> tuple[int, int]:
    """Every reply is 200 with its own request's audio or a 503 with Retry-After; return (ok, busy)."""
    ok = busy = 0
    for i, r in replies.items():
        if r.status_code == 503:
            busy += 1
            assert int(r.headers["retry-after"]) >= 1
            assert r.json()["error"] == "busy"
            continue
        assert r.status_code == 200, r.text
        ok += 1
        assert r.headers["x-seed"] == str(100 + i % 5)
        assert len(r.content) // 2 == (max_steps_for(TEXTS[i % 5]) - 1) * FRAME, (i, len(r.content))
        assert r.content == reference[i % 5], f"request {i} got audio that is not its own"
    return ok, busy


def test_fifty_concurrent_requests_while_another_client_generates(engine, server, tiny_custom):
    url = server.url
    assert _ask(url, 0)[1].status_code == 200  # model loaded
    reference = {k: _ask(url, k)[1].content for k in range(5)}  # sequential: what each (text, seed) must give

    # Another client (the UI shares the engine) is generating, and stays mid-generation during the burst.
    generating, release = threading.Event(), threading.Event()
    other: dict = {}

    def hold(fraction, message):
        generating.set()
        release.wait(120)

    def other_client():
        try:
            other["result"] = engine.custom(
                "另一个客户端。", "Vivian", model=str(tiny_custom), seed=5, sampling=QUICK, progress=hold
            )
        except BaseException as exc:  # reported by the assertion below
            other["error"] = exc

    thread = threading.Thread(target=other_client)
    thread.start()
    assert generating.wait(60)
    started = time.perf_counter()
    replies: dict[int, httpx.Response] = {}
    try:
        with ThreadPoolExecutor(50) as pool:
            futures = [pool.submit(_ask, url, i) for i in range(50)]
            for n, future in enumerate(as_completed(futures), 1):
                i, r = future.result()
                replies[i] = r
                if n == 50 - (MAX_QUEUE + 1):
                    release.set()  # all the refusals are in: let the other client and the queue run
    finally:
        release.set()
        thread.join(120)
    print(f"\nburst of 50: {time.perf_counter() - started:.1f} s")
    assert "error" not in other, other.get("error")
    assert len(other["result"].samples) > 0

    ok, busy = _check_replies(replies, reference)
    print(f"burst of 50 while busy: {ok} served, {busy} refused with 503")
    # The engine was busy throughout the burst: exactly the queue bound (plus the one at the head) got in.
    assert (ok, busy) == (MAX_QUEUE + 1, 50 - MAX_QUEUE - 1)

    # A second burst with nothing else running: still served or refused, never mixed.
    started = time.perf_counter()
    with ThreadPoolExecutor(20) as pool:
        replies = dict(pool.map(lambda i: _ask(url, i), range(20)))
    ok, busy = _check_replies(replies, reference)
    print(f"burst of 20 when idle: {ok} served, {busy} refused, {time.perf_counter() - started:.1f} s")
    assert ok >= 1

    health = httpx.get(f"{url}/api/health", timeout=30).json()
    assert health["status"] == "ok" and health["queue"]["pending"] == 0
    assert _ask(url, 3)[1].content == reference[3]


# -- 2. many generations in a row -------------------------------------------------------------------------


def test_many_generations_keep_memory_flat_and_leave_no_temp_files(engine, tiny_base, tmp_path, monkeypatch):
    import tempfile

    from studio.takes import TakeHistory

    # a temp folder of this test's own: other programs' studio entries in the system one are not ours to count
    (tmp_path / "temp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temp"))
    history = TakeHistory(tmp_path / "takes")
    temp_before = studio_temp_entries()

    def generate(i: int) -> None:
        result = engine.clone("内存测试。", REF, transcript="参考。", model=str(tiny_base), seed=i, sampling=QUICK)
        history.add(result.samples, result.sr, kind="clone", text="内存测试。", voice="ref", seed=i, model="tiny")

    warmup, runs = 10, 200
    for i in range(warmup):
        generate(i)
    gc.collect()
    rss_start = rss_bytes()
    started = time.perf_counter()
    for i in range(warmup, warmup + runs):
        generate(i)
    elapsed = time.perf_counter() - started
    gc.collect()
    rss_end = rss_bytes()
    growth = (rss_end - rss_start) / rss_start
    print(
        f"\n{runs} generations after {warmup} warm-up: {elapsed:.1f} s ({elapsed / runs * 1000:.0f} ms each); "
        f"RSS {rss_start / 2**20:.1f} -> {rss_end / 2**20:.1f} MiB ({growth:+.2%})"
    )
    assert growth < 0.05
    new_temp = studio_temp_entries() - temp_before
    assert not new_temp, new_temp
    assert len(history.list()) == warmup + runs
    leftovers = sorted(p.name for p in history.root.iterdir() if p.name.startswith("."))
    assert not leftovers, leftovers
    assert len(list(history.root.glob("*.wav"))) == warmup + runs


# -- 3. kill -9 mid-way ---------------------------------------------------------------------------------


def test_kill_during_voice_saves_leaves_a_library_that_opens(tmp_path):
    from studio.voices import VoiceLibrary

    clip = tmp_path / "ref.wav"
    sf.write(clip, voiced_clip(3.0), MODEL_SR)
    for round_, pause in enumerate((0.0, 0.07, 0.15)):  # land the kill at different points of a save
        home = tmp_path / f"home{round_}"
        proc = start(["-c", SAVE_VOICES, str(clip)], home)

        def ready(lines, pause=pause):
            if sum(1 for line in lines if line.startswith("SAVED")) < 2:
                return False
            time.sleep(pause)
            return True

        lines = kill_when(proc, ready)
        saved = [line for line in lines if line.startswith("SAVED")]
        assert all(line.endswith(" 0") for line in saved), lines[-10:]
        library = VoiceLibrary(home / "voices")
        voices = library.list()
        print(f"\nround {round_}: killed after {len(saved)} reported saves; the library holds {len(voices)} voices")
        assert len(saved) <= len(voices) <= len(saved) + 1
        for voice in voices:
            audio = load_audio(library.clip_path(voice.name))
            assert audio.sr == MODEL_SR and abs(len(audio.samples) / audio.sr - 3.0) < 0.5, voice.name
            assert voice.consent.confirmed
        assert not [p.name for p in library.root.iterdir() if p.name.startswith(".tmp-")]
        assert library.create("after the crash", REF, transcript="参考。", consent=True).name == "after the crash"


def _write_script(path: Path, n: int) -> None:
    path.write_text("".join(f"[A] 第{i}句话。\n\n" for i in range(1, n + 1)), encoding="utf-8")


def _lines_with_takes(project_json: Path) -> int:
    try:
        data = json.loads(project_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    return sum(1 for line in data["lines"] if line["takes"])


def test_kill_during_dubbing_then_rerun_generates_only_the_missing_lines(tmp_path, tiny_design):
    script = tmp_path / "s.txt"
    _write_script(script, 10)
    out = tmp_path / "out"
    project_json = out / "project" / "project.json"
    args = ["-m", "studio", "dub", str(script), "--out", str(out), "--voice", "design:温柔的声音"]
    args += ["--design-model", str(tiny_design), "--max-new-tokens", "6", "--format", "wav", "--seed", "1"]
    args += ["--dtype", "float32"]
    proc = start(args, tmp_path / "home")
    kill_when(proc, lambda _: _lines_with_takes(project_json) >= 3)
    done = _lines_with_takes(project_json)  # project.json is replaced atomically: always readable
    assert 3 <= done < 10
    rerun = start(args, tmp_path / "home")
    stdout, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stdout[-3000:]
    print(
        f"\nkilled with {done}/10 lines done; rerun: " + next(s for s in stdout.splitlines() if s.startswith("lines "))
    )
    assert f"lines 10 (generated {10 - done}, reused {done}," in stdout
    data = json.loads(project_json.read_text(encoding="utf-8"))
    for line in data["lines"]:
        take = out / "project" / line["takes"][line["chosen"]]["file"]
        samples, sr = sf.read(take)
        assert sr == MODEL_SR and len(samples) > 0
    assert all((out / f"scene{n}-audio.wav").is_file() for n in range(1, 11))


def test_kill_during_model_download_then_download_resumes_and_validates(tmp_path, tiny_base, monkeypatch):
    from studio import checkpoints
    from studio.registry import get_spec
    from tests.fake_hub import FakeHub

    spec = get_spec("0.6b-base")
    home = tmp_path / "home"
    monkeypatch.setenv("STUDIO_HOME", str(home))
    hub = FakeHub(tiny_base, spec.repo_id)
    hub.server.handle_error = lambda request, address: None  # the killed client resets its connection
    try:
        proc = start(["-c", DOWNLOAD, spec.id, hub.url], home)

        def halfway(lines):
            fractions = [float(s.split()[1]) for s in lines if s.startswith("FRACTION")]
            return bool(fractions) and fractions[-1] > 0.4

        kill_when(proc, halfway)
        target = checkpoints.local_dir(spec)
        parts = {p: p.stat().st_size for p in target.rglob("*.part")}
        print(f"\nkilled mid-download: partial files {[(p.name, n) for p, n in parts.items()]}")
        assert checkpoints.locate(spec) is None  # an incomplete download is never taken for a model
        hub.requests.clear()
        checkpoints.download(spec, endpoint=hub.url)
    finally:
        hub.close()
    ranges = [r for _, r in hub.requests if r]
    for size in parts.values():
        if size:
            assert f"bytes={size}-" in ranges, (size, ranges)
    assert checkpoints.validate_checkpoint(target).kind == "base"
    assert not list(target.rglob("*.part"))
    for source in tiny_base.rglob("*"):
        if source.is_file():
            copy = target / source.relative_to(tiny_base)
            assert hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()


# -- 4. writes that fail, out of memory -------------------------------------------------------------


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_voice_library_under_a_file_gives_a_storage_error(tmp_path):
    from studio.voices import VoiceLibrary

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StorageError) as info:
        VoiceLibrary(blocker / "voices")
    assert "voice library" in info.value.en and str(blocker / "voices") in info.value.en
    assert blocker.read_text() == "x"


def test_full_disk_during_voice_save_writes_nothing(tmp_path, monkeypatch):
    from studio.voices import VoiceLibrary

    library = VoiceLibrary(tmp_path / "voices")
    library.create("Kept", REF, transcript="参考。", consent=True)
    before = sorted(p.relative_to(library.root) for p in library.root.rglob("*"))
    with monkeypatch.context() as m:
        m.setattr(os, "replace", _no_space)
        with pytest.raises(StorageError) as info:
            library.create("Lost", REF, transcript="参考。", consent=True)
        assert "No space left on device" in info.value.en and "disk space" in info.value.en
        with pytest.raises(StorageError):
            library.update("Kept", transcript="改过的。")
    after = sorted(p.relative_to(library.root) for p in library.root.rglob("*"))
    assert after == before
    assert [v.name for v in library.list()] == ["Kept"] and library.get("Kept").transcript == "参考。"
    assert library.create("Lost", REF, transcript="参考。", consent=True).name == "Lost"  # works again


def test_failing_takes_history_writes_give_a_storage_error(tmp_path, monkeypatch):
    from studio.takes import TakeHistory

    samples = voiced_clip(1.0)
    kw = {"kind": "custom", "text": "t", "voice": "Vivian", "seed": 1, "model": "tiny"}
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError) as info:
        TakeHistory(blocker / "takes").add(samples, MODEL_SR, **kw)
    assert "takes folder" in info.value.en

    history = TakeHistory(tmp_path / "takes")
    first = history.add(samples, MODEL_SR, **kw)
    before = sorted(p.name for p in history.root.iterdir())
    real_replace = os.replace
    calls = []

    def fail_on(n):
        def replace(*args, **kwargs):
            calls.append(args)
            if len(calls) == n:
                _no_space()
            return real_replace(*args, **kwargs)

        return replace

    for n in (1, 2):  # the audio file's rename, then the index's
        calls.clear()
        with monkeypatch.context() as m:
            m.setattr(os, "replace", fail_on(n))
            with pytest.raises(StorageError) as info:
                history.add(samples, MODEL_SR, **kw)
        assert "No space left on device" in info.value.en
        assert sorted(p.name for p in history.root.iterdir()) == before, n
        assert [t.id for t in history.list()] == [first.id]
    assert len(history.list()) == 1 and history.add(samples, MODEL_SR, **kw).id != first.id


def test_out_of_memory_then_a_normal_generation_works(engine, tiny_custom, monkeypatch):
    import torch

    engine.custom("预热。", "Vivian", model=str(tiny_custom), seed=1, sampling=QUICK)
    expected = engine.custom("恢复。", "Vivian", model=str(tiny_custom), seed=2, sampling=QUICK).samples

    def boom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    with monkeypatch.context() as m:
        m.setattr(engine.manager.loaded.tts, "generate_custom_voice", boom)
        with pytest.raises(ResourceError) as info:
            engine.custom("你好。", "Vivian", model=str(tiny_custom), seed=1, sampling=QUICK)
    assert "memory" in info.value.en.lower()
    assert engine.manager.loaded is None  # the model was let go
    again = engine.custom("恢复。", "Vivian", model=str(tiny_custom), seed=2, sampling=QUICK).samples
    assert np.array_equal(again, expected)
