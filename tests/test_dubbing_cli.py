"""``python -m studio dub``: a creator's 8 scene files and captions for a 2-minute video in one command."""

import argparse
import zipfile

import pytest
import soundfile as sf
import srt

import studio.cli
from studio.dubbing.cli import add_dub_parser, parse_line_numbers
from studio.errors import InputError

pytestmark = pytest.mark.slow

SCENES = [
    "欢迎来到我的频道。",
    "今天我们做一道菜。",
    "先把鸡蛋打散。",
    "然后切好番茄。",
    "油热了再下锅。",
    "加一点点盐。",
    "出锅装盘。",
    "下期再见！",
]


@pytest.fixture
def dub(monkeypatch, capsys):
    """Run ``studio.cli.main`` (its real error path) with the ``dub`` subcommand added; return (code, out, err)."""
    original = studio.cli.build_parser

    def build_parser(*args, **kwargs):
        parser = original(*args, **kwargs)
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "dub" not in sub.choices:
            add_dub_parser(sub)
        return parser

    monkeypatch.setattr(studio.cli, "build_parser", build_parser)
    monkeypatch.setenv("STUDIO_LANG", "en")

    def run(*argv):
        code = studio.cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_eight_scene_files_and_captions_for_a_two_minute_video(tmp_path, dub, tiny_design):
    script = tmp_path / "cooking.txt"
    script.write_text("\n\n".join(f"[旁白] {text}" for text in SCENES) + "\n", encoding="utf-8")
    starts = [0, 15, 30, 45, 60, 75, 90, 119]  # the last line ends the 2-minute video
    cues = [
        srt.Subtitle(i + 1, *(srt.timedelta(seconds=s), srt.timedelta(seconds=s + 0.7)), t)
        for i, (s, t) in enumerate(zip(starts, SCENES, strict=True))
    ]
    subs = tmp_path / "cooking.srt"
    subs.write_text(srt.compose(cues), encoding="utf-8")
    out = tmp_path / "out"
    args = [
        "dub",
        script,
        "--out",
        out,
        "--srt",
        subs,
        "--voice",
        "design:亲切的美食博主",
        "--design-model",
        tiny_design,
    ]
    code, stdout, err = dub(*args, "--format", "mp3", "--max-new-tokens", 8, "--seed", 1, "--dtype", "float32")
    assert code == 0, err

    for n in range(1, 9):
        data, sr = sf.read(out / f"scene{n}-audio.mp3")
        assert abs(len(data) / sr - 0.7) < 0.06  # mp3 frames pad a little
    track, sr = sf.read(out / "cooking-track.wav")
    assert abs(len(track) / sr - 119.7) <= 0.010 and (out / "cooking-track.mp3").is_file()
    captions = list(srt.parse((out / "cooking.srt").read_text(encoding="utf-8")))
    assert [c.content for c in captions] == SCENES
    for cue, start in zip(captions, starts, strict=True):
        assert start - 0.010 <= cue.start.total_seconds() < cue.end.total_seconds() <= start + 0.710
    assert (out / "cooking.vtt").is_file() and (out / "cooking-captions.json").is_file()
    with zipfile.ZipFile(out / "cooking-dub.zip") as zf:
        names = set(zf.namelist())
    assert {f"scene{n}-audio.mp3" for n in range(1, 9)} | {"cooking.srt", "cooking-track.wav"} <= names
    assert {"cooking-timeline.xml", "cooking.fcpxml", "cooking.otio"} <= names
    assert "timelines: cooking-timeline.xml (Premiere, DaVinci Resolve), cooking.fcpxml (Final Cut Pro)" in stdout
    assert "lines 8 (generated 8, reused 0" in stdout and "lines over their slot 0" in stdout
    assert "wall time" in stdout and "total audio 5.60 s" in stdout

    # The same command again resumes: everything is reused, nothing is generated.
    code, stdout, err = dub(*args, "--max-new-tokens", 8, "--seed", 1)
    assert code == 0, err
    assert "generated 0, reused 8" in stdout


def test_user_errors_exit_2_with_a_message_naming_the_line(tmp_path, dub):
    script = tmp_path / "bad.txt"
    script.write_text("[Nobody] 你好。\n", encoding="utf-8")
    code, _, err = dub("dub", script, "--out", tmp_path / "out")
    assert code == 2 and "line 1 (scene1): unknown speaker 'Nobody'" in err
    code, _, err = dub("dub", tmp_path / "missing.srt", "--out", tmp_path / "out")
    assert code == 2 and "not found" in err
    code, _, err = dub("dub", script, "--out", tmp_path / "out", "--lines", "3")
    assert code == 2 and "Invalid line number '3'" in err


def test_line_number_ranges():
    assert parse_line_numbers("1, 3-4,4", 5) == [0, 2, 3]
    with pytest.raises(InputError):
        parse_line_numbers("0", 5)


def test_max_new_tokens_help_says_it_caps_each_segment(dub, capsys):
    # The cap goes to every generate call, and the runner makes one call per segment of a line.
    with pytest.raises(SystemExit):
        dub("dub", "--help")
    printed = " ".join(capsys.readouterr().out.split())
    option = printed[printed.index("--max-new-tokens MAX_NEW_TOKENS ") :][:260]
    assert "for each segment" in option and "not the whole line" in option, option
    assert "per line" not in option


def test_max_new_tokens_is_described_per_segment_over_http_too():
    from studio.api.dubbing.routes import DubSettingsBody

    description = DubSettingsBody.model_json_schema()["properties"]["max_new_tokens"]["description"]
    assert "each segment" in description and "per line" not in description
