"""Every ``STUDIO_*`` environment variable, documented and read in one place.

Other modules ask the accessors below (read at each call, so a test can
``monkeypatch.setenv``) and never read these variables themselves. Choices a
person makes for one run (``python -m studio --remote URL``) travel as
arguments (:class:`RemoteChoice`), never by rewriting the environment.

=============================  ==============================================================
``STUDIO_HOME``                the data folder (voices, outputs, settings, checkpoints)
``STUDIO_LANG``                the language of messages: ``zh...`` Chinese, anything else English
``STUDIO_MODEL``               a checkpoint id or folder used by default for its kind
``STUDIO_REMOTE_URL``          the remote speech server (overrides the settings; "" = this computer)
``STUDIO_REMOTE_KEY``          its API key (overrides the settings)
``STUDIO_API_KEY``             the key the HTTP API and a UI open to other machines require
``STUDIO_HOST``                the UI launcher's interface (``--host``)
``STUDIO_PORT``                the UI launcher's port (``--port``)
``STUDIO_THREADS``             CPU threads for generation (0 or unset: the physical cores)
``STUDIO_STREAM_FIRST``        frames in a stream's first chunk
``STUDIO_STREAM_CHUNK``        frames in each later chunk
``STUDIO_CUDA_GRAPHS``         CUDA graphs for the code predictor (default on; 0/false/no/off)
``STUDIO_ACCEL``               the exact accelerations (on/off; default on)
``STUDIO_INT8``                the approximate int8 talker (on/off; default off)
``STUDIO_ASR_MODEL``           a speech recogniser folder to use instead of the downloaded ones
``STUDIO_SEPARATOR_MODEL``     a voice/background separator folder to use instead of the downloaded ones
``STUDIO_SPACE``               ``1``: Space mode (set by ``app.py --space``)
``STUDIO_SESSIONS_DIR``        Space mode: where visitors' session folders live
``STUDIO_SPACE_MAX_TEXT``      Space mode: characters of text per generation
``STUDIO_SPACE_QUEUE``         Space mode: requests waiting
``STUDIO_SPACE_TTL``           Space mode: seconds an unused session folder is kept
``STUDIO_SPACE_GPU_SECONDS``   Space mode: ZeroGPU seconds asked for one generation
=============================  ==============================================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass

#: Every variable the studio reads, with what it sets (the table above, for ``doctor`` and tests).
VARIABLES: dict[str, str] = {
    "STUDIO_HOME": "the data folder",
    "STUDIO_LANG": "the language of messages (zh or en)",
    "STUDIO_MODEL": "default checkpoint id or folder",
    "STUDIO_REMOTE_URL": "remote speech server URL ('' = this computer)",
    "STUDIO_REMOTE_KEY": "remote speech server API key",
    "STUDIO_API_KEY": "key required by the HTTP API and a UI open to other machines",
    "STUDIO_HOST": "UI interface",
    "STUDIO_PORT": "UI port",
    "STUDIO_THREADS": "CPU threads for generation",
    "STUDIO_STREAM_FIRST": "frames in a stream's first chunk",
    "STUDIO_STREAM_CHUNK": "frames in each later stream chunk",
    "STUDIO_CUDA_GRAPHS": "CUDA graphs on/off",
    "STUDIO_ACCEL": "exact accelerations on/off",
    "STUDIO_INT8": "approximate int8 talker on/off",
    "STUDIO_ASR_MODEL": "speech recogniser folder",
    "STUDIO_SEPARATOR_MODEL": "voice/background separator folder",
    "STUDIO_SPACE": "1 = Space mode",
    "STUDIO_SESSIONS_DIR": "Space mode: session folders",
    "STUDIO_SPACE_MAX_TEXT": "Space mode: characters per generation",
    "STUDIO_SPACE_QUEUE": "Space mode: queue size",
    "STUDIO_SPACE_TTL": "Space mode: session folder lifetime (s)",
    "STUDIO_SPACE_GPU_SECONDS": "Space mode: ZeroGPU seconds per generation",
}

URL_ENV = "STUDIO_REMOTE_URL"
KEY_ENV = "STUDIO_REMOTE_KEY"
SPACE_ENV = "STUDIO_SPACE"
_FALSE = ("0", "false", "no", "off")
_TRUE = ("1", "true", "yes", "on")


#: Values a launcher chose for this process (``app.py --space``), in place of the environment.
_CHOSEN: dict[str, str] = {}


def choose(name: str, value: str) -> None:
    """Set the variable ``name`` for this process only (a launcher's decision); the environment is left alone."""
    if name not in VARIABLES:
        raise KeyError(f"{name} is not a studio variable (add it to studio.config.VARIABLES)")
    _CHOSEN[name] = value


def _raw(name: str, default: str = "") -> str:
    return _CHOSEN[name] if name in _CHOSEN else os.environ.get(name, default)


def text(name: str) -> str:
    """The variable ``name`` (one of :data:`VARIABLES`), stripped; "" when unset."""
    if name not in VARIABLES:
        raise KeyError(f"{name} is not a studio variable (add it to studio.config.VARIABLES)")
    return _raw(name).strip()


def is_set(name: str) -> bool:
    """Whether ``name`` is set (an empty value counts: "" forces a default off)."""
    return name in _CHOSEN or name in os.environ


def integer(name: str, default: int) -> int:
    """The variable ``name`` as an integer; ``default`` when unset or not a number."""
    try:
        return int(text(name) or default)
    except ValueError:
        return default


def switch(name: str, default: bool) -> bool:
    """The on/off variable ``name`` (1/true/yes/on, 0/false/no/off); ``default`` when unset or neither."""
    value = text(name).lower()
    return False if value in _FALSE else True if value in _TRUE else default


# --- the language rule -------------------------------------------------------------------------


def language(saved: str | None = None) -> str:
    """'zh' or 'en' for every entry point (CLI, HTTP API, launchers): one rule.

    ``STUDIO_LANG``, then the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``),
    then ``saved`` (the language chosen in the UI's settings, when the caller
    has them), else English. A value starting with ``zh`` means Chinese.
    """
    for var in ("STUDIO_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "zh" if (saved or "").lower().startswith("zh") else "en"


# --- the remote engine -------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteChoice:
    """The remote engine chosen for one run (``--remote URL`` / ``--remote-key`` / ``--local``).

    ``url`` None: no choice (the environment, then the settings decide); "" : this computer.
    ``key`` None: no choice.
    """

    url: str | None = None
    key: str | None = None

    @property
    def chosen(self) -> tuple[str, ...]:
        """The variables this choice overrides (for ``remote show``'s note)."""
        return tuple(n for n, v in ((URL_ENV, self.url), (KEY_ENV, self.key)) if v is not None)


def remote(settings=None, choice: RemoteChoice | None = None) -> tuple[str, str]:
    """(URL, key) of the remote engine: the run's ``choice``, else the environment, else ``settings``; "" = local."""
    url = getattr(settings, "remote_url", "") or ""
    key = getattr(settings, "remote_key", "") or ""
    choice = choice or getattr(settings, "remote_choice", None)
    if URL_ENV in os.environ:
        url = os.environ[URL_ENV]
    if KEY_ENV in os.environ:
        key = os.environ[KEY_ENV]
    if choice is not None and choice.url is not None:
        url = choice.url
    if choice is not None and choice.key is not None:
        key = choice.key
    return url.strip(), key.strip()


# --- named accessors ---------------------------------------------------------------------------


def home() -> str:
    """``STUDIO_HOME`` ("" = the default data folder, see :func:`studio.paths.studio_home`)."""
    return _raw("STUDIO_HOME")


def model() -> str:
    """``STUDIO_MODEL``: a checkpoint id or folder preferred for its kind ("" = none)."""
    return text("STUDIO_MODEL")


def api_key() -> str:
    """``STUDIO_API_KEY`` ("" = none)."""
    return text("STUDIO_API_KEY")


def host() -> str | None:
    """``STUDIO_HOST`` for the UI launcher (None = its default)."""
    return os.environ.get("STUDIO_HOST") or None


def port() -> int | None:
    """``STUDIO_PORT`` for the UI launcher (None = its default); a non-number is an error to show, so int() raises."""
    value = os.environ.get("STUDIO_PORT")
    return int(value) if value else None


def threads() -> int:
    """``STUDIO_THREADS`` (0 = choose from the physical cores)."""
    return integer("STUDIO_THREADS", 0)


def asr_model() -> str:
    """``STUDIO_ASR_MODEL``: a recogniser folder ("" = the downloaded ones)."""
    return text("STUDIO_ASR_MODEL")


def separator_model() -> str:
    """``STUDIO_SEPARATOR_MODEL``: a separator folder ("" = the downloaded ones)."""
    return text("STUDIO_SEPARATOR_MODEL")


def space_mode() -> bool:
    """``STUDIO_SPACE=1`` or a Hugging Face Space's own ``SPACE_ID``."""
    return _raw(SPACE_ENV) == "1" or bool(os.environ.get("SPACE_ID"))


def sessions_dir() -> str:
    """``STUDIO_SESSIONS_DIR`` ("" = a folder in the system's temp directory)."""
    return os.environ.get("STUDIO_SESSIONS_DIR", "")
