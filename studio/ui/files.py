"""Files a client names must be files the client gave: the one check on every file a UI event receives.

A Gradio event gets its file inputs as paths the client writes itself (the ``path`` of a ``FileData``).
Gradio only asks that such a path lie in its upload folder, which every visitor and every Gradio app on
the machine share. The studio is stricter, for every event of its app, before Gradio or a handler opens
anything: a file is accepted only when it is

- a file this app received through its own upload route (the browser's upload and microphone,
  ``gradio_client.handle_file``): Gradio names each upload's folder by a hash of its bytes keyed with a
  secret of the installation, so only a client that sent those bytes knows the path; or
- a file this app gave to the same browser session as an output (an exported voice archive going back
  into the import button);

and it is still a plain readable file there, reached through no symbolic link and outside every blocked
folder. Anything else (another visitor's or another app's file, a server path, a URL, a missing or
unreadable file) gets one and the same answer, which tells nothing about the server's files.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from ..errors import ForeignFileError

log = logging.getLogger(__name__)

#: Files remembered per session, and sessions remembered (the oldest are forgotten first).
MAX_FILES_PER_SESSION = 512
MAX_SESSIONS = 4096
#: Nesting followed when looking for file objects in an event's inputs (Gradio's own payloads are shallow).
MAX_DEPTH = 32


def file_paths(data: object) -> Iterator[str]:
    """The ``path`` of every file object (a dict with a string ``path``) inside ``data``."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if isinstance(value.get("path"), str):
                yield value["path"]
            children = value.values()
        elif isinstance(value, (list, tuple)):
            children = value
        else:
            continue
        if depth >= MAX_DEPTH:
            yield ""  # deeper than any real payload: refused like an unknown file
            continue
        stack.extend((child, depth + 1) for child in children)


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # another drive on Windows
        return False


class FileGuard:
    """Which files each session may hand back: its uploads and the files the app gave it."""

    def __init__(self) -> None:
        self._given: OrderedDict[str, OrderedDict[str, None]] = OrderedDict()
        self._lock = threading.Lock()

    def _known(self, blocks: gr.Blocks, session: str | None, path: str) -> bool:
        if path in blocks.upload_file_set:
            return True
        with self._lock:
            return path in self._given.get(session or "", ())

    def acceptable(self, blocks: gr.Blocks, session: str | None, path: str) -> bool:
        """Whether ``path`` is a readable plain file this session gave or was given (see the module docstring)."""
        if not path or "\x00" in path or not self._known(blocks, session, path):
            return False
        absolute = os.path.abspath(path)
        real = os.path.realpath(absolute)
        cache = os.path.realpath(blocks.GRADIO_CACHE)
        if os.path.islink(absolute) or not _inside(real, cache):
            return False
        if any(_inside(real, os.path.realpath(b)) for b in getattr(blocks, "blocked_paths", None) or []):
            return False
        try:
            with open(real, "rb"):
                pass
        except (OSError, ValueError):
            return False
        return os.path.isfile(real)

    def remember(self, session: str | None, paths) -> None:
        """Let ``session`` hand ``paths`` back later (its outputs and uploads)."""
        if not session:
            return
        with self._lock:
            files = self._given.setdefault(session, OrderedDict())
            self._given.move_to_end(session)
            for path in paths:
                if path:
                    files[path] = None
                    files.move_to_end(path)
            while len(files) > MAX_FILES_PER_SESSION:
                files.popitem(last=False)
            while len(self._given) > MAX_SESSIONS:
                self._given.popitem(last=False)

    def forget(self, session: str | None, cache: str) -> int:
        """Delete the files ``session`` uploaded or was given that lie in Gradio's cache; return how many."""
        with self._lock:
            files = self._given.pop(session or "", {})
            shared = {p for p in files if any(p in others for others in self._given.values())}
        removed, cache = 0, os.path.realpath(cache)
        for path in (p for p in files if p not in shared):  # identical bytes another session still holds stay
            real = os.path.realpath(path)
            if _inside(real, cache) and not os.path.islink(path) and os.path.isfile(real):
                try:
                    os.unlink(real)
                    removed += 1
                except OSError:
                    log.warning("could not delete a session file from Gradio's cache", exc_info=True)
        return removed


_PROCESS_API = inspect.signature(gr.Blocks.process_api)


class StudioBlocks(gr.Blocks):
    """The studio's Blocks app: every event's file inputs pass :class:`FileGuard` before anything reads them."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.file_guard = FileGuard()
        self.language_state: gr.State | None = None
        self.default_language = "zh"

    def launch(self, *args, css: str | None = None, **kwargs):
        """Launch with the studio's style sheet (:data:`studio.ui.layout.STUDIO_CSS`) unless ``css`` is given."""
        from .layout import STUDIO_CSS

        return super().launch(*args, css=STUDIO_CSS if css is None else css, **kwargs)

    def _language(self, state) -> str:
        if self.language_state is not None and state is not None:
            try:
                lang = state[self.language_state._id]
            except (KeyError, AttributeError):
                lang = None
            if lang in ("zh", "en"):
                return lang
        return self.default_language

    async def process_api(self, *args, **kwargs):
        """Refuse an event whose inputs name a file the session did not give; remember the files it is given."""
        call = _PROCESS_API.bind(self, *args, **kwargs).arguments
        request, state = call.get("request"), call.get("state")
        session = call.get("session_hash") or getattr(request, "session_hash", None)
        paths = list(file_paths(call.get("inputs")))
        if any(not self.file_guard.acceptable(self, session, p) for p in paths):
            log.warning("refused a file input that this session did not upload")
            raise gr.Error(ForeignFileError().message(self._language(state)), print_exception=False)
        self.file_guard.remember(session, paths)
        output = await super().process_api(*args, **kwargs)
        if isinstance(output, dict):
            self.file_guard.remember(session, file_paths(output.get("data")))
        return output

    def forget_session(self, session: str | None) -> int:
        """Delete what ``session`` uploaded or was given from Gradio's cache (the tab was closed)."""
        return self.file_guard.forget(session, self.GRADIO_CACHE)


def session_key(request) -> str | None:
    """The Gradio session of a request (None outside one)."""
    return getattr(request, "session_hash", None)


def scratch_folder(request, prefix: str) -> Path:
    """A new folder for a file the studio writes for this session to download (kept with its Space session)."""
    import tempfile

    from .. import space_mode as space

    if space.enabled() and session_key(request):
        return Path(tempfile.mkdtemp(prefix=prefix, dir=space.storage().outputs(request)))
    return Path(tempfile.mkdtemp(prefix=prefix))
