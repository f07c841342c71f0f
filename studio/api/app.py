"""The FastAPI app: one :class:`ApiContext` over the engine, and the routers that adapt it.

Routers (``gpt_sovits``, ``openai``, ``native``) turn a request into a
:class:`Job` through the context (text checks, language names, voice and path
resolution) and hand it to :func:`~studio.api.streaming.speech_response`.
Requests are served one by one, first come first served, by :class:`Gate`;
generation itself goes through the engine (and its lock, shared with the UI).
Dubbing jobs (:mod:`studio.api.dubbing`) take their turn in the same gate, line
by line, so a job and a speech request never use the model at the same time.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import math
import re
import shutil
import tempfile
import threading
import time
import unicodedata
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request

from ..audio import Audio, load_audio
from ..engine import MAX_TEXT_CHARS, Engine, check_text
from ..errors import BusyError, InputError, NotFoundError, TextError
from ..paths import outputs_dir, voices_dir
from ..progress import CancelToken
from ..registry import LANGUAGES, MODELS, SPEAKERS, get_spec, normalize_language
from ..speech_stream import SegmentedSpeech
from .errors import install_error_handlers

DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024
DEFAULT_MAX_QUEUE = 8
UPLOAD_TTL_S = 3600.0

#: Language spellings of the peers' APIs (GPT-SoVITS codes and api.py's Chinese labels) -> the model's names.
_LANGUAGE_ALIASES = {
    "Auto": ("auto", "auto_yue", "audo", "多语种混合", "多语种混合(粤语)", "mixed"),
    "Chinese": (
        "zh",
        "all_zh",
        "zh-cn",
        "zh_cn",
        "zh-hans",
        "中英混合",
        "yue",
        "all_yue",
        "粤语",
        "粤英混合",
        "cantonese",
    ),
    "English": ("en", "en-us", "en-gb", "英文"),
    "Japanese": ("ja", "all_ja", "jp", "日文", "日英混合"),
    "Korean": ("ko", "all_ko", "kr", "韩文", "韩英混合"),
    "German": ("de",),
    "French": ("fr",),
    "Russian": ("ru",),
    "Portuguese": ("pt", "pt-br"),
    "Spanish": ("es",),
    "Italian": ("it",),
}
_ALIASES = {alias: name for name, aliases in _LANGUAGE_ALIASES.items() for alias in aliases}
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")  # two letters at least: "C:" is a Windows drive, not a scheme
_AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac", ".opus")


def parse_language(value: str | None) -> str:
    """The model's language name for a studio name, a GPT-SoVITS code or an api.py label; 400 if unknown."""
    if value is None or not str(value).strip():
        return "Auto"
    key = str(value).strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return normalize_language(key)
    except NotFoundError:
        codes = ", ".join(sorted({a for a in _ALIASES if a.isascii()}))
        raise InputError(
            zh=f"不支持的语言：{value}。可选：{'、'.join(LANGUAGES)}，或 GPT-SoVITS 的代码（{codes}）。",
            en=f"Unsupported language: {value}. Choose one of {', '.join(LANGUAGES)}, or a GPT-SoVITS code ({codes}).",
            param="language",
        ) from None


@dataclass
class Reference:
    """A decoded reference clip and its transcript ("" = x-vector-only cloning)."""

    audio: Audio
    transcript: str
    label: str
    prompt_mismatch: bool = False  #: the request's prompt_text differed from the saved voice's transcript


