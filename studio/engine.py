"""The studio's engine: every generating action, with no knowledge of Gradio or HTTP.

The UI, the CLI and the HTTP API are thin adapters over :class:`Engine`.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .audio import MODEL_SR, Audio, check_reference, load_audio, resample
from .errors import InputError, NotFoundError, TextError
from .export import DEFAULT_LUFS, DEFAULT_TRUE_PEAK_DB, polish
from .limits import MAX_TEXT_CHARS, bad_char
from .models import LoadedModel, ModelManager, out_of_memory_error, spec_for
from .progress import CancelToken, ProgressFn, Status, no_progress
from .registry import SPEAKERS, normalize_language
from .style import compose_instruction
from .synthesis import Sampling, SynthesisResult, accel_notes, run_generation
from .timing import MIN_STRETCH, check_target_reachable, fit_to_duration, resolve_target

if TYPE_CHECKING:
    from .remote import RemoteModel
    from .text import PreparedText, PronunciationDictionary

#: Terminal colour codes and control characters (not newline or tab): never spoken, never sent to the model.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_PROMPT_CACHE_SIZE = 8
#: Texts longer than this are generated sentence group by sentence group, so cost grows linearly.
SEGMENT_CHARS = 120
#: Silence put between the segments of a long text.
SEGMENT_PAUSE_S = 0.2


def check_text(text: str | None, what: tuple[str, str] = ("文本", "text")) -> str:
    """Strip ``text`` and refuse it when empty or over :data:`MAX_TEXT_CHARS`."""
    cleaned = _CONTROL.sub("", _ANSI.sub("", text or "")).strip()
    found = bad_char(cleaned)
    if found is not None:
        raise TextError(
            zh=f"{what[0]}含有无法朗读的字符 {found}（不成对的代理字符）。请删除它后重试。",
            en=f"The {what[1]} holds a character that cannot be spoken, {found} (an unpaired surrogate). Remove it.",
        )
    if not cleaned:
        raise TextError(
            zh=f"{what[0]}是空的，请输入要合成的文字。", en=f"The {what[1]} is empty: type what should be spoken."
        )
    if len(cleaned) > MAX_TEXT_CHARS:
        raise TextError(
            zh=f"{what[0]}太长（{len(cleaned)} 字），一次最多 {MAX_TEXT_CHARS} 字。请分段生成。",
            en=f"The {what[1]} is too long ({len(cleaned)} characters); the limit is {MAX_TEXT_CHARS}. Split it into parts.",
        )
    return cleaned


def check_seed(seed: object) -> int | None:
    """``seed`` as an int (None and -1 mean random); :class:`InputError` for NaN, fractions or out of range."""
    if seed is None:
        return None
    if (isinstance(seed, float) and seed.is_integer()) or isinstance(seed, np.integer):
        seed = int(seed)
    if isinstance(seed, bool) or not isinstance(seed, int) or not -1 <= seed < 2**32:
        raise InputError(
            zh=f"种子必须是 0 到 {2**32 - 1} 之间的整数（-1 表示随机），收到 {seed}。",
            en=f"The seed must be a whole number from 0 to {2**32 - 1} (-1 for random); got {seed}.",
        )
    return None if seed == -1 else seed


def _check_request(seed: object, delivery: Delivery | None) -> int | None:
    """Refuse a bad seed or delivery before any model is loaded; return the seed (None = random)."""
    if delivery is not None:
        delivery.check()
    return check_seed(seed)


def instruction_language(text: str, language: str) -> str:
    """'zh' when the instruction template should be Chinese (Chinese text or language), else 'en'."""
    if language == "Chinese":
        return "zh"
    if language != "Auto":
        return "en"
    cjk = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    return "zh" if cjk * 2 >= len(text.strip()) else "en"


def _speaker_name(speaker: str, names: tuple[str, ...] = ()) -> str:
    """The speaker among ``names`` (default: the presets) called ``speaker``, case-insensitively."""
    names = names or tuple(n for n, _, _ in SPEAKERS)
    for name in names:
        if speaker.strip().lower() == name.lower():
            return name
    raise NotFoundError(
        zh=f"没有名为 “{speaker}” 的音色。可选：{', '.join(names)}。",
        en=f"No speaker called '{speaker}'. Choose one of {', '.join(names)}.",
    )


def _trained(voice):
    """The trained checkpoint of a saved voice (see :mod:`studio.finetune.library`), or None."""
    from .finetune.library import trained_voice

    return trained_voice(voice)


def _checkpoint_speakers(loaded) -> tuple[str, ...]:
    """Speakers a loaded CustomVoice checkpoint knows (a fine-tuned one has its own)."""
    try:
        names = [str(s) for s in (loaded.tts.get_supported_speakers() or ())]
    except Exception:  # a model object without the method: presets only
        return ()
    presets = {n.lower(): n for n, _, _ in SPEAKERS}
    return tuple(presets.get(n.lower(), n) for n in names)  # presets keep their usual spelling


class Engine:
    """Clone, custom-voice and voice-design generation over one :class:`ModelManager`.

    With a remote engine set (``remote_url`` in the settings, or ``STUDIO_REMOTE_URL``),
    the model call itself goes to that server (:mod:`studio.remote`) and no local
    model is loaded; everything around it (text, segments, takes, timing,
    loudness, watermark, voices) is the same.
    """

    def __init__(self, manager: ModelManager | None = None, voices=None) -> None:
        self.manager = manager or ModelManager()
        self._voices = voices
        self._prompts: OrderedDict[tuple, list] = OrderedDict()
        self._dictionary: tuple[float, PronunciationDictionary] | None = None
        self._remote: RemoteModel | None = None

    # -- where generation runs -------------------------------------------------------------------
    @property
    def remote(self) -> RemoteModel | None:
        """The remote engine generation goes to, or None for the local model (re-read from the settings each time)."""
        from .remote import RemoteModel, normalize_url, remote_config

        url, key = remote_config(getattr(self.manager, "settings", None))
        if not url:
            return None
        if self._remote is None or (self._remote.url, self._remote.key) != (normalize_url(url), key):
            self._remote = RemoteModel(url, key)
        return self._remote

    def _session(self, remote: RemoteModel | None, progress: ProgressFn, cancel: CancelToken | None):
        """The model's turn a generation holds (waiting says for what); none for a remote engine."""
        return contextlib.nullcontext() if remote is not None else self.manager.turn(progress, cancel)

    # -- text ------------------------------------------------------------------------------------
    @property
    def voices(self):
        """The voice library (created on first use, in the studio's data folder)."""
        if self._voices is None:
            from .voices import VoiceLibrary

            self._voices = VoiceLibrary()
        return self._voices

    @property
    def dictionary(self) -> PronunciationDictionary:
        """The pronunciation dictionary (presets/pronunciation.tsv), re-read when the file changes."""
        from .text import DEFAULT_DICTIONARY_PATH, load_default

        path = Path(DEFAULT_DICTIONARY_PATH)
        mtime = path.stat().st_mtime if path.exists() else 0.0
        if self._dictionary is None or self._dictionary[0] != mtime:
            self._dictionary = (mtime, load_default())
        return self._dictionary[1]

    def prepare_text(self, text: str | None, normalize: bool = True) -> PreparedText:
        """What the model will be asked to say: dictionary rules, pinned readings, numbers spelled out.

        ``result.model_text`` is sent to the model; ``display_text``, ``readings``
        and ``warnings`` are for showing the user. Needs no model.
        """
        from .text import prepare_text

        return prepare_text(check_text(text), dictionary=self.dictionary, normalize=normalize)

    def _model_texts(
        self, texts: list[str], normalize: bool, delivery: Delivery | None = None
    ) -> tuple[list[str], list]:
        """What the model gets for each text, and its warnings; a target length no text can meet is refused here."""
        prepared = [self.prepare_text(t, normalize) for t in texts]
        for p in prepared:
            check_target_reachable(p.model_text, delivery.duration if delivery is not None else None)
        return [p.model_text for p in prepared], [p.warnings for p in prepared]

    # -- voice cloning -------------------------------------------------------------------------
    def clone(
        self,
        text: str,
        reference: Audio | str | Path | tuple | None = None,
        transcript: str = "",
        x_vector_only: bool = False,
        language: str = "Auto",
        model: str | None = None,
        seed: int | None = None,
        sampling: Sampling | None = None,
        progress: ProgressFn = no_progress,
        cancel: CancelToken | None = None,
        delivery: Delivery | None = None,
        voice: str | None = None,
        clip: str | None = None,
        normalize: bool = True,
        intensity: float = 1.0,
        library=None,
    ) -> SynthesisResult:
        """Speak ``text`` in the voice of ``reference`` (3-10 s ideal) with a Base model.

        In-context mode needs ``transcript`` (what the reference says); with
        ``x_vector_only`` only the speaker embedding is used. Instead of a
        reference, ``voice`` names a saved voice and ``clip`` the tag of one of
        its clips (e.g. an emotion; default: its neutral clip).

        Base models take no instruction, so emotion comes from the clip. With an
        emotion ``clip``, ``intensity`` w (0-1) blends the speaker embedding,
        (1 - w) * neutral clip + w * emotional clip, while the in-context prompt
        (codes and transcript) always comes from the emotional clip: 0 keeps the
        neutral timbre with the emotional delivery, 1 takes both from the emotion.
        ``library`` is the voice library to find ``voice`` in (default: :attr:`voices`).
        """
        return self.clone_batch(
            [text],
            reference,
            transcript,
            x_vector_only,
            language,
            model,
            seed,
            sampling,
            progress,
            cancel,
            delivery,
            voice=voice,
            clip=clip,
            normalize=normalize,
            intensity=intensity,
            library=library,
        )[0]

    def clone_batch(
        self,
        texts: list[str],
        reference: Audio | str | Path | tuple | None = None,
        transcript: str = "",
        x_vector_only: bool = False,
        language: str = "Auto",
        model: str | None = None,
        seed: int | None = None,
        sampling: Sampling | None = None,
        progress: ProgressFn = no_progress,
        cancel: CancelToken | None = None,
        delivery: Delivery | None = None,
        voice: str | None = None,
        clip: str | None = None,
        normalize: bool = True,
        intensity: float = 1.0,
        library=None,
    ) -> list[SynthesisResult]:
        """Speak several texts with one reference (or saved voice) in batched model calls."""
        seed = _check_request(seed, delivery)
        model_texts, notes = self._model_texts(texts, normalize, delivery)
        language = normalize_language(language)
        model = self._model_for(model, "base")
        if not 0.0 <= intensity <= 1.0:
            raise InputError(
                zh=f"强度必须在 0 到 1 之间（收到 {intensity}）。",
                en=f"Intensity must be between 0 and 1 (got {intensity}).",
            )
        saved = None
        if voice:
            library = library or self.voices
            saved = library.get(voice)
            trained = _trained(saved) if reference is None else None
            if trained is not None:  # a trained voice speaks with its own checkpoint, whatever Base is chosen
                own = {"language": language, "model": trained.model, "seed": seed, "sampling": sampling}
                own |= {"progress": progress, "cancel": cancel, "delivery": delivery, "normalize": normalize}
                return [self.custom(t, trained.speaker, **own) for t in texts]
            chosen = saved.clip(clip)
            reference = saved.path / chosen.file
            transcript = chosen.transcript or saved.transcript
        elif reference is None:
            raise InputError(
                zh="请提供参考音频（上传或录音），或选择一个已保存的声音。",
                en="Give a reference clip (upload or record one), or choose a saved voice.",
            )
        transcript = (transcript or "").strip()
        if not x_vector_only and not transcript:
            raise InputError(
                zh="请填写参考音频的文字内容（逐字），或者勾选“仅用声纹（x-vector）”。",
                en="Type the reference clip's transcript (word for word), or tick 'x-vector only'.",
            )
        ref = reference if isinstance(reference, Audio) else load_audio(reference)
        check_reference(ref)
        ref = resample(ref, MODEL_SR)  # 24 kHz in: qwen-tts then skips its slow librosa resampling
        remote = self.remote
        blend = bool(saved is not None and clip and intensity < 1.0 and saved.clip(None).file != saved.clip(clip).file)
        with self._session(remote, progress, cancel):
            loaded, load_seconds = self._acquire(model, "base", progress, cancel, remote)
            if remote is not None:
                prompt = remote.reference(ref, transcript, x_vector_only)
            else:
                prompt = self._voice_prompt(loaded, ref, transcript, x_vector_only, saved, clip, library)
                if blend:
                    prompt = self._blend_with_neutral(loaded, prompt, saved, clip, x_vector_only, intensity, library)
            results = self._generate(
                loaded,
                "generate_voice_clone",
                model_texts,
                seed,
                sampling,
                progress,
                cancel,
                load_seconds,
                delivery,
                language=language,
                voice_clone_prompt=prompt,
            )
        for result, warnings in zip(results, notes, strict=True):
            result.notes = list(warnings) + _remote_notes(remote, sampling, blend) + accel_notes(result.timings)
        return results

    def _voice_prompt(
        self, loaded: LoadedModel, ref: Audio, transcript: str, x_vector_only: bool, saved=None, tag=None, library=None
    ) -> list:
        """Encode the reference once per (model, clip, transcript, mode); later calls reuse it.

        A saved voice's prompt is also kept on disk beside the voice, so it
        survives restarts (only for the in-context mode with its own transcript).
        """
        digest = hashlib.sha1(ref.samples.tobytes()).hexdigest()
        key = (loaded.key, digest, transcript, x_vector_only)
        if key in self._prompts:
            self._prompts.move_to_end(key)
            return self._prompts[key]
        on_disk = saved is not None and not x_vector_only
        items = None
        if on_disk:
            from .backend import qwen_tts

            cached = (library or self.voices).load_prompt(saved.name, _prompt_model_key(loaded), tag=tag)
            if cached is not None:
                items = [qwen_tts().VoiceClonePromptItem(**cached)]
        if items is None:
            items = loaded.tts.create_voice_clone_prompt(
                ref_audio=(ref.samples, ref.sr), ref_text=transcript or None, x_vector_only_mode=x_vector_only
            )
            if on_disk:
                self._save_prompt(library or self.voices, saved.name, _prompt_model_key(loaded), items[0], tag)
        self._prompts[key] = items
        while len(self._prompts) > _PROMPT_CACHE_SIZE:
            self._prompts.popitem(last=False)
        return items

    def _blend_with_neutral(
        self, loaded: LoadedModel, prompt: list, saved, tag: str, x_vector_only: bool, weight: float, library=None
    ):
        """The emotional prompt with its speaker embedding blended toward the neutral clip's (see :meth:`clone`)."""
        import dataclasses

        neutral = saved.clip(None)
        if neutral.file == saved.clip(tag).file:
            return prompt
        neutral_ref = resample(load_audio(saved.path / neutral.file), MODEL_SR)
        base = self._voice_prompt(
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

    # -- preset speakers and designed voices -----------------------------------------------------
    def custom(
        self,
        text: str,
        speaker: str,
        instruct: str = "",
        language: str = "Auto",
        model: str | None = None,
        seed: int | None = None,
        sampling: Sampling | None = None,
        progress: ProgressFn = no_progress,
        cancel: CancelToken | None = None,
        delivery: Delivery | None = None,
        emotion: str | None = None,
        intensity: float = 0.5,
        normalize: bool = True,
    ) -> SynthesisResult:
        """Speak ``text`` with one of CustomVoice's preset speakers.

        An ``emotion`` preset at ``intensity`` (0-1) and free ``instruct`` text
        compose the style instruction (1.7B only); ``result.instruction`` shows it.
        """
        text = check_text(text)
        seed = _check_request(seed, delivery)
        model_texts, notes = self._model_texts([text], normalize, delivery)
        is_preset = any(speaker.strip().lower() == n.lower() for n, _, _ in SPEAKERS)
        speaker = _speaker_name(speaker) if is_preset else speaker.strip()
        language = normalize_language(language)
        model = self._model_for(model, "custom_voice")
        if not is_preset and spec_for(model) is not None:  # an official checkpoint has the presets only
            _speaker_name(speaker)
        instruct = compose_instruction(emotion, intensity, instruct, instruction_language(text, language))
        remote = self.remote
        with self._session(remote, progress, cancel):
            loaded, load_seconds = self._acquire(model, "custom_voice", progress, cancel, remote)
            known = _checkpoint_speakers(loaded) if remote is None else ()
            if known and speaker.lower() not in {k.lower() for k in known}:  # e.g. a fine-tuned checkpoint's own
                _speaker_name(speaker, known)
            elif known and not is_preset:
                speaker = _speaker_name(speaker, known)
            if instruct and remote is None and loaded.info.size == "0.6b":
                raise InputError(
                    zh="0.6B CustomVoice 模型不支持风格指令。请清空指令，或换用 1.7B CustomVoice。",
                    en="The 0.6B CustomVoice model takes no style instruction. Clear it, or use 1.7B CustomVoice.",
                )
            result = self._generate(
                loaded,
                "generate_custom_voice",
                model_texts,
                seed,
                sampling,
                progress,
                cancel,
                load_seconds,
                delivery,
                speaker=speaker,
                language=language,
                instruct=instruct or None,
            )[0]
            result.instruction = instruct
            result.notes = list(notes[0]) + _remote_notes(remote, sampling) + accel_notes(result.timings)
            return result

    def design(
        self,
        text: str,
        description: str,
        language: str = "Auto",
        model: str | None = None,
        seed: int | None = None,
        sampling: Sampling | None = None,
        progress: ProgressFn = no_progress,
        cancel: CancelToken | None = None,
        delivery: Delivery | None = None,
        emotion: str | None = None,
        intensity: float = 0.5,
        normalize: bool = True,
    ) -> SynthesisResult:
        """Speak ``text`` in a new voice described in words (VoiceDesign), optionally with an emotion preset."""
        text = check_text(text)
        seed = _check_request(seed, delivery)
        model_texts, notes = self._model_texts([text], normalize, delivery)
        description = check_text(description, ("声音描述", "voice description"))
        language = normalize_language(language)
        model = self._model_for(model, "voice_design")
        lang = instruction_language(text, language)
        instruct = compose_instruction(None, 0.5, description, lang)
        if emotion:
            instruct = ("，" if lang == "zh" else ". ").join(
                [instruct, compose_instruction(emotion, intensity, "", lang)]
            )
        remote = self.remote
        with self._session(remote, progress, cancel):
            loaded, load_seconds = self._acquire(model, "voice_design", progress, cancel, remote)
            result = self._generate(
                loaded,
                "generate_voice_design",
                model_texts,
                seed,
                sampling,
                progress,
                cancel,
                load_seconds,
                delivery,
                instruct=instruct,
                language=language,
            )[0]
            result.instruction = instruct
            result.notes = list(notes[0]) + _remote_notes(remote, sampling) + accel_notes(result.timings)
            return result

    # -- shared ----------------------------------------------------------------------------------
    def _model_for(self, model: str | None, kind: str) -> str:
        """``model`` or the default for ``kind``; an unknown registry id fails here, before any work."""
        model = (model or "").strip() or self.manager.default_model(kind)
        spec_for(model)
        return model

    def _acquire(
        self, model: str, kind: str, progress: ProgressFn, cancel: CancelToken | None, remote: RemoteModel | None = None
    ) -> tuple[LoadedModel | RemoteModel, float | None]:
        """The model to generate with, and its load time when this call had to load it.

        With a remote engine that is the :class:`~studio.remote.RemoteModel` (nothing loads here;
        the server serves its own model of ``kind``, whatever ``model`` names).
        """
        if remote is not None:
            if cancel is not None:
                cancel.check()
            return remote, None
        before = self.manager.loaded
        loaded = self.manager.get(model, kind, progress, cancel)
        return loaded, (loaded.load_seconds if loaded is not before else None)

    def _generate(
        self,
        loaded: LoadedModel,
        method: str,
        texts: list[str],
        seed: int | None,
        sampling: Sampling | None,
        progress: ProgressFn,
        cancel: CancelToken | None,
        load_seconds: float | None,
        delivery: Delivery | None,
        **kwargs,
    ) -> list[SynthesisResult]:
        """Generate (N takes when a duration is targeted), fit each clip to its target, then polish it."""
        delivery = delivery or Delivery()
        delivery.check()
        takes = delivery.takes if delivery.duration is not None and len(texts) == 1 else 1
        # A clip longer than target / MIN_STRETCH can never be fitted: never generate one.
        # (one frame and rounding under the limit, so the longest possible take still fits)
        if delivery.duration is not None:
            from .text.pauses import total_pause

            max_seconds = (delivery.duration - total_pause(texts[0])) / MIN_STRETCH - 0.1
        else:
            max_seconds = None
        best: list[SynthesisResult] | None = None
        for take in range(takes):
            if cancel is not None:
                cancel.check()
            results = self._speak(
                loaded,
                method,
                texts,
                None if seed is None else seed + take,
                sampling,
                progress,
                cancel,
                max_seconds,
                **kwargs,
            )
            if delivery.checker is not None and len(texts) == 1:
                results[0].check = delivery.checker(results[0].samples, results[0].sr, texts[0])
            if best is None or _rank(results[0], delivery) < _rank(best[0], delivery):
                best = results
        for result, text in zip(best, texts, strict=True):
            result.model_text = text
            if load_seconds is not None:
                result.timings["load"] = load_seconds
            self._deliver(result, delivery)
        return best

    def _speak(self, loaded, method, texts, seed, sampling, progress, cancel, max_seconds, **kwargs):
        """Generate ``texts``; a long one goes sentence group by sentence group, joined with short pauses.

        Each piece costs the same bounded amount, so time grows linearly with
        the text's length instead of quadratically. Pause tags are never sent
        to the model: they become exact silence of their length.
        """
        plans = [_plan(t) for t in texts]
        if all(len(p) == 1 and p[0][1] == 0.0 for p in plans):
            return self._generate_once(loaded, method, texts, seed, sampling, progress, cancel, max_seconds, **kwargs)
        total = sum(1 for plan in plans for segment, _ in plan if segment) or 1
        done = 0
        results = []
        for plan in plans:
            parts: list[tuple[SynthesisResult | None, float]] = []
            for segment, pause in plan:
                if not segment:
                    parts.append((None, pause))
                    continue
                part_progress = _scaled_progress(progress, done / total, 1 / total, done + 1, total)
                part = self._generate_once(
                    loaded, method, [segment], seed, sampling, part_progress, cancel, max_seconds, **kwargs
                )[0]
                seed = part.seed  # every piece of one text in the same sampling state
                parts.append((part, pause))
                done += 1
            results.append(_join(parts))
        return results

    def _generate_once(self, loaded, method, texts, seed, sampling, progress, cancel, max_seconds, **kwargs):
        """One model call: on the local model, or on the remote engine (the one place the two differ)."""
        if not isinstance(loaded, LoadedModel):
            return loaded.generate(method, texts, seed, sampling, progress, cancel, max_seconds, **kwargs)
        import torch

        try:
            wavs, sr, seed, timings = run_generation(
                loaded.tts,
                method,
                texts,
                loaded.info.path.name,
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
                model=loaded.info.label,
                random_weights=loaded.info.is_random,
                max_new_tokens=int(timings["max_new_tokens"]),
                timings=dict(timings),
            )
            for w in wavs
        ]

    @staticmethod
    def _deliver(result: SynthesisResult, delivery: Delivery) -> None:
        """Fit ``result`` to its target length and polish it, in place.

        With written pauses only the speech is stretched and polished: the
        stretch target is the target minus the pauses, which stay exact silence.
        """
        from .silence import around_silences, exact_silences

        gaps = exact_silences(result.samples, result.sr) if result.pause_s else []
        held = sum(b - a for a, b in gaps) / result.sr
        target = resolve_target(result.seconds, delivery.duration, delivery.ratio)
        if target is not None:
            reports = []

            def fit(speech: np.ndarray) -> np.ndarray:
                fitted, report = fit_to_duration(speech, result.sr, max(target - held, 0.05))
                reports.append(report)
                return fitted

            result.samples = around_silences(result.samples, result.sr, fit, gaps)
            result.fit = reports[0] if reports else None
            gaps = exact_silences(result.samples, result.sr) if gaps else []
        if delivery.loudness is not None:
            loud = delivery.loudness

            def level(speech: np.ndarray) -> np.ndarray:
                return polish(speech, result.sr, loud, delivery.true_peak)

            result.samples = around_silences(result.samples, result.sr, level, gaps)
        if delivery.watermark:
            from . import watermark

            result.samples = around_silences(result.samples, result.sr, lambda x: watermark.embed(x, result.sr), gaps)


