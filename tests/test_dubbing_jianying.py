"""The 剪映 draft of a dub, read back by pyJianYingDraft's own loader (the template reader)."""

from __future__ import annotations

import json
import zipfile

import pyJianYingDraft as jy
import pytest

from studio.dubbing.jianying import AUDIO_TRACK, TEXT_TRACK, write_jianying_draft
from studio.dubbing.outputs import write_outputs
from studio.dubbing.project import Line, Project
from studio.dubbing.timeline import assemble
from tests.helpers import voiced_clip

SR = 24_000
US = 1_000_000


def _dub(timed: bool):
    lines = [
        Line(scene="1", text="第一句。", start=0.5 if timed else None, end=2.0 if timed else None),
        Line(scene="2", text="去银行(háng)取钱。", start=3.0 if timed else None, end=4.5 if timed else None),
        Line(scene="3", text="最后一句！", start=6.0 if timed else None, end=7.0 if timed else None),
    ]
    project = Project(name="短片", lines=lines)
    audio = {line.id: voiced_clip(1.0 + i * 0.2, SR, i) for i, line in enumerate(lines)}
    return project, assemble(project, audio, SR)


def _read(folder, name):
    """{track name: [(start µs, duration µs, material)]} and the materials, through the library's loader."""
    draft = jy.DraftFolder(str(folder)).load_template(name)
    materials = {m["id"]: m for kind in ("audios", "texts") for m in draft.imported_materials.get(kind, [])}
    tracks = {}
    for track in draft.imported_tracks:
        tracks[track.name] = [
            (s.target_timerange.start, s.target_timerange.duration, materials[s.material_id]) for s in track.segments
        ]
    return tracks


@pytest.mark.parametrize("timed", [False, True])
def test_each_line_is_an_audio_clip_at_its_time_with_its_caption(tmp_path, timed):
    project, track = _dub(timed)
    out = write_outputs(project, track, tmp_path / "out", "mp3")
    assert out.jianying == tmp_path / "out" / "短片-jianying"
    tracks = _read(out.jianying.parent, out.jianying.name)
    assert set(tracks) == {AUDIO_TRACK, TEXT_TRACK}
    want = [(round(p.start_s * US), len(track.clips[p.line_id]) * US / SR, p.line_id) for p in track.placements]
    audio, text = tracks[AUDIO_TRACK], tracks[TEXT_TRACK]
    assert len(audio) == len(text) == 3
    for (start, length, material), (t_start, t_length, _caption), (w_start, w_length, line_id) in zip(
        audio, text, want, strict=True
    ):
        assert start == t_start == w_start and abs(length - w_length) <= 1 and t_length == length
        assert material["path"] == str(out.line_files[line_id].resolve())
        assert material["duration"] >= length  # the clip fits in its file
    assert [json.loads(c["content"])["text"] for _, _, c in text] == ["第一句。", "去银行取钱。", "最后一句！"]
    with zipfile.ZipFile(out.zip) as zf:
        assert {"短片-jianying/draft_content.json", "短片-jianying/draft_meta_info.json"} <= set(zf.namelist())


def test_overlapping_lines_go_to_a_second_track(tmp_path):
    project, track = _dub(timed=True)
    out = write_outputs(project, track, tmp_path / "out", "wav")
    track.placements[1].start_s = track.placements[0].start_s + 0.25  # now it starts inside the first line
    draft = write_jianying_draft(project, track, out.line_files, tmp_path, "again")
    tracks = _read(tmp_path, draft.name)
    assert len(tracks[AUDIO_TRACK]) == 2 and len(tracks[f"{AUDIO_TRACK} 2"]) == 1
    assert len(tracks[TEXT_TRACK]) == 2 and len(tracks[f"{TEXT_TRACK} 2"]) == 1
    assert tracks[f"{AUDIO_TRACK} 2"][0][0] == round((track.placements[0].start_s + 0.25) * US)
