"""A dub as a 剪映 (JianYing) draft folder, written with pyJianYingDraft.

``<name>-jianying/`` holds ``draft_meta_info.json`` and ``draft_content.json``: each line file an
audio clip at its place on the "配音" track (overlapping lines go to "配音 2" ...), and its caption
text a text clip over the same time on the "字幕" track. pyJianYingDraft targets 剪映 5.9 and 10.8
(剪映 6 and later save their own drafts encrypted; by the library's tables 10.8 opens plain ones
like these). Clips point at the line files by absolute path, so the draft opens on the
computer that wrote it: copy the folder into 剪映's draft folder (its settings show where).
"""

from __future__ import annotations

from pathlib import Path

from .captions import caption_text
from .project import Project
from .timeline import Track

DRAFT_SUFFIX = "-jianying"
AUDIO_TRACK, TEXT_TRACK = "配音", "字幕"
_US = 1_000_000  #: the draft's time unit is the microsecond


def draft_name(stem: str) -> str:
    """The draft folder's name for a dub called ``stem``."""
    return f"{stem}{DRAFT_SUFFIX}"


def write_jianying_draft(
    project: Project, track: Track, line_files: dict[str, Path], folder: Path, stem: str, size=(1920, 1080)
) -> Path:
    """Write the draft folder of the dub into ``folder`` (replacing an older one); returns its path."""
    import pyJianYingDraft as jy

    draft = jy.DraftFolder(str(folder)).create_draft(draft_name(stem), *size, allow_replace=True)
    lanes: dict[str, list[list]] = {AUDIO_TRACK: [], TEXT_TRACK: []}  # [track name, its end in µs] per kind

    def lane(kind: str, start: int, length: int) -> str:
        """A track of ``kind`` free at ``start`` (a new one when every one is busy), booked until start + length."""
        free = next((entry for entry in lanes[kind] if entry[1] <= start), None)
        if free is None:
            name = kind if not lanes[kind] else f"{kind} {len(lanes[kind]) + 1}"
            draft.append_track(jy.TrackSpec(jy.TrackType.audio if kind == AUDIO_TRACK else jy.TrackType.text, name))
            free = [name, 0]
            lanes[kind].append(free)
        free[1] = start + length
        return free[0]

    for placement in sorted(track.placements, key=lambda p: p.start_s):
        path = line_files.get(placement.line_id)
        samples = track.clips.get(placement.line_id)
        if path is None or samples is None or len(samples) == 0:
            continue
        material = jy.AudioMaterial(str(Path(path).resolve()))
        start = round(placement.start_s * _US)
        length = min(round(len(samples) * _US / track.sr), material.duration)
        draft.add_segment(jy.AudioSegment(material, jy.Timerange(start, length)), lane(AUDIO_TRACK, start, length))
        text = caption_text(project.lines[placement.index].text)
        if text:
            draft.add_segment(jy.TextSegment(text, jy.Timerange(start, length)), lane(TEXT_TRACK, start, length))
    draft.save()
    return folder / draft_name(stem)
