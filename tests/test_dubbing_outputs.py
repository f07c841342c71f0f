"""Output files, the zip, muxing into a video, and the Dubbing tab's table handling (no model needed)."""

import zipfile

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from studio.dubbing.mux import mux, probe_streams
from studio.dubbing.outputs import write_outputs
from studio.dubbing.project import Line, Project, Take
from studio.dubbing.timeline import assemble
from studio.errors import InputError
from tests.conftest import voiced_clip

SR = 24_000


@pytest.fixture
def built(tmp_path):
    lines = [
        Line(scene="scene1", text="第一句。"),
        Line(scene="scene2", text="第二句。"),
        Line(scene="scene2", text="还有。"),
    ]
    project = Project(name="短片", lines=lines)
    audio = {line.id: voiced_clip(1.0 + i * 0.3, SR, i) for i, line in enumerate(lines)}
    return project, assemble(project, audio, SR)


def test_files_are_named_after_scenes_and_zipped(tmp_path, built):
    project, track = built
    out = write_outputs(project, track, tmp_path / "out", "mp3")
    names = sorted(p.name for p in out.line_files.values())
    assert names == ["scene1-audio.mp3", "scene2-audio-1.mp3", "scene2-audio-2.mp3"]
    wav, sr = sf.read(out.track_wav)
    assert sr == SR and len(wav) == len(track.samples) and out.track_mp3.is_file()
    with zipfile.ZipFile(out.zip) as zf:
        assert set(zf.namelist()) == {p.name for p in out.files}
    assert {"短片.srt", "短片.vtt", "短片-captions.json", "短片-sentences.srt", "短片-script.json"} <= {
        p.name for p in out.files
    }


@pytest.mark.parametrize("mode", ["duck", "replace"])
def test_mux_writes_a_video_with_the_dub(tmp_path, video, mode):
    track = tmp_path / "track.wav"
    sf.write(track, voiced_clip(2.0, SR), SR)
    out = mux(video, track, tmp_path / f"dubbed-{mode}.mp4", mode)
    assert probe_streams(out) == (True, True) and probe_streams(video) == (True, True)


def test_mux_refuses_a_file_that_is_not_a_video(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video", encoding="utf-8")
    audio_only = tmp_path / "voice.wav"
    sf.write(audio_only, np.zeros(SR, np.float32), SR)
    for path in (fake, audio_only):
        with pytest.raises(InputError) as info:
            mux(path, audio_only, tmp_path / "out.mp4")
        assert f"{path.name} is not a video" in info.value.en and "不是视频" in info.value.zh


def test_dubbing_tab_builds_with_bilingual_labels_and_keeps_takes_when_the_table_is_edited():
    import gradio as gr

    from studio.engine import Engine
    from studio.ui.common import UiContext
    from studio.ui.dubbing_tab import _rows, apply_table, build_dubbing_tab
    from studio.ui.i18n import STRINGS

    ctx = UiContext(Engine())
    with gr.Blocks():
        build_dubbing_tab(ctx, gr.State("zh"))
    used = {key for _, keys in ctx.loc._items for key in keys.values()}
    assert used <= set(STRINGS)
    assert all(STRINGS[key][0] and STRINGS[key][1] and STRINGS[key][0] != STRINGS[key][1] for key in used)

    project = Project(lines=[Line(scene="s1", speaker="A", text="一"), Line(scene="s2", text="二", start=1.0, end=2.0)])
    project.lines[0].takes, project.lines[0].chosen = [Take("takes/a/x.wav", "h", 1.0, 1, "m")], 0
    table = pd.DataFrame(
        _rows(project),
        columns=[
            "#",
            "id",
            "scene",
            "speaker",
            "text",
            "emotion",
            "intensity",
            "duration",
            "start",
            "end",
            "locked",
            "takes",
        ],
    )
    table.loc[0, "text"] = "一改"
    table.loc[2] = [3, "", "s3", "B", "新加的一行", "", 0.5, "", "", "", False, ""]
    edited = apply_table(project, table, pd.DataFrame([["A", "preset:Vivian"], ["", ""]], columns=["speaker", "voice"]))
    assert [line.text for line in edited.lines] == ["一改", "二", "新加的一行"]
    assert edited.lines[0].takes and edited.lines[1].start == 1.0 and edited.lines[2].id
    assert edited.voices == {"A": "preset:Vivian"}
    table = table.astype(object)
    table.loc[1, "intensity"] = "很强"
    with pytest.raises(InputError, match="line 2"):
        apply_table(project, table, None)
