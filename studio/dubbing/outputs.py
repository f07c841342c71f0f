"""Everything a dub produces, written into one folder and zipped.

* one file per line, named after its scene: ``scene1-audio.mp3`` (``scene1-audio-2.mp3`` when a
  scene has several lines) or the line's own ``output`` name (rule in :mod:`.names`), fitted exactly
  as it sits in the track;
* the full track as ``<name>-track.wav`` and ``<name>-track.mp3``;
* captions per line (``<name>.srt``, ``.vtt``, ``-captions.json`` for Remotion) and per sentence
  (``<name>-sentences.srt`` ...);
* editor timelines (:mod:`.editors`): ``<name>-timeline.xml`` (FCP 7 XML: Premiere, Resolve),
  ``<name>.fcpxml`` (Final Cut) and ``<name>.otio``;
* the script (``<name>-script.json``) and a zip of all of it (``<name>-dub.zip``).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..export import Tags, export_audio
from . import captions
from .editors import timeline_names, write_timelines
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
    return names + timeline_names(stem)


def write_outputs(project: Project, track: Track, folder: str | Path, fmt: str = "mp3") -> Outputs:
    """Write line files, the track, captions and the script into ``folder``, then zip them."""
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
    out.timelines = write_timelines(project, track, out.line_files, folder, stem)
    script = folder / f"{stem}-script.json"
    write_text_atomic(script, script_text(project, "json"))
    out.subtitles["script.json"] = script
    out.zip = zip_outputs(out.files, folder / f"{stem}-dub.zip")
    return out


def zip_outputs(files: list[Path], dest: Path) -> Path:
    """Zip ``files`` (flat) into ``dest``, atomically."""
    tmp = dest.with_name(f".{dest.name}.part")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                zf.write(path, path.name)
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
