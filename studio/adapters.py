"""An unmerged LoRA adapter (peft) as a checkpoint: its base is found, loaded, and the adapter merged at load.

A folder holding ``adapter_config.json`` and ``adapter_model.safetensors``
(what peft's ``save_pretrained`` writes, here or in another tool) speaks like
any checkpoint. Its base is the one ``base_model_name_or_path`` names: a
registry id or Hugging Face repository (resolved, and downloaded if needed, by
the model manager) or a folder (absolute, or relative to the adapter's). The
folder's other files (``config.json``, tokenizer files, ``speech_tokenizer/``)
take the place of the base's, so an adapter may also bring a CustomVoice
config with its speakers; the weights are always the base's with the adapter
merged in. A missing or unknown base is refused, naming what was looked for.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import CheckpointError, NotFoundError

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
#: peft's prefix on every saved adapter weight; the rest is the module path inside the wrapped model.
_PREFIX = "base_model.model."
#: Files of an adapter folder that never replace the base's (the base's own weights stay the base's).
_NOT_OVERLAID = {ADAPTER_CONFIG, *ADAPTER_WEIGHTS, "model.safetensors", "model.safetensors.index.json", "README.md"}


@dataclass(frozen=True)
class Adapter:
    """A LoRA adapter folder and the base it was trained on."""

    folder: Path
    base: str  #: base_model_name_or_path as written
    weights: Path


def is_adapter(path) -> bool:
    """Whether ``path`` is a folder holding a peft adapter."""
    return (Path(path).expanduser() / ADAPTER_CONFIG).is_file()


def _bad(folder: Path, zh: str, en: str) -> CheckpointError:
    return CheckpointError(
        zh=f"{folder} 里的 LoRA 适配器不可用：{zh}", en=f"The LoRA adapter in {folder} cannot be used: {en}"
    )


def read_adapter(path) -> Adapter:
    """Read and check the adapter in ``path`` (a LoRA adapter with its weights and a named base)."""
    folder = Path(path).expanduser()
    try:
        config = json.loads((folder / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(
            folder, f"{ADAPTER_CONFIG} 无法读取（{exc}）。", f"{ADAPTER_CONFIG} cannot be read ({exc})."
        ) from exc
    if not isinstance(config, dict) or str(config.get("peft_type", "")).upper() != "LORA":
        kind = config.get("peft_type") if isinstance(config, dict) else None
        raise _bad(folder, f"只支持 LoRA（这里是 {kind!r}）。", f"only LoRA is supported (this one is {kind!r}).")
    weights = next((folder / n for n in ADAPTER_WEIGHTS if (folder / n).is_file()), None)
    if weights is None:
        raise _bad(
            folder,
            "缺少 adapter_model.safetensors（适配器的权重）。",
            "adapter_model.safetensors (the adapter's weights) is missing.",
        )
    base = str(config.get("base_model_name_or_path") or "").strip()
    if not base:
        raise _bad(
            folder,
            f"{ADAPTER_CONFIG} 没有写明基础模型（base_model_name_or_path）。请填入基础模型的 id 或文件夹路径。",
            f"{ADAPTER_CONFIG} names no base model (base_model_name_or_path). Write the base's id or folder there.",
        )
    return Adapter(folder=folder, base=base, weights=weights)


def base_reference(adapter: Adapter) -> str:
    """The base as the model manager takes it: a registry id, or a folder path. Refuses a base not found."""
    from .registry import ALL_SPECS

    wanted = adapter.base.lower().rstrip("/")
    for spec in ALL_SPECS:
        if wanted in (spec.id, spec.repo_id.lower()):
            return spec.id
    path = Path(adapter.base).expanduser()
    for candidate in (path,) if path.is_absolute() else (adapter.folder / path, path):
        if (candidate / "config.json").is_file():
            return str(candidate.resolve())
    raise NotFoundError(
        zh=f"找不到 LoRA 适配器 {adapter.folder} 的基础模型“{adapter.base}”。请先在“模型”页下载它，"
        f"或把 {ADAPTER_CONFIG} 里的 base_model_name_or_path 改成基础模型文件夹的路径。",
        en=f"The base model '{adapter.base}' of the LoRA adapter in {adapter.folder} was not found. Download it on "
        f"the Models tab, or set base_model_name_or_path in {ADAPTER_CONFIG} to the base checkpoint's folder.",
    )


def _overlay_files(adapter: Adapter) -> list[Path]:
    return [p for p in adapter.folder.iterdir() if p.name not in _NOT_OVERLAID and not p.name.startswith("model-")]


def _place(source: Path, target: Path) -> None:
    """``target`` shows ``source``: a link where the system allows one, else a copy."""
    try:
        os.symlink(source, target, target_is_directory=source.is_dir())
        return
    except OSError:
        pass
    if source.is_dir():
        shutil.copytree(source, target, copy_function=_link_or_copy)
    else:
        _link_or_copy(source, target)


def _link_or_copy(source, target) -> None:
    try:
        os.link(source, target)  # a hard link: no second copy of the base's weights
    except OSError:
        shutil.copyfile(source, target)


def load_folder(adapter: Adapter, base_dir: Path, scratch: Path) -> Path:
    """The folder to load: the base's, or (when the adapter brings its own config or tokenizer files) a folder
    under ``scratch`` showing the base with those files in place of the base's."""
    own = _overlay_files(adapter)
    if not own or base_dir.resolve() == adapter.folder.resolve():
        return base_dir
    key = hashlib.sha1(str(adapter.folder.resolve()).encode()).hexdigest()[:12]
    view = scratch / f"{adapter.folder.name}-{key}"
    shutil.rmtree(view, ignore_errors=True)
    view.mkdir(parents=True)
    names = {p.name for p in own}
    for item in base_dir.iterdir():
        if item.name not in names and item.name != ADAPTER_CONFIG and not item.name.startswith("adapter_model"):
            _place(item.resolve(), view / item.name)
    for item in own:
        _place(item.resolve(), view / item.name)
    return view