def _remote_notes(remote: RemoteModel | None, sampling: Sampling | None, blend: bool = False) -> list:
    """What a remote engine could not honour, as notes shown with the result."""
    if remote is None:
        return []
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


def _scaled_progress(progress: ProgressFn, start: float, span: float, part: int, parts: int) -> ProgressFn:
    """Map a piece's 0-1 progress onto [start, start + span] of the whole job; the status names the piece."""

    def report(fraction: float | None, message) -> None:
        status = message if isinstance(message, Status) else Status()
        progress(None if fraction is None else start + span * fraction, status.with_(part=part, parts=parts))

    return report


def _plan(text: str) -> list[tuple[str, float]]:
    """(segment, pause after it) for ``text``: split at pause tags, then into sentence groups.

    A pause of 0.0 means the usual short gap between segments (:data:`SEGMENT_PAUSE_S`);
    a segment '' carries only a pause (a tag at the start, or two tags in a row).
    """
    from .text import split_text
    from .text.pauses import split_pauses

    plan: list[tuple[str, float]] = []
    for piece, pause in split_pauses(text):
        speakable = any(c.isalnum() for c in piece)
        segments = [seg.text for seg in split_text(piece, max_chars=SEGMENT_CHARS)] if speakable else []
        plan += [(segment, 0.0) for segment in segments]
        if pause:
            if plan and plan[-1][1] == 0.0 and plan[-1][0]:
                plan[-1] = (plan[-1][0], pause)
            else:
                plan.append(("", pause))
    return plan or [(text, 0.0)]


