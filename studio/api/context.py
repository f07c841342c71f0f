"""What every HTTP route shares: the :class:`ApiContext` over the engine, a speech :class:`Job`, :func:`context`.

Routers import from here (never from :mod:`studio.api.app`, which imports the routers to build the app).
Routers (``gpt_sovits``, ``openai``, ``native``) turn a request into a :class:`Job` through the context
(text checks, language names, voice and path resolution) and hand it to
:func:`~studio.api.streaming.speech_response`.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fastapi import Request

from ..engine import MAX_TEXT_CHARS, Engine, check_text
from ..errors import NotFoundError, TextError
from ..paths import outputs_dir, voices_dir
from ..registry import MODELS, get_spec
from ..speech_stream import SegmentedSpeech
from .gate import DEFAULT_MAX_QUEUE, Gate
from .languages import parse_language
from .references import UPLOAD_TTL_S, Reference, References

__all__ = ["DEFAULT_MAX_QUEUE", "UPLOAD_TTL_S", "ApiContext", "Gate", "Job", "Reference", "context", "parse_language"]


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
        if self.delivery is not None and (self.delivery.duration is not None or self.delivery.checker is not None):
            out["X-Takes"] = str(self.delivery.takes)
        if self.check is not None:
            from urllib.parse import quote

            out["X-Take-CER"] = f"{self.check.cer:.4f}"
            out["X-Take-Score"] = f"{self.check.score:.4f}"
            out["X-Take-OK"] = "true" if self.check.ok else "false"
            out["X-Take-Flags"] = ",".join(f.kind for f in self.check.flags)
            out["X-Take-Heard"] = quote(self.check.heard, safe="")
        if self.reference is not None and self.reference.prompt_mismatch:
            out["X-Prompt-Text-Mismatch"] = "stored-transcript-used"
        return out


class ApiContext(References):
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

    # -- generation ----------------------------------------------------------------------------------
    def chunks(self, job: Job, ticket: object, live: bool = True) -> Iterator[np.ndarray]:
        """Wait for ``ticket``'s turn, then yield ``job``'s audio as it is generated (see :meth:`Job.chunks`)."""
        self.gate.wait(ticket)
        yield from job.chunks(self.engine, live, self.models, self.library)

    def render(self, job: Job, ticket: object) -> np.ndarray:
        """All of ``job``'s audio at once (each segment finished and polished)."""
        pieces = list(self.chunks(job, ticket, live=False))
        return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)

    def close(self) -> None:
        """Stop the dubbing jobs (cancelling a running one) and remove the upload area."""
        if self.jobs is not None:
            self.jobs.close()
        shutil.rmtree(self.upload_dir, ignore_errors=True)


def context(request: Request) -> ApiContext:
    """The :class:`ApiContext` of the app serving ``request``."""
    return request.app.state.studio
