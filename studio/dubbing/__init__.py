"""Dubbing: a whole video's voice-over from a script, fitted to its timeline, with captions.

One module per job: :mod:`.project` (the saved project), :mod:`.scripts`
(importing and exporting scripts and subtitles), :mod:`.runner` (generating
lines, resumable), :mod:`.timeline` (fitting lines into slots and assembling
the track), :mod:`.captions` (SRT, WebVTT, Remotion JSON), :mod:`.outputs`
(files and zip), :mod:`.mux` (track into a video) and :mod:`.cli`.
"""

from .project import PROJECT_VERSION, DubSettings, Line, Project, Take, VoiceChoice

__all__ = ["PROJECT_VERSION", "DubSettings", "Line", "Project", "Take", "VoiceChoice"]
