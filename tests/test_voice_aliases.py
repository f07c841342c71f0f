"""Voice aliases and importing a GPT-SoVITS client's config (library and parser; no model needed)."""

from __future__ import annotations

import pytest
import soundfile as sf

import studio.cli
from studio.errors import InputError, NotFoundError
from studio.gsv_config import import_gsv_config, read_gsv_config
from studio.voice_aliases import MAX_ALIAS_CHARS, MAX_ALIASES
from studio.voices import VoiceLibrary
from tests.helpers import voiced_clip

NAHIDA = "E:\\alearn\\GPT-SoVITS\\纳西妲\\0.wav"  # the string a Windows client's config sends
FLASK = "参考音频.wav"

XIAOZHI_YAML = r"""
TTS:
  GPT_SOVITS_V2:
    type: gpt_sovits_v2
    url: "http://127.0.0.1:9880/tts"
    output_dir: tmp/
    text_lang: "auto"
    ref_audio_path: "E:\\alearn\\GPT-SoVITS\\纳西妲\\0.wav"
    prompt_text: "你好，我是纳西妲。"
    prompt_lang: "zh"
    top_k: 5
    text_split_method: "cut0"
  GPT_SOVITS_V3:
    type: gpt_sovits_v3
    url: "http://127.0.0.1:9880"
    text_language: "auto"
    refer_wav_path: "caixukun.wav"
    prompt_language: "zh"
    prompt_text: ""
"""

FLASK_PY = """
import os
import requests

os.makedirs("EXECUTED", exist_ok=True)  # must never run

class TTSService:
    def __init__(self):
        self.api_url = "http://127.0.0.1:9880"
        self.prompt_text = "这是参考音频的文字。"

    def text_to_speech(self, text, output_path, ref_audio_path=None):
        data = {"text": text, "text_lang": "zh", "ref_audio_path": ref_audio_path or "参考音频.wav",
                "prompt_text": self.prompt_text, "prompt_lang": "zh"}
        return requests.post(self.api_url + "/tts", json=data)
"""


@pytest.fixture
def lib(tmp_path):
    return VoiceLibrary(tmp_path / "voices")


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "nahida.wav"
    sf.write(path, voiced_clip(3.0), 24_000)
    return path


def _voice(lib, clip, name):
    return lib.create(name, str(clip), "参考文字。", language="Chinese", consent=True)


def test_aliases_are_exact_unique_and_stored_in_the_profile(lib, clip):
    _voice(lib, clip, "纳西妲")
    _voice(lib, clip, "派蒙")
    lib.add_alias("纳西妲", NAHIDA)
    assert lib.find_alias(NAHIDA).name == "纳西妲"
    assert lib.find_alias(NAHIDA.lower()) is None and lib.find_alias("0.wav") is None  # exact strings only
    assert '"aliases"' in (lib.get("纳西妲").path / "profile.json").read_text(encoding="utf-8")
    assert VoiceLibrary(lib.root).get("纳西妲").aliases == (NAHIDA,)  # read back from disk
    with pytest.raises(InputError) as info:
        lib.add_alias("派蒙", NAHIDA)
    assert "already belongs to the voice '纳西妲'" in info.value.en and "纳西妲" in info.value.zh
    with pytest.raises(InputError):
        lib.add_alias("派蒙", "纳西妲")  # another voice's name would be ambiguous
    assert lib.add_alias("纳西妲", NAHIDA).aliases == (NAHIDA,)  # adding again changes nothing
    lib.remove_alias("纳西妲", NAHIDA)
    assert lib.find_alias(NAHIDA) is None
    with pytest.raises(NotFoundError):
        lib.remove_alias("纳西妲", NAHIDA)
    assert lib.add_alias("派蒙", NAHIDA).aliases == (NAHIDA,)  # free again


def test_aliases_are_bounded(lib, clip):
    _voice(lib, clip, "v")
    for bad in ("", "   ", "a\nb", "x" * (MAX_ALIAS_CHARS + 1)):
        with pytest.raises(InputError):
            lib.add_alias("v", bad)
    for i in range(MAX_ALIASES):
        lib.add_alias("v", f"{i}.wav")
    with pytest.raises(InputError) as info:
        lib.add_alias("v", "one-more.wav")
    assert f"{MAX_ALIASES}" in info.value.en


def test_copies_never_share_an_alias(lib, clip, tmp_path):
    _voice(lib, clip, "纳西妲")
    lib.add_alias("纳西妲", NAHIDA)
    assert lib.duplicate("纳西妲", "copy").aliases == ()
    archive = lib.export("纳西妲", tmp_path / "n.zip")
    assert lib.import_(archive, name="imported").aliases == ()  # the original still holds it
    lib.delete("纳西妲")
    assert lib.import_(archive, name="again").aliases == (NAHIDA,)  # free: the import keeps it
    assert lib.restore("纳西妲").aliases == ()  # taken meanwhile: the restored voice gives it up
    assert lib.find_alias(NAHIDA).name == "again"


