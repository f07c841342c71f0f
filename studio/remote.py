"""The remote engine: generation delegated to an OpenAI-compatible speech server.

The server is vLLM-Omni serving a Qwen3-TTS checkpoint (``vllm serve
Qwen/Qwen3-TTS-12Hz-1.7B-Base --omni``), or another studio's
``python -m studio serve``. One generation becomes one ``POST
{url}/v1/audio/speech`` with OpenAI's fields plus vLLM-Omni's extras
(``task_type``, ``language``, ``ref_audio`` as a base64 data URI, ``ref_text``,
``x_vector_only_mode``, ``max_new_tokens``, ``seed``), answered as 24 kHz wav.

Everything around generation (text preparation, segmentation, takes, exact
duration, loudness, watermark) stays in :class:`studio.engine.Engine`; this
module only turns a request into HTTP and the answer into samples, and maps
failures into :mod:`studio.errors`. Sampling knobs other than the step cap
and the seed are not part of the protocol and are not sent.

The URL and key come from :class:`studio.settings.Settings` (``remote_url``,
``remote_key``; Models > Remote engine, ``python -m studio remote set``), and
the environment variables ``STUDIO_REMOTE_URL`` / ``STUDIO_REMOTE_KEY``
override them (an empty ``STUDIO_REMOTE_URL`` forces the local engine).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import random
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np

from . import config
from .audio import MODEL_SR, Audio, resample, to_wav_bytes
from .config import KEY_ENV, URL_ENV  # noqa: F401  (their names, re-exported)
from .errors import BusyError, Cancelled, InputError, NotFoundError, RemoteEngineError
from .progress import CancelToken, ProgressFn, Status, no_progress
from .synthesis import Sampling, SynthesisResult, step_cap

#: Sent with every request, so a studio that is itself remote refuses to forward it again (no loops).
HOP_HEADER = "X-Studio-Hop"
#: Seconds to open a connection, and to wait for one generation's answer.
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 600.0
#: Requests of one batch sent at the same time (the server spreads them over its GPUs).
MAX_PARALLEL = 4
#: How often a waiting request looks at its cancel token.
_CANCEL_POLL_S = 0.05
_TASK_TYPES = {
    "generate_voice_clone": "Base",
    "generate_custom_voice": "CustomVoice",
    "generate_voice_design": "VoiceDesign",
}


def remote_config(settings=None, choice=None) -> tuple[str, str]:
    """(URL, key) of the remote engine: the run's choice, the environment, else ``settings`` (:func:`config.remote`)."""
    return config.remote(settings, choice)


