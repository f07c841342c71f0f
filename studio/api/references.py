"""Voices and reference clips a request names: saved voices, aliases, files in allowed folders, inline uploads.

Everything a request may read is confined here: a saved voice's name or alias,
or a plain file (no link, no ``..``, no URL) inside the voice library or the
upload area; an inline clip is decoded through a temporary upload.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import time
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..audio import Audio, load_audio
from ..errors import InputError, NotFoundError
from ..registry import SPEAKERS

UPLOAD_TTL_S = 3600.0
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")  # two letters at least: "C:" is a Windows drive, not a scheme
_AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac", ".opus")


@dataclass
class Reference:
    """A decoded reference clip and its transcript ("" = x-vector-only cloning)."""

    audio: Audio
    transcript: str
    label: str
    prompt_mismatch: bool = False  #: the request's prompt_text differed from the saved voice's transcript


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


class References:
    """The voice library, reference resolution and uploads of an :class:`~studio.api.app.ApiContext`.

    Needs ``voices_root``, ``upload_dir``, ``default_reference`` and ``_library`` on the instance.
    """

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
