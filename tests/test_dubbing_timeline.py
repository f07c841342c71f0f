"""Timeline assembly and captions on synthetic speech-like clips (no model needed)."""

import io
import itertools
import json

import numpy as np
import pytest
import srt
import webvtt

from studio.dubbing import captions
from studio.dubbing.project import Line, Project
from studio.dubbing.scripts import parse_script
from studio.dubbing.timeline import assemble
from studio.errors import InputError
from tests.helpers import voiced_clip

SR = 24_000
SUBS = """1
00:00:00,500 --> 00:00:03,000
[A] 第一句，比较短。

2
00:00:03,400 --> 00:00:05,900
[B] Second line. It has two sentences.

3
00:00:07,000 --> 00:00:08,000
[A] 这一句太长了，放不进一秒。

4
00:00:09,000 --> 00:00:13,000
[C] 短。
"""


def speech(*parts: float, seed: int = 0) -> np.ndarray:
    """Voiced stretches of the given lengths separated by 0.3 s pauses."""
    pause = np.zeros(int(0.3 * SR), np.float32)
    pieces = []
    for i, seconds in enumerate(parts):
        pieces += [voiced_clip(seconds, SR, seed + i)[int(0.2 * SR) : -int(0.2 * SR)], pause]
    return np.concatenate(pieces[:-1])


@pytest.fixture
def timed():
    project = parse_script(SUBS, "srt")
    audio = {
        project.lines[0].id: speech(2.4),  # about right for 2.5 s
        project.lines[1].id: speech(1.5, 1.5),  # 2.7 s for a 2.5 s slot, with a pause to split sentences at
        project.lines[2].id: speech(3.5),  # 3.1 s for 1 s: beyond even the hardest squeeze
        project.lines[3].id: speech(1.0),  # 0.6 s for 4 s: far too short
    }
    return project, audio


def sound_in(track: np.ndarray, start_s: float, end_s: float) -> tuple[float, float]:
    """First and last non-zero sample of ``track`` between two times, in seconds."""
    offset = round(start_s * SR)
    nonzero = np.flatnonzero(track[offset : round(end_s * SR)])
    return (offset + nonzero[0]) / SR, (offset + nonzero[-1] + 1) / SR


def vtt_seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_every_line_lands_in_its_slot_and_nothing_overlaps(timed):
    project, audio = timed
    track = assemble(project, audio, SR)
    assert track.mode == "timed" and abs(track.seconds - 13.0) <= 0.010
    for p, line in zip(track.placements, project.lines, strict=True):
        assert abs(p.start_s - line.start) <= 0.010 and abs(p.end_s - line.end) <= 0.010
        assert abs(len(track.clips[line.id]) / SR - (line.end - line.start)) <= 0.010
        assert line.start - 0.010 <= p.voiced_start_s <= p.voiced_end_s <= line.end + 0.010
    for before, after in zip(track.placements, track.placements[1:], strict=False):
        assert before.end_s <= after.start_s
    inside = np.zeros(len(track.samples), bool)
    for line in project.lines:
        inside[round(line.start * SR) : round(line.end * SR)] = True
    assert not np.any(track.samples[~inside])  # silence between the slots


def test_lines_report_natural_length_stretch_and_a_fix(timed):
    project, audio = timed
    track = assemble(project, audio, SR)
    natural = [len(audio[line.id]) / SR for line in project.lines]
    assert [p.natural_s for p in track.placements] == pytest.approx(natural)
    assert [p.stretch for p in track.placements] == pytest.approx(
        [(line.end - line.start) / n for line, n in zip(project.lines, natural, strict=True)]
    )
    assert [p.status for p in track.placements] == ["ok", "ok", "cut", "short"]
    cut, short = track.placements[2], track.placements[3]
    assert "shorten the text" in cut.suggestion("en") and "widen the slot" in cut.suggestion("en")
    assert "following 1.00 s gap" in cut.suggestion("en") and "删短" in cut.suggestion("zh")
    assert "add some words" in short.suggestion("en")
    assert [p.line_id for p in track.flagged] == [project.lines[2].id, project.lines[3].id]


def test_allow_overlap_uses_the_following_gap_but_never_the_next_line(timed):
    project, audio = timed
    project.settings.allow_overlap = True
    track = assemble(project, audio, SR)
    long = track.placements[2]
    assert long.end_s == pytest.approx(9.0, abs=0.010) and long.status == "stretch"  # still needs more than allowed
    assert long.end_s <= track.placements[3].start_s
    audio[project.lines[2].id] = speech(1.9)  # 1.5 s: needs 1.5 / 1.33 = 1.13 s, so it runs 0.13 s into the gap
    overlap = assemble(project, audio, SR).placements[2]
    assert overlap.status == "overlap" and not overlap.flagged
    assert overlap.end_s == pytest.approx(7.0 + 1.5 / 1.33, abs=0.010)