@dataclass
class Job(SegmentedSpeech):
    """One speech request, ready for the engine (:class:`~studio.speech_stream.SegmentedSpeech`), and its headers."""

    reference: Reference | None = None

    def headers(self) -> dict[str, str]:
        """What the response tells about the generation (known after the first segment)."""
        out = {"X-Segments": str(len(self.segments))}
        if self.used_seed is not None:
            out["X-Seed"] = str(self.used_seed)
        if self.model_label:
            out["X-Model"] = self.model_label.encode("ascii", "replace").decode("ascii")  # headers are latin-1
        if self.fit is not None:
            out["X-Natural-Seconds"] = f"{self.fit.natural_s:.4f}"
            out["X-Target-Seconds"] = f"{self.fit.target_s:.4f}"
            out["X-Final-Seconds"] = f"{self.fit.final_s:.4f}"
            out["X-Stretch"] = f"{self.fit.stretch:.4f}"
            if self.fit.warning:
                out["X-Fit-Warning"] = self.fit.warning.encode("ascii", "replace").decode("ascii")
        if self.delivery is not None and self.delivery.duration is not None:
            out["X-Takes"] = str(self.delivery.takes)
        if self.reference is not None and self.reference.prompt_mismatch:
            out["X-Prompt-Text-Mismatch"] = "stored-transcript-used"
        return out


class Gate:
    """Admits requests to the engine one at a time, first come first served, with a bounded queue."""

    def __init__(self, max_waiting: int = DEFAULT_MAX_QUEUE) -> None:
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._started: float | None = None
        self._durations: deque[float] = deque(maxlen=20)

    @property
    def pending(self) -> int:
        """Requests admitted and not finished (the one running included)."""
        return len(self._queue)

    def admit(self, bounded: bool = True) -> object:
        """A ticket for the queue, or :class:`BusyError` (503) when ``max_waiting`` already wait.

        ``bounded=False`` always queues (a dubbing job already accepted takes its turn line by line).
        """
        with self._cond:
            if bounded and len(self._queue) > self.max_waiting:
                mean = sum(self._durations) / len(self._durations) if self._durations else 5.0
                retry = max(1, min(300, math.ceil(mean * len(self._queue))))
                raise BusyError(
                    zh=f"服务器正忙：已有 {len(self._queue)} 个请求在处理或排队。请 {retry} 秒后重试。",
                    en=f"The server is busy: {len(self._queue)} requests are running or queued. Retry in {retry} s.",
                    retry_after=retry,
                )
            ticket = object()
            self._queue.append(ticket)
            return ticket

    def wait(self, ticket: object, cancel: CancelToken | None = None) -> None:
        """Block until ``ticket`` is first in line; :class:`~studio.errors.Cancelled` if ``cancel`` is set meanwhile."""

        def ready() -> bool:
            return not self._queue or self._queue[0] is ticket or ticket not in self._queue

        with self._cond:
            if cancel is None:
                self._cond.wait_for(ready)
            else:
                while not ready():
                    cancel.check()
                    self._cond.wait(0.2)
            self._started = time.monotonic()

    def done(self, ticket: object) -> None:
        """Leave the queue (running or not); safe to call twice."""
        with self._cond:
            if ticket not in self._queue:
                return
            if self._queue[0] is ticket and self._started is not None:
                self._durations.append(time.monotonic() - self._started)
                self._started = None
            self._queue.remove(ticket)
            self._cond.notify_all()


