"""The command line, run as a user runs it: ``python -m studio ...`` in a subprocess."""

import json
import os
import subprocess
import sys

import pytest
import soundfile as sf

from tests.cli_commands import command_paths
from tests.helpers import ROOT, read_generated_speech

pytestmark = pytest.mark.slow


def run_cli(*args, env=None, check=True):
    full_env = {**os.environ, "STUDIO_LANG": "en", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "studio", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_clone_writes_a_wav(tmp_path, tiny_base, reference_wav):
    out = tmp_path / "out.wav"
    proc = run_cli(
        "clone",
        "--voice-audio",
        str(reference_wav),
        "--voice-text",
        "参考音频的文字。",
        "--text",
        "你好，世界。",
        "--out",
        str(out),
        "--model",
        str(tiny_base),
        "--seed",
        "5",
        "--language",
        "Chinese",
    )
    read_generated_speech(out)
    assert "seed 5" in proc.stdout
    checked = run_cli("check", str(out), str(reference_wav), check=False)
    lines = checked.stdout.strip().splitlines()
    ours = next(line for line in lines if line.startswith(str(out)))
    theirs = next(line for line in lines if line.startswith(str(reference_wav)))
    assert "watermark found" in ours and "No watermark found" in theirs
    assert "tag: AI-generated" in checked.stdout
    assert checked.returncode == 1  # the reference is not ours


def test_studio_model_sets_the_default_and_text_file_works(tmp_path, tiny_base, reference_wav):
    script = tmp_path / "script.txt"
    script.write_text("从文件读取的文字。", encoding="utf-8")
    out = tmp_path / "x.flac"
    run_cli(
        "clone",
        "--voice-audio",
        str(reference_wav),
        "--x-vector-only",
        "--text-file",
        str(script),
        "--out",
        str(out),
        env={"STUDIO_MODEL": str(tiny_base)},
    )
    assert sf.info(out).format == "FLAC"


def test_custom_and_design(tmp_path, tiny_custom, tiny_design):
    run_cli(
        "custom",
        "--speaker",
        "Vivian",
        "--text",
        "你好",
        "--instruct",
        "开心",
        "--out",
        str(tmp_path / "c.wav"),
        "--model",
        str(tiny_custom),
    )
    run_cli(
        "design",
        "--description",
        "温柔的女声",
        "--text",
        "你好",
        "--out",
        str(tmp_path / "d.wav"),
        "--model",
        str(tiny_design),
    )
    assert sf.info(tmp_path / "c.wav").frames > 0 and sf.info(tmp_path / "d.wav").frames > 0


def test_user_errors_exit_2_with_a_message_in_the_users_language(tmp_path, tiny_base):
    proc = run_cli(
        "clone",
        "--voice-audio",
        str(tmp_path / "missing.wav"),
        "--voice-text",
        "x",
        "--text",
        "hi",
        "--out",
        str(tmp_path / "o.wav"),
        "--model",
        str(tiny_base),
        check=False,
    )
    assert proc.returncode == 2 and "Audio file not found" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli(
        "custom",
        "--speaker",
        "Vivian",
        "--text",
        "hi",
        "--out",
        str(tmp_path / "o.wav"),
        "--model",
        str(tiny_base),
        check=False,
        env={"STUDIO_LANG": "zh_CN.UTF-8"},
    )
    assert proc.returncode == 2 and "CustomVoice" in proc.stderr and "模型" in proc.stderr
    proc = run_cli(
        "clone",
        "--voice-audio",
        "x.wav",
        "--x-vector-only",
        "--text",
        "hi",
        "--out",
        "o.wav",
        "--model",
        "9b-base",
        check=False,
    )
    assert proc.returncode == 2 and "0.6b-base" in proc.stderr


def test_models_json_and_doctor(studio_home):
    rows = json.loads(run_cli("models", "--json").stdout)
    assert {r["id"] for r in rows} >= {
        "0.6b-base",
        "1.7b-base",
        "0.6b-custom",
        "1.7b-custom",
        "1.7b-design",
        "tokenizer-12hz",
    }
    assert all(not r["downloaded"] for r in rows)
    doctor = run_cli("doctor").stdout
    for word in ("python", "torch", "device", "ram", "qwen-tts", "checkpoints"):
        assert word in doctor


def test_make_test_checkpoint_is_loadable(tmp_path):
    run_cli(
        "make-test-checkpoint", str(tmp_path / "ck"), "--kind", "custom_voice", "--size", "tiny",
        "--weights-dtype", "bfloat16",
    )  # fmt: skip
    from studio.checkpoints import validate_checkpoint
    from studio.random_checkpoint import MARKER_FILE

    info = validate_checkpoint(tmp_path / "ck")
    assert info.kind == "custom_voice" and info.is_random
    assert json.loads((tmp_path / "ck" / MARKER_FILE).read_text())["weights_dtype"] == "bfloat16"
    bad = run_cli("make-test-checkpoint", str(tmp_path / "x"), "--kind", "voice_design", "--size", "0.6b", check=False)
    assert bad.returncode == 2 and "1.7b" in bad.stderr


def test_pinyin_shows_readings_and_the_text_sent_to_the_model():
    proc = run_cli("pinyin", "他长大了，头发很长。重(chong2)新开始，涨了 2%。", "--json")
    report = json.loads(proc.stdout)
    chang = [r["pinyin"] for r in report["readings"] if r["char"] == "长"]
    assert chang == ["zhǎng", "cháng"]
    assert "百分之二" in report["display_text"] and "重" not in report["model_text"]
    bad = run_cli("pinyin", "--text", "重(chong7)新", check=False)
    assert bad.returncode == 2 and "chong7" in bad.stderr and "1-4" in bad.stderr


def test_voices_library_then_clone_with_a_saved_voice_as_mp3(tmp_path, studio_home, tiny_base, reference_wav):
    env = {"STUDIO_HOME": str(studio_home)}
    refused = run_cli(
        "voices", "add", "Anna", "--audio", str(reference_wav), "--transcript", "参考。", env=env, check=False
    )
    assert refused.returncode == 2 and "Consent" in refused.stderr
    assert not (studio_home / "voices" / "Anna").exists()
    run_cli(
        "voices", "add", "Anna", "--audio", str(reference_wav), "--transcript", "参考音频的文字。", "--consent", env=env
    )
    assert "Anna" in run_cli("voices", "list", env=env).stdout
    out = tmp_path / "line.mp3"
    proc = run_cli(
        "clone", "--voice", "Anna", "--text", "你好。", "--out", str(out), "--model", str(tiny_base),
        "--seed", "1", "--duration", "1.5", env=env,
    )  # fmt: skip
    info = sf.info(str(out))
    assert info.format == "MP3" and abs(info.duration - 1.5) < 0.06  # mp3 frames pad a little
    assert "sent to the model: 你好。" in proc.stdout
    from studio.export import read_tags

    assert read_tags(out)["ai_generated"] == "true"
    missing = run_cli("clone", "--voice", "Nobody", "--text", "你好。", "--out", str(out), env=env, check=False)
    assert missing.returncode == 2 and "Nobody" in missing.stderr
    archive = tmp_path / "anna.zip"
    run_cli("voices", "export", "Anna", str(archive), env=env)
    run_cli("voices", "remove", "Anna", env=env)
    run_cli("voices", "import", str(archive), "--name", "Anna 2", env=env)
    assert "Anna 2" in run_cli("voices", "list", env=env).stdout


def test_the_command_table_is_the_parser():
    from studio.cli import COMMANDS, GLOBAL_OPTIONS, build_parser, is_command_line

    top = [path[0] for path in command_paths() if len(path) == 1]
    assert top == list(COMMANDS)  # every command comes from the table, none added beside it
    options = {s for a in build_parser()._actions for s in a.option_strings} - {"-h", "--help"}
    assert options == set(GLOBAL_OPTIONS)
    assert all(is_command_line([name, "--help"]) for name in COMMANDS)
    assert is_command_line(["--remote=http://gpu:8091", "clone"]) and is_command_line(["--local", "doctor"])
    assert not any(is_command_line(argv) for argv in ([], ["--port", "7861"], ["--no-browser"], ["--space"]))


def test_every_command_runs_through_app_py_as_through_python_m_studio(capsys):
    # app.py is the desktop build's entry point: each command and sub-command gives the same help there.
    import app
    from studio import cli

    def help_text(main, path) -> str:
        with pytest.raises(SystemExit) as exited:
            main([*path, "--help"])
        assert exited.value.code == 0, path
        return " ".join(capsys.readouterr().out.split())

    paths = command_paths()
    assert len(paths) > len(cli.COMMANDS)  # the voices and remote groups' own commands too
    for path in paths:
        through_app = help_text(app.main, path)
        assert through_app.startswith(f"usage: python app.py {' '.join(path)}")
        expected = help_text(cli.main, path).replace("python -m studio", "PROG")
        assert through_app.replace("python app.py", "PROG").replace("python -m studio", "PROG") == expected


def test_app_py_runs_the_command_line_as_a_user_starts_it():
    serve = subprocess.run(
        [sys.executable, "app.py", "serve", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert serve.returncode == 0 and "--api-key" in serve.stdout, serve.stderr
    launcher = subprocess.run(
        [sys.executable, "app.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    from studio.cli import COMMANDS

    assert launcher.returncode == 0 and "--no-browser" in launcher.stdout
    assert all(name in launcher.stdout for name in COMMANDS)
