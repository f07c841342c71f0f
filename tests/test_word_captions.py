"""Word-level caption timing and formats (pure logic, a fake transcriber), then the tiny random Whisper."""

import json
import re
import zipfile

import numpy as np
import soundfile as sf

from studio.dubbing import word_captions
from studio.dubbing.outputs import build_outputs, fixed_names
from studio.dubbing.project import Line, Project, Take
from studio.recogniser import Segment, Transcript, Word
from studio.takecheck import heard_units, prepared_units
from studio.wordtimes import TimedWord, timed_words, unit_times, words_of

SR = 24_000


def transcript(duration: float, *words: tuple[float, float, str]) -> Transcript:
    items = tuple(Word(a, b, t, 0.9) for a, b, t in words)
    text = "".join(t for _, _, t in words)
    start, end = (items[0].start, items[-1].end) if items else (0.0, 0.0)
    return Transcript("zh", duration, (Segment(start, end, text, items),) if items else ())


def test_matched_units_take_the_heard_times_and_the_others_share_the_gaps():
    _, units = prepared_units("我们今天去北京")
    heard = heard_units("我们", 0.5, 1.0) + heard_units("明天", 1.0, 1.6) + heard_units("去北京", 2.0, 3.5)
    times = unit_times(units, heard, 5.0)
    assert times[0] == (0.5, 0.75) and times[1] == (0.75, 1.0)
    assert times[2] == (1.0, 1.3)  # 今 misheard as 明: between 们's end and 天's start
    assert times[3] == (1.3, 1.6)
    starts = [s for s, _ in times]
    assert starts == sorted(starts) and all(s <= e for s, e in times)


def test_units_after_the_last_heard_one_run_to_the_clip_end_and_nothing_heard_spreads_evenly():
    _, units = prepared_units("甲乙丙丁")
    times = unit_times(units, heard_units("甲乙", 0.0, 1.0), 3.0)
    assert times[2] == (1.0, 2.0) and times[3] == (2.0, 3.0)
    assert unit_times(units, [], 2.0) == [(0.0, 0.5), (0.5, 1.0), (1.0, 1.5), (1.5, 2.0)]


def test_words_follow_the_intended_text_chinese_per_character_latin_per_word():
    words = timed_words("你好，Hello world！[停顿 0.3]", transcript(3.0, (0.1, 0.5, "你好"), (0.6, 1.0, "hello")))
    assert [w.text for w in words] == ["你", "好，", "Hello ", "world！"]
    assert (words[2].start, words[2].end) == (0.6, 1.0)
    assert words[-1].end == 3.0
    display, units = prepared_units("OK")
    assert [w.text for w in words_of(display, units, [(0.0, 0.1)] * len(units))] == [display]


TIMED = [
    ("a", [TimedWord("你", 1.0, 1.2), TimedWord("好，", 1.2, 1.5), TimedWord("Hello ", 1.6, 2.0)]),
    ("b", [TimedWord("再", 3.0, 3.25), TimedWord("见。", 3.25, 3.5)]),
]


def test_karaoke_ass_has_one_event_per_line_and_k_tags_that_add_up_to_it():
    ass = word_captions.to_ass(TIMED)
    assert "[Script Info]" in ass and "[Events]" in ass
    events = [line for line in ass.splitlines() if line.startswith("Dialogue:")]
    assert len(events) == 2
    assert events[0].startswith("Dialogue: 0,0:00:01.00,0:00:02.00,Default")
    ks = [int(k) for k in re.findall(r"\{\\k(\d+)\}", events[0])]
    assert ks == [20, 40, 40] and sum(ks) == 100
    assert events[1].endswith("{\\k25}再{\\k25}见。")


