"""Dubbing scripts and projects: every format round-trips, bad input is named, projects reopen exactly."""

import json

import pytest

from studio.dubbing.project import PROJECT_FORMAT, PROJECT_VERSION, Line, Project, Take, parse_voice
from studio.dubbing.scripts import FORMATS, apply_timings, export_script, import_script, parse_script, script_text
from studio.errors import InputError, NotFoundError

FIELDS = ("scene", "speaker", "text", "emotion", "intensity", "duration", "start", "end")


def sample_project(timed: bool = True) -> Project:
    rows = [
        ("开场", "A", "大家好，欢迎收看。今天聊聊配音。", "happy", 0.8, None, 1.0, 4.25),
        ("开场", "B", "Hello, and welcome back!", "", 0.5, 2.5, 5.0, 7.5),
        ("结尾", "A", "银行(háng)的事下次再说。", "", 0.5, None, 9.125, 12.0),
    ]
    lines = [
        Line(
            scene=s,
            speaker=sp,
            text=t,
            emotion=e,
            intensity=i,
            duration=d,
            start=a if timed else None,
            end=b if timed else None,
        )
        for s, sp, t, e, i, d, a, b in rows
    ]
    return Project(name="demo", lines=lines, voices={"A": "preset:Vivian", "B": "design:低沉的男声"})


def fields(project: Project, names=FIELDS) -> list[tuple]:
    return [tuple(getattr(line, n) for n in names) for line in project.lines]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "yaml", "json"])
def test_table_and_data_formats_round_trip_every_field(fmt, tmp_path):
    project = sample_project()
    path = export_script(project, tmp_path / f"script.{fmt}")
    again = import_script(path)
    assert fields(again) == fields(project)
    if fmt in ("yaml", "json"):
        assert again.voices == project.voices and again.name == "demo"


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitles_round_trip_text_speaker_and_slots(fmt, tmp_path):
    project = sample_project()
    again = import_script(export_script(project, tmp_path / f"subs.{fmt}"))
    assert fields(again, ("speaker", "text", "start", "end")) == fields(project, ("speaker", "text", "start", "end"))
    assert [line.scene for line in again.lines] == ["scene1", "scene2", "scene3"]


def test_plain_text_round_trips_scenes_speakers_and_text(tmp_path):
    project = sample_project(timed=False)
    again = import_script(export_script(project, tmp_path / "script.txt"))
    assert fields(again, ("scene", "speaker", "text")) == fields(project, ("scene", "speaker", "text"))


def test_every_format_is_covered():
    assert set(FORMATS) == {"txt", "csv", "tsv", "yaml", "json", "srt", "vtt"}


def test_plain_text_paragraphs_are_scenes_and_tags_are_speakers():
    text = "[A] 你好，\n欢迎来到节目。\n[B] Thanks for\nhaving me.\n\n第二段没有说话人。\n\n\n# 片尾\n【C】再见！\n"
    project = parse_script(text, "txt")
    assert fields(project, ("scene", "speaker", "text")) == [
        ("scene1", "A", "你好，欢迎来到节目。"),
        ("scene1", "B", "Thanks for having me."),
        ("scene2", "", "第二段没有说话人。"),
        ("片尾", "C", "再见！"),
    ]


def test_messy_srt_with_bom_crlf_tags_and_missing_numbers(tmp_path):
    raw = (
        "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>[旁白] 第一句</i>\r\n<b>还有一行</b>\r\n\r\n"
        "00:00:03.000 --> 00:00:04,000\r\n<font color='red'>Fish &amp; chips</font>\r\n\r\n\r\n"
        "7\r\n00:00:05,000 --> 00:00:06,000 X1:0\r\n{\\an8}Top line\r\n"
    )
    path = tmp_path / "messy.srt"
    path.write_bytes(raw.encode("utf-8"))
    project = import_script(path)
    assert fields(project, ("speaker", "text", "start", "end")) == [
        ("旁白", "第一句还有一行", 1.0, 2.5),
        ("", "Fish & chips", 3.0, 4.0),
        ("", "Top line", 5.0, 6.0),
    ]


