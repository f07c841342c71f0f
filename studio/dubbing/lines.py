"""The records of a dubbing project: a line, its takes, the voice a speaker is read with, the settings.

Kept apart from :mod:`.project` (the project and its file) so the checks in
:mod:`.checks` can use them while the project file is read through those checks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from ..errors import InputError

MAX_OUTPUT_CHARS = 120  #: a line's own output file name
VOICE_KINDS = ("saved", "preset", "design")


def line_label(index: int, line: Line | None = None) -> tuple[str, str]:
    """How messages name a line: ("第 3 行（scene2）", "line 3 (scene2)") for 0-based ``index``."""
    scene = f"（{line.scene}）" if line is not None and line.scene else ""
    scene_en = f" ({line.scene})" if line is not None and line.scene else ""
    return f"第 {index + 1} 行{scene}", f"line {index + 1}{scene_en}"


@dataclass
class VoiceChoice:
    """The voice a speaker is read with: a saved voice, a preset speaker or a designed voice."""

    kind: str  #: saved | preset | design
    name: str = ""  #: saved voice name or preset speaker name
    tag: str = ""  #: clip tag of a saved voice ("" = its default clip)
    description: str = ""  #: for a designed voice

    def spec(self) -> str:
        """The one-string form accepted by :func:`parse_voice` (``saved:小明#happy``, ``design:...``)."""
        if self.kind == "design":
            return f"design:{self.description}"
        return f"{self.kind}:{self.name}" + (f"#{self.tag}" if self.tag else "")


def parse_voice(spec: str) -> VoiceChoice:
    """``saved:NAME[#TAG]``, ``preset:SPEAKER``, ``design:DESCRIPTION`` or a bare name (resolved later)."""
    spec = (spec or "").strip()
    kind, sep, rest = spec.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in VOICE_KINDS:
        kind, rest = "", spec
    rest = rest.strip()
    if not rest:
        raise InputError(
            zh=f"声音设置 “{spec}” 是空的。写法：saved:声音名、preset:Vivian 或 design:声音描述。",
            en=f"The voice '{spec}' is empty. Write saved:NAME, preset:Vivian or design:DESCRIPTION.",
        )
    if kind == "design":
        return VoiceChoice("design", description=rest)
    name, _, tag = rest.partition("#")
    return VoiceChoice(kind, name=name.strip(), tag=tag.strip())


@dataclass
class Take:
    """One generated reading of a line, at its natural length."""

    file: str  #: relative to the project folder
    hash: str  #: content hash of text + voice + settings it was made from
    seconds: float
    seed: int
    model: str
    created: str = ""
    check: dict | None = None  #: what the recogniser heard (:meth:`studio.takecheck.TakeCheck.to_dict`)


@dataclass
class Line:
    """One line of the script."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    scene: str = ""
    speaker: str = ""  #: a label mapped in :attr:`Project.voices`, or a voice/preset name itself
    text: str = ""  #: may carry pinned readings, e.g. 行(háng)
    emotion: str = ""
    intensity: float = 0.5
    duration: float | None = None  #: target length in seconds (scene mode)
    start: float | None = None  #: slot on the video's timeline, seconds
    end: float | None = None
    output: str = ""  #: the line's own output file name (``scene8-ending.mp3``); "" = ``scene{N}-audio``
    pause_after: float = 0.0  #: seconds of exact silence after the line's words (inside its slot)
    locked: bool = False  #: never regenerate; keep the chosen take
    takes: list[Take] = field(default_factory=list)
    chosen: int = -1  #: index into takes; -1 = none

    @property
    def take(self) -> Take | None:
        """The chosen take, if any."""
        return self.takes[self.chosen] if 0 <= self.chosen < len(self.takes) else None

    @property
    def timed(self) -> bool:
        """Whether the line has a slot on the timeline."""
        return self.start is not None and self.end is not None


@dataclass
class DubSettings:
    """How a project is generated and assembled."""

    language: str = "Auto"
    model_base: str = ""  #: "" = the studio's default for each kind
    model_custom: str = ""
    model_design: str = ""
    seed: int | None = None  #: None: a random seed per take
    max_new_tokens: int | None = None  #: cap on model steps for each segment of a line (None = by text length)
    loudness: float | None = -16.0  #: LUFS of every line; None leaves it as generated
    gap_s: float = 0.4  #: scene mode: silence between lines
    max_stretch: float = 1.33  #: allowed stretch factors are 1/max_stretch .. max_stretch
    allow_overlap: bool = False  #: a line too long for its slot may run into the following gap
    format: str = "mp3"
    default_voice: str = ""  #: voice spec for speakers without a mapping
    check_takes: bool | None = None  #: check each take by ear (None: on with a GPU and a recogniser on disk)
    retakes: int = 2  #: with checking: new takes made for a line whose take is still wrong
    word_captions: bool | None = None  #: word-level captions (None: when takes are checked)
    asr_model: str = ""  #: the recogniser folder for checks and word captions ("" = the studio's own)
