"""The studio's voice/background separator: Demucs v4 (HTDemucs) as a managed model.

Why Demucs: it is Meta's maintained reference for music source separation,
HTDemucs separates vocals well enough to keep a film's music and effects, it
runs on CPU and CUDA with plain PyTorch (the ``demucs`` 4.1 package needs no
torchaudio), and its hub export is a plain folder -- one ``NAME.yaml`` naming
the models of a bag and one ``SIG.safetensors`` per model, the class and its
arguments kept in the safetensors metadata -- that the model manager downloads
file by file with resume and a mirror endpoint. Nothing is unpickled.

Long recordings are separated in chunks (``CHUNK_SECONDS`` plus a little
context either side, cut off again), so memory stays bounded; each chunk is
written to ``separation/`` as it finishes, so a cancelled or crashed run resumes
at the first missing chunk. ``voice.wav`` is the vocals stem, ``background.wav``
the sum of the others.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from . import atomic, checkpoints, config
from .errors import CheckpointError, InputError, NotFoundError, ResourceError
from .progress import CancelToken, ProgressFn, Status, no_progress
from .registry import DEFAULT_SEPARATOR_MODEL, SEPARATOR_MODELS, ModelSpec, get_spec
from .resident import Resident

CHUNK_SECONDS = 60.0  #: seconds separated at a time (bounded memory; a resumed run restarts at a chunk)
CONTEXT_SECONDS = 1.0  #: extra sound either side of a chunk, separated then cut off (no seams)
#: model classes a safetensors file may name (the loader imports the class it names)
ALLOWED_CLASSES = ("demucs.htdemucs.HTDemucs", "demucs.hdemucs.HDemucs", "demucs.demucs.Demucs")
_MAX_HEADER = 16 * 1024 * 1024
VOICE_STEM = "vocals"


def _bad(folder: Path, why_zh: str, why_en: str) -> CheckpointError:
    return CheckpointError(
        zh=f"{folder} 不是可用的 Demucs 分离模型：{why_zh}。请重新下载。",
        en=f"{folder} is not a usable Demucs separation model: {why_en}. Download it again.",
    )


def _bag_file(folder: Path) -> tuple[Path, list[str]] | None:
    """(the bag's yaml, its model signatures), or None when ``folder`` holds no complete bag."""
    import yaml

    for path in sorted(folder.glob("*.yaml")):
        try:
            bag = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, yaml.YAMLError):
            continue
        sigs = bag.get("models") if isinstance(bag, dict) else None
        named = isinstance(sigs, list) and sigs and all(isinstance(s, str) and s.isalnum() for s in sigs)
        if named and all((folder / f"{s}.safetensors").is_file() for s in sigs):
            return path, sigs
    return None


def is_model_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a Demucs bag (yaml + every safetensors file it names)."""
    return folder.is_dir() and _bag_file(folder) is not None


def read_metadata(path: Path) -> dict:
    """The ``__metadata__`` of a safetensors file, read from its header without loading tensors."""
    try:
        with path.open("rb") as fh:
            (size,) = struct.unpack("<Q", fh.read(8))
            if size > _MAX_HEADER:
                raise ValueError("header too large")
            header = json.loads(fh.read(size))
        meta = header.get("__metadata__") or {}
        return {
            "klass": str(meta["klass"]),
            "args": json.loads(meta["args"]),
            "kwargs": json.loads(meta["kwargs"]),
            "structure": "structure" in meta,
        }
    except (OSError, ValueError, KeyError, TypeError, struct.error) as exc:
        raise _bad(path.parent, f"{path.name} 的文件头损坏", f"the header of {path.name} is damaged") from exc


def validate(folder: str | Path) -> Path:
    """``folder`` if it is a usable separator; a clear error otherwise."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise NotFoundError(zh=f"找不到分离模型文件夹：{path}", en=f"Separation model folder not found: {path}")
    found = _bag_file(path)
    if found is None:
        raise _bad(path, "缺少 .yaml 或 .safetensors 文件", "a .yaml bag or one of its .safetensors files is missing")
    for sig in found[1]:
        meta = read_metadata(path / f"{sig}.safetensors")
        if meta["klass"] not in ALLOWED_CLASSES or meta["structure"]:
            raise _bad(path, f"不支持的模型类型 {meta['klass']}", f"unsupported model class {meta['klass']}")
    return path


