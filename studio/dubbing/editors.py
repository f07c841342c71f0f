"""A dub as an editor's timeline, through OpenTimelineIO (ASWF).

Written beside the line files (``write_timelines``):

* ``<name>-timeline.xml``: Final Cut Pro 7 XML (``otio-fcp-adapter``), which Premiere Pro and DaVinci
  Resolve import;
* ``<name>.fcpxml``: FCPXML 1.8 (``otio-fcpx-xml-adapter``) for Final Cut Pro;
* ``<name>.otio``: OpenTimelineIO's own JSON, for any tool with an OTIO reader.

Each line with audio is one clip on the "Dub" audio track at its place in the track (lines allowed to overlap
go to "Dub 2", ...), referencing its line file by absolute ``file://`` URL (editors relink by file name when
the folder moves); its caption text is a marker on the clip. A video track holding one gap of the track's
length is the primary storyline FCPXML needs. Times are in frames of :data:`TIMELINE_FPS`, rounded to the
nearest frame. The captions themselves (SRT/VTT) are written beside the timeline by the outputs.
"""

from __future__ import annotations

from pathlib import Path

from .captions import caption_text
from .project import Project, write_text_atomic
from .timeline import Track

TIMELINE_FPS = 30  #: frames per second of the written timelines
#: (key in Outputs.subtitles, adapter, file name suffix)
TIMELINE_FILES = (
    ("timeline.xml", "fcp_xml", "-timeline.xml"),
    ("timeline.fcpxml", "fcpx_xml", ".fcpxml"),
    ("timeline.otio", "otio_json", ".otio"),
)


def timeline_names(stem: str) -> list[str]:
    """The file names :func:`write_timelines` uses for a dub called ``stem``."""
    return [f"{stem}{suffix}" for _, _, suffix in TIMELINE_FILES]


def build_timeline(project: Project, track: Track, line_files: dict[str, Path], fps: int = TIMELINE_FPS):
    """An ``opentimelineio.schema.Timeline``: one clip per line file at its place, its text as a marker."""
    import opentimelineio as otio

    def frames(seconds: float):
        return otio.opentime.RationalTime(round(seconds * fps), fps)

    def span(start: float, length: float):
        return otio.opentime.TimeRange(frames(start), frames(length))

    timeline = otio.schema.Timeline(name=project.name)
    picture = otio.schema.Track(name="Picture", kind=otio.schema.TrackKind.Video)
    picture.append(otio.schema.Gap(source_range=span(0, track.seconds)))
    timeline.tracks.append(picture)
    lanes: list[tuple[object, int]] = []  # (audio track, its end in frames)
    for placement in sorted(track.placements, key=lambda p: p.start_s):
        path = line_files.get(placement.line_id)
        samples = track.clips.get(placement.line_id)
        if path is None or samples is None or len(samples) == 0:
            continue
        start = round(placement.start_s * fps)
        length = max(1, round(len(samples) / track.sr * fps))
        lane = next((i for i, (_, end) in enumerate(lanes) if end <= start), None)
        if lane is None:
            name = "Dub" if not lanes else f"Dub {len(lanes) + 1}"
            lanes.append((otio.schema.Track(name=name, kind=otio.schema.TrackKind.Audio), 0))
            timeline.tracks.append(lanes[-1][0])
            lane = len(lanes) - 1
        audio, end = lanes[lane]
        if start > end:
            audio.append(otio.schema.Gap(source_range=span(0, (start - end) / fps)))
        whole = otio.opentime.TimeRange(frames(0), otio.opentime.RationalTime(length, fps))
        reference = otio.schema.ExternalReference(target_url=Path(path).resolve().as_uri(), available_range=whole)
        clip = otio.schema.Clip(name=Path(path).name, media_reference=reference, source_range=whole)
        text = caption_text(project.lines[placement.index].text)
        clip.markers.append(
            otio.schema.Marker(name=text, marked_range=otio.opentime.TimeRange(frames(0), frames(0)), comment=text)
        )
        audio.append(clip)
        lanes[lane] = (audio, start + length)
    return timeline


def write_timelines(project: Project, track: Track, line_files: dict[str, Path], folder: Path, stem: str) -> dict:
    """Write the FCP 7 XML, FCPXML and OTIO files of the dub into ``folder``; returns {key: path}."""
    import opentimelineio as otio

    timeline = build_timeline(project, track, line_files)
    written = {}
    for key, adapter, suffix in TIMELINE_FILES:
        path = folder / f"{stem}{suffix}"
        write_text_atomic(path, otio.adapters.write_to_string(timeline, adapter_name=adapter))
        written[key] = path
    return written