def _comparable(text: str) -> str:
    """A transcript for comparison: Unicode-normalised, case, spaces and punctuation ignored."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def _through_symlink(candidate: Path, roots: list[Path]) -> bool:
    """Whether ``candidate`` (or a folder on its way down from an allowed root) is a symbolic link."""
    root = next((r for r in roots if candidate.is_relative_to(r)), None)
    if root is None:
        return True  # reaches an allowed folder only through a link (an absolute path spelled another way)
    path = candidate
    while path != root:
        if path.is_symlink():
            return True
        path = path.parent
    return False


class ApiContext:
    """What every route needs: the engine, limits, the voice library, allowed folders, the queue."""

    def __init__(
        self,
        engine: Engine,
        *,
        models: dict[str, str] | None = None,
        voices_root: str | Path | None = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        max_text_chars: int = MAX_TEXT_CHARS,
        lang: str = "en",
        projects_root: str | Path | None = None,
    ) -> None:
        self.engine = engine
        self.models = {k: v for k, v in (models or {}).items() if v}
        self.voices_root = Path(voices_root) if voices_root is not None else voices_dir()
        #: Dubbing projects, one folder each (the Dubbing tab's "dubbing/<name>" folders).
        self.projects_root = Path(projects_root) if projects_root is not None else outputs_dir() / "dubbing"
        self.jobs = None  #: the dubbing job registry (:class:`studio.api.dubbing.JobRegistry`), set by create_api
        self.dictionary_lock = threading.Lock()
        self.upload_dir = Path(tempfile.mkdtemp(prefix="studio-api-uploads-"))
        self.max_text_chars = max_text_chars
        self.lang = lang
        self.gate = Gate(max_queue)
        #: (value, transcript) set by /set_refer_audio or /change_refer; resolved again on each use.
        self.default_reference: tuple[str, str] | None = None
        self._library = None

    # -- the voice library (studio.voices) is only touched here ----------------------------------
    def library(self):
        """The studio's voice library (:class:`studio.voices.VoiceLibrary`)."""
        if self._library is None:
            from ..voices import VoiceLibrary

            self._library = VoiceLibrary(self.voices_root)
        return self._library

    def saved_voice(self, name: str) -> tuple[Path, str, str] | None:
        """(clip path, transcript, name) of the saved voice called ``name``, or None."""
        lib = self.library()
        if not name or not lib.exists(name):
            return None
        voice = lib.get(name)
        return lib.clip_path(voice.name), voice.transcript, voice.name

    def aliased_voice(self, alias: str) -> tuple[Path, str, str] | None:
        """(clip path, transcript, name) of the saved voice that answers to ``alias`` exactly, or None."""
        voice = self.library().find_alias(alias)
        if voice is None:
            return None
        return self.library().clip_path(voice.name), voice.transcript, voice.name

    def saved_voices(self) -> list:
        """Every saved voice (``studio.voices.Voice`` records)."""
        return self.library().list()

    # -- checks ------------------------------------------------------------------------------------
    def check_text(self, text: str | None, limit: int | None = None) -> str:
        """``text`` stripped; 400 when empty or over the server's (or ``limit``'s) length."""
        limit = min(limit or self.max_text_chars, self.max_text_chars)
        cleaned = check_text(text)
        if len(cleaned) > limit:
            raise TextError(
                zh=f"文本太长（{len(cleaned)} 字），这个接口一次最多 {limit} 字。请分段请求。",
                en=f"The text is too long ({len(cleaned)} characters); this endpoint takes at most {limit}. Split it.",
                param="text",
            )
        return cleaned

    def model_for(self, kind: str, requested: str | None, strict: bool) -> str | None:
        """The model a request gets: a registry id it names (when it fits ``kind``), else the server's choice.

        Requests may only name registry ids; local folders are chosen when the
        server starts. With ``strict`` an unusable name is an error, otherwise
        (OpenAI's "tts-1" and the like) it is ignored.
        """
        name = (requested or "").strip()
        if name:
            try:
                spec = get_spec(name)
            except NotFoundError:
                spec = None
            if spec is not None and spec.kind == kind:
                return spec.id
            if strict:
                ids = ", ".join(s.id for s in MODELS if s.kind == kind)
                raise NotFoundError(
                    zh=f"这里不能用模型 “{name}”。可选：{ids}（本地模型文件夹在启动服务器时指定）。",
                    en=f"Model '{name}' cannot be used here. Choose one of {ids} (local folders are set when the server starts).",
                    param="model",
                )
        return self.models.get(kind)

    # -- references and path safety ------------------------------------------------------------------
    def allowed_roots(self) -> list[Path]:
        """Folders a request may name files in: the voice library and the upload area."""
        return [self.voices_root.resolve(), self.upload_dir.resolve()]

    def safe_file(self, value: str) -> Path | None:
        """The file ``value`` names inside an allowed folder, None if there is none; 400 for a path that leaves them.

        Relative paths are looked up in each allowed folder; symlinks are
        followed before the check, so one that points outside is refused.
        """
        text = value.strip().replace("\\", "/")
        if _URL.match(text) or text.startswith("//"):
            raise InputError(
                zh=f"不接受网址：{value}。请用已保存声音的名字，或声音库/上传目录里的文件。",
                en=f"URLs are not accepted: {value}. Give a saved voice's name, or a file in the voice library or upload folder.",
                param="ref_audio_path",
            )
        path = Path(text)
        if ".." in path.parts:
            raise InputError(
                zh=f"路径里不能有 “..”：{value}。",
                en=f"Paths may not contain '..': {value}.",
                param="ref_audio_path",
            )
        roots = self.allowed_roots()
        candidates = [path] if path.is_absolute() else [root / path for root in roots]
        for candidate in candidates:
            resolved = candidate.resolve()
            if not any(resolved.is_relative_to(root) for root in roots):
                raise InputError(
                    zh=f"不允许读取这个文件：{value}。只能用声音库或上传目录里的文件，或已保存声音的名字。",
                    en=f"This file may not be read: {value}. Only files in the voice library or upload folder, "
                    "or a saved voice's name, are allowed.",
                    param="ref_audio_path",
                )
            if _through_symlink(candidate, [*roots, self.voices_root.absolute(), self.upload_dir.absolute()]):
                raise InputError(
                    zh=f"不接受符号链接：{value}。请用声音库或上传目录里的普通文件。",
                    en=f"Symbolic links are not accepted: {value}. Give a plain file in the voice library or upload folder.",
                    param="ref_audio_path",
                )
            if resolved.is_file():
                return resolved
        return None

    def reference(self, value: str | None, transcript: str | None = None, tag: str | None = None) -> Reference:
        """Resolve a reference: a saved voice's name, or a file in an allowed folder.

        An empty ``value`` uses the default set by /set_refer_audio or
        /change_refer. An empty ``transcript`` uses the voice's stored one; with
        none stored the clone is x-vector only.
        """
        value = (value or "").strip()
        transcript = (transcript or "").strip()
        if not value:
            if self.default_reference is None:
                raise InputError(
                    zh="未指定参考音频且接口无预设。请给出 ref_audio_path（已保存声音的名字），或先调用 /set_refer_audio。",
                    en="No reference audio given and no default is set. Give ref_audio_path (a saved voice's name), "
                    "or call /set_refer_audio first.",
                    param="ref_audio_path",
                )
            value, transcript = self.default_reference[0], transcript or self.default_reference[1]
        saved = self.saved_voice(value) or self.aliased_voice(value)
        if saved is not None and tag:  # an emotion clip says its own words: use its transcript
            voice = self.library().get(saved[2])
            chosen = voice.clip(tag)
            saved = (voice.path / chosen.file, chosen.transcript or voice.transcript, saved[2])
        if saved is None:
            path = self.safe_file(value)
            if path is not None:
                saved = (path, self._transcript_of(path), path.name)
            elif value.lower().endswith(_AUDIO_SUFFIXES) and "/" not in value.replace("\\", "/"):
                saved = self.saved_voice(value.rsplit(".", 1)[0])  # "caixukun.wav" finds the voice "caixukun"
        if saved is None:
            raise NotFoundError(
                zh=f"找不到声音、别名或文件：{value}。请用已保存声音的名字（GET /api/voices 列出全部），"
                f'或让一个声音响应这个路径：python -m studio voices alias 名字 "{value}"'
                "（或 POST /api/voices/名字/aliases）。",
                en=f"No saved voice, alias or file called '{value}'. Use a saved voice's name (GET /api/voices lists "
                f'them), or make a voice answer to this path: python -m studio voices alias NAME "{value}" '
                "(or POST /api/voices/NAME/aliases).",
                param="ref_audio_path",
            )
        clip, stored, label = saved
        # A saved voice's stored transcript is what its clip says: a different prompt_text (a client's config
        # written for another recording) would misalign the clone, so the stored one wins and a header says so.
        mismatch = bool(transcript and stored) and _comparable(transcript) != _comparable(stored)
        chosen = stored if stored else transcript
        return Reference(audio=load_audio(clip), transcript=chosen, label=label, prompt_mismatch=mismatch)

    def _transcript_of(self, path: Path) -> str:
        """The stored transcript when ``path`` is a clip inside a saved voice's folder."""
        root = self.voices_root.resolve()
        if not path.is_relative_to(root):
            return ""
        with contextlib.suppress(Exception):
            slug = path.relative_to(root).parts[0]
            return self.library().get(slug).transcript
        return ""

    def set_default_reference(self, value: str, transcript: str = "") -> Reference:
        """Check ``value`` now and remember it for requests that name no reference."""
        if not (value or "").strip():
            raise InputError(
                zh="参考音频路径是空的。", en="The reference audio path is empty.", param="refer_audio_path"
            )
        ref = self.reference(value, transcript)
        self.default_reference = (value.strip(), (transcript or "").strip())
        return ref

    def speaker(self, name: str) -> str | None:
        """The preset speaker called ``name`` (any case), or None."""
        wanted = (name or "").strip().lower()
        return next((n for n, _, _ in SPEAKERS if n.lower() == wanted), None)

    def unknown_voice(self, name: str) -> NotFoundError:
        """The error for a voice that is neither saved nor a preset speaker (lists the choices)."""
        names = [v.name for v in self.saved_voices()] + [n for n, _, _ in SPEAKERS]
        return NotFoundError(
            zh=f"没有名为 “{name}” 的声音。可选：{'、'.join(names)}。",
            en=f"No voice called '{name}'. Choose one of: {', '.join(names)}.",
            param="voice",
        )

    # -- generation ----------------------------------------------------------------------------------
    def chunks(self, job: Job, ticket: object, live: bool = True) -> Iterator[np.ndarray]:
        """Wait for ``ticket``'s turn, then yield ``job``'s audio as it is generated (see :meth:`Job.chunks`)."""
        self.gate.wait(ticket)
        yield from job.chunks(self.engine, live, self.models, self.library)

    def render(self, job: Job, ticket: object) -> np.ndarray:
        """All of ``job``'s audio at once (each segment finished and polished)."""
        pieces = list(self.chunks(job, ticket, live=False))
        return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)

    # -- uploads ---------------------------------------------------------------------------------
    def audio_from_base64(self, value: str, param: str) -> Audio:
        """A clip sent inline (a ``data:audio/...;base64,`` URI or plain base64), decoded through a temporary upload.

        URLs and paths are refused: the server never fetches or reads what a request names.
        """
        value = value.strip()
        if not value.startswith("data:") and ":" in value:  # base64 has no ":", a URL or a Windows path has
            raise InputError(
                zh=f"{param} 不接受网址或服务器上的路径。请把音频编码为 base64 数据 URI（data:audio/wav;base64,...）发送。",
                en=f"{param} takes no URLs or server paths. Send the clip as a base64 data URI "
                "(data:audio/wav;base64,...).",
                param=param,
            )
        payload = value
        if value.startswith("data:"):
            header, _, payload = value.partition(",")
            if not header.endswith(";base64"):
                raise InputError(
                    zh=f"{param} 的数据 URI 必须是 base64 编码（data:audio/wav;base64,...）。",
                    en=f"{param}'s data URI must be base64 encoded (data:audio/wav;base64,...).",
                    param=param,
                )
        try:
            raw = base64.b64decode("".join(payload.split()), validate=True)
        except (binascii.Error, ValueError):
            raise InputError(
                zh=f"{param} 不是有效的 base64 数据。", en=f"{param} is not valid base64 data.", param=param
            ) from None
        path = self.upload_dir / f"tmp-{uuid.uuid4().hex}"
        try:
            path.write_bytes(raw)
            return load_audio(path)
        finally:
            with contextlib.suppress(OSError):
                path.unlink()

    def purge_uploads(self, ttl_s: float = UPLOAD_TTL_S) -> None:
        """Delete uploads older than ``ttl_s``."""
        cutoff = time.time() - ttl_s
        for path in self.upload_dir.glob("*"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()

    def close(self) -> None:
        """Stop the dubbing jobs (cancelling a running one) and remove the upload area."""
        if self.jobs is not None:
            self.jobs.close()
        shutil.rmtree(self.upload_dir, ignore_errors=True)


def context(request: Request) -> ApiContext:
    """The :class:`ApiContext` of the app serving ``request``."""
    return request.app.state.studio


def create_api(
    engine: Engine,
    *,
    api_key: str | None = None,
    models: dict[str, str] | None = None,
    voices_root: str | Path | None = None,
    max_queue: int = DEFAULT_MAX_QUEUE,
    max_text_chars: int = MAX_TEXT_CHARS,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    cors_origins: list[str] | None = None,
    allowed_hosts: list[str] | None = None,
    lang: str = "en",
    projects_root: str | Path | None = None,
) -> FastAPI:
    """The studio's HTTP API over ``engine``.

    ``api_key`` requires ``Authorization: Bearer <key>`` on every route but
    ``/api/health`` and the docs. ``models`` maps a kind (base, custom_voice,
    voice_design) to the model used when a request names none. ``allowed_hosts``
    (e.g. the loopback names) refuses other Host headers, which stops DNS
    rebinding. CORS stays closed unless ``cors_origins`` lists origins; changes (POST, PUT, PATCH, DELETE)
    sent by a browser page of any other origin are refused (:mod:`studio.api.screen`).
    ``projects_root`` holds the dubbing projects (default: ``outputs/dubbing``).
    """
    from fastapi.middleware.cors import CORSMiddleware

    from . import dubbing, gpt_sovits, native, openai, voice_aliases
    from .dubbing import redub as dubbing_redub
    from .screen import Screen
    from .server import Guard

    ctx = ApiContext(
        engine,
        models=models,
        voices_root=voices_root,
        max_queue=max_queue,
        max_text_chars=max_text_chars,
        lang=lang,
        projects_root=projects_root,
    )
    ctx.jobs = dubbing.JobRegistry(ctx)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            ctx.close()

    app = FastAPI(
        title="Qwen Voice Studio API",
        version="0.1.0",
        description="GPT-SoVITS (api_v2 and api.py) and OpenAI compatible speech, and the studio's own API: "
        "speech with exact length and emotion, readings and the pronunciation dictionary, dubbing projects "
        "and jobs (status polling, cancel, downloads).",
        lifespan=lifespan,
        openapi_tags=[
            {"name": "Studio", "description": "speech: clone, preset speakers, designed voices; voices and models"},
            {"name": "Text", "description": "readings of polyphones, pins, the pronunciation dictionary"},
            {"name": "Dubbing", "description": "projects from scripts, generation jobs, outputs"},
        ],
    )
    app.state.studio = ctx
    install_error_handlers(app, lang)
    app.include_router(native.router)
    app.include_router(native.text_router)
    app.include_router(voice_aliases.router)
    app.include_router(dubbing.router)
    app.include_router(dubbing_redub.router)
    app.include_router(openai.router)
    app.include_router(gpt_sovits.router)
    app.add_middleware(Screen, allowed_origins=cors_origins, lang=lang)  # inside the Guard: bodies are bounded
    app.add_middleware(
        Guard, api_key=api_key or None, max_body_bytes=max_body_bytes, allowed_hosts=allowed_hosts, lang=lang
    )
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return app