def test_gbk_srt_and_vtt_voice_tags(tmp_path):
    path = tmp_path / "gbk.srt"
    path.write_bytes("1\n00:00:00,500 --> 00:00:01,500\n中文字幕\n".encode("gbk"))
    assert import_script(path).lines[0].text == "中文字幕"
    vtt = "WEBVTT\n\nNOTE a comment\n\nintro\n00:01.000 --> 00:02.000 align:start\n<v Roger>Hi there\n"
    line = parse_script(vtt, "vtt").lines[0]
    assert (line.speaker, line.text, line.start, line.end) == ("Roger", "Hi there", 1.0, 2.0)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            "1\n00:00:01,000 --> 00:00:03,000\nA\n\n2\n00:00:02,000 --> 00:00:04,000\nB\n",
            ["cue 2", "file line 6", "overlaps cue 1"],
        ),
        ("1\n00:00:05,000 --> 00:00:03,000\nA\n", ["cue 1", "file line 2", "ends before it starts"]),
        (
            "1\n00:00:01,000 --> 00:00:02,000\nA\n\n2\nB without a time\n",
            ["cue 2", "file line 5", "no 'start --> end'"],
        ),
        ("1\n00:00:0x,000 --> 00:00:02,000\nA\n", ["cue 1", "cannot read the time"]),
    ],
)
def test_bad_subtitles_name_the_cue(body, words):
    with pytest.raises(InputError) as info:
        parse_script(body, "srt", "subs.srt")
    assert info.value.en.startswith("subs.srt") and all(w in info.value.en for w in words), info.value.en
    assert "第" in info.value.zh and "条字幕" in info.value.zh


@pytest.mark.parametrize(
    ("fmt", "body", "words"),
    [
        ("csv", "scene,speaker,text,intensity\ns1,A,hi,0.5\ns2,B,yo,lots\n", ["line 2 (s2)", "intensity 'lots'"]),
        ("csv", "text,start,end\nhi,2,1\n", ["line 1", "not after the start"]),
        ("json", '{"lines": [{"text": "a"}, 5]}', ["line 2", "must be an object"]),
        ("yaml", "lines: [\n", ["invalid YAML"]),
        ("json", "[]", ["holds no lines"]),
    ],
)
def test_bad_rows_name_the_line(fmt, body, words):
    with pytest.raises(InputError) as info:
        parse_script(body, fmt, f"script.{fmt}")
    assert all(w in info.value.en for w in words), info.value.en
    assert info.value.zh


def test_project_reopens_exactly_and_writes_atomically(tmp_path):
    project = sample_project()
    project.lines[0].takes = [Take("takes/x/a-1.wav", "abc", 2.5, 7, "tiny", "2026-01-01T00:00:00+00:00")]
    project.lines[0].chosen = 0
    project.lines[1].locked = True
    project.settings.gap_s, project.settings.seed = 0.25, 11
    project.save(tmp_path / "p")
    again = Project.load(tmp_path / "p")
    assert again == project and again.folder == tmp_path / "p"
    assert [p.name for p in (tmp_path / "p").iterdir()] == ["project.json"]  # no temporary file left behind


def test_project_from_a_newer_version_is_refused_clearly(tmp_path):
    data = sample_project().to_dict() | {"version": PROJECT_VERSION + 1}
    (tmp_path / "project.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as info:
        Project.load(tmp_path)
    assert "newer studio" in info.value.en and "升级" in info.value.zh


def test_damaged_project_file_and_missing_file(tmp_path):
    (tmp_path / "project.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be read"):
        Project.load(tmp_path)
    with pytest.raises(NotFoundError):
        Project.load(tmp_path / "nowhere")


def test_a_project_json_imports_as_a_script_too():
    data = sample_project().to_dict()
    assert data["format"] == PROJECT_FORMAT
    assert fields(parse_script(json.dumps(data), "json")) == fields(sample_project())


def test_srt_timings_apply_to_a_text_script_in_order():
    project = parse_script("[A] 一\n\n[B] 二\n", "txt")
    apply_timings(
        project, parse_script("1\n00:00:01,000 --> 00:00:02,000\nx\n\n2\n00:00:03,000 --> 00:00:05,000\ny\n", "srt")
    )
    assert [(line.start, line.end) for line in project.lines] == [(1.0, 2.0), (3.0, 5.0)]
    with pytest.raises(InputError, match="must match"):
        apply_timings(project, parse_script("1\n00:00:01,000 --> 00:00:02,000\nx\n", "srt"))


def test_voice_specs():
    assert parse_voice("saved:小明#happy").spec() == "saved:小明#happy"
    assert parse_voice("design: 温柔的女声 ").description == "温柔的女声"
    assert parse_voice("Vivian").kind == ""
    with pytest.raises(InputError):
        parse_voice("preset:")


def test_script_text_refuses_subtitles_without_times():
    with pytest.raises(InputError, match="line 1"):
        script_text(sample_project(timed=False), "srt")