def normalize_url(url: str) -> str:
    """The server's base URL (no trailing ``/``, ``/v1`` or ``/v1/audio/speech``); :class:`InputError` if unusable."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(
            zh=f"远程引擎地址无效：“{url}”。请填写以 http:// 或 https:// 开头的地址，例如 http://192.168.1.20:8091。",
            en=f"Invalid remote engine URL '{url}'. Give an http:// or https:// address, e.g. http://192.168.1.20:8091.",
        )
    base = url.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    for suffix in ("/v1/audio/speech", "/audio/speech", "/v1"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base


def mask_key(key: str) -> str:
    """A key as it may be shown: its last four characters at most."""
    if not key:
        return ""
    return "****" + key[-4:] if len(key) > 8 else "****"


@dataclass(frozen=True)
class RemoteReference:
    """A reference clip as the remote engine takes it: a wav data URI and its transcript."""

    data_uri: str
    ref_text: str
    x_vector_only: bool

    def fields(self) -> dict:
        """The request fields for this reference."""
        out: dict = {"ref_audio": self.data_uri, "x_vector_only_mode": self.x_vector_only}
        if not self.x_vector_only and self.ref_text:
            out["ref_text"] = self.ref_text
        return out


@dataclass
class _Answer:
    samples: np.ndarray
    model: str  #: what the server says it used (X-Model), "" when it does not say
    seconds: float


class RemoteModel:
    """Generation on a remote OpenAI-compatible speech server; used by the engine in place of a loaded model."""

    def __init__(self, url: str, key: str = "", read_timeout: float = READ_TIMEOUT_S) -> None:
        self.url = normalize_url(url)
        self.key = key
        self.host = urlsplit(self.url).netloc
        self.read_timeout = read_timeout
        self._references: OrderedDict[tuple, RemoteReference] = OrderedDict()
        self._guard = threading.Lock()
        self._served: str | None = None  #: the model id the server lists first (fetched once, when needed)

    def __repr__(self) -> str:
        return f"RemoteModel({self.url!r}, key={mask_key(self.key)!r})"

    # -- requests --------------------------------------------------------------------------------
    def reference(self, ref: Audio, transcript: str, x_vector_only: bool) -> RemoteReference:
        """``ref`` (24 kHz) as a wav data URI; the last few are kept, so a saved voice is encoded once."""
        key = (hashlib.sha1(ref.samples.tobytes()).hexdigest(), ref.sr, transcript, x_vector_only)
        with self._guard:
            found = self._references.get(key)
            if found is not None:
                self._references.move_to_end(key)
                return found
        data = base64.b64encode(to_wav_bytes(ref.samples, ref.sr)).decode("ascii")
        made = RemoteReference(f"data:audio/wav;base64,{data}", transcript, x_vector_only)
        with self._guard:
            self._references[key] = made
            while len(self._references) > 8:
                self._references.popitem(last=False)
        return made

    def body(self, method: str, text: str, seed: int, cap: int, **kwargs) -> dict:
        """The JSON body of one ``/v1/audio/speech`` request."""
        task = _TASK_TYPES[method]
        body: dict = {"input": text, "response_format": "wav", "task_type": task}
        body["language"] = kwargs.get("language") or "Auto"
        if task == "CustomVoice":
            body["voice"] = str(kwargs["speaker"]).lower()
        if kwargs.get("instruct"):
            body["instructions"] = kwargs["instruct"]
        if task == "Base":
            reference: RemoteReference = kwargs["voice_clone_prompt"]
            body.update(reference.fields())
        body["max_new_tokens"] = int(cap)
        body["seed"] = int(seed)
        return body

    def headers(self) -> dict[str, str]:
        """Request headers: the key, and the hop marker."""
        out = {HOP_HEADER: "1", "Accept": "audio/wav"}
        if self.key:
            out["Authorization"] = f"Bearer {self.key}"
        return out

    def generate(
        self,
        method: str,
        texts: list[str],
        seed: int | None,
        sampling: Sampling | None,
        progress: ProgressFn = no_progress,
        cancel: CancelToken | None = None,
        max_seconds: float | None = None,
        **kwargs,
    ) -> list[SynthesisResult]:
        """Generate ``texts`` on the server (one request each, a few at a time); results at 24 kHz.

        ``kwargs`` are those of the local model call (language, speaker,
        instruct, voice_clone_prompt as a :class:`RemoteReference`). The step
        cap is computed as for a local model and sent as ``max_new_tokens``; a
        random seed is drawn here when ``seed`` is None, so the result reports it.
        """
        if cancel is not None:
            cancel.check()
        if seed is None or seed < 0:
            seed = random.SystemRandom().randrange(0, 2**31 - 1)
        caps = [step_cap([t], sampling, max_seconds) for t in texts]
        bodies = [self.body(method, t, seed, cap, **kwargs) for t, cap in zip(texts, caps, strict=True)]
        answers = _run(self._generate_all, bodies, progress, cancel)
        results = []
        for answer, cap in zip(answers, caps, strict=True):
            name = answer.model or self._served or _TASK_TYPES[method]
            results.append(
                SynthesisResult(
                    samples=np.clip(answer.samples, -1.0, 1.0).astype(np.float32),
                    sr=MODEL_SR,
                    seed=seed,
                    model=f"remote: {name} @ {self.host}",
                    max_new_tokens=cap,
                    timings={"generate": answer.seconds, "max_new_tokens": float(cap)},
                )
            )
        return results

    def check(self) -> dict:
        """Ask the server what it serves (``GET /v1/audio/voices``, else ``/v1/models``); errors as for generation.

        Returns ``{"url", "models": [ids], "voices": [names]}``.
        """
        import httpx

        timeout = httpx.Timeout(CONNECT_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        try:
            with httpx.Client(timeout=timeout) as client:
                voices = client.get(f"{self.url}/v1/audio/voices", headers=self.headers())
                if voices.status_code in (401, 403):
                    self._raise_for(voices)
                models = client.get(f"{self.url}/v1/models", headers=self.headers())
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        names = _voice_names(voices) if voices.status_code == 200 else None
        ids = _model_ids(models) if models.status_code == 200 else None
        if names is None and ids is None:
            if models.status_code in (401, 403) or models.status_code >= 500:
                self._raise_for(models)
            raise RemoteEngineError(
                zh=f"{self.url} 有回应，但不像语音服务器（/v1/audio/voices 和 /v1/models 都不可用）。"
                "请检查“模型 > 远程引擎”里的地址。",
                en=f"{self.url} answers, but not like a speech server (neither /v1/audio/voices nor /v1/models "
                "works). Check the URL in Models > Remote engine.",
            )
        if ids:
            self._served = ids[0]
        return {"url": self.url, "models": ids or [], "voices": names or []}

    # -- async machinery -----------------------------------------------------------------------------
    async def _generate_all(self, bodies: list[dict], progress: ProgressFn, cancel: CancelToken | None) -> list:
        import anyio
        import httpx

        answers: list = [None] * len(bodies)
        errors: list[BaseException] = []
        limiter = anyio.CapacityLimiter(MAX_PARALLEL)
        timeout = httpx.Timeout(self.read_timeout, connect=CONNECT_TIMEOUT_S)
        state = {"done": 0}
        progress(0.0, Status(model=f"remote {self.host}", part=0, parts=len(bodies)))

        async with httpx.AsyncClient(timeout=timeout) as client:

            async def one(i: int, body: dict) -> None:
                async with limiter:
                    if errors:
                        return
                    try:
                        answers[i] = await self._post(client, body)
                        state["done"] += 1
                        progress(
                            state["done"] / len(bodies),
                            Status(model=f"remote {self.host}", part=state["done"], parts=len(bodies)),
                        )
                    except Exception as exc:  # kept, then raised once every request has ended
                        errors.append(exc)

            async def watch(scope) -> None:
                while not cancel.cancelled:
                    await anyio.sleep(_CANCEL_POLL_S)
                scope.cancel()  # closes the connections of requests in flight

            async with anyio.create_task_group() as outer:
                if cancel is not None:
                    outer.start_soon(watch, outer.cancel_scope)
                async with anyio.create_task_group() as inner:
                    for i, body in enumerate(bodies):
                        inner.start_soon(one, i, body)
                outer.cancel_scope.cancel()  # every request ended: stop watching
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
            if errors:
                raise errors[0]
            if self._served is None and not all(a.model for a in answers):
                self._served = await self._served_model(client)
        return answers

    async def _post(self, client, body: dict) -> _Answer:
        import httpx

        started = time.perf_counter()
        try:
            reply = await client.post(f"{self.url}/v1/audio/speech", json=body, headers=self.headers())
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        if reply.status_code != 200:
            self._raise_for(reply)
        samples = decode_audio(reply.content, reply.headers.get("content-type", ""), self.url)
        return _Answer(samples, reply.headers.get("x-model", ""), time.perf_counter() - started)

    async def _served_model(self, client) -> str:
        """The first model id the server lists, or "" (best effort: only used to name results)."""
        with contextlib.suppress(Exception):
            reply = await client.get(f"{self.url}/v1/models", headers=self.headers(), timeout=CONNECT_TIMEOUT_S)
            if reply.status_code == 200:
                ids = _model_ids(reply)
                return ids[0] if ids else ""
        return ""

    # -- errors ----------------------------------------------------------------------------------
    def _transport_error(self, exc: Exception) -> RemoteEngineError:
        import httpx

        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
            return RemoteEngineError(
                zh=f"远程引擎 {self.url} 在 {self.read_timeout:.0f} 秒内没有回应。服务器可能过载；请稍后重试，"
                "或在“模型 > 远程引擎”里检查地址，或切换回本地引擎。",
                en=f"The remote engine at {self.url} did not answer within {self.read_timeout:.0f} s. It may be "
                "overloaded: retry later, check the URL in Models > Remote engine, or switch back to local.",
            )
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
            return RemoteEngineError(
                zh=f"无法连接远程引擎 {self.url}（{type(exc).__name__}）。请在“模型 > 远程引擎”里检查地址，"
                "确认服务器已启动，或切换回本地引擎。",
                en=f"Cannot reach the remote engine at {self.url} ({type(exc).__name__}). Check the URL in "
                "Models > Remote engine and that the server is running, or switch back to local.",
            )
        return RemoteEngineError(
            zh=f"与远程引擎 {self.url} 的连接中断：{type(exc).__name__}: {str(exc)[:200]}。请重试，或切换回本地引擎。",
            en=f"The connection to the remote engine at {self.url} failed: {type(exc).__name__}: {str(exc)[:200]}. "
            "Retry, or switch back to local.",
        )

    def _raise_for(self, reply) -> None:
        """Raise the studio error for a non-200 answer, passing the server's own message through."""
        status = reply.status_code
        message = _server_message(reply)
        if status in (401, 403):
            raise RemoteEngineError(
                zh=f"远程引擎 {self.url} 拒绝了 API 密钥（HTTP {status}）。请在“模型 > 远程引擎”里填写正确的密钥。"
                f"服务器说：{message}",
                en=f"The remote engine at {self.url} refused the API key (HTTP {status}). Set the right key in "
                f"Models > Remote engine. The server said: {message}",
            )
        said_zh, said_en = f"远程引擎（{self.host}）：{message}", f"Remote engine ({self.host}): {message}"
        if status in (429, 503):
            raise BusyError(zh=said_zh, en=said_en, retry_after=reply.headers.get("retry-after", "5"))
        if status == 404 and _no_route(reply):
            raise RemoteEngineError(
                zh=f"{self.url} 没有 /v1/audio/speech 接口：这不是语音服务器的地址。请检查“模型 > 远程引擎”里的地址。",
                en=f"{self.url} has no /v1/audio/speech endpoint: this is not a speech server's address. "
                "Check the URL in Models > Remote engine.",
            )
        if status == 404:
            raise NotFoundError(zh=said_zh, en=said_en)
        if 400 <= status < 500:
            raise InputError(zh=said_zh, en=said_en)
        raise RemoteEngineError(
            zh=f"远程引擎出错（HTTP {status}）：{message}", en=f"The remote engine failed (HTTP {status}): {message}"
        )


