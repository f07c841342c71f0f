"""One place for configuration (studio.config) and one way to replace a file (studio.atomic)."""

from __future__ import annotations

import ast
import os
import stat
import sys

import pytest

from studio import atomic, config
from tests.helpers import ROOT


@pytest.fixture
def no_language_env(monkeypatch):
    for name in ("STUDIO_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_one_language_rule_for_every_entry_point(no_language_env):
    env = no_language_env
    assert config.language() == "en"  # nothing said: English
    assert config.language("zh") == "zh"  # the language saved in the UI's settings
    env.setenv("LANG", "zh_CN.UTF-8")
    assert config.language() == "zh" and config.language("en") == "zh"  # the locale beats the saved choice
    env.setenv("LC_ALL", "C.UTF-8")
    assert config.language("zh") == "en"  # LC_ALL beats LANG
    env.setenv("STUDIO_LANG", "zh")
    assert config.language("en") == "zh"  # STUDIO_LANG beats everything


def test_the_cli_and_the_api_use_that_rule(no_language_env):
    from studio.cli import user_language

    no_language_env.setenv("LANG", "zh_TW.UTF-8")
    assert user_language() == "zh"
    no_language_env.setenv("STUDIO_LANG", "en")
    assert user_language() == "en"
    api_cli = (ROOT / "studio" / "api" / "cli.py").read_text(encoding="utf-8")
    assert "config.language(settings.language)" in api_cli


def test_remote_choice_beats_the_environment_which_beats_the_settings(monkeypatch):
    from studio.settings import Settings

    settings = Settings(remote_url="http://saved:1", remote_key="saved-key")
    monkeypatch.delenv(config.URL_ENV, raising=False)
    monkeypatch.delenv(config.KEY_ENV, raising=False)
    assert config.remote(settings) == ("http://saved:1", "saved-key")
    monkeypatch.setenv(config.URL_ENV, "http://env:2")
    assert config.remote(settings) == ("http://env:2", "saved-key")
    assert config.remote(settings, config.RemoteChoice(url="")) == ("", "saved-key")  # --local
    settings.remote_choice = config.RemoteChoice(url="http://flag:3", key="flag-key")
    assert config.remote(settings) == ("http://flag:3", "flag-key")
    assert settings.remote_choice.chosen == (config.URL_ENV, config.KEY_ENV)


def test_a_runs_remote_choice_is_never_saved(studio_home):
    from studio.settings import Settings

    settings = Settings(remote_url="http://saved:1")
    settings.remote_choice = config.RemoteChoice(url="http://flag:3")
    settings.save()
    text = Settings.path().read_text(encoding="utf-8")
    assert "flag" not in text and "remote_choice" not in text
    assert Settings.load().remote_url == "http://saved:1" and Settings.load().remote_choice is None


def test_the_cli_passes_remote_by_argument_not_by_environment(studio_home, monkeypatch, capsys):
    from studio.cli import main

    monkeypatch.setenv(config.URL_ENV, "http://env-server:9")
    seen = {}
    real = config.remote

    def spy(settings=None, choice=None):
        seen["env"] = os.environ.get(config.URL_ENV)
        return real(settings, choice)

    monkeypatch.setattr(config, "remote", spy)
    assert main(["--remote", "http://flag-server:8", "remote", "show"]) == 0
    out = capsys.readouterr()
    assert "http://flag-server:8" in out.out and "STUDIO_REMOTE_URL" in out.err
    assert seen["env"] == "http://env-server:9"  # while the command ran, the environment was untouched


def test_integer_and_switch_fall_back_on_bad_values(monkeypatch):
    monkeypatch.setenv("STUDIO_THREADS", "many")
    assert config.threads() == 0
    monkeypatch.setenv("STUDIO_THREADS", "3")
    assert config.threads() == 3
    for value, expected in (("off", False), ("YES", True), ("maybe", True), ("", True)):
        monkeypatch.setenv("STUDIO_CUDA_GRAPHS", value)
        assert config.switch("STUDIO_CUDA_GRAPHS", True) is expected
    with pytest.raises(KeyError):
        config.text("STUDIO_NOT_A_VARIABLE")


def _environment_reads(tree: ast.AST) -> list[str]:
    """``STUDIO_*`` names read from ``os.environ`` / ``os.getenv`` in a module."""
    found = []
    for node in ast.walk(tree):
        arg = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
            if (name == "get" and owner.endswith("environ")) or name == "getenv":
                arg = node.args[0]
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and ast.unparse(node.value).endswith("environ")
        ):
            arg = node.slice
        if isinstance(arg, ast.Constant) and str(arg.value).startswith("STUDIO_"):
            found.append(arg.value)
    return found


def test_only_the_config_module_reads_studio_variables():
    readers = {}
    for path in sorted((ROOT / "studio").rglob("*.py")):
        if path.name == "config.py" and path.parent.name == "studio":
            continue
        names = _environment_reads(ast.parse(path.read_text(encoding="utf-8")))
        if names:
            readers[str(path.relative_to(ROOT))] = names
    assert readers == {}
    assert _environment_reads(ast.parse('import os\nos.environ.get("STUDIO_X")\nos.environ["STUDIO_Y"]')) == [
        "STUDIO_X",
        "STUDIO_Y",
    ]
    documented = (ROOT / "studio" / "config.py").read_text(encoding="utf-8")
    assert all(f"``{name}``" in documented for name in config.VARIABLES)


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "data.json"
    atomic.write_text(target, "one")
    atomic.write_text(target, "two\n")
    assert target.read_text(encoding="utf-8") == "two\n"
    atomic.write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert [p.name for p in target.parent.iterdir()] == ["data.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "take.wav"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic.replacing(target, suffix=".wav") as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".take.wav.") and tmp.suffix == ".wav"
        tmp.write_bytes(b"half")
        raise RuntimeError("crash mid-write")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["take.wav"]


def test_a_secret_file_is_private_before_it_takes_its_name(tmp_path):
    target = tmp_path / "settings.json"
    atomic.write_text(target, "{}", mode=0o600)
    if sys.platform != "win32":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_the_space_launcher_chooses_for_its_process_without_touching_the_environment(tmp_path, monkeypatch):
    from studio import paths, space, space_mode

    monkeypatch.setattr(config, "_CHOSEN", {})
    monkeypatch.delenv(config.SPACE_ENV, raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    before = dict(os.environ)
    assert not space_mode.enabled()
    assert space.prepare_environment() == tmp_path / "home"
    assert space_mode.enabled() and paths.studio_home() == (tmp_path / "home").resolve()
    assert dict(os.environ) == before
    with pytest.raises(KeyError):
        config.choose("STUDIO_NOT_A_VARIABLE", "1")
