"""The voice library: one folder per voice under :func:`~studio.paths.voices_dir`.

Layout of a voice folder ``<root>/<slug>/``::

    profile.json          name, language, transcript, tags, notes, consent, clips ...
    clips/<stem>.wav      24 kHz mono PCM-16 reference clips
    prompts/<model>.pt    cached voice-clone prompts (``<model>@<clip-stem>.pt`` for other clips)

Every change holds a :class:`filelock.FileLock` on ``<root>/.lock`` (two app
windows, or the app and the CLI, may share a library) and becomes visible in
one ``os.replace``: new voices are built in ``<root>/.tmp-*`` and renamed into
place; single files are written beside their target and renamed over it.
Leftover temporary folders and files from a crash are ignored by readers and
removed the next time a library is opened. Deleted voices go to ``<root>/.trash``.
"""

from .archive import (
    ARCHIVE_FORMAT,
    ARCHIVE_VERSION,
    MAX_ARCHIVE_BYTES,
    MAX_ARCHIVE_MEMBERS,
    MAX_COMPRESSION_RATIO,
    MAX_JSON_BYTES,
    MAX_MEMBER_BYTES,
)
from .library import VoiceLibrary
from .prompts import MAX_PROMPT_ENTRIES, MAX_PROMPT_NUMEL, PROMPT_FORMAT, PROMPT_REQUIRED, PROMPT_VERSION
from .records import (
    CONSENT_STATEMENT,
    DEFAULT_TAG,
    LOCK_TIMEOUT_S,
    MAX_CLIPS,
    MAX_NAME_CHARS,
    MAX_NOTES_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TRANSCRIPT_CHARS,
    PROFILE_VERSION,
    Clip,
    Consent,
    Voice,
    slugify,
    validate_name,
)

__all__ = [
    "ARCHIVE_FORMAT",
    "ARCHIVE_VERSION",
    "CONSENT_STATEMENT",
    "DEFAULT_TAG",
    "LOCK_TIMEOUT_S",
    "MAX_ARCHIVE_BYTES",
    "MAX_ARCHIVE_MEMBERS",
    "MAX_CLIPS",
    "MAX_COMPRESSION_RATIO",
    "MAX_JSON_BYTES",
    "MAX_MEMBER_BYTES",
    "MAX_NAME_CHARS",
    "MAX_NOTES_CHARS",
    "MAX_PROMPT_ENTRIES",
    "MAX_PROMPT_NUMEL",
    "MAX_TAGS",
    "MAX_TAG_CHARS",
    "MAX_TRANSCRIPT_CHARS",
    "PROFILE_VERSION",
    "PROMPT_FORMAT",
    "PROMPT_REQUIRED",
    "PROMPT_VERSION",
    "Clip",
    "Consent",
    "Voice",
    "VoiceLibrary",
    "slugify",
    "validate_name",
]