def test_scene_mode_places_lines_one_after_another(tmp_path):
    project = Project(
        lines=[Line(scene="s1", text="一"), Line(scene="s2", text="二", duration=2.0), Line(scene="s3", text="三")]
    )
    project.settings.gap_s = 0.5
    audio = {project.lines[0].id: speech(1.2), project.lines[1].id: speech(1.7), project.lines[2].id: speech(0.9)}
    track = assemble(project, audio, SR)
    lengths = [len(audio[project.lines[0].id]) / SR, 2.0, len(audio[project.lines[2].id]) / SR]
    starts = [0.0, lengths[0] + 0.5, lengths[0] + 0.5 + 2.0 + 0.5]
    assert track.mode == "scene"
    assert [p.start_s for p in track.placements] == pytest.approx(starts, abs=0.001)
    assert track.seconds == pytest.approx(starts[2] + lengths[2], abs=0.001)


def test_a_missing_take_leaves_silence_and_is_flagged(timed):
    project, audio = timed
    del audio[project.lines[1].id]
    track = assemble(project, audio, SR)
    assert track.placements[1].status == "missing" and track.placements[1].flagged
    assert not np.any(track.samples[round(3.4 * SR) : round(5.9 * SR)])


def test_mixed_or_overlapping_slots_are_refused_naming_the_line():
    project = parse_script("text,start,end\n一,0,1\n二,,\n", "csv")
    with pytest.raises(InputError, match=r"line 2 has no start and end"):
        assemble(project, {}, SR)
    project = parse_script("text,start,end\n一,0,2\n二,1,3\n", "csv")
    with pytest.raises(InputError, match=r"line 2 .*overlaps"):
        assemble(project, {}, SR)


def test_line_captions_parse_and_match_the_audio(timed):
    project, audio = timed
    track = assemble(project, audio, SR)
    cues = captions.line_cues(project, track)
    runs = [sound_in(track.samples, line.start, line.end) for line in project.lines]
    assert len(cues) == 4
    parsed_srt = list(srt.parse(captions.to_srt(cues)))
    parsed_vtt = list(webvtt.from_buffer(io.StringIO(captions.to_vtt(cues))))
    remotion = json.loads(captions.remotion_json(cues))
    for run, s, v, r, line in zip(runs, parsed_srt, parsed_vtt, remotion, project.lines, strict=True):
        assert abs(s.start.total_seconds() - run[0]) <= 0.010 and abs(s.end.total_seconds() - run[1]) <= 0.010
        assert abs(vtt_seconds(v.start) - run[0]) <= 0.010 and abs(vtt_seconds(v.end) - run[1]) <= 0.010
        assert abs(r["startMs"] / 1000 - run[0]) <= 0.010 and abs(r["endMs"] / 1000 - run[1]) <= 0.010
        assert set(r) == {"text", "startMs", "endMs", "timestampMs", "confidence"}
        assert r["startMs"] <= r["timestampMs"] <= r["endMs"]
        assert s.content == v.text == r["text"] == captions.caption_text(line.text)


def test_sentence_captions_split_at_the_real_pause(timed):
    project, audio = timed
    track = assemble(project, audio, SR)
    cues = [c for c in captions.sentence_cues(project, track) if c.line_id == project.lines[1].id]
    assert [c.text for c in cues] == ["Second line.", "It has two sentences."]
    placement = track.placements[1]
    gap = captions.pauses(track.clips[placement.line_id], SR)
    assert len(gap) == 1
    pause_start, pause_end = (placement.start_s + g for g in gap[0])
    assert abs(cues[0].end_s - pause_start) <= 0.010 and abs(cues[1].start_s - pause_end) <= 0.010
    assert cues[0].start_s == pytest.approx(placement.voiced_start_s) and cues[1].end_s == pytest.approx(
        placement.voiced_end_s
    )
    parsed = list(srt.parse(captions.to_srt(captions.sentence_cues(project, track))))
    assert len(parsed) == 5 and all(a.end <= b.start for a, b in itertools.pairwise(parsed))


def test_pinned_readings_are_not_shown_in_captions():
    assert captions.caption_text("去银行(háng)办事") == "去银行办事"
