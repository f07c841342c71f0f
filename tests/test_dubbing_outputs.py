"""Output files, the zip, muxing into a video, and the Dubbing tab's table handling (no model needed)."""

import zipfile

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import srt

from studio.dubbing.mux import mux, probe_streams
from studio.dubbing.outputs import write_outputs
from studio.dubbing.project import Line, Project, Take
from studio.dubbing.timeline import assemble
from studio.errors import InputError
from tests.helpers import voiced_clip

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
        draft = {f"{out.jianying.name}/{p.name}" for p in out.jianying.iterdir()}
        assert set(zf.namelist()) == {p.name for p in out.files} | draft
    assert {"短片.srt", "短片.vtt", "短片-captions.json", "短片-sentences.srt", "短片-script.json"} <= {
        p.name for p in out.files
    }


@pytest.mark.parametrize("mode", ["duck", "replace"])
def test_mux_writes_a_video_with_the_dub(tmp_path, video, mode):
    track = tmp_path / "track.wav"
    sf.write(track, voiced_clip(2.0, SR), SR)
    out = mux(video, track, tmp_path / f"dubbed-{mode}.mp4", mode)
    assert probe_streams(out) == (True, True) and probe_streams(video) == (True, True)


def test_mux_reports_its_position_and_a_cancel_leaves_no_file(tmp_path, video):
    from studio.errors import Cancelled
    from studio.progress import CancelToken, Status

    track = tmp_path / "track.wav"
    sf.write(track, voiced_clip(2.0, SR), SR)
    reports = []
    out = mux(video, track, tmp_path / "dubbed.mp4", "keep", progress=lambda f, m: reports.append((f, m)))
    assert out.is_file() and reports[-1][0] == 1.0
    assert all(isinstance(m, Status) and m.kind == "muxing" and m.of_s > 1.5 for _, m in reports), reports

    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        mux(video, track, tmp_path / "stopped.mp4", "keep", cancel=cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dubbed.mp4", "track.wav"]


def test_a_project_is_dubbed_into_its_own_video_and_refused_without_a_track_or_a_video(tmp_path, video):
    from studio.dubbing.service import dub_into_video, source_video
    from studio.errors import ConflictError
    from studio.redub_job_file import place_video

    project = Project(name="短片", lines=[Line(text="第一句。")])
    project.save(tmp_path / "p")
    with pytest.raises(ConflictError) as info:
        dub_into_video(project)
    assert "no track yet" in info.value.en and "还没有配音音轨" in info.value.zh
    (tmp_path / "p" / "outputs").mkdir()
    sf.write(tmp_path / "p" / "outputs" / "短片-track.wav", voiced_clip(2.0, SR), SR)
    assert source_video(project) is None
    with pytest.raises(InputError) as info:
        dub_into_video(project)
    assert "Choose the video" in info.value.en and "请选择" in info.value.zh
    place_video(project.folder, video, "原片.mp4", "copy")
    assert source_video(project).name == "原片.mp4"
    out = dub_into_video(project, mode="replace")
    assert out == tmp_path / "p" / "outputs" / "原片-dubbed.mp4" and probe_streams(out) == (True, True)


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
    from studio.ui.dubbing_tab import _HEADERS, _rows, apply_table, build_dubbing_tab
    from studio.ui.i18n import STRINGS

    ctx = UiContext(Engine())
    with gr.Blocks():
        build_dubbing_tab(ctx, gr.State("zh"))
    used, choices = set(), []
    for _, keys in ctx.loc._items:
        for key in keys.values():
            if callable(key):  # choices worded per language
                choices.append(key)
                continue
            used |= set(key) if isinstance(key, tuple) else {key}  # table headers are a tuple of keys
    assert used <= set(STRINGS)
    for words in choices:
        zh, en = words("zh"), words("en")
        assert [v for _, v in zh] == [v for _, v in en] and all(a != b for (a, _), (b, _) in zip(zh, en, strict=True))
    same_in_both = {"col_number"}  # the "#" column header is a symbol in either language
    assert all(STRINGS[key][0] and STRINGS[key][1] for key in used)
    assert all(STRINGS[key][0] != STRINGS[key][1] for key in used - same_in_both)

    project = Project(lines=[Line(scene="s1", speaker="A", text="一"), Line(scene="s2", text="二", start=1.0, end=2.0)])
    project.lines[0].takes, project.lines[0].chosen = [Take("takes/a/x.wav", "h", 1.0, 1, "m")], 0
    table = pd.DataFrame(
        _rows(project),
        columns=list(_HEADERS),
    )
    table.loc[0, "text"] = "一改"
    table.loc[2] = [3, "", "s3", "B", "新加的一行", "", 0.5, "", "", "", "", False, "", ""]
    edited = apply_table(project, table, pd.DataFrame([["A", "preset:Vivian"], ["", ""]], columns=["speaker", "voice"]))
    assert [line.text for line in edited.lines] == ["一改", "二", "新加的一行"]
    assert edited.lines[0].takes and edited.lines[1].start == 1.0 and edited.lines[2].id
    assert edited.voices == {"A": "preset:Vivian"}
    table = table.astype(object)
    table.loc[1, "intensity"] = "很强"
    with pytest.raises(InputError, match="line 2"):
        apply_table(project, table, None)


@pytest.mark.parametrize("timed", [False, True])
def test_editor_timelines_read_back_with_otio(tmp_path, timed):
    import opentimelineio as otio

    lines = [
        Line(scene="1", text="第一句。", start=0.5 if timed else None, end=2.0 if timed else None),
        Line(scene="2", text="去银行(háng)取钱。", start=3.0 if timed else None, end=4.5 if timed else None),
        Line(scene="3", text="最后一句！", start=6.0 if timed else None, end=7.0 if timed else None),
    ]
    project = Project(name="短片", lines=lines)
    audio = {line.id: voiced_clip(1.0 + i * 0.2, SR, i) for i, line in enumerate(lines)}
    track = assemble(project, audio, SR)
    out = write_outputs(project, track, tmp_path / "out", "wav")
    assert {p.name for p in out.timelines.values()} == {"短片-timeline.xml", "短片.fcpxml", "短片.otio"}
    with zipfile.ZipFile(out.zip) as zf:
        assert {"短片-timeline.xml", "短片.fcpxml", "短片.otio"} <= set(zf.namelist())
    captions = [cue.content for cue in srt.parse(out.subtitles["lines.srt"].read_text(encoding="utf-8"))]
    assert captions[1] == "去银行取钱。"  # the marker carries the caption's text, readings unpinned
    want = [
        (out.line_files[p.line_id].name, p.start_s, len(track.clips[p.line_id]) / SR, caption)
        for p, caption in zip(track.placements, captions, strict=True)
    ]
    for key, adapter in (("timeline.xml", "fcp_xml"), ("timeline.fcpxml", "fcpx_xml"), ("timeline.otio", "otio_json")):
        read = otio.adapters.read_from_file(str(out.timelines[key]), adapter_name=adapter)
        if isinstance(read, otio.schema.SerializableCollection):
            (read,) = list(read)
        clips = [c for t in read.audio_tracks() for c in t if isinstance(c, otio.schema.Clip)]
        got = []
        for clip in clips:
            where = clip.range_in_parent()
            assert clip.media_reference.target_url.endswith(clip.name), (key, clip.media_reference.target_url)
            got.append((clip.name, where.start_time.to_seconds(), where.duration.to_seconds(), clip.markers[0].name))
        assert [g[0] for g in got] == [w[0] for w in want], key
        assert [g[3] for g in got] == [w[3] for w in want], key
        for (_, start, length, _), (_, want_start, want_length, _) in zip(got, want, strict=True):
            assert abs(start - want_start) <= 0.5 / 30 + 1e-9 and abs(length - want_length) <= 0.5 / 30 + 1e-9, key