def _server_message(reply) -> str:
    """The error message in a server's answer: OpenAI/vLLM, FastAPI, the studio's shapes, else the text."""
    try:
        data = reply.json()
    except ValueError:
        data = None
    message = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            message = error.get("message")
        message = message or data.get("message") or data.get("detail")
        if message is None and isinstance(error, str):
            message = error
    if isinstance(message, list):  # FastAPI's validation details
        message = "; ".join(str(m.get("msg", m)) if isinstance(m, dict) else str(m) for m in message)
    if not message:
        message = reply.text.strip() or reply.reason_phrase or f"HTTP {reply.status_code}"
    return " ".join(str(message).split())[:500]


def _no_route(reply) -> bool:
    """Whether a 404 means "no such endpoint" (rather than "no such voice")."""
    message = _server_message(reply).lower()
    return message in ("not found", "404 not found") or "no such endpoint" in message


def _voice_names(reply) -> list[str] | None:
    """The voice names of a ``/v1/audio/voices`` answer (OpenAI/vLLM-Omni or the studio's shape), None if not one."""
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        voices = reply.json()["voices"]
        return [str(v.get("id") or v.get("name")) if isinstance(v, dict) else str(v) for v in voices]
    return None


def _model_ids(reply) -> list[str] | None:
    """The model ids of a ``/v1/models`` answer, None if it is not one."""
    with contextlib.suppress(ValueError, AttributeError, TypeError, KeyError):
        return [m["id"] for m in reply.json()["data"] if isinstance(m, dict) and "id" in m]
    return None


