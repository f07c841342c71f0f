"""Where the model call runs: the local model (:class:`LocalBackend`) or a remote engine (:class:`RemoteBackend`).

The engine does everything around generation (text, segments, takes, timing,
loudness, watermark) the same way for both; only what a :class:`Backend` does
differs: holding the model's turn, getting the model, encoding a reference,
the model call itself, and the notes about what it could not honour. A later
backend (e.g. a CUDA-graph path) implements the same methods.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .audio import MODEL_SR, Audio, load_audio, resample
from .errors import InputError
from .models import LoadedModel, ModelManager, out_of_memory_error
from .progress import CancelToken, ProgressFn
from .synthesis import Sampling, SynthesisResult, run_generation

if TYPE_CHECKING:
    from .remote import RemoteModel

_PROMPT_CACHE_SIZE = 8


class Backend(Protocol):
    """What differs between running the model here and sending the call elsewhere."""

    def session(self, progress: ProgressFn, cancel: CancelToken | None):
        """The model's turn a generation holds (a context manager)."""

    def acquire(
        self, model: str, kind: str, progress: ProgressFn, cancel: CancelToken | None
    ) -> tuple[object, float | None]:
        """(the model handle to generate with, its load time when this call had to load it)."""

    def clone_prompt(self, handle, ref: Audio, transcript: str, x_vector_only: bool, voice=None) -> object:
        """The voice-clone prompt for ``ref``; ``voice`` is a :class:`CloneVoice` (saved voice, clip, blend)."""

    def speakers(self, handle) -> tuple[str, ...]:
        """Speakers the model knows beyond the presets (a fine-tuned checkpoint's own); () when unknown."""

    def check_instruct(self, handle, instruct: str) -> None:
        """Refuse a style instruction the model cannot honour."""

    def generate(self, handle, method: str, texts: list[str], seed, sampling, progress, cancel, max_seconds, **kwargs):
        """One model call: a :class:`~studio.synthesis.SynthesisResult` per text."""

    def notes(self, sampling: Sampling | None, blend: bool = False) -> list:
        """What this backend could not honour, as notes shown with the result."""


class CloneVoice:
    """A saved voice a clone speaks in: the voice record, the clip's tag, its library, the blend weight (None: none)."""

    def __init__(self, saved, tag: str | None, library, blend: float | None) -> None:
        self.saved, self.tag, self.library, self.blend = saved, tag, library, blend


class LocalBackend:
    """The model loaded by this process's :class:`~studio.models.ModelManager`, with a cache of encoded references."""

    def __init__(self, manager: ModelManager, voices: Callable[[], object]) -> None:
        self.manager = manager
        self.voices = voices  #: the default voice library (called when first needed)
        self.prompts: OrderedDict[tuple, list] = OrderedDict()

    def session(self, progress: ProgressFn, cancel: CancelToken | None):
        """The model's turn (waiting says for what)."""
        return self.manager.turn(progress, cancel)

    def acquire(self, model: str, kind: str, progress: ProgressFn, cancel: CancelToken | None):
        """The loaded model (loading it if needed) and its load time when this call loaded it."""
        before = self.manager.loaded
        loaded = self.manager.get(model, kind, progress, cancel)
        return loaded, (loaded.load_seconds if loaded is not before else None)

    def clone_prompt(self, handle, ref: Audio, transcript: str, x_vector_only: bool, voice: CloneVoice | None = None):
        """The encoded reference (cached), blended toward the neutral clip when ``voice.blend`` is set."""
        saved, tag, library = (voice.saved, voice.tag, voice.library) if voice else (None, None, None)
        prompt = self.voice_prompt(handle, ref, transcript, x_vector_only, saved, tag, library)
        if voice is not None and voice.blend is not None:
            prompt = self.blend_with_neutral(handle, prompt, saved, tag, x_vector_only, voice.blend, library)
        return prompt

    def speakers(self, handle) -> tuple[str, ...]:
        """Speakers a loaded CustomVoice checkpoint knows (a fine-tuned one has its own)."""
        from .speech import checkpoint_speakers

        return checkpoint_speakers(handle)

    def check_instruct(self, handle, instruct: str) -> None:
        """The 0.6B CustomVoice model takes no style instruction."""
        if instruct and handle.info.size == "0.6b":
            raise InputError(
                zh="0.6B CustomVoice 模型不支持风格指令。请清空指令，或换用 1.7B CustomVoice。",
                en="The 0.6B CustomVoice model takes no style instruction. Clear it, or use 1.7B CustomVoice.",
            )

    def generate(self, handle, method, texts, seed, sampling, progress, cancel, max_seconds, **kwargs):
        """One call of the loaded model; out of memory unloads it and says what to do."""
        import torch

        try:
            wavs, sr, seed, timings = run_generation(
                handle.tts,
                method,
                texts,
                handle.info.path.name,
                seed,
                sampling,
                progress,
                cancel,
                max_seconds=max_seconds,
                **kwargs,
            )
        except torch.OutOfMemoryError as exc:
            self.manager.unload()
            raise out_of_memory_error() from exc
        return [
            SynthesisResult(
                samples=np.clip(w, -1.0, 1.0),
                sr=sr,
                seed=seed,
                model=handle.info.label,
                random_weights=handle.info.is_random,
                max_new_tokens=int(timings["max_new_tokens"]),
                timings=dict(timings),
            )
            for w in wavs
        ]

    def notes(self, sampling: Sampling | None, blend: bool = False) -> list:
        """The local model honours everything."""
        return []

    def voice_prompt(
        self, loaded: LoadedModel, ref: Audio, transcript: str, x_vector_only: bool, saved=None, tag=None, library=None
    ) -> list:
        """Encode the reference once per (model, clip, transcript, mode); later calls reuse it.

        A saved voice's prompt is also kept on disk beside the voice, so it
        survives restarts (only for the in-context mode with its own transcript).
        """
        digest = hashlib.sha1(ref.samples.tobytes()).hexdigest()
        key = (loaded.key, digest, transcript, x_vector_only)
        if key in self.prompts:
            self.prompts.move_to_end(key)
            return self.prompts[key]
        on_disk = saved is not None and not x_vector_only
        items = None
        if on_disk:
            from .backend import qwen_tts

            cached = (library or self.voices()).load_prompt(saved.name, _prompt_model_key(loaded), tag=tag)
            if cached is not None:
                items = [qwen_tts().VoiceClonePromptItem(**cached)]
        if items is None:
            items = loaded.tts.create_voice_clone_prompt(
                ref_audio=(ref.samples, ref.sr), ref_text=transcript or None, x_vector_only_mode=x_vector_only
            )
            if on_disk:
                self._save_prompt(library or self.voices(), saved.name, _prompt_model_key(loaded), items[0], tag)
        self.prompts[key] = items
        while len(self.prompts) > _PROMPT_CACHE_SIZE:
            self.prompts.popitem(last=False)
        return items

    def blend_with_neutral(
        self, loaded: LoadedModel, prompt: list, saved, tag: str, x_vector_only: bool, weight: float, library=None
    ):
        """The emotional prompt, its speaker embedding blended toward the neutral clip's (see ``Engine.clone``)."""
        import dataclasses

        neutral = saved.clip(None)
        if neutral.file == saved.clip(tag).file:
            return prompt
        neutral_ref = resample(load_audio(saved.path / neutral.file), MODEL_SR)
        base = self.voice_prompt(
            loaded, neutral_ref, neutral.transcript or saved.transcript, x_vector_only, saved, neutral.tag, library
        )[0]
        emotional = prompt[0]
        mixed = (1.0 - weight) * base.ref_spk_embedding + weight * emotional.ref_spk_embedding
        return [dataclasses.replace(emotional, ref_spk_embedding=mixed)]

    @staticmethod
    def _save_prompt(library, name: str, model_key: str, item, tag: str | None) -> None:
        import contextlib
        import dataclasses

        from .errors import StorageError

        # A read-only library still clones; it just re-encodes the clip next time.
        with contextlib.suppress(StorageError):
            library.save_prompt(name, model_key, dataclasses.asdict(item), tag=tag)


