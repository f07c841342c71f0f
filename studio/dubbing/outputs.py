"""Everything a dub produces, written into one folder and zipped.

* one file per line, named after its scene: ``scene1-audio.mp3`` (``scene1-audio-2.mp3`` when a
  scene has several lines) or the line's own ``output`` name (rule in :mod:`.names`), fitted exactly
  as it sits in the track;
* the full track as ``<name>-track.wav`` and ``<name>-track.mp3``;
* captions per line (``<name>.srt``, ``.vtt``, ``-captions.json`` for Remotion) and per sentence
  (``<name>-sentences.srt`` ...);
* with the recogniser (:mod:`.word_captions`): captions per word (``<name>-words.srt``, ``.vtt``,
  ``-words-captions.json``) and karaoke ASS (``<name>-karaoke.ass``);
* editor timelines (:mod:`.editors`): ``<name>-timeline.xml`` (FCP 7 XML: Premiere, Resolve),
  ``<name>.fcpxml`` (Final Cut) and ``<name>.otio``, and a 剪映 draft folder ``<name>-jianying/``
  (:mod:`.jianying`);
* the script (``<name>-script.json``) and a zip of all of it (``<name>-dub.zip``).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import atomic
from ..errors import InputError
from ..export import Tags, export_audio
from . import captions
from .editors import timeline_names, write_timelines
from .jianying import write_jianying_draft
from .names import line_file_names, safe_stem
from .project import Project, write_text_atomic
from .scripts import script_text
from .timeline import Track


@dataclass
class Outputs:
    """The files written by :func:`write_outputs`."""

    folder: Path
    line_files: dict[str, Path] = field(default_factory=dict)  #: by line id
    track_wav: Path | None = None
    track_mp3: Path | None = None
    subtitles: dict[str, Path] = field(default_factory=dict)  #: srt, vtt, json, sentences.srt, ...
    timelines: dict[str, Path] = field(default_factory=dict)  #: timeline.xml, timeline.fcpxml, timeline.otio
    jianying: Path | None = None  #: the 剪映 draft folder
    zip: Path | None = None
    video: Path | None = None  #: set when the track was muxed into a video

    @property
    def files(self) -> list[Path]:
        """Every file written, zip excluded."""
        items = [*self.line_files.values(), self.track_wav, self.track_mp3, *self.subtitles.values()]
        items += self.timelines.values()
        return [p for p in items if p is not None]


def fixed_names(stem: str) -> list[str]:
    """The names of the files every dub writes besides its line files (a line's own name never takes one)."""
    names = [f"{stem}-track.wav", f"{stem}-track.mp3", f"{stem}-script.json", f"{stem}-dub.zip"]
    for level in ("", "-sentences"):
        names += [f"{stem}{level}.srt", f"{stem}{level}.vtt", f"{stem}{level}-captions.json"]
    names += [f"{stem}-words.srt", f"{stem}-words.vtt", f"{stem}-words-captions.json", f"{stem}-karaoke.ass"]
    return names + timeline_names(stem)


@dataclass
class Build:
    """What :func:`build_outputs` made: the track, its files, and the lines that had no audio yet."""

    track: Track
    outputs: Outputs
    missing: list[tuple[int, str]] = field(default_factory=list)  #: (0-based index, line id)

    def missing_text(self, lang: str = "zh") -> str:
        """The lines left out, in words ("" when none)."""
        if not self.missing:
            return ""
        numbers = ", ".join(str(i + 1) for i, _ in self.missing[:20]) + (" …" if len(self.missing) > 20 else "")
        if lang.startswith("zh"):
            return f"还没有生成的 {len(self.missing)} 行留为静音：第 {numbers} 行。生成它们后再合成一次。"
        return (
            f"{len(self.missing)} line(s) not generated yet are left silent: {numbers}. Generate them and build again."
        )


def build_outputs(
    project: Project, folder: str | Path | None = None, fmt: str | None = None, transcribe="auto"
) -> Build:
    """Assemble the track from the lines' takes and write every output (the one way the UI, CLI and HTTP build).

    ``transcribe`` (``(samples, sr, text) -> Transcript``; "auto": :func:`.listening.word_transcriber`; None: none)
    times the word captions. Refuses (:class:`InputError`) before writing anything when no line has audio yet;
    lines without audio are left silent and listed in :attr:`Build.missing`.
    """
    from .runner import load_takes, take_rate
    from .timeline import assemble

    audio = load_takes(project)
    if not audio:
        raise InputError(
            zh=f"项目的 {len(project.lines)} 行都还没有音频：请先生成台词（“全部生成”），再合成音轨。",
            en=f"None of the project's {len(project.lines)} lines has audio yet: generate the lines first "
            "('Generate all'), then build the track.",
        )
    missing = [(i, line.id) for i, line in enumerate(project.lines) if line.id not in audio]
    track = assemble(project, audio, take_rate(project))
    assert project.folder is not None or folder is not None
    where = Path(folder) if folder is not None else project.folder / "outputs"
    if transcribe == "auto":
        from .listening import word_transcriber

        transcribe = word_transcriber(project)
    return Build(track, write_outputs(project, track, where, fmt or project.settings.format, transcribe), missing)


def write_outputs(
    project: Project, track: Track, folder: str | Path, fmt: str = "mp3", transcribe: Callable | None = None
) -> Outputs:
    """Write line files, the track, captions and the script into ``folder``, then zip them.

    With ``transcribe`` (``(samples, sr, text) -> Transcript``) also the word-level captions.
    """
    folder = Path(folder)
    stem = safe_stem(project.name)
    out = Outputs(folder)
    names = line_file_names(project, fmt, reserved=set(fixed_names(stem)))
    for line in project.lines:
        clip = track.clips.get(line.id)
        if clip is None:
            continue
        tags = Tags(
            title=f"{project.name} · {line.scene}", voice=line.speaker, model=line.take.model if line.take else ""
        )
        out.line_files[line.id] = export_audio(clip, track.sr, folder / names[line.id], fmt, tags=tags)
    track_tags = Tags(title=project.name)
    out.track_wav = export_audio(track.samples, track.sr, folder / f"{stem}-track.wav", "wav", tags=track_tags)
    out.track_mp3 = export_audio(track.samples, track.sr, folder / f"{stem}-track.mp3", "mp3", tags=track_tags)
    for level, cues in (
        ("", captions.line_cues(project, track)),
        ("-sentences", captions.sentence_cues(project, track)),
    ):
        for kind, text in (
            ("srt", captions.to_srt(cues)),
            ("vtt", captions.to_vtt(cues)),
            ("json", captions.remotion_json(cues)),
        ):
            path = folder / (f"{stem}{level}.{kind}" if kind != "json" else f"{stem}{level}-captions.json")
            write_text_atomic(path, text)
            out.subtitles[f"{level.lstrip('-') or 'lines'}.{kind}"] = path
    if transcribe is not None:
        out.subtitles.update(write_word_captions(project, track, folder, stem, transcribe))
    out.timelines = write_timelines(project, track, out.line_files, folder, stem)
    script = folder / f"{stem}-script.json"
    write_text_atomic(script, script_text(project, "json"))
    out.subtitles["script.json"] = script
    out.jianying = write_jianying_draft(project, track, out.line_files, folder, stem)
    out.zip = zip_outputs(out.files, folder / f"{stem}-dub.zip", folders=(out.jianying,))
    return out


def write_word_captions(project: Project, track: Track, folder: Path, stem: str, transcribe: Callable) -> dict:
    """The word-level captions (:mod:`.word_captions`), by kind ("words.srt", ..., "karaoke.ass")."""
    from . import word_captions

    timed = word_captions.line_words(project, track, transcribe)
    cues = word_captions.word_cues(timed)
    texts = {
        "words.srt": (f"{stem}-words.srt", captions.to_srt(cues)),
        "words.vtt": (f"{stem}-words.vtt", captions.to_vtt(cues)),
        "words.json": (
            f"{stem}-words-captions.json",
            json.dumps(word_captions.remotion_words(timed), ensure_ascii=False, indent=2) + "\n",
        ),
        "karaoke.ass": (f"{stem}-karaoke.ass", word_captions.to_ass(timed)),
    }
    written = {}
    for kind, (name, text) in texts.items():
        write_text_atomic(folder / name, text)
        written[kind] = folder / name
    return written


def zip_outputs(files: list[Path], dest: Path, folders: tuple[Path, ...] = ()) -> Path:
    """Zip ``files`` (flat) and the files of ``folders`` (under their folder's name) into ``dest``, atomically."""
    with atomic.replacing(dest) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            zf.write(path, path.name)
        for sub in folders:
            for path in sorted(p for p in sub.iterdir() if p.is_file()):
                zf.write(path, f"{sub.name}/{path.name}")
    return dest