def decode_audio(data: bytes, content_type: str, url: str) -> np.ndarray:
    """A wav answer as mono float32 at 24 kHz; :class:`RemoteEngineError` when it is not audio."""
    import soundfile as sf

    kind = content_type.split(";", 1)[0].strip().lower()
    refused = RemoteEngineError(
        zh=f"远程引擎 {url} 返回的不是音频（{kind or '未知类型'}，{len(data)} 字节）。"
        "请确认地址指向 OpenAI 兼容的语音服务器（如 vLLM-Omni）。",
        en=f"The remote engine at {url} answered with something that is not audio ({kind or 'no type'}, "
        f"{len(data)} bytes). Check that the URL is an OpenAI-compatible speech server (e.g. vLLM-Omni).",
    )
    if kind.startswith(("text/", "application/json")) or not data:
        raise refused
    try:
        samples, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception:
        parsed = _streamed_wav(data)
        if parsed is None:
            raise refused from None
        samples, sr = parsed
    mono = samples.mean(axis=1).astype(np.float32) if samples.shape[1] > 1 else samples[:, 0]
    if len(mono) == 0:
        raise refused
    if sr != MODEL_SR:
        mono = resample(Audio(mono, sr), MODEL_SR).samples
    return mono


def _streamed_wav(data: bytes) -> tuple[np.ndarray, int] | None:
    """A 16-bit wav whose header gives no sizes (as streamed answers have), or None."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    fmt = data.find(b"fmt ")
    pcm = data.find(b"data")
    if fmt < 0 or pcm < 0 or len(data) < fmt + 24:
        return None
    tag, channels, sr, _, _, bits = struct.unpack("<HHIIHH", data[fmt + 8 : fmt + 24])
    if tag != 1 or bits != 16 or channels < 1:
        return None
    body = data[pcm + 8 :]
    body = body[: len(body) - len(body) % (2 * channels)]
    samples = np.frombuffer(body, "<i2").astype(np.float32).reshape(-1, channels) / 32768.0
    return samples, sr


def _run(fn: Callable, *args):
    """Run the coroutine function ``fn(*args)`` to completion from synchronous code (in a fresh event loop)."""
    import anyio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return anyio.run(fn, *args)
    # Called from inside an event loop's thread (a notebook): run it in a thread of its own.
    with ThreadPoolExecutor(1, thread_name_prefix="studio-remote") as pool:
        return pool.submit(anyio.run, fn, *args).result()
