"""The bad-input corpus (tests/bad_inputs.py) against every entry point: engine, CLI, HTTP API and UI.

Every case must end in a clear message (the studio's own bilingual error, a
one-line CLI error with exit code 2, a 4xx JSON answer, a UI error that is
not an "internal error"), the server still answering, and nothing
half-written (no new voice, no staging files, no output file).

A case only runs where its control exists: projects are opened by the engine
and the CLI (the API has no project route; the UI's import is not a public
endpoint), the CLI has no intensity control, the UI no loudness control. The
CLI's number controls other than ``--seed`` are only checked once a model is
loaded, which costs ~20 s a case on a CPU: they run at the engine level here.
NaN cannot reach the UI (its protocol is strict JSON). CLI cases run through
``studio.cli.main`` in one interpreter (one of each kind also as its own
``python -m studio`` process), to keep the module near a minute.
The count of cases is printed at the end of the module (and is the number of
``test_bad_input`` ids).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests import bad_inputs as B
from tests.helpers import ROOT, free_port, running_app

pytestmark = pytest.mark.slow

VOICE = "好声音"
GOOD_TEXT = "你好。"
CLI_NUMBER_FIELDS = ("seed", "duration", "ratio", "takes", "loudness")
#: The HTTP API's numeric controls, each given the bad value of one corpus field.
API_NUMBER_FIELDS = {
    "seed": "seed",
    "duration": "pause",
    "ratio": "speed",
    "takes": "top_k",
    "loudness": "temperature",
    "intensity": "top_p",
}
UI_NUMBER_FIELDS = ("seed", "duration", "ratio", "takes", "intensity")


def applies(entry: str, case: B.Case) -> bool:
    """Whether ``case`` has a control to go to at ``entry``."""
    if case.kind == "project":
        return entry in ("engine", "cli")
    if entry == "cli" and case.kind == "number":
        return case.field in CLI_NUMBER_FIELDS
    if entry == "cli" and case.kind == "voice_name":
        return "\x00" not in str(case.value)  # a NUL cannot be passed in argv at all
    if entry == "ui" and case.kind == "number":
        # The UI's protocol is strict JSON: NaN cannot be sent (gradio_client refuses it, a browser never sends it).
        return case.field in UI_NUMBER_FIELDS and not (isinstance(case.value, float) and math.isnan(case.value))
    return True


MATRIX = [(entry, case) for entry in ("engine", "api", "cli", "ui") for case in B.ALL if applies(entry, case)]


def _voice_tree(root: Path) -> set[str]:
    """The library's files, minus the prompt cache a successful prompt encoding may add."""
    if not root.exists():
        return set()
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if "prompts" not in p.relative_to(root).parts and p.name != ".lock"
    }


def _assert_clean_message(message: str) -> None:
    assert message and message.strip()
    for bad in ("Traceback", "内部错误", "Internal error", "Exception in"):
        assert bad not in message, message


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return B.build_files(tmp_path_factory.mktemp("bad-corpus"))


@pytest.fixture(scope="module", autouse=True)
def report_count(request):
    yield
    counts: dict[str, int] = {}
    for entry, _ in MATRIX:
        counts[entry] = counts.get(entry, 0) + 1
    line = f"bad-input corpus: {len(B.ALL)} inputs, {len(MATRIX)} cases over entry points {counts}"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)


# -- engine -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine_env(tmp_path_factory, corpus, tiny_base):
    from studio.engine import Engine
    from studio.models import ModelManager
    from studio.settings import Settings
    from studio.voices import VoiceLibrary

    root = tmp_path_factory.mktemp("bad-engine") / "voices"
    engine = Engine(ModelManager(Settings(dtype="float32")), voices=VoiceLibrary(root))
    engine.voices.create(VOICE, corpus / "_good.wav", "参考文字。", consent=True)
    return engine, root, tiny_base


def run_engine(env, corpus: Path, case: B.Case) -> None:
    from studio.dubbing.project import Project
    from studio.engine import Delivery
    from studio.errors import StudioError
    from studio.synthesis import Sampling

    engine, root, tiny_base = env
    before = _voice_tree(root)
    with pytest.raises(StudioError) as err:
        if case.kind == "audio":
            engine.voices.create("坏音频", corpus / str(case.value), "参考文字。", consent=True)
        elif case.kind == "voice_name":
            engine.voices.create(case.value, corpus / "_good.wav", "参考文字。", consent=True)
        elif case.kind == "project":
            Project.load(corpus / str(case.value))
        else:
            text = case.value if case.kind == "text" else GOOD_TEXT
            kwargs: dict = {}
            if case.field in ("seed", "intensity"):
                kwargs[case.field] = case.value
            elif case.field:
                kwargs["delivery"] = Delivery(**{case.field: case.value})
            engine.clone(
                text,
                voice=VOICE,
                clip="neutral" if case.field == "intensity" else None,
                model=str(tiny_base),
                sampling=Sampling(max_new_tokens=6),
                **kwargs,
            )
    assert err.value.zh and err.value.en
    _assert_clean_message(err.value.en)
    _assert_clean_message(err.value.zh)
    assert _voice_tree(root) == before
    assert [v.name for v in engine.voices.list()] == [VOICE]