def test_word_srt_vtt_and_remotion_have_one_entry_per_word():
    from studio.dubbing import captions

    cues = word_captions.word_cues(TIMED)
    assert [c.text for c in cues] == ["你", "好，", "Hello", "再", "见。"]
    srt = captions.to_srt(cues)
    assert srt.count(" --> ") == 5 and "00:00:01,600 --> 00:00:02,000\nHello" in srt
    assert captions.to_vtt(cues).startswith("WEBVTT")
    remotion = word_captions.remotion_words([("x", [TimedWord("Hello ", 0.0, 0.4), TimedWord("world", 0.4, 0.9)])])
    assert [r["text"] for r in remotion] == ["Hello", " world"]
    assert remotion[1] == {"text": " world", "startMs": 400, "endMs": 900, "timestampMs": 650, "confidence": None}


def project_with_takes(folder, texts) -> Project:
    lines = [Line(scene=f"s{k + 1}", text=t) for k, t in enumerate(texts)]
    project = Project(name="demo", lines=lines)
    project.save(folder)
    rng = np.random.default_rng(1)
    for line in lines:
        (folder / "takes" / line.id).mkdir(parents=True)
        samples = (rng.standard_normal(int(1.5 * SR)) * 0.1).astype("float32")
        sf.write(str(folder / "takes" / line.id / "h-1.wav"), samples, SR, subtype="FLOAT")
        line.takes, line.chosen = [Take(f"takes/{line.id}/h-1.wav", "h", 1.5, 0, "m")], 0
    project.save()
    return project


def test_build_writes_word_captions_beside_the_line_and_sentence_ones(tmp_path):
    project = project_with_takes(tmp_path / "p", ["你好。", "再见。"])
    heard = []

    def fake(samples, sr, text):
        heard.append((len(samples), sr))
        return transcript(len(samples) / sr, (0.2, 0.6, "你"), (0.6, 1.0, "好"))

    built = build_outputs(project, transcribe=fake)
    subs = built.outputs.subtitles
    assert len(heard) == 2 and all(sr == SR for _, sr in heard)
    for kind in word_captions.KINDS:
        assert subs[kind].is_file() and subs[kind].name in fixed_names("demo")
    assert "lines.srt" in subs and "sentences.srt" in subs
    cues = json.loads(subs["words.json"].read_text(encoding="utf-8"))
    assert [c["text"] for c in cues] == ["你", "好。", "再", "见。"]
    starts = [c["startMs"] for c in cues]
    assert starts == sorted(starts)
    first_line = next(p for p in built.track.placements if p.index == 0)
    assert cues[0]["startMs"] == round((first_line.start_s + 0.2) * 1000)
    assert subs["karaoke.ass"].read_text(encoding="utf-8").count("Dialogue:") == 2
    with zipfile.ZipFile(built.outputs.zip) as zf:
        assert "demo-karaoke.ass" in zf.namelist() and "demo-words.srt" in zf.namelist()
    assert "demo-words.srt" not in {p.name for p in build_outputs(project, transcribe=None).outputs.files}


def test_the_tiny_random_whisper_times_word_captions_through_the_real_loading_code(tmp_path, tiny_asr, monkeypatch):
    from studio import recogniser
    from studio.dubbing import listening

    project = project_with_takes(tmp_path / "p", ["你好，今天去北京。"])
    project.settings.word_captions = True
    monkeypatch.setattr(listening, "recogniser_folder", lambda: tiny_asr)
    built = build_outputs(project)  # "auto": the project asks for word captions and a recogniser is there
    cues = json.loads(built.outputs.subtitles["words.json"].read_text(encoding="utf-8"))
    assert "".join(c["text"] for c in cues) == "你好，今天去北京。"  # the intended text, whatever was heard
    placement = built.track.placements[0]
    clip_s = len(built.track.clips[placement.line_id]) / built.track.sr
    for cue in cues:
        assert placement.start_s * 1000 - 1 <= cue["startMs"] <= cue["endMs"] <= (placement.start_s + clip_s) * 1000 + 1
    assert recogniser.get(tiny_asr).folder == tiny_asr