class RemoteBackend:
    """A remote speech server (:class:`~studio.remote.RemoteModel`): no local turn, no local model."""

    def __init__(self, remote: RemoteModel) -> None:
        self.remote = remote

    def session(self, progress: ProgressFn, cancel: CancelToken | None):
        """No local turn: the server queues its own requests."""
        return contextlib.nullcontext()

    def acquire(self, model: str, kind: str, progress: ProgressFn, cancel: CancelToken | None):
        """The remote model (nothing loads here; the server serves its own model of ``kind``)."""
        if cancel is not None:
            cancel.check()
        return self.remote, None

    def clone_prompt(self, handle, ref: Audio, transcript: str, x_vector_only: bool, voice: CloneVoice | None = None):
        """The reference sent along with each request (a remote engine cannot blend embeddings)."""
        return handle.reference(ref, transcript, x_vector_only)

    def speakers(self, handle) -> tuple[str, ...]:
        """Unknown: the server checks its own speakers."""
        return ()

    def check_instruct(self, handle, instruct: str) -> None:
        """The server decides."""

    def generate(self, handle, method, texts, seed, sampling, progress, cancel, max_seconds, **kwargs):
        """One request per text to the server."""
        return handle.generate(method, texts, seed, sampling, progress, cancel, max_seconds, **kwargs)

    def notes(self, sampling: Sampling | None, blend: bool = False) -> list:
        """What a remote engine could not honour."""
        from .text import TextWarning

        notes = []
        if sampling is not None and (sampling.kwargs() or sampling.force_steps):
            notes.append(
                TextWarning(
                    "remote_sampling",
                    zh="远程引擎只接收步数上限和种子；其余采样设置（温度、top-k、top-p 等）使用服务器的默认值。",
                    en="The remote engine takes only the step cap and the seed; other sampling settings "
                    "(temperature, top-k, top-p, ...) are the server's defaults.",
                )
            )
        if blend:
            notes.append(
                TextWarning(
                    "remote_intensity",
                    zh="远程引擎无法混合声纹：情绪片段按强度 1 使用（音色和语气都来自情绪片段）。",
                    en="The remote engine cannot blend speaker embeddings: the emotion clip is used at intensity 1 "
                    "(timbre and delivery both from the emotion clip).",
                )
            )
        return notes


def _prompt_model_key(loaded: LoadedModel) -> str:
    """A file-name-safe key for the model a prompt was built with: the registry id, or folder name + hash."""
    import re

    key = str(loaded.key)
    if re.fullmatch(r"[\w.\-]+", key):
        return key
    name = re.sub(r"[^\w.\-]+", "_", Path(key).name)[:40] or "model"
    return f"{name}-{hashlib.sha1(key.encode()).hexdigest()[:10]}"
