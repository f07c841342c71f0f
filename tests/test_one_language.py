"""One language at a time: the built UI in each language, and the CLI's messages, hold no words of the other.

English text must hold no CJK character. Chinese text may hold ASCII words only from an allow-list
of names, units and things a user types as written (model names, file types, commands).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import gradio as gr
import pytest

from studio.cli_messages import MESSAGES
from studio.registry import LANGUAGES
from studio.ui.app import build_app
from tests.helpers import ROOT

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff01-\uff5e]")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")
#: Names, units and literal things a Chinese sentence may carry in Latin letters.
ALLOWED = {
    w.lower()
    for w in [
        "Qwen",
        "Voice",
        "Studio",
        "Base",
        "CustomVoice",
        "VoiceDesign",
        "TTS",
        "API",
        "HTTP",
        "GPT-SoVITS",
        "OpenAI",
        "x-vector",
        "ICL",
        "LoRA",
        "MB",
        "GB",
        "Hz",
        "kHz",
        "LUFS",
        "dBTP",
        "dB",
        "ms",
        "min",
        "zip",
        "wav",
        "mp3",
        "flac",
        "ogg",
        "opus",
        "srt",
        "vtt",
        "txt",
        "csv",
        "tsv",
        "yaml",
        "yml",
        "json",
        "otio",
        "fcpxml",
        "xml",
        "FCP",
        "Premiere",
        "Resolve",
        "Final",
        "Cut",
        "Final-Cut",
        "Remotion",
        "python",
        "studio",
        "voices",
        "add",
        "alias",
        "import-gsv",
        "restore",
        "NAME",
        "CLIP",
        "TEXT",
        "consent",
        "audio",
        "transcript",
        "top-k",
        "top-p",
        "Vivian",
        "Serena",
        "Hugging",
        "Face",
        "ModelScope",
        "CPU",
        "GPU",
        "CUDA",
        "int8",
        "bf16",
        "fp32",
        "float32",
        "bfloat16",
        "tokenizer",
        "Tokenizer",
        "id",
        "URL",
        "Space",
        "Spaces",
        "ffmpeg",
        "reading",
        "alias",
        "happy",
        "sad",
        "angry",
        *LANGUAGES,
        "SSML",
        "break",
        "time",
        "pause",
        "localhost",
        "Windows",
        "macOS",
        "Linux",
        "WebUI",
        "Gradio",
        "PDF",
        "Enter",
        "Tab",
        "Ctrl",
        "Cmd",
        "ok",
        "OK",
        "AI",
        "Dylan",
        "Eric",
        "Ryan",
        "Aiden",
        "Sohee",
        "Uncle",
        "Fu",
        "Ono",
        "Anna",
        "mps",
        "vLLM-Omni",
        "DaVinci",
        "Pro",
        "OpenTimelineIO",
        "PyTorch",
        "sdpa",
        "eager",
        "qwen-tts",
        "pinyin",
        "text-file",
        "Ctrl-C",
    ]
}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def _texts(component, update: dict | None) -> list[str]:
    """Every user-visible string of ``component`` as a user of that language sees it."""
    out = []
    for attr in ("label", "info", "placeholder", "value", "choices", "headers"):
        if update is not None and attr in update:
            value = update[attr]
        else:
            value = getattr(component, attr, None)
            if attr == "headers" and value is None:
                value = (
                    (getattr(component, "value", None) or {}).get("headers")
                    if isinstance(component, gr.Dataframe)
                    else None
                )
        if attr == "value" and not isinstance(component, (gr.Markdown, gr.Button, gr.HTML, gr.Textbox)):
            continue
        if attr == "choices" and value:
            value = [c[0] if isinstance(c, (list, tuple)) else c for c in value]
        out += _strings(value)
    return out


def _violations(texts: list[str], lang: str) -> list[str]:
    bad = []
    for text in texts:
        if lang == "en" and _CJK.search(text) and text not in ("中文",):
            bad.append(text)
        if lang == "zh" and _CJK.search(text) is None and not text.strip("#★ ").strip():
            continue
        if lang == "zh":
            plain = re.sub(r"`[^`]*`|https?://\S+|\{[^}]*\}", "", text)
            # Literal things (ids, paths, file types, syntax like preset:NAME) are written as they are.
            tokens = [w for w in re.findall(r"[\w.:/\\-]+", plain) if not re.search(r"[\d_:/\\]|^\.", w)]
            words = {w.lower() for tok in tokens for w in _WORD.findall(tok)}
            if words - ALLOWED and text not in ("English",):
                bad.append(f"{text!r}: {sorted(words - ALLOWED)}")
    return bad


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from studio.ui import common

    # an empty data folder: voices other tests saved (user data, any language) are not the interface's words
    home = tmp_path_factory.mktemp("one-language-home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STUDIO_HOME", str(home))
        yield _build(common)


def _build(common):
    registered: list = []
    original = common.Localizer.__call__

    def spy(self, component, **keys):
        registered.append(self)
        return original(self, component, **keys)

    common.Localizer.__call__ = spy
    try:
        from studio.api import serve_in_thread

        demo = build_app(serve_api=serve_in_thread)  # as the desktop builds it: the API switch included
    finally:
        common.Localizer.__call__ = original
    return demo, registered[0]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_built_ui_speaks_one_language(built, lang):
    demo, loc = built
    updates = dict(zip(map(id, loc.components), loc.updates(lang), strict=True))
    texts = []
    for block in demo.blocks.values():
        if not isinstance(block, gr.components.Component | gr.Tab | gr.Accordion):
            continue
        texts += _texts(block, updates.get(id(block)) if lang == "en" or id(block) in updates else None)
    bad = _violations(texts, lang)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_cli_catalogue_speaks_one_language(lang):
    texts = [pair[0 if lang == "zh" else 1] for pair in MESSAGES.values()]
    assert not _violations(texts, lang)


def test_the_cli_says_saved_voice_in_chinese(tmp_path, reference_wav):
    env = {**os.environ, "STUDIO_LANG": "zh", "STUDIO_HOME": str(tmp_path / "home")}

    def cli(*args):
        proc = subprocess.run(
            [sys.executable, "-m", "studio", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    saved = cli("voices", "add", "Anna", "--audio", str(reference_wav), "--transcript", "参考音频的文字。", "--consent")
    assert saved.startswith("已保存声音“Anna”") and "saved voice" not in saved
    assert cli("voices", "alias", "Anna", "E:\\old\\0.wav").strip().startswith("“Anna”现在也响应")
    assert "片段" in cli("voices", "list")


def test_the_first_run_banner_follows_the_language_switch(built, studio_home):
    from studio import desktop

    demo, loc = built
    deps = demo.get_config_file()["dependencies"]
    switch = next(d for d in deps if d["api_name"] == "set_language")
    assert len(switch["outputs"]) == len(loc.components) + 2  # the state, every label, and the banner
    assert not _violations([desktop.first_run_markdown("en")], "en")
    assert _CJK.search(desktop.first_run_markdown("zh"))


#: What a user typed (texts, names, a design description): printed back as given, in any language.
_USER_TEXT = ("银行行长。", "第一场，大家好。", "第二场，再见。", "温柔的旁白", "配音稿")
#: A pinyin reading with its tone mark (háng, zhǎng): a reading written as it is, in either language.
_PINYIN = re.compile(r"\b[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*\b")


def _user_free(text: str) -> str:
    """``text`` without what the user typed (their texts and names, character by character) and pinyin.

    A typed name becomes ``0``, so a file named after it (``0-dub.zip``) stays a literal file name.
    """
    for typed in _USER_TEXT:
        text = text.replace(typed, "0")
    text = re.sub(r"[" + "".join(dict.fromkeys("".join(_USER_TEXT))) + r"]", " ", text)
    return _PINYIN.sub(" ", text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_cli_prints_one_language(lang, tmp_path, monkeypatch, capsys, reference_wav, tiny_design):
    """Every command a creator runs offline prints its reports, tables and notes in the user's language."""
    import studio.cli

    monkeypatch.setenv("STUDIO_LANG", lang)
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STUDIO_REMOTE_URL", raising=False)
    monkeypatch.delenv("STUDIO_REMOTE_KEY", raising=False)
    script = tmp_path / "配音稿.txt"
    script.write_text("第一场，大家好。\n\n第二场，再见。\n", encoding="utf-8")
    out = tmp_path / "out"
    dub = ["dub", str(script), "--out", str(out), "--voice", "design:温柔的旁白", "--design-model", str(tiny_design)]
    dub += ["--max-new-tokens", "8", "--seed", "1", "--format", "wav"]
    commands = [
        (["pinyin", "银行行长。", "--all"], 0),
        (["voices", "check", str(reference_wav)], 0),
        (["voices", "list"], 0),
        (["models"], 0),
        (["remote", "show"], 0),
        (["remote", "set", "http://127.0.0.1:9", "--key", "sk-0123456789"], 0),
        (["remote", "clear"], 0),
        (["doctor"], None),
        (dub, 0),
        (["check", str(out / "scene1-audio.wav")], None),
        (["pinyin"], 2),
    ]
    bad = []
    for argv, code in commands:
        got = studio.cli.main(argv)
        stdout, stderr = capsys.readouterr()
        assert code is None or got == code, f"{argv}: exit {got}\n{stdout}\n{stderr}"
        printed = stdout + ("\n" + stderr if code == 2 else "")
        assert printed.strip(), f"{argv} printed nothing"
        lines = [line for line in _user_free(printed).splitlines() if line.strip()]
        bad += [f"{argv[:2]}: {b}" for b in _violations(lines, lang)]
    assert not bad, "\n".join(bad)


