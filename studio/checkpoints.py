"""Finding, checking, downloading and deleting checkpoints on disk.

Downloads go file by file over HTTP with resume (``Range``), progress per
chunk, cancellation between chunks and a size + SHA-256 check, using the hub
API only for the file list and URLs. That is what lets a download survive an
interrupted connection and a mirror endpoint (``HF_ENDPOINT``) work.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import CheckpointError, DownloadError, NotFoundError, ResourceError
from .paths import models_dir
from .progress import CancelToken, ProgressFn, no_progress
from .random_checkpoint import is_random_checkpoint
from .registry import ModelSpec

_SIZE_NAMES = {"0b6": "0.6b", "1b7": "1.7b"}
_REQUIRED = (
    "config.json",
    "generation_config.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
    "speech_tokenizer/config.json",
)
CHUNK = 1 << 20


@dataclass(frozen=True)
class CheckpointInfo:
    """A checkpoint folder that passed :func:`validate_checkpoint`."""

    path: Path
    kind: str  #: base | custom_voice | voice_design
    size: str  #: 0.6b | 1.7b (or "" if unknown)
    is_random: bool  #: built by random_checkpoint: its output is noise
    adapter: Path | None = None  #: an unmerged LoRA adapter folder, merged into the weights at load
    load_from: Path | None = None  #: the folder the weights load from, when not :attr:`path` (an adapter's base)

    @property
    def label(self) -> str:
        """A short label in no language: folder name, kind and size."""
        return f"{self.path.name} ({self.kind}, {self.size or '?'})"

    def describe(self, lang: str) -> str:
        """:attr:`label`, with a note in ``lang`` ('zh' or English) when the weights are random."""
        return self.label + (random_note(lang) if self.is_random else "")


def random_note(lang: str) -> str:
    """The note that marks a random-weight test model, in ``lang``."""
    return "（测试模型：噪声）" if lang == "zh" else " [test model: noise]"


def _bad(path: Path, zh: str, en: str) -> CheckpointError:
    return CheckpointError(
        zh=f"{path} 不是可用的 Qwen3-TTS 模型文件夹：{zh}",
        en=f"{path} is not a usable Qwen3-TTS checkpoint folder: {en}",
    )


def _has_weights(folder: Path) -> bool:
    return any(folder.glob("*.safetensors")) or (folder / "pytorch_model.bin").is_file()


def validate_checkpoint(path: str | Path) -> CheckpointInfo:
    """Check that ``path`` holds a complete 12 Hz Qwen3-TTS checkpoint; explain what is wrong if not."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise NotFoundError(zh=f"找不到模型文件夹：{path}", en=f"Checkpoint folder not found: {path}")
    missing = [name for name in _REQUIRED if not (path / name).is_file()]
    if missing:
        raise _bad(path, f"缺少文件 {', '.join(missing)}。", f"missing {', '.join(missing)}.")
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        json.loads((path / "speech_tokenizer" / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(
            path, f"config.json 已损坏（{exc}）。请重新下载。", f"config.json is corrupt ({exc}). Download it again."
        ) from exc
    if not isinstance(config, dict) or config.get("model_type") != "qwen3_tts":
        raise _bad(
            path,
            "config.json 里的 model_type 不是 qwen3_tts，这是别的模型。",
            "config.json's model_type is not qwen3_tts: this is a different model.",
        )
    if config.get("tokenizer_type") != "qwen3_tts_tokenizer_12hz":
        raise _bad(path, "只支持 12Hz 系列模型。", "only the 12 Hz models are supported.")
    kind = config.get("tts_model_type")
    if kind not in ("base", "custom_voice", "voice_design"):
        raise _bad(path, f"未知的模型类型 {kind!r}。", f"unknown tts_model_type {kind!r}.")
    for folder in (path, path / "speech_tokenizer"):
        if not _has_weights(folder):
            raise _bad(
                path,
                f"{folder.name} 里没有权重文件（*.safetensors）。下载可能没有完成。",
                f"no weight file (*.safetensors) in {folder.name}; the download may be incomplete.",
            )
    return CheckpointInfo(
        path=path,
        kind=kind,
        size=_SIZE_NAMES.get(config.get("tts_model_size", ""), ""),
        is_random=is_random_checkpoint(path),
    )


def local_dir(spec: ModelSpec) -> Path:
    """Where the studio downloads ``spec``."""
    return models_dir() / spec.id


def locate(spec: ModelSpec) -> Path | None:
    """The folder holding ``spec`` if already on disk (studio folder, then the Hugging Face cache)."""
    candidates = [local_dir(spec)]
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(spec.repo_id, "config.json")
        if isinstance(cached, str):
            candidates.append(Path(cached).parent)
    except Exception:  # a broken cache must not stop the studio
        pass
    for folder in candidates:
        if spec.kind == "tokenizer":
            if (folder / "config.json").is_file() and _has_weights(folder):
                return folder
            continue
        try:
            validate_checkpoint(folder)
            return folder
        except (CheckpointError, NotFoundError):
            continue
    return None


def disk_bytes(path: Path) -> int:
    """Total size of the files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def delete(spec: ModelSpec) -> bool:
    """Delete the studio's copy of ``spec``; return whether anything was removed."""
    folder = local_dir(spec)
    if folder.exists():
        shutil.rmtree(folder)
        return True
    return False


def _endpoint(endpoint: str | None) -> str:
    return (endpoint or os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def _network_error(spec: ModelSpec, endpoint: str, exc: Exception) -> DownloadError:
    return DownloadError(
        zh=f"无法从 {endpoint} 下载 {spec.repo_id}（{type(exc).__name__}）。请检查网络；在中国大陆可在“模型”页把镜像设为 "
        "https://hf-mirror.com，或者把已下载好的模型文件夹路径填到“本地模型文件夹”。",
        en=f"Could not download {spec.repo_id} from {endpoint} ({type(exc).__name__}). Check the network; set a mirror "
        "endpoint (e.g. https://hf-mirror.com) on the Models tab, or point the studio at a local checkpoint folder.",
        cause=str(exc)[:300],
    )


def _file_list(spec: ModelSpec, endpoint: str) -> list[tuple[str, int, str | None]]:
    """(path, size, sha256 or None) of every file in the repository."""
    from huggingface_hub import HfApi

    info = HfApi(endpoint=endpoint).model_info(spec.repo_id, files_metadata=True)
    files = []
    for sibling in info.siblings or []:
        sha = sibling.lfs.sha256 if sibling.lfs else None
        files.append((sibling.rfilename, int(sibling.size or 0), sha))
    return files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def download(
    spec: ModelSpec, endpoint: str | None = None, progress: ProgressFn = no_progress, cancel: CancelToken | None = None
) -> Path:
    """Download ``spec`` into the studio's models folder, resuming partial files.

    Reports bytes done, total and speed through ``progress``; raises
    :class:`DownloadError` with the mirror and local-folder options when the
    network fails, :class:`ResourceError` when the disk is too small.
    """
    import httpx
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers

    endpoint = _endpoint(endpoint)
    target = local_dir(spec)
    target.mkdir(parents=True, exist_ok=True)
    try:
        files = _file_list(spec, endpoint)
    except Exception as exc:
        raise _network_error(spec, endpoint, exc) from exc
    total = sum(size for _, size, _ in files)
    present = sum(min((target / name).stat().st_size, size) for name, size, _ in files if (target / name).exists())
    partial = sum(
        (target / f"{name}.part").stat().st_size for name, _, _ in files if (target / f"{name}.part").exists()
    )
    needed = total - present - partial
    free = shutil.disk_usage(target).free
    if needed > free:
        raise ResourceError(
            zh=f"磁盘空间不足：下载 {spec.id} 还需要 {needed / 1e9:.1f} GB，只剩 {free / 1e9:.1f} GB。请清理磁盘或把 STUDIO_HOME 设到更大的磁盘。",
            en=f"Not enough disk space: {spec.id} needs {needed / 1e9:.1f} GB more, only {free / 1e9:.1f} GB free. "
            "Free some space or set STUDIO_HOME to a larger disk.",
        )
    done = present + partial
    started, start_done = time.monotonic(), done
    headers = build_hf_headers()
    with httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, read=60.0), headers=headers) as client:
        for name, size, sha in files:
            final = target / name
            if final.exists() and final.stat().st_size == size and (sha is None or _sha256(final) == sha):
                continue
            final.parent.mkdir(parents=True, exist_ok=True)
            part = final.with_name(final.name + ".part")
            offset = part.stat().st_size if part.exists() else 0
            if offset > size:
                part.unlink()
                offset = 0
            url = hf_hub_url(spec.repo_id, name, endpoint=endpoint)
            try:
                with client.stream("GET", url, headers={"Range": f"bytes={offset}-"} if offset else {}) as resp:
                    if resp.status_code == 200 and offset:  # server ignored Range: start over
                        done -= offset
                        offset = 0
                    elif resp.status_code not in (200, 206):
                        raise DownloadError(
                            zh=f"下载 {name} 失败：服务器返回 {resp.status_code}。",
                            en=f"Downloading {name} failed: the server answered {resp.status_code}.",
                        )
                    with part.open("ab" if offset else "wb") as fh:
                        for chunk in resp.iter_bytes(CHUNK):
                            if cancel is not None:
                                cancel.check()
                            fh.write(chunk)
                            done += len(chunk)
                            speed = (done - start_done) / max(time.monotonic() - started, 1e-3)
                            progress(
                                done / total if total else None,
                                f"{spec.id}: {done / 1e6:.0f}/{total / 1e6:.0f} MB, {speed / 1e6:.1f} MB/s",
                            )
            except httpx.HTTPError as exc:
                raise _network_error(spec, endpoint, exc) from exc
            if part.stat().st_size != size or (sha is not None and _sha256(part) != sha):
                part.unlink()
                raise DownloadError(
                    zh=f"{name} 下载后校验失败（文件损坏），已删除。请重新下载。",
                    en=f"{name} failed its checksum after download (corrupt) and was removed. Download again.",
                )
            os.replace(part, final)
    progress(1.0, f"{spec.id}: {total / 1e6:.0f} MB")
    return target
