"""The request and response models of the ``/api/dubbing`` routes (their names are the OpenAPI schema names)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class DubSettingsBody(BaseModel):
    """Project settings (each optional; the rest keep their defaults or saved values)."""

    model_config = ConfigDict(extra="forbid")

    language: str | None = Field(None, max_length=32, description="Auto, Chinese, English, ... or a code")
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="reproducible takes")
    max_new_tokens: int | None = Field(
        None,
        ge=1,
        le=4096,
        description="cap on model steps for each segment of a line, not the whole line (12.5 a second)",
    )
    loudness: float | None = Field(None, ge=-70.0, le=0.0, description="LUFS of each line; null: as generated")
    gap_s: float | None = Field(None, ge=0.0, le=30.0, description="scene mode: silence between lines")
    max_stretch: float | None = Field(None, ge=1.0, le=2.0, description="allowed stretch factor (default 1.33)")
    allow_overlap: bool | None = Field(None, description="a line too long for its slot may run into the next gap")
    format: Literal["mp3", "wav", "flac", "ogg"] | None = Field(None, description="line files (default mp3)")
    model_base: str | None = Field(None, max_length=64, description="registry id for cloned voices")
    model_custom: str | None = Field(None, max_length=64, description="registry id for preset speakers")
    model_design: str | None = Field(None, max_length=64, description="registry id for designed voices")
    check_takes: bool | None = Field(None, description="hear each take with the recogniser; null: with a GPU")
    retakes: int | None = Field(None, ge=0, le=7, description="new takes for a line still heard wrong (default 2)")
    word_captions: bool | None = Field(None, description="word-level captions; null: when takes are checked")


class ProjectCreate(BaseModel):
    """A project from a script: its text and format, a name, and who reads which speaker."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=80, description="folder name: letters, digits, spaces, '.', '-', '_'")
    script: str = Field(max_length=2_000_000, description="the script or subtitle file's text")
    format: Literal["txt", "csv", "tsv", "yaml", "json", "srt", "vtt"] = Field(
        "txt", description="txt: paragraphs with [A] speaker tags; csv/tsv: header row; yaml/json; srt/vtt: timed"
    )
    voices: dict[str, str] = Field(
        default_factory=dict,
        description="speaker label -> voice: a saved voice or preset name, saved:NAME[#TAG], preset:NAME, "
        "design:DESCRIPTION (as the CLI's --speaker)",
    )
    voice: str | None = Field(None, max_length=2000, description="default voice for unmapped speakers (--voice)")
    settings: DubSettingsBody | None = None
    replace: bool = Field(
        False, description="replace an existing project's script, keeping the takes of lines that did not change"
    )


class TakeCheckInfo(BaseModel):
    ok: bool = Field(description="false: the take does not sound like its text (listen to it)")
    cer: float = Field(description="character error rate against the text the model was given")
    score: float
    flags: list[str] = Field(description="polyphone | dropped | repeated | runaway | truncated | unintelligible")
    problems: list[str] = Field(description="the flags in words, in the request's language")
    heard: str


class LineStatus(BaseModel):
    number: int = Field(description="1-based line number")
    id: str
    scene: str
    speaker: str
    status: str = Field(description="pending | running | generated | reused | locked | failed | cancelled")
    seconds: float | None = Field(None, description="length of the line's take as generated")
    message: str | None = Field(None, description="why the line failed")
    check: TakeCheckInfo | None = Field(None, description="what the recogniser heard in the chosen take")


class LineError(BaseModel):
    number: int
    id: str
    message: str | None


class CurrentLine(BaseModel):
    number: int
    id: str
    scene: str
    text: str


class JobOutput(BaseModel):
    file: str
    url: str


class FlaggedLine(BaseModel):
    number: int
    status: str
    suggestion: str


class TrackInfo(BaseModel):
    seconds: float
    mode: str = Field(description="timed (subtitle slots) | scene")
    flagged: list[FlaggedLine] = Field(description="lines over (or far under) their slot, with a suggested fix")
    missing: list[int] = Field([], description="1-based numbers of lines left silent (not generated yet)")


class LineWarning(BaseModel):
    number: int
    message: str


class JobStatus(BaseModel):
    """A dubbing job's state."""

    id: str
    project: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float = Field(description="0-1")
    message: str = Field(description="what the job is doing (English, for logs)")
    progress_text: str = Field(
        "", description="what the job is doing and the time left, in the request's language (Accept-Language)"
    )
    current_line: CurrentLine | None
    lines: list[LineStatus]
    counts: dict[str, int]
    errors: list[LineError] = Field(description="lines that could not be generated (the job goes on without them)")
    warnings: list[LineWarning] = Field(
        [], description="lines whose slot or target length their text can never fit, found before generating"
    )
    heard_wrong: list[int] = Field([], description="1-based numbers of lines whose best take is still heard wrong")
    error: dict[str, str] | None = Field(description="why the job failed: {error, message}")
    force: bool
    selected_lines: str | None
    created: str
    started: str | None
    finished: str | None
    outputs: list[JobOutput] = Field(description="files written by the job (when done)")
    track: TrackInfo | None
    url: str


