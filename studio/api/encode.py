"""Encode float samples as the audio formats the HTTP contracts ask for.

soundfile (libsndfile >= 1.1) writes wav, flac, ogg-vorbis, ogg-opus and mp3;
aac (ADTS) needs an ffmpeg binary: the one bundled by the ``imageio-ffmpeg``
package, else ``ffmpeg`` on PATH.

Streaming: wav (a header with an unknown length, then int16 PCM), raw PCM, mp3
(constant bit rate frames, no Xing/Info header) and aac (ADTS frames) can be
sent piece by piece and still decode as one stream; mp3 and aac keep one
encoder open across the pieces, so many small pieces add no per-piece
encoder delay or padding. Ogg and flac cannot (a
second Ogg link or flac header is not read back by most decoders), so a stream
of those is encoded once at the end.
"""

from __future__ import annotations

import contextlib
import io
import queue
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterable, Iterator

import numpy as np
import soundfile as sf

from ..errors import InputError
from .errors import ApiError

#: Every format name accepted by some route ("raw" is GPT-SoVITS' name for "pcm").
FORMATS = ("wav", "pcm", "raw", "flac", "ogg", "opus", "mp3", "aac")
STREAMABLE = frozenset({"wav", "pcm", "raw", "mp3", "aac"})
CONTENT_TYPES = {
    "wav": "audio/wav",
    "pcm": "audio/pcm",
    "raw": "audio/raw",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "mp3": "audio/mpeg",
    "aac": "audio/aac",
}
_SOUNDFILE = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "opus": ("OGG", "OPUS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}
#: libsndfile's mp3 quality knob; 0.5 at 24 kHz is 80 kbit/s constant bit rate.
_MP3_LEVEL = 0.5
_AAC_BITRATE = "64k"
#: Sizes written into a streamed WAV header: "unknown, read to the end" (as ffmpeg and OpenAI do).
_UNKNOWN_SIZE = 0xFFFFFFFF


def check_format(fmt: str) -> str:
    """``fmt`` lower-cased, or :class:`InputError` naming the supported formats."""
    name = (fmt or "").strip().lower()
    if name not in FORMATS:
        raise InputError(
            zh=f"不支持的音频格式：{fmt}。可选：{', '.join(FORMATS)}。",
            en=f"Unsupported audio format: {fmt}. Choose one of {', '.join(FORMATS)}.",
            param="format",
        )
    return name


def pcm16(samples: np.ndarray) -> bytes:
    """Little-endian signed 16-bit PCM of float samples in [-1, 1]."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def wav_stream_header(sr: int) -> bytes:
    """A 44-byte PCM-16 mono WAV header whose sizes say "unknown": int16 chunks follow."""
    fmt_chunk = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, sr, sr * 2, 2, 16)
    return b"RIFF" + struct.pack("<I", _UNKNOWN_SIZE) + b"WAVE" + fmt_chunk + b"data" + struct.pack("<I", _UNKNOWN_SIZE)


def encode(samples: np.ndarray, sr: int, fmt: str) -> bytes:
    """The whole clip as a complete file (or raw PCM) of format ``fmt``."""
    fmt = check_format(fmt)
    if fmt in ("pcm", "raw"):
        return pcm16(samples)
    if fmt == "aac":
        return _ffmpeg_aac(samples, sr)
    container, subtype = _SOUNDFILE[fmt]
    extra = {"bitrate_mode": "CONSTANT", "compression_level": _MP3_LEVEL} if fmt == "mp3" else {}
    buf = io.BytesIO()
    sf.write(buf, np.clip(samples, -1.0, 1.0), sr, format=container, subtype=subtype, **extra)
    return buf.getvalue()


def encode_stream(chunks: Iterable[np.ndarray], sr: int, fmt: str) -> Iterator[bytes]:
    """Encode consecutive pieces of one clip so that the concatenated bytes decode as one stream.

    Streamable formats yield as soon as each piece arrives (a WAV header first);
    the others yield once, after the last piece.
    """
    fmt = check_format(fmt)
    if fmt not in STREAMABLE:
        pieces = list(chunks)
        yield encode(np.concatenate(pieces) if pieces else np.zeros(0, np.float32), sr, fmt)
        return
    if fmt == "wav":
        yield wav_stream_header(sr)
    if fmt == "mp3":
        yield from _mp3_stream(chunks, sr)
        return
    if fmt == "aac":
        yield from _aac_stream(chunks, sr)
        return
    for piece in chunks:
        yield pcm16(piece)


class _Appended(io.RawIOBase):
    """A seekable in-memory file for an encoder that writes ahead; :meth:`take` hands out what is new.

    Bytes already handed out are final for the reader; an encoder's rewrite of
    them on close (the mp3 Info frame) is ignored.
    """

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()
        self.pos = 0
        self.sent = 0

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, b) -> int:
        end = self.pos + len(b)
        if end > len(self.data):
            self.data.extend(bytes(end - len(self.data)))
        self.data[self.pos : end] = bytes(b)
        self.pos = end
        return len(b)

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = offset if whence == 0 else self.pos + offset if whence == 1 else len(self.data) + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer) -> int:
        return 0

    def take(self) -> bytes:
        new = bytes(self.data[self.sent :])
        self.sent = len(self.data)
        return new


def _mp3_stream(chunks: Iterable[np.ndarray], sr: int) -> Iterator[bytes]:
    """One mp3 encoder over all pieces (no encoder delay and padding per piece), its bytes as they come."""
    out = _Appended()
    container, subtype = _SOUNDFILE["mp3"]
    first = True
    settings = {"bitrate_mode": "CONSTANT", "compression_level": _MP3_LEVEL}
    with sf.SoundFile(out, "w", sr, 1, subtype, format=container, **settings) as encoder:
        for piece in chunks:
            encoder.write(np.clip(piece, -1.0, 1.0))
            data = out.take()
            if first and data:
                data, first = _strip_mp3_info_frame(data), False
            if data:
                yield data
    data = out.take()
    yield _strip_mp3_info_frame(data) if first else data


_MP3_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 25: (11025, 12000, 8000)}


def _strip_mp3_info_frame(data: bytes) -> bytes:
    """Drop the leading Xing/Info frame, whose frame count would make decoders stop after this piece."""
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return data
    version = {3: 1, 2: 2, 0: 25}.get((data[1] >> 3) & 3)
    rate_index = (data[2] >> 2) & 3
    if version is None or (data[1] >> 1) & 3 != 1 or rate_index == 3:
        return data
    bitrate = _MP3_BITRATES[1 if version == 1 else 2][data[2] >> 4] * 1000
    size = (144 if version == 1 else 72) * bitrate // _MP3_RATES[version][rate_index] + ((data[2] >> 1) & 1)
    first = data[:size]
    return data[size:] if size and (b"Xing" in first or b"Info" in first) else data


def ffmpeg_exe() -> str | None:
    """The ffmpeg binary: imageio-ffmpeg's bundled one, else ``ffmpeg`` on PATH, else None."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:
        return shutil.which("ffmpeg")


def _aac_command(sr: int) -> list[str]:
    exe = ffmpeg_exe()
    if exe is None:
        raise ApiError(
            501,
            "ffmpeg_missing",
            zh="服务器上没有 ffmpeg，无法输出 aac。请安装 imageio-ffmpeg（pip install imageio-ffmpeg），或改用 mp3 / wav。",
            en="AAC needs ffmpeg, which this server lacks. Install imageio-ffmpeg (pip install imageio-ffmpeg), or ask for mp3 or wav.",
        )
    cmd = [exe, "-v", "error", "-nostdin", "-f", "s16le", "-ar", str(sr), "-ac", "1", "-i", "pipe:0"]
    return [*cmd, "-c:a", "aac", "-b:a", _AAC_BITRATE, "-flush_packets", "1", "-f", "adts", "pipe:1"]


def _aac_failed(stderr: bytes) -> ApiError:
    return ApiError(
        500,
        "encoding_failed",
        zh="aac 编码失败，请改用 mp3 或 wav。",
        en="AAC encoding failed; ask for mp3 or wav instead.",
        detail=stderr.decode(errors="replace")[-300:],
    )


def _ffmpeg_aac(samples: np.ndarray, sr: int) -> bytes:
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    out = subprocess.run(_aac_command(sr), input=pcm16(samples), capture_output=True, timeout=120, creationflags=flags)
    if out.returncode != 0:
        raise _aac_failed(out.stderr)
    return out.stdout


def _aac_stream(chunks: Iterable[np.ndarray], sr: int) -> Iterator[bytes]:
    """One ffmpeg aac encoder over all pieces (no priming per piece), its ADTS bytes as they come."""
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    pipe = subprocess.PIPE
    proc = subprocess.Popen(_aac_command(sr), stdin=pipe, stdout=pipe, stderr=pipe, creationflags=flags)
    ready: queue.Queue[bytes] = queue.Queue()

    def read() -> None:
        while data := proc.stdout.read1(1 << 16):  # type: ignore[union-attr]
            ready.put(data)

    def drain() -> bytes:
        parts = []
        with contextlib.suppress(queue.Empty):
            while True:
                parts.append(ready.get_nowait())
        return b"".join(parts)

    reader = threading.Thread(target=read, name="studio-aac", daemon=True)
    reader.start()
    try:
        for piece in chunks:
            proc.stdin.write(pcm16(piece))  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
            if data := drain():
                yield data
        proc.stdin.close()  # type: ignore[union-attr]
        reader.join(timeout=120)
        if proc.wait(timeout=120) != 0:
            raise _aac_failed(proc.stderr.read())  # type: ignore[union-attr]
        if data := drain():
            yield data
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.close()  # type: ignore[union-attr]