def test_reads_xiaozhi_yaml_blocks(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(XIAOZHI_YAML, encoding="utf-8")
    refs = read_gsv_config(config)
    assert [(r.block, r.path, r.prompt_text, r.language) for r in refs] == [
        ("GPT_SOVITS_V2", NAHIDA, "你好，我是纳西妲。", "Chinese"),
        ("GPT_SOVITS_V3", "caixukun.wav", "", "Chinese"),
    ]
    assert refs[0].file_name == "0.wav"


def test_reads_a_python_app_without_running_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "tts_service.py"
    config.write_text(FLASK_PY, encoding="utf-8")
    refs = read_gsv_config(config)
    assert [(r.path, r.prompt_text, r.language) for r in refs] == [(FLASK, "这是参考音频的文字。", "Chinese")]
    assert not (tmp_path / "EXECUTED").exists()


def test_bad_configs_are_refused_with_the_reason(tmp_path):
    cases = {
        "notes.txt": ("x", "Unknown config type"),
        "empty.yaml": ("a: 1\n", "No refer_wav_path or ref_audio_path"),
        "broken.yaml": ("a: [1,\n", "invalid YAML"),
        "broken.py": ("def (:\n", "cannot be parsed"),
        "deep.yaml": ("a: " + "[" * 40 + "]" * 40 + "\n", "nested too deeply"),
        "huge.yaml": ("# " + "x" * 600_000 + "\n", "too large"),
    }
    for name, (text, reason) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as info:
            read_gsv_config(path)
        assert reason in info.value.en, (name, info.value.en)


def test_import_creates_the_voice_with_its_alias_or_says_what_to_give(lib, clip, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(XIAOZHI_YAML, encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_gsv_config(lib, config)
    assert "GPT_SOVITS_V2" in info.value.en and "GPT_SOVITS_V3" in info.value.en  # several: pick one
    with pytest.raises(InputError) as info:
        import_gsv_config(lib, config, block="GPT_SOVITS_V2", consent=True)
    assert "is not here" in info.value.en and "--audio" in info.value.en and "--voice" in info.value.en
    done = import_gsv_config(lib, config, block="gpt_sovits_v2", audio=clip, consent=True)
    assert (done.voice, done.alias, done.created) == ("纳西妲", NAHIDA, True)  # named after the folder of 0.wav
    voice = lib.get("纳西妲")
    assert voice.transcript == "你好，我是纳西妲。" and voice.language == "Chinese" and voice.aliases == (NAHIDA,)
    # the V3 block's clip is not here either: its path becomes an alias of the existing voice
    done = import_gsv_config(lib, config, block="GPT_SOVITS_V3", voice="纳西妲")
    assert not done.created and lib.find_alias("caixukun.wav").name == "纳西妲"
    # a relative path found beside the config is used as is
    sf.write(tmp_path / "caixukun.wav", voiced_clip(3.0, seed=1), 24_000)
    lib.remove_alias("纳西妲", "caixukun.wav")
    assert import_gsv_config(lib, config, block="GPT_SOVITS_V3", consent=True).voice == "caixukun"
    # ... unless the caller (the UI) forbids opening paths a config names
    lib.delete("caixukun")
    with pytest.raises(InputError):
        import_gsv_config(lib, config, block="GPT_SOVITS_V3", consent=True, search_local=False)


def test_cli_alias_and_import(tmp_path, clip, monkeypatch, capsys):
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STUDIO_LANG", "en")
    config = tmp_path / "tts_service.py"
    config.write_text(FLASK_PY, encoding="utf-8")
    assert studio.cli.main(["voices", "import-gsv", str(config), "--audio", str(clip), "--name", "数字人"]) == 2
    assert "Consent is required" in capsys.readouterr().err
    args = ["voices", "import-gsv", str(config), "--audio", str(clip), "--name", "数字人", "--consent"]
    assert studio.cli.main(args) == 0
    out = capsys.readouterr().out
    assert "saved voice '数字人'" in out and f"answers to: {FLASK}" in out
    assert studio.cli.main(["voices", "alias", "数字人", NAHIDA]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [f"  {FLASK}", f"  {NAHIDA}"]
    assert studio.cli.main(["voices", "alias", "数字人", "--remove", FLASK]) == 0
    assert studio.cli.main(["voices", "alias", "数字人"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"  {NAHIDA}"