class StartJob(BaseModel):
    """Generate a project's lines."""

    model_config = ConfigDict(extra="forbid")

    project: str = Field(max_length=80)
    force: bool = Field(False, description="new takes even for lines that did not change")
    lines: str | list[int] | None = Field(None, description="only these 1-based line numbers: '1,3-5' or [1, 3]")
    build: bool = Field(True, description="then assemble the track and write line files, captions and the zip")


class OutputFile(BaseModel):
    file: str
    kind: str = Field(description="track | line | captions | timeline | script | zip | video")
    bytes: int
    url: str


class ProjectSummary(BaseModel):
    name: str
    title: str
    lines: int
    lines_with_audio: int
    mode: str = Field(description="timed | scene | mixed")
    voices: dict[str, str]
    default_voice: str
    job: str | None = Field(description="the queued or running job, if any")
    generating_process: int | None = Field(
        None, description="the process id of another program generating the project now (a job here gets 503)"
    )
    interrupted_lines: int | None = Field(
        None, description="lines a crashed run left to make; a new job resumes them, reusing the finished ones"
    )
    outputs: list[str]


class ProjectDetail(ProjectSummary):
    settings: dict[str, Any]
    script_lines: list[dict[str, Any]] = Field(description="every line: text, timing, takes")
    output_files: list[OutputFile]
    warnings: list[str] = Field(description="lines whose speaker has no voice (they will fail until mapped)")


class ProjectEdit(BaseModel):
    """Who reads which speaker, the default voice, settings (each optional; the rest stay as they are)."""

    model_config = ConfigDict(extra="forbid")

    voices: dict[str, str | None] = Field(
        default_factory=dict,
        description="speaker label -> voice (as in POST /api/dubbing/projects); null or '' removes the mapping",
    )
    voice: str | None = Field(None, max_length=2000, description="default voice for unmapped speakers; '' clears it")
    settings: DubSettingsBody | None = None


class LineEdit(BaseModel):
    """Changes to one line, checked as the Dubbing tab checks its table; fields left out stay as they are.

    A change of text, speaker or emotion changes the line's audio hash, so the next job makes a new take of that
    line only; timing (start, end, duration) and scene are applied when the track is assembled.
    """

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="the words; may carry pinned readings, e.g. 行(háng)")
    scene: str | None = Field(None, description="scene name (names the line's output file)")
    speaker: str | None = Field(
        None, description="a speaker label mapped in the project's voices, or a saved voice or preset speaker name"
    )
    emotion: str | None = Field(None, description="emotion preset id; '' or null: none")
    intensity: float | None = Field(None, description="of the emotion, 0-1 (null: 0.5)")
    duration: float | None = Field(None, description="scene mode: target length in seconds; null: natural")
    start: float | None = Field(None, description="subtitle mode: the slot's start in seconds (with end)")
    end: float | None = Field(None, description="subtitle mode: the slot's end in seconds (with start)")
    pause_after: float | None = Field(
        None, description="seconds of exact silence after the words (0-10), inside the line's slot; null: none"
    )
    locked: bool | None = Field(None, description="a locked line keeps its chosen take, even in a forced job")
    chosen: StrictInt | None = Field(None, description="0-based index of the take to use (see take_list)")


class TakeInfo(BaseModel):
    index: int = Field(description="0-based, as chosen")
    seconds: float
    seed: int | None
    model: str
    created: str
    chosen: bool
    url: str = Field(description="the take's audio (WAV)")


class ScriptLine(BaseModel):
    """One line of a project."""

    number: int = Field(description="1-based line number")
    id: str
    scene: str
    speaker: str
    text: str
    emotion: str
    intensity: float
    duration: float | None
    start: float | None
    end: float | None
    pause_after: float = Field(0.0, description="seconds of exact silence after the words")
    locked: bool
    takes: int = Field(description="how many takes the line has")
    chosen: int = Field(description="0-based index of the chosen take; -1: none")
    seconds: float | None = Field(description="length of the chosen take")
    take_list: list[TakeInfo]
    warning: str | None = Field(description="why the line cannot be voiced (e.g. its speaker has no voice)")
    url: str


class Deleted(BaseModel):
    name: str
    deleted: bool = True


class MuxResult(OutputFile):
    mix: str = Field(description="duck | keep | replace | background")
