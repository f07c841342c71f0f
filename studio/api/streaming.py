"""Sentence splitting and streamed audio responses.

A long text is spoken one segment at a time; a streamed answer sends audio
while each segment is being generated, in chunks of codec frames (see
:meth:`ApiContext.chunks`), so the first bytes leave a few frames into the
first sentence. Sentences come from :mod:`studio.text.segment`;
GPT-SoVITS' ``cut0``-``cut5`` methods (which cut at chosen marks only) use the
small splitter :func:`split_at` here.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from ..audio import MODEL_SR
from .encode import CONTENT_TYPES, encode, encode_stream

if TYPE_CHECKING:
    from .context import ApiContext, Job

SENTENCE_MARKS = "。！？!?；;…\n"
CLAUSE_MARKS = "，,、：:"
_CLOSERS = "\"'”’」』）)】》]"
_WORD = re.compile(r"\w")
#: Later segments are packed up to this many characters (the first stays one sentence, for a quick start).
SEGMENT_CHARS = 120


def split_at(text: str, marks: str, period: bool = True) -> list[str]:
    """Cut ``text`` after every run of ``marks`` (and after "." before a space or the end when ``period``).

    Closing quotes and brackets stay with their sentence; pieces with no word
    character (stray punctuation) join the piece before them.
    """
    pieces: list[str] = []
    start, i, n = 0, 0, len(text)
    while i < n:
        ch = text[i]
        is_end = ch in marks or (period and ch == "." and (i + 1 == n or text[i + 1].isspace()))
        i += 1
        if is_end:
            while i < n and (text[i] in marks or text[i] in _CLOSERS or (period and text[i] == ".")):
                i += 1
            pieces.append(text[start:i])
            start = i
    pieces.append(text[start:])
    out: list[str] = []
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        if out and not _WORD.search(piece):
            out[-1] += piece
        else:
            out.append(piece)
    return out


def pack(pieces: list[str], max_chars: int) -> list[str]:
    """Join consecutive pieces while the result stays within ``max_chars``."""
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + 1 + len(piece) <= max_chars:
            sep = " " if out[-1][-1].isascii() and piece[0].isascii() else ""
            out[-1] = out[-1] + sep + piece
        else:
            out.append(piece)
    return out


def sentences(text: str) -> list[str]:
    """Sentences of ``text`` (one over :data:`SEGMENT_CHARS` is cut at a comma), by the studio's text segmenter."""
    from ..text.segment import split_text

    return [s.text for s in split_text(text, max_chars=SEGMENT_CHARS, min_chars=0)] or [text.strip()]


def segments(text: str) -> list[str]:
    """The segments a long text is spoken in: the first sentence alone, then sentences packed to ~120 characters."""
    parts = sentences(text)
    return parts[:1] + pack(parts[1:], SEGMENT_CHARS)


def split_gpt_sovits(text: str, method: str) -> list[str]:
    """GPT-SoVITS' ``text_split_method``: cut0 none, cut1 every 4 sentences, cut2 ~50 characters,
    cut3 at "。", cut4 at ".", cut5 at every punctuation mark."""
    text = text.strip()
    if method == "cut0":
        return [text]
    if method == "cut1":
        parts = sentences(text)
        return [pack(parts[i : i + 4], len(text))[0] for i in range(0, len(parts), 4)]
    if method == "cut2":
        return pack(split_at(text, SENTENCE_MARKS + CLAUSE_MARKS), 50)
    if method == "cut3":
        return split_at(text, "。", period=False) or [text]
    if method == "cut4":
        return split_at(text, "", period=True) or [text]
    return split_at(text, SENTENCE_MARKS + CLAUSE_MARKS) or [text]


def split_punctuation(text: str, cut_punc: str | None) -> list[str]:
    """api.py v1's ``cut_punc``: cut after each of the given characters; empty means no cut."""
    marks = "".join(ch for ch in (cut_punc or "") if ch != ".")
    if not cut_punc:
        return [text.strip()]
    return split_at(text, marks, period="." in cut_punc) or [text.strip()]


# -- responses -----------------------------------------------------------------------------------


class _ClosingStream(StreamingResponse):
    """A streaming response that always runs ``on_close`` (client gone, error or done)."""

    def __init__(self, content: AsyncIterator[bytes], on_close: Callable[[], object], **kwargs) -> None:
        super().__init__(content, **kwargs)
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()  # type: ignore[attr-defined]
            await self._on_close()  # type: ignore[misc]


def _sse(event: dict) -> bytes:
    return f"data: {json.dumps(event, separators=(',', ':'))}\n\n".encode()


async def speech_response(
    ctx: ApiContext, job: Job, fmt: str, mode: str = "file", content_type: str | None = None
) -> Response:
    """Generate ``job`` and answer with audio in ``fmt``.

    ``mode`` "file" sends one complete file; "stream" sends chunked audio as
    each segment is ready; "sse" sends OpenAI's ``speech.audio.delta`` events
    (base64 audio) then ``speech.audio.done``. Errors before the first segment
    is ready become a JSON error answer; the queue slot is held until the last byte.
    """
    media_type = "text/event-stream" if mode == "sse" else content_type or CONTENT_TYPES[fmt]
    if mode == "stream" and len(job.segments) == 1 and not job.can_stream():
        mode = "file"  # nothing to gain, and a complete file has exact sizes in its header
    ticket = ctx.gate.admit()
    if mode == "file":
        try:
            samples = await run_in_threadpool(ctx.render, job, ticket)
            data = await run_in_threadpool(encode, samples, MODEL_SR, fmt)
        finally:
            ctx.gate.done(ticket)
        return Response(data, media_type=media_type, headers=job.headers())

    idle = threading.Event()
    idle.set()

    def pull(iterator: Iterator, end: object) -> object:
        idle.clear()
        try:
            return next(iterator, end)
        finally:
            idle.set()

    pieces = ctx.chunks(job, ticket)
    try:
        first = await anyio.to_thread.run_sync(pull, pieces, None)
    except BaseException:
        pieces.close()
        ctx.gate.done(ticket)
        raise
    stream = encode_stream(itertools.chain([first] if first is not None else [], pieces), MODEL_SR, fmt)
    end = object()

    async def body() -> AsyncIterator[bytes]:
        while True:
            # abandon_on_cancel: a client that leaves does not wait for the sentence; on_close cancels it.
            item = await anyio.to_thread.run_sync(pull, stream, end, abandon_on_cancel=True)
            if item is end:
                break
            yield (
                _sse({"type": "speech.audio.delta", "audio": base64.b64encode(item).decode()})
                if mode == "sse"
                else item
            )
        if mode == "sse":
            frames = job.samples_out * 12.5 / MODEL_SR
            chars = sum(len(s) for s in job.segments)
            usage = {"input_tokens": chars, "output_tokens": round(frames), "total_tokens": chars + round(frames)}
            yield _sse({"type": "speech.audio.done", "usage": usage})

    async def on_close() -> None:
        job.cancel.cancel()
        with anyio.CancelScope(shield=True):  # runs on shutdown too: the slot must come back
            await anyio.to_thread.run_sync(idle.wait)
        stream.close()
        pieces.close()
        ctx.gate.done(ticket)

    return _ClosingStream(body(), on_close, media_type=media_type, headers=job.headers())