def _cached_snapshot(spec: ModelSpec) -> Path | None:
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(spec.repo_id, f"{spec.id}.yaml")
    except Exception:  # a broken cache must not stop the studio
        return None
    return Path(cached).parent if isinstance(cached, str) else None


def locate(spec: ModelSpec, local_models: dict[str, str] | None = None) -> Path | None:
    """The folder holding registry separator ``spec``, if it is on disk."""
    override = (local_models or {}).get(spec.id)
    for folder in (Path(override) if override else None, checkpoints.local_dir(spec), _cached_snapshot(spec)):
        if folder is not None and is_model_folder(folder):
            return folder
    return None


def resolve(
    model: str | None = None,
    endpoint: str | None = None,
    local_models: dict[str, str] | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """The separator folder for ``model`` (registry id, folder, or None for the default), downloading if needed."""
    if model and (os.sep in model or "/" in model or Path(model).expanduser().is_dir()):
        return validate(model)
    named = config.separator_model()
    if not model and named:
        return validate(named)
    spec = get_spec(model or DEFAULT_SEPARATOR_MODEL)
    if spec.kind != "separator":
        ids = ", ".join(s.id for s in SEPARATOR_MODELS)
        raise InputError(
            zh=f"{spec.id} 不是人声分离模型。可选：{ids}。", en=f"{spec.id} is not a separator. Choose {ids}."
        )
    folder = locate(spec, local_models)
    if folder is None:
        progress(0.0, Status("downloading", model=spec.id))
        folder = checkpoints.download(spec, endpoint, progress, cancel)
    return validate(folder)


@dataclass(frozen=True)
class Separation:
    """The two stems :meth:`Separator.separate_file` wrote."""

    voice: Path
    background: Path
    resumed: bool  #: some chunks came from an earlier run


class Separator:
    """A Demucs bag of models (loaded on the first separation)."""

    def __init__(self, folder: str | Path, device: str = "auto") -> None:
        self.folder = validate(folder)
        self.device = device
        self._model = None
        _, sigs = _bag_file(self.folder)
        meta = read_metadata(self.folder / f"{sigs[0]}.safetensors")
        kwargs = meta["kwargs"] if isinstance(meta["kwargs"], dict) else {}
        self.samplerate = int(kwargs.get("samplerate", 44100))
        self.channels = int(kwargs.get("audio_channels", 2))
        args = meta["args"] if isinstance(meta["args"], list) else []
        self.sources = tuple(kwargs.get("sources") or (args[0] if args and isinstance(args[0], list) else ()))
        if VOICE_STEM not in self.sources:
            raise _bad(self.folder, "模型没有人声（vocals）输出", "the model has no 'vocals' stem")

    def _load(self):
        if self._model is None:
            import torch
            import yaml
            from demucs.apply import BagOfModels
            from demucs.hf import load_safetensors_model

            path, sigs = _bag_file(self.folder)
            bag = yaml.safe_load(path.read_text(encoding="utf-8"))
            try:
                models = [load_safetensors_model(self.folder / f"{sig}.safetensors") for sig in sigs]
                model = BagOfModels(models, bag.get("weights"), bag.get("segment"))
            except (RuntimeError, ValueError, KeyError, OSError, AssertionError) as exc:
                raise CheckpointError(
                    zh=f"无法加载分离模型 {self.folder}：文件可能损坏或不完整，请重新下载。",
                    en=f"Could not load the separation model {self.folder}: its files may be damaged or "
                    "incomplete; download it again.",
                    cause=str(exc)[:200],
                ) from exc
            device = self.device
            if device == "auto":
                device = "cuda" if torch.cuda.is_available() else "cpu"
            self._device = device
            self._model = model.to(device).eval()
        return self._model

    def _separate_chunk(self, mix):
        """(voice, background) of ``mix`` (channels x samples float32 array)."""
        import numpy as np
        import torch
        from demucs.apply import apply_model

        model = self._load()
        x = torch.from_numpy(np.ascontiguousarray(mix))
        mean, std = x.mean(), x.std().clamp_min(1e-8)
        with torch.inference_mode():
            stems = apply_model(
                model, ((x - mean) / std)[None], split=True, overlap=0.25, shifts=0, device=self._device
            )[0]
        stems = (stems * std + mean).cpu()
        voice_at = list(model.sources).index(VOICE_STEM)
        voice = stems[voice_at]
        background = stems.sum(0) - voice
        return voice.numpy(), background.numpy()

    def separate_file(
        self,
        mix_path: Path,
        work: Path,
        progress: ProgressFn = no_progress,
        cancel: CancelToken | None = None,
    ) -> Separation:
        """Split ``mix_path`` (a WAV at :attr:`samplerate`) into ``work/voice.wav`` and ``work/background.wav``.

        Chunks are kept in ``work/separation`` until both stems are written; a rerun on the same
        mix and model reuses them (resume).
        """
        import numpy as np
        import soundfile as sf

        voice_path, background_path = work / "voice.wav", work / "background.wav"
        chunks = work / "separation"
        stat = mix_path.stat()
        key = {"mix": stat.st_size, "mtime_ns": stat.st_mtime_ns, "model": str(self.folder), "chunk": CHUNK_SECONDS}
        key_file = chunks / "source.json"
        done_key = work / "separation.json"
        if voice_path.is_file() and background_path.is_file() and _read(done_key) == key:
            return Separation(voice_path, background_path, resumed=True)
        if _read(key_file) != key:
            shutil.rmtree(chunks, ignore_errors=True)
        chunks.mkdir(parents=True, exist_ok=True)
        _check_disk(work, 4 * stat.st_size)  # the chunks of both stems, then both stems again
        key_file.write_text(json.dumps(key), encoding="utf-8")
        with sf.SoundFile(str(mix_path)) as src:
            rate, total = src.samplerate, src.frames
            if rate != self.samplerate:
                raise InputError(
                    zh=f"待分离的声音采样率是 {rate} Hz，模型需要 {self.samplerate} Hz。",
                    en=f"The sound to separate is at {rate} Hz; the model needs {self.samplerate} Hz.",
                )
            step, context = max(1, int(CHUNK_SECONDS * rate)), int(CONTEXT_SECONDS * rate)
            count = max(1, -(-total // step))
            resumed = False
            for i in range(count):
                if cancel is not None:
                    cancel.check()
                names = [chunks / f"{stem}_{i:05d}.wav" for stem in ("voice", "background")]
                if all(n.is_file() for n in names):
                    resumed = True
                    continue
                start, end = i * step, min(total, (i + 1) * step)
                left, right = max(0, start - context), min(total, end + context)
                src.seek(left)
                mix = src.read(right - left, dtype="float32", always_2d=True).T
                mix = _fit_channels(mix, self.channels)
                stems = self._separate_chunk(mix)
                for name, stem in zip(names, stems, strict=True):
                    piece = np.clip(stem[:, start - left : end - left].T, -1.0, 1.0)
                    with atomic.replacing(name, suffix=".wav") as part:
                        sf.write(str(part), piece, rate, subtype="PCM_16", format="WAV")
                progress((i + 1) / count, Status("separating", at_s=end / rate, of_s=total / rate))
        for stem, dest in (("voice", voice_path), ("background", background_path)):
            with (
                atomic.replacing(dest, suffix=".wav") as part,
                sf.SoundFile(str(part), "w", rate, self.channels, subtype="PCM_16", format="WAV") as out,
            ):
                for i in range(count):
                    data, _ = sf.read(str(chunks / f"{stem}_{i:05d}.wav"), dtype="float32", always_2d=True)
                    out.write(np.clip(data, -1.0, 1.0))
        done_key.write_text(json.dumps(key), encoding="utf-8")
        shutil.rmtree(chunks, ignore_errors=True)
        return Separation(voice_path, background_path, resumed=resumed)


def _check_disk(folder: Path, needed: int) -> None:
    """A clear error, before any work, when ``folder``'s disk has less than ``needed`` bytes free."""
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise ResourceError(
            zh=f"磁盘空间不足：分离人声和背景需要约 {needed / 1e9:.1f} GB，只剩 {free / 1e9:.1f} GB。请清理磁盘后重试。",
            en=f"Not enough disk space: separating the voice and background needs about {needed / 1e9:.1f} GB, "
            f"only {free / 1e9:.1f} GB is free. Free some space and retry.",
        )


def _fit_channels(mix, channels: int):
    """``mix`` with ``channels`` rows (a mono file is copied to both sides, extra channels averaged)."""
    import numpy as np

    if mix.shape[0] == channels:
        return mix
    mono = mix.mean(0, keepdims=True)
    return np.repeat(mono, channels, axis=0)


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


_models: Resident[Separator] = Resident(lambda folder: validate(folder), lambda path: Separator(path))


def get(folder: str | Path) -> Separator:
    """The resident separator for ``folder`` (replacing another one)."""
    return _models.get(folder)


def unload() -> None:
    """Drop the resident separator."""
    _models.unload()