def test_http_validation_errors_speak_one_language():
    """pydantic's refusals (English only) reach a Chinese client in Chinese, the field names as sent."""
    from fastapi.exceptions import RequestValidationError

    from studio.api.errors import validation_error

    problems = [
        {"type": "string_type", "loc": ("body", "input"), "msg": "Input should be a valid string"},
        {"type": "missing", "loc": ("body", "voice"), "msg": "Field required"},
        {"type": "less_than_equal", "loc": ("body", "speed"), "msg": "Input should be <= 4", "ctx": {"le": 4.0}},
        {"type": "literal_error", "loc": ("body", "response_format"), "msg": "Input should be 'mp3' or 'wav'"}
        | {"ctx": {"expected": "'mp3' or 'wav'"}},
        {"type": "something_new", "loc": ("query", "seed"), "msg": "Some new check failed"},
    ]
    err = validation_error(RequestValidationError(problems))
    zh = err.message("zh")
    for field in ("input", "voice", "speed", "response_format", "seed", "'mp3' or 'wav'"):
        assert field in zh
        zh = zh.replace(field, "")
    assert not _violations([zh], "zh") and "不大于 4.0" in zh
    assert not _violations([err.message("en")], "en") and "Field required" in err.message("en")
    assert err.details["param"] == "input"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_models_tab_runtime_panel_speaks_one_language(lang, studio_home):
    """The panel filled on page load (device, memory, loaded model, remote engine) follows the language."""
    from studio.engine import Engine
    from studio.ui.common import UiContext
    from studio.ui.models_tab import _runtime, _table

    ctx = UiContext(Engine())
    text = _runtime(ctx, lang)
    assert text.strip() and not _violations(text.splitlines(), lang), text
    kinds = [row[1] for row in _table(ctx, lang)]
    assert kinds and not _violations(kinds, lang), kinds
