"""Per-line output names: one rule for every script format (no model needed)."""

import json

import pytest
import yaml

from studio.dubbing.names import line_file_names, output_stem, scene_stem
from studio.dubbing.project import Line, Project, check_line
from studio.dubbing.scripts import parse_script, script_text
from studio.errors import InputError

TEXTS = ["欢迎。", "今天做菜。", "打散鸡蛋。", "切番茄。", "下锅。", "加盐。", "装盘。", "再见！"]
EXPECTED = [f"scene{n}-audio.mp3" for n in range(1, 9)]


def _as(fmt: str, outputs: dict[int, str] | None = None) -> str:
    outputs = outputs or {}
    rows = [{"scene": n, "speaker": "旁白", "text": t} for n, t in enumerate(TEXTS, 1)]
    for n, name in outputs.items():
        rows[n - 1]["output"] = name
    if fmt == "txt":
        return "\n\n".join(f"[旁白] {t}" for t in TEXTS) + "\n"
    if fmt == "csv":
        head = "scene,speaker,text" + (",output" if outputs else "")
        body = [",".join(str(r.get(k, "")) for k in head.split(",")) for r in rows]
        return "\n".join([head, *body]) + "\n"
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False)
    return yaml.safe_dump({"name": "cooking", "lines": rows}, allow_unicode=True)


@pytest.mark.parametrize("fmt", ["txt", "csv", "json", "yaml"])
def test_every_format_names_files_scene_n(fmt):
    project = parse_script(_as(fmt), fmt)
    assert list(line_file_names(project, "mp3").values()) == EXPECTED


@pytest.mark.parametrize("fmt", ["csv", "json", "yaml"])
def test_a_line_names_its_own_file_and_the_name_survives_export(fmt):
    project = parse_script(_as(fmt, {8: "scene8-ending.mp3"}), fmt)
    assert list(line_file_names(project, "mp3").values()) == [*EXPECTED[:7], "scene8-ending.mp3"]
    assert list(line_file_names(project, "wav").values())[-1] == "scene8-ending.wav"  # the format's extension
    again = parse_script(script_text(project, fmt), fmt)
    assert [line.output for line in again.lines] == [""] * 7 + ["scene8-ending.mp3"]


def test_names_are_sanitised_unique_and_never_a_fixed_output():
    lines = [
        Line(scene="1", text="a"),
        Line(scene="scene 1", text="b"),  # the same scene, numbered
        Line(scene="开场", text="c"),
        Line(scene="2", text="d", output="E:\\剪辑\\片尾:final?.MP3"),
        Line(scene="3", text="e", output="../../片尾-final.mp3"),  # the same name after sanitising
        Line(scene="4", text="f", output="dub-track.mp3"),  # would overwrite the full track
        Line(scene="", text="g"),  # no scene: its own, numbered by position
    ]
    names = line_file_names(Project(lines=lines), "mp3", reserved={"dub-track.mp3"})
    assert list(names.values()) == [
        "scene1-audio-1.mp3",
        "scene1-audio-2.mp3",
        "开场-audio.mp3",
        "片尾-final.mp3",
        "片尾-final-2.mp3",
        "dub-track-2.mp3",
        "scene7-audio.mp3",
    ]


@pytest.mark.parametrize(
    ("scene", "stem"),
    [
        ("1", "scene1"),
        ("08", "scene8"),
        ("Scene 3", "scene3"),
        ("场景 4", "scene4"),
        ("第5场", "scene5"),
        ("a/b", "a-b"),
    ],
)
def test_scene_stems(scene, stem):
    assert scene_stem(scene, 99) == stem


def test_output_names_are_bounded():
    assert output_stem("C:\\Users\\me\\x.wav") == "x"
    with pytest.raises(InputError) as info:
        check_line(Line(text="a", output="x" * 121), 0)
    assert "too long" in info.value.en and "太长" in info.value.zh