def _join(parts: list[tuple[SynthesisResult | None, float]]) -> SynthesisResult:
    """One result from the pieces of a long text: a short gap between pieces, a written pause as exact silence."""
    spoken = [part for part, _ in parts if part is not None]
    if len(parts) == 1 and parts[0][1] == 0.0:
        return spoken[0]
    sr = spoken[0].sr
    dtype = spoken[0].samples.dtype
    chunks, pause_s = [], 0.0
    for k, (part, pause) in enumerate(parts):
        if part is not None:
            chunks.append(part.samples)
        if pause:
            chunks.append(np.zeros(round(pause * sr), dtype=dtype))
            pause_s += pause
        elif part is not None and k + 1 < len(parts):
            chunks.append(np.zeros(round(SEGMENT_PAUSE_S * sr), dtype=dtype))
    timings: dict[str, float] = {}
    for part in spoken:
        for key, value in part.timings.items():
            timings[key] = timings.get(key, 0.0) + value
    return SynthesisResult(
        samples=np.concatenate(chunks),
        sr=sr,
        seed=spoken[0].seed,
        model=spoken[0].model,
        random_weights=spoken[0].random_weights,
        max_new_tokens=sum(p.max_new_tokens for p in spoken),
        timings=timings,
        segments=len(spoken),
        pause_s=pause_s,
    )