# -- CLI --------------------------------------------------------------------------------------------


def _cli_args(case: B.Case, corpus: Path, work: Path) -> list[str]:
    out = str(work / f"{case.kind}-{case.id}.wav")
    if case.kind == "audio":
        return [
            "voices",
            "add",
            "坏音频",
            "--audio",
            str(corpus / str(case.value)),
            "--transcript",
            "参考",
            "--consent",
        ]
    if case.kind == "voice_name":
        return [
            "voices",
            "add",
            str(case.value),
            "--audio",
            str(corpus / "_good.wav"),
            "--transcript",
            "参考",
            "--consent",
        ]
    if case.kind == "project":
        return ["dub", str(corpus / str(case.value)), "--out", str(work / f"dub-{case.id}")]
    if case.kind == "text":
        text_file = work / f"text-{case.id}.txt"
        text_file.write_text(str(case.value), encoding="utf-8")
        return ["clone", "--text-file", str(text_file), "--voice", VOICE, "--out", out]
    value = "nan" if isinstance(case.value, float) and math.isnan(case.value) else repr(case.value)
    return ["clone", "--text", GOOD_TEXT, "--voice", VOICE, "--out", out, f"--{case.field}", value]


#: Runs many CLI invocations in one interpreter: ``studio.cli.main(argv)`` exactly as ``python -m studio``
#: calls it, each with its own stdout/stderr; an exception escaping main() is printed as a traceback.
_CLI_DRIVER = """
import contextlib, io, json, sys, traceback
from studio.cli import main
results = []
for argv in json.load(sys.stdin):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
    results.append([code, out.getvalue(), err.getvalue()])
sys.__stdout__.write(json.dumps(results))
"""
#: These cases also run as their own ``python -m studio`` process (one of each kind).
_CLI_OWN_PROCESS = (
    "audio:corrupted",
    "text:control_chars",
    "number:seed_nan",
    "voice_name:traversal",
    "project:binary",
)


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory, corpus, tiny_base) -> dict[str, tuple]:
    """Every CLI case's (exit code, stdout, stderr, argv)."""
    from studio.voices import VoiceLibrary

    home = tmp_path_factory.mktemp("bad-cli-home")
    work = tmp_path_factory.mktemp("bad-cli-work")
    VoiceLibrary(home / "voices").create(VOICE, corpus / "_good.wav", "参考文字。", consent=True)
    env = {**os.environ, "STUDIO_HOME": str(home), "STUDIO_MODEL": str(tiny_base), "STUDIO_LANG": "en"}
    before = _voice_tree(home / "voices")
    cases = [case for entry, case in MATRIX if entry == "cli"]
    argvs = [_cli_args(case, corpus, work) for case in cases]

    def own_process(item: tuple[B.Case, list[str]]) -> tuple[str, tuple]:
        case, args = item
        proc = subprocess.run(
            [sys.executable, "-m", "studio", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        return f"{case} (own process)", (proc.returncode, proc.stdout, proc.stderr, args)

    with ThreadPoolExecutor(3) as pool:
        singles = pool.map(
            own_process, [(c, a) for c, a in zip(cases, argvs, strict=True) if str(c) in _CLI_OWN_PROCESS]
        )
        driver = subprocess.run(
            [sys.executable, "-c", _CLI_DRIVER],
            input=json.dumps(argvs),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        results = dict(singles)
    assert driver.returncode == 0, driver.stderr[-3000:]
    for case, args, (code, out, err) in zip(cases, argvs, json.loads(driver.stdout), strict=True):
        results[str(case)] = (code, out, err, args)
    results["__library__"] = (before, _voice_tree(home / "voices"))
    return results


def run_cli(results: dict, case: B.Case) -> None:
    for key in (str(case), f"{case} (own process)"):
        if key in results:
            _check_cli(results, case, *results[key])


def _check_cli(results: dict, case: B.Case, code: int, out: str, err: str, args: list[str]) -> None:
    assert "Traceback" not in out + err, err
    assert code == 2, (args, out, err)
    errors = [line for line in (out + err).splitlines() if "error:" in line]
    assert len(errors) == 1, (out, err)
    _assert_clean_message(errors[0])
    outputs = [a for a in args if a.endswith(".wav") and "--out" in args and args[args.index("--out") + 1] == a]
    assert all(not Path(o).exists() for o in outputs)
    if case.kind == "project":
        folder = Path(args[args.index("--out") + 1])
        assert not folder.exists() or not any(folder.iterdir())
    before, after = results["__library__"]
    assert after == before


# -- HTTP API ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api_env(tmp_path_factory, corpus, tiny_base):
    from studio.api import serve_in_thread
    from studio.engine import Engine
    from studio.voices import VoiceLibrary

    root = tmp_path_factory.mktemp("bad-api") / "voices"
    VoiceLibrary(root).create(VOICE, corpus / "_good.wav", "参考文字。", consent=True)
    srv = serve_in_thread(Engine(), port=free_port(), models={"base": str(tiny_base)}, voices_root=root)
    yield srv, root
    srv.stop()


def run_api(env, corpus: Path, case: B.Case) -> None:
    srv, root = env
    url = srv.url
    uploads = srv.server.config.app.state.studio.upload_dir
    before, uploaded = _voice_tree(root), set(uploads.iterdir())
    if case.kind == "audio":
        path = corpus / str(case.value)
        reply = httpx.post(f"{url}/api/uploads", files={"file": (path.name, path.read_bytes())}, timeout=120)
    else:
        body: dict = {"text": GOOD_TEXT, "voice": VOICE}
        if case.kind == "text":
            body["text"] = case.value
        elif case.kind == "voice_name":
            body["voice"] = case.value
        else:
            body[API_NUMBER_FIELDS[case.field]] = case.value
        payload = json.dumps(body, ensure_ascii=False, allow_nan=True).encode()
        reply = httpx.post(
            f"{url}/api/clone", content=payload, headers={"Content-Type": "application/json"}, timeout=120
        )
    assert 400 <= reply.status_code < 500, (reply.status_code, reply.text[:300])
    assert reply.headers["content-type"].startswith("application/json")
    message = reply.json().get("message") or reply.json().get("error", {}).get("message")
    _assert_clean_message(message)
    assert httpx.get(f"{url}/api/health", timeout=10).status_code == 200
    assert _voice_tree(root) == before
    assert set(uploads.iterdir()) == uploaded  # no upload stored, no staging file left


# -- UI ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ui_env(tmp_path_factory, corpus, tiny_base):
    from gradio_client import Client

    from studio.voices import VoiceLibrary

    home = tmp_path_factory.mktemp("bad-ui-home")
    VoiceLibrary(home / "voices").create(VOICE, corpus / "_good.wav", "参考文字。", consent=True)
    with running_app(home, env={"STUDIO_MODEL": str(tiny_base), "STUDIO_LANG": "zh"}) as url:
        yield Client(url, verbose=False), url, home / "voices", tiny_base


def run_ui(env, corpus: Path, case: B.Case) -> None:
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    client, url, root, tiny_base = env
    before = _voice_tree(root)
    good = handle_file(str(corpus / "_good.wav"))
    with pytest.raises(AppError) as err:
        if case.kind == "audio":
            client.predict(
                handle_file(str(corpus / str(case.value))),
                "坏音频",
                "参考文字。",
                "zh",
                "",
                True,
                api_name="/save_voice",
            )
        elif case.kind == "voice_name":
            client.predict(good, case.value, "参考文字。", "zh", "", True, api_name="/save_voice")
        else:
            values = {"seed": 3, "duration": 0, "ratio": 1.0, "takes": 1, "intensity": 1.0}
            text = case.value if case.kind == "text" else GOOD_TEXT
            if case.kind == "number":
                values[case.field] = case.value
            client.predict(
                None, "", False, text, "Chinese", str(tiny_base), values["seed"], VOICE, "neutral", True,
                values["duration"], values["ratio"], values["takes"], values["intensity"],
                api_name="/clone",
            )  # fmt: skip
    _assert_clean_message(str(err.value))
    assert httpx.get(url, timeout=10).status_code == 200
    assert _voice_tree(root) == before


# -- the one parametrized test ----------------------------------------------------------------------


@pytest.mark.parametrize(("entry", "case"), MATRIX, ids=[f"{e}-{c}" for e, c in MATRIX])
def test_bad_input(request, corpus, entry, case):
    if entry == "engine":
        run_engine(request.getfixturevalue("engine_env"), corpus, case)
    elif entry == "cli":
        run_cli(request.getfixturevalue("cli_results"), case)
    elif entry == "api":
        run_api(request.getfixturevalue("api_env"), corpus, case)
    else:
        run_ui(request.getfixturevalue("ui_env"), corpus, case)


def test_corpus_covers_every_kind_at_every_entry():
    kinds = {(entry, case.kind) for entry, case in MATRIX}
    for entry in ("engine", "api", "cli", "ui"):
        for kind in ("audio", "text", "number", "voice_name"):
            assert (entry, kind) in kinds
    assert B.count() == {"audio": 13, "text": 6, "number": 14, "voice_name": 8, "project": 8}
