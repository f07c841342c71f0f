"""Export and import of one voice as a zip with a checksummed manifest (:class:`ArchiveMixin`)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path

import soundfile as sf

from .. import atomic
from ..audio import MODEL_SR, REF_MAX_SECONDS, load_audio
from ..errors import AudioError, InputError, NotFoundError, StorageError
from ..limits import load_json
from .records import _CLIP_MEMBER, MAX_CLIPS, Voice, _now, _parse_profile, validate_name
from .store import _storage_error

log = logging.getLogger(__name__)

ARCHIVE_FORMAT = "qwen-voice-studio/voice"
ARCHIVE_VERSION = 1
#: Import limits: a voice is a profile and at most MAX_CLIPS clips of at most 60 s.
MAX_ARCHIVE_MEMBERS = MAX_CLIPS + 8
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024
MAX_MEMBER_BYTES = 32 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024
#: Uncompressed/compressed size above which a member larger than 1 MiB is taken for a zip bomb.
MAX_COMPRESSION_RATIO = 100


def _bad_archive(zh: str, en: str) -> InputError:
    return InputError(zh=f"无法导入：{zh}没有导入任何内容。", en=f"Cannot import: {en} Nothing was imported.")


class ArchiveMixin:
    """Export and import of :class:`~studio.voices.VoiceLibrary` (uses its locking and storage helpers)."""

    def export(self, name: str, dest_zip: str | Path) -> Path:
        """Write the voice (profile and clips, no cached prompts) to a zip with a checksummed manifest."""
        dest = Path(dest_zip)
        with self._locked():
            voice = self._find(name)
            members = ["profile.json", *(c.file for c in voice.clips)]
            try:
                blobs = {m: (voice.path / m).read_bytes() for m in members}
            except OSError as exc:
                raise StorageError(
                    zh=f"声音“{voice.name}”的文件缺失或无法读取，无法导出。",
                    en=f"Files of voice '{voice.name}' are missing or unreadable; it cannot be exported.",
                    reason=str(exc),
                ) from exc
        manifest = {
            "format": ARCHIVE_FORMAT,
            "version": ARCHIVE_VERSION,
            "name": voice.name,
            "exported": _now(),
            "files": [{"path": m, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for m, b in blobs.items()],
        }
        try:
            with atomic.replacing(dest) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
                for member, blob in blobs.items():
                    zf.writestr(member, blob)
        except OSError as exc:
            raise _storage_error(exc, dest) from exc
        return dest

    def import_(self, zip_path: str | Path, name: str | None = None) -> Voice:
        """Add a voice from an archive made by :meth:`export`, optionally under a new ``name``.

        The archive is checked in full (zip structure, unsafe paths, symlinks,
        size and compression limits, manifest version, checksums, profile,
        audio) before anything appears in the library.
        """
        path = Path(zip_path)
        if not path.is_file():
            raise NotFoundError(
                zh=f"找不到要导入的文件：{path.name}", en=f"The file to import was not found: {path.name}"
            )
        if name is not None:
            name = validate_name(name)
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise _bad_archive(
                f"{path.name} 不是有效的 zip 文件（可能已损坏）。请重新导出。",
                f"{path.name} is not a valid zip file (it may be damaged). Export it again.",
            ) from exc
        with zf:
            listed = self._check_archive(zf, path.name)
            with self._locked():
                tmp = self._tmp_dir()
                try:
                    return self._import_into(zf, listed, tmp, name)
                except OSError as exc:
                    raise _storage_error(exc, self.root) from exc
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)

    @staticmethod
    def _check_archive(zf: zipfile.ZipFile, label: str) -> dict[str, dict]:
        """Validate structure and manifest; return the listed files by path."""
        infos = zf.infolist()
        if len(infos) > MAX_ARCHIVE_MEMBERS:
            raise _bad_archive(
                f"压缩包里的文件太多（{len(infos)} 个）。", f"the archive holds too many files ({len(infos)})."
            )
        files: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            member = info.filename
            parts = member.rstrip("/").split("/")
            if (
                member.startswith(("/", "\\"))
                or "\\" in member
                or "\x00" in member
                or re.match(r"^[A-Za-z]:", member)
                or any(p in ("", ".", "..") for p in parts)
            ):
                raise _bad_archive(
                    f"压缩包里有不安全的路径“{member}”（绝对路径或 ../）。这个文件可能被篡改过。",
                    f"the archive contains an unsafe path '{member}' (absolute or ../). It may have been tampered with.",
                )
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise _bad_archive(
                    f"压缩包里有符号链接“{member}”。", f"the archive contains a symbolic link '{member}'."
                )
            if info.flag_bits & 0x1:
                raise _bad_archive("压缩包有密码保护。", "the archive is password-protected.")
            if info.is_dir():
                continue
            if member in files:
                raise _bad_archive(f"压缩包里有重复的文件“{member}”。", f"the archive lists '{member}' twice.")
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if (
                info.file_size > MAX_MEMBER_BYTES
                or total > MAX_ARCHIVE_BYTES
                or (info.file_size > 1024 * 1024 and ratio > MAX_COMPRESSION_RATIO)
            ):
                raise _bad_archive(
                    f"压缩包解压后太大（单个文件上限 {MAX_MEMBER_BYTES >> 20} MB，总计 {MAX_ARCHIVE_BYTES >> 20} MB，"
                    f"压缩比上限 {MAX_COMPRESSION_RATIO}:1），可能是压缩炸弹。",
                    f"the archive unpacks too large (limits: {MAX_MEMBER_BYTES >> 20} MB a file, "
                    f"{MAX_ARCHIVE_BYTES >> 20} MB in all, {MAX_COMPRESSION_RATIO}:1 compression); it may be a zip bomb.",
                )
            files[member] = info
        if "manifest.json" not in files:
            raise _bad_archive(
                f"{label} 里没有 manifest.json，不是本软件导出的声音包。",
                f"{label} has no manifest.json; it is not a voice exported by this studio.",
            )
        if files["manifest.json"].file_size > MAX_JSON_BYTES:
            raise _bad_archive("manifest.json 太大。", "manifest.json is too large.")
        try:
            manifest = load_json(zf.read("manifest.json").decode("utf-8"), "manifest.json")
        except (ValueError, InputError, zipfile.BadZipFile, OSError) as exc:
            raise _bad_archive("manifest.json 已损坏。", "manifest.json is damaged.") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
            raise _bad_archive(
                f"{label} 不是本软件导出的声音包（格式不对）。",
                f"{label} is not a voice exported by this studio (wrong format).",
            )
        version = manifest.get("version")
        if version != ARCHIVE_VERSION:
            raise _bad_archive(
                f"声音包的版本是 {version!r}，本软件只支持版本 {ARCHIVE_VERSION}。请把软件更新到最新版本后再导入。",
                f"the archive has version {version!r}; this studio reads version {ARCHIVE_VERSION}. "
                "Update the studio, then import again.",
            )
        listed: dict[str, dict] = {}
        for entry in manifest.get("files") if isinstance(manifest.get("files"), list) else [None]:
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("path"), str)
                or not isinstance(entry.get("size"), int)
                or not re.fullmatch(r"[0-9a-f]{64}", str(entry.get("sha256")))
            ):
                raise _bad_archive("manifest.json 的文件列表无效。", "the file list in manifest.json is invalid.")
            listed[entry["path"]] = entry
        for member, entry in listed.items():
            if member != "profile.json" and not _CLIP_MEMBER.match(member):
                raise _bad_archive(
                    f"声音包里有不认识的文件“{member}”。", f"the archive lists an unexpected file '{member}'."
                )
            if member not in files:
                raise _bad_archive(f"声音包缺少文件“{member}”。", f"the archive is missing '{member}'.")
            if files[member].file_size != entry["size"]:
                raise _bad_archive(
                    f"文件“{member}”的大小和清单不符。", f"'{member}' does not have the size its manifest says."
                )
        if "profile.json" in listed and listed["profile.json"]["size"] > MAX_JSON_BYTES:
            raise _bad_archive("profile.json 太大。", "profile.json is too large.")
        extra = set(files) - set(listed) - {"manifest.json"}
        if extra or "profile.json" not in listed:
            what = sorted(extra)[0] if extra else "profile.json"
            raise _bad_archive(
                f"声音包里的文件和清单不一致（{what}）。", f"the archive's files do not match its manifest ({what})."
            )
        return listed

    def _import_into(self, zf: zipfile.ZipFile, listed: dict[str, dict], tmp: Path, name: str | None) -> Voice:
        stage = tmp / "v"
        (stage / "clips").mkdir(parents=True)
        for member, entry in listed.items():
            digest = hashlib.sha256()
            size = 0
            try:
                with zf.open(member) as src, open(stage / member, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        size += len(chunk)
                        if size > entry["size"]:
                            break
                        digest.update(chunk)
                        dst.write(chunk)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise _bad_archive(
                    f"文件“{member}”无法解压，声音包已损坏。请重新导出。",
                    f"'{member}' cannot be unpacked: the archive is damaged. Export it again.",
                ) from exc
            if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
                raise _bad_archive(
                    f"文件“{member}”的校验和不对，声音包已损坏或被修改。请重新导出。",
                    f"the checksum of '{member}' does not match: the archive is damaged or was modified. Export it again.",
                )
        raw = (stage / "profile.json").read_bytes()
        try:
            voice = _parse_profile(load_json(raw.decode("utf-8"), "profile.json"), stage)
        except ValueError as exc:
            raise _bad_archive(f"profile.json 无效（{exc}）。", f"profile.json is invalid ({exc}).") from exc
        except InputError as exc:
            raise _bad_archive(f"profile.json 无效：{exc.zh}", f"profile.json is invalid: {exc.en}") from exc
        if not voice.consent.confirmed:
            raise _bad_archive(
                "声音包没有记录声音主人的授权确认。", "the archive does not record the voice owner's consent."
            )
        unused = set(listed) - {"profile.json"} - {c.file for c in voice.clips}
        if unused:
            what = sorted(unused)[0]
            raise _bad_archive(
                f"声音包里的“{what}”没有登记在 profile.json 里。", f"'{what}' is not a clip in profile.json."
            )
        for clip in voice.clips:
            if clip.file not in listed:
                raise _bad_archive(f"缺少片段文件“{clip.file}”。", f"the clip file '{clip.file}' is missing.")
            try:
                clip_audio = load_audio(stage / clip.file)
            except AudioError as exc:
                raise _bad_archive(
                    f"片段“{clip.file}”不是有效的音频。", f"the clip '{clip.file}' is not valid audio."
                ) from exc
            if (
                clip_audio.sr != MODEL_SR
                or sf.info(str(stage / clip.file)).channels != 1
                or clip_audio.seconds > REF_MAX_SECONDS
            ):
                raise _bad_archive(
                    f"片段“{clip.file}”不是 24 kHz 单声道、60 秒以内的音频。",
                    f"the clip '{clip.file}' is not 24 kHz mono audio of at most 60 s.",
                )
        final_name = name or voice.name
        self._ensure_free(final_name)
        slug = self._free_slug(final_name)
        freed = self._free_aliases(voice, self._all())
        if final_name != voice.name or freed is not voice:
            self._write_profile(stage, replace(freed, name=final_name, updated=_now()))
        os.replace(stage, self.root / slug)
        return self._read(self.root / slug)