def resolve_adapter(path, resolve_base, scratch: Path):
    """The :class:`~studio.checkpoints.CheckpointInfo` of the adapter in ``path``; ``resolve_base(ref)`` finds
    (and if need be downloads) its base, as the model manager resolves any model."""
    from dataclasses import replace

    from .checkpoints import validate_checkpoint

    adapter = read_adapter(path)
    ref = base_reference(adapter)
    if Path(ref) == adapter.folder.resolve():
        base = validate_checkpoint(ref)  # the adapter sits beside the very weights it was trained on
    elif is_adapter(ref):
        raise _bad(
            adapter.folder,
            f"它的基础模型 {ref} 本身也是一个适配器。请把基础模型指向完整的模型文件夹。",
            f"its base {ref} is itself an adapter. Point base_model_name_or_path at a complete checkpoint.",
        )
    else:
        base = resolve_base(ref)
    folder = load_folder(adapter, base.path, scratch)
    view = validate_checkpoint(folder)
    return replace(view, path=adapter.folder, is_random=base.is_random, adapter=adapter.folder, load_from=folder)


def _module_paths(weights: Path) -> set[str]:
    """The module paths the adapter's weights belong to (relative to the model peft wrapped)."""
    if weights.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(weights), "pt") as f:
            keys = list(f.keys())
    else:
        import torch

        keys = list(torch.load(weights, map_location="cpu", weights_only=True))
    paths = set()
    for key in keys:
        name = key.removeprefix(_PREFIX)
        for marker in (".lora_A.", ".lora_B.", ".lora_embedding_A", ".lora_embedding_B", ".lora_magnitude_vector"):
            if marker in name:
                paths.add(name.split(marker)[0])
                break
    return paths


def adapter_root(model, adapter: Adapter):
    """The module the adapter was made for: the whole model, or its talker (as the studio's trainer does)."""
    paths = _module_paths(adapter.weights)
    for root in (model, getattr(model, "talker", None)):
        if root is None:
            continue
        names = {name for name, _ in root.named_modules()}
        if paths and paths <= names:
            return root
    raise _bad(
        adapter.folder,
        "它的层与这个基础模型对不上（不是为这个模型训练的）。请检查 base_model_name_or_path。",
        "its layers do not match this base model (it was trained for another one). Check base_model_name_or_path.",
    )


def merge_adapter(tts, adapter: Adapter) -> None:
    """Merge ``adapter`` into the loaded ``tts`` (a ``Qwen3TTSModel``) in place: the weights become base + delta."""
    from peft import PeftModel

    model = tts.model
    root = adapter_root(model, adapter)
    device = next(root.parameters()).device
    wrapped = PeftModel.from_pretrained(root, str(adapter.folder), torch_device=str(device))
    merged = wrapped.merge_and_unload()
    if root is model:
        tts.model = merged
    else:
        model.talker = merged
    tts.model.eval()
