"""Dubbing: a whole video's voice-over from a script, fitted to its timeline, with captions.

One module per job: :mod:`.project` (the saved project), :mod:`.scripts`
(importing and exporting scripts and subtitles), :mod:`.voicing` (a line's
voice, model and content hash), :mod:`.runner` (generating lines, resumable),
:mod:`.lock` (one run per project across processes, and the marker a crash
leaves), :mod:`.job` and :mod:`.jobs` (background jobs, one registry per
process shared by the UI and the HTTP API), :mod:`.timeline` (fitting lines
into slots and assembling the track), :mod:`.captions` (SRT, WebVTT, Remotion
JSON), :mod:`.outputs` (building the track and its files, zip), :mod:`.mux`
(track into a video) and :mod:`.cli`.
"""

from .project import PROJECT_VERSION, DubSettings, Line, Project, Take, VoiceChoice

__all__ = ["PROJECT_VERSION", "DubSettings", "Line", "Project", "Take", "VoiceChoice"]
