"""The CLI's help speaks one language at a time: every help text has its Chinese, English stays as argparse prints it."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

import pytest

from studio.cli import build_parser
from studio.cli_help import ZH, parsers, untranslated
from tests.helpers import ROOT

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
#: Latin words a Chinese help may carry: names, units and things typed as written (the rest is flags, ids, code).
ALLOWED = set(
    [
        "qwen",
        "voice",
        "studio",
        "base",
        "customvoice",
        "voicedesign",
        "api",
        "http",
        "gpt-sovits",
        "openai",
        "vllm-omni",
        "lora",
        "zip",
        "wav",
        "mp3",
        "flac",
        "ogg",
        "m4a",
        "srt",
        "json",
        "yaml",
        "yml",
        "py",
        "python",
        "torch",
        "id",
        "url",
        "auto",
        "chinese",
        "english",
        "japanese",
        "default",
        "stable",
        "natural",
        "neutral",
        "happy",
        "whisper",
        "narrator",
        "female",
        "vivian",
        "serena",
        "uncle",
        "fu",
        "dylan",
        "eric",
        "ryan",
        "aiden",
        "ono",
        "anna",
        "sohee",
        "ai",
        "gpu",
        "get",
        "tiny",
        "bfloat",
        "float",
        "faster-whisper",
        "whisper-small",
        "htdemucs",
        "demucs",
        "xiaozhi",
        "authorization",
        "bearer",
        "key",
        "utf",
        "duck",
        "background",
        "zh",
        "en",
        "s",
        "list",
        "check",
        "add",
        "add-clip",
        "show",
        "rename",
        "remove",
        "set",
        "clear",
        "test",
    ]
)


def _english_words(text: str) -> set[str]:
    """Latin words of ``text`` not in :data:`ALLOWED`, flags, metavars (CAPITALS), {choices}, paths and ids left out."""
    text = re.sub(
        r"\{[^}]*\}|\[[^\]]*\]|https?://\S+|\S*[/\\.=_]\S*|(?<!\w)--?[\w-]+|(?<![\w-])[A-Z][A-Z_]*(?![\w-])", " ", text
    )
    words = re.findall(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*", text)
    return {w.lower() for w in words if not re.search(r"\d", w)} - ALLOWED - _TYPED


def _typed(parser: argparse.ArgumentParser) -> set[str]:
    """What argparse prints as written: subcommand names, choices of a flag, argument names (dest, metavar)."""
    typed = set()
    for each in parsers(parser):
        for action in each._actions:
            typed |= {str(c).lower() for c in action.choices or ()} | {action.dest.lower(), str(action.metavar).lower()}
    return typed


_TYPED = _typed(build_parser(lang="en"))


def _help(lang: str, *argv: str) -> str:
    env = {**os.environ, "STUDIO_LANG": lang}
    proc = subprocess.run(
        [sys.executable, "-m", "studio", *argv, "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_every_help_text_has_its_chinese():
    """A new flag, subcommand or description without a translation fails here."""
    parser = build_parser(lang="en")
    assert len(parsers(parser)) > 20  # nested subparsers (voices, remote) are walked too
    missing = untranslated(parser)
    assert not missing, "no Chinese in studio/cli_help.py ZH for:\n" + "\n".join(missing)


def test_the_chinese_table_keeps_what_is_typed_as_written():
    """Placeholders, flags and units of an English text survive in its Chinese; no Chinese is left English."""
    for english, chinese in ZH.items():
        assert _CJK.search(chinese) or english == chinese or not _english_words(chinese), english
        for kept in re.findall(r"%\(\w+\)s|--[\w-]+|\b\d[\d.,-]*\b", english):
            assert kept in chinese, f"{kept!r} lost in {chinese!r}"


def test_the_built_chinese_parser_has_no_english_help():
    parser = build_parser(lang="zh")
    for each in parsers(parser):
        texts = [each.description] + [a.help for a in each._actions]
        for action in each._actions:
            if isinstance(action, argparse._SubParsersAction):
                texts += [c.help for c in action._choices_actions]
        for text in texts:
            if text and text is not argparse.SUPPRESS:
                assert not _english_words(text), f"{each.prog}: {text!r} -> {_english_words(text)}"


@pytest.mark.parametrize("argv", [(), ("dub",), ("voices", "alias")])
def test_chinese_help_speaks_chinese(argv):
    out = _help("zh", *argv)
    assert _CJK.search(out) and out.startswith("用法：") and "选项" in out
    bad = {w for line in out.splitlines() for w in _english_words(line)}
    assert not bad, f"English words in `{' '.join(argv)} --help`: {sorted(bad)}\n{out}"


def test_english_help_is_argparse_unchanged():
    """STUDIO_LANG=en prints what the parser prints before localisation, without a Chinese character."""
    out = _help("en", "dub")
    plain = build_parser(lang="en")
    sub = next(a for a in plain._actions if isinstance(a, argparse._SubParsersAction)).choices["dub"]
    assert out == sub.format_help() and not _CJK.search(out)
    assert _help("en") == plain.format_help()


def test_a_refusal_is_in_chinese(capsys):
    parser = build_parser(lang="zh")
    with pytest.raises(SystemExit) as stop:
        parser.parse_args(["dub"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "缺少必填参数" in err and "--out" in err
    assert not {w for line in err.splitlines() for w in _english_words(line)}, err