def _prompt_model_key(loaded: LoadedModel) -> str:
    """A file-name-safe key for the model a prompt was built with: the registry id, or folder name + hash."""
    import re

    key = str(loaded.key)
    if re.fullmatch(r"[\w.\-]+", key):
        return key
    name = re.sub(r"[^\w.\-]+", "_", Path(key).name)[:40] or "model"
    return f"{name}-{hashlib.sha1(key.encode()).hexdigest()[:10]}"


def _distance(result: SynthesisResult, delivery: Delivery) -> float:
    return abs(result.seconds - delivery.duration) if delivery.duration is not None else 0.0


def _rank(result: SynthesisResult, delivery: Delivery) -> tuple[float, float]:
    """Best-of-N order (smaller first): the take check's score when takes are heard, then the length fit."""
    from .takecheck import rank_key

    return rank_key(result.check, _distance(result, delivery))


@dataclass
class Delivery:
    """What happens to the audio after generation: exact length and loudness."""

    duration: float | None = None  #: target length in seconds
    ratio: float | None = None  #: or a target as a ratio of the natural length (0.5-2.0)
    takes: int = 1  #: with a duration: generate this many takes and keep the closest
    loudness: float | None = DEFAULT_LUFS  #: integrated LUFS; None leaves the audio untouched
    true_peak: float = DEFAULT_TRUE_PEAK_DB
    watermark: bool = True  #: an inaudible "made by this studio" mark (studio.watermark)
    #: ``check(samples, sr, model_text) -> TakeCheck`` (:func:`studio.takecheck.checker`): each take is heard
    #: and best-of-N ranks by its score first, length fit second
    checker: Callable | None = None

    def check(self) -> None:
        """Refuse impossible settings before any generation starts."""
        if self.duration is not None:
            resolve_target(self.duration, seconds=self.duration)
        if self.ratio is not None:
            resolve_target(1.0, ratio=self.ratio)
        if self.duration is not None and self.ratio is not None:
            resolve_target(1.0, self.duration, self.ratio)
        if not 1 <= self.takes <= 8:
            raise InputError(
                zh=f"候选次数必须在 1 到 8 之间（收到 {self.takes}）。",
                en=f"Takes must be between 1 and 8 (got {self.takes}).",
            )
        if self.loudness is not None and not (-70 <= self.loudness <= 0 and -20 <= self.true_peak <= 0):
            raise InputError(
                zh=f"响度目标 {self.loudness} LUFS 或峰值上限 {self.true_peak} dBTP 超出范围（-70 到 0 LUFS，-20 到 0 dBTP）。",
                en=f"Loudness target {self.loudness} LUFS or peak ceiling {self.true_peak} dBTP is out of range "
                "(-70 to 0 LUFS, -20 to 0 dBTP).",
            )
