"""The studio's engine: every generating action, with no knowledge of Gradio or HTTP.

The UI, the CLI and the HTTP API are thin adapters: each builds a
:class:`~studio.speech.SpeechRequest` and calls :meth:`Engine.speak`
(``clone``, ``clone_batch``, ``custom`` and ``design`` are keyword-friendly
wrappers over it). Where the model call runs is a :mod:`studio.backends`
backend; long texts are cut and joined by :mod:`studio.long_text`; what happens
to the audio afterwards is :mod:`studio.delivery`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .audio import MODEL_SR, Audio, check_reference, load_audio, resample
from .backends import Backend, CloneVoice, LocalBackend, RemoteBackend
from .delivery import Delivery, deliver, rank
from .errors import InputError
from .limits import MAX_TEXT_CHARS
from .long_text import SEGMENT_CHARS, SEGMENT_PAUSE_S, join, plan, scaled_progress
from .models import LoadedModel, ModelManager, spec_for
from .progress import CancelToken, ProgressFn, no_progress
from .registry import SPEAKERS, normalize_language
from .speech import SpeechRequest, check_seed, check_text, instruction_language, speaker_name
from .speech_calls import SpeechCalls
from .style import compose_instruction
from .synthesis import Sampling, SynthesisResult, accel_notes
from .timing import MIN_STRETCH, check_target_reachable

if TYPE_CHECKING:
    from .remote import RemoteModel
    from .text import PreparedText, PronunciationDictionary

__all__ = [
    "MAX_TEXT_CHARS",
    "SEGMENT_CHARS",
    "SEGMENT_PAUSE_S",
    "Delivery",
    "Engine",
    "SpeechRequest",
    "check_seed",
    "check_text",
    "instruction_language",
]


class Engine(SpeechCalls):
    """Clone, custom-voice and voice-design generation over one :class:`ModelManager`.

    With a remote engine set (``remote_url`` in the settings, or ``STUDIO_REMOTE_URL``),
    the model call itself goes to that server (:class:`~studio.backends.RemoteBackend`)
    and no local model is loaded; everything around it (text, segments, takes, timing,
    loudness, watermark, voices) is the same.
    """

    def __init__(self, manager: ModelManager | None = None, voices=None) -> None:
        self.manager = manager or ModelManager()
        self._voices = voices
        self._dictionary: tuple[float, PronunciationDictionary] | None = None
        self._remote: RemoteModel | None = None
        self._local = LocalBackend(self.manager, lambda: self.voices)
        self._prompts = self._local.prompts  #: encoded references of the local model (cleared by benchmarks)

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

    @property
    def backend(self) -> Backend:
        """Where the next generation runs: the remote engine when one is set, else the local model."""
        remote = self.remote
        return RemoteBackend(remote) if remote is not None else self._local

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

    # -- the one way in ----------------------------------------------------------------------------
    def speak(
        self, request: SpeechRequest, progress: ProgressFn | None = None, cancel: CancelToken | None = None
    ) -> Iterator[SynthesisResult]:
        """Speak ``request.texts``: one :class:`~studio.synthesis.SynthesisResult` per text, in order.

        Everything about the request is checked before any model is loaded; the
        model's turn is held until the last result is out. Clones are batched
        (one model call for all texts); custom and designed voices go text by text.
        """
        progress = progress or no_progress
        kind = request.model_kind  # an unknown kind is refused here
        if kind != "base":  # the text first, then the settings (a clone checks its settings first)
            for text in request.texts:
                check_text(text)
        if request.delivery is not None:
            request.delivery.check()
        seed = check_seed(request.seed)
        if kind == "base":
            return iter(self._clone(request, seed, progress, cancel))
        speak_one = self._custom if kind == "custom_voice" else self._design
        return (speak_one(request, text, seed, progress, cancel) for text in request.texts)

    # -- voice cloning -------------------------------------------------------------------------
    def _clone(self, request: SpeechRequest, seed, progress: ProgressFn, cancel) -> list[SynthesisResult]:
        """Clone ``request.texts`` with one reference (or saved voice) in batched model calls."""
        model_texts, notes = self._model_texts(request.texts, request.normalize, request.delivery)
        language = normalize_language(request.language)
        model = self._model_for(request.model, "base")
        intensity = request.strength()
        if not 0.0 <= intensity <= 1.0:
            raise InputError(
                zh=f"强度必须在 0 到 1 之间（收到 {intensity}）。",
                en=f"Intensity must be between 0 and 1 (got {intensity}).",
            )
        reference, transcript, clip, saved, library = request.reference, request.transcript, request.clip, None, None
        if request.voice:
            library = request.library or self.voices
            saved = library.get(request.voice)
            trained = _trained(saved) if request.reference is None else None
            if trained is not None:  # a trained voice speaks with its own checkpoint, whatever Base is chosen
                own = replace(request, kind="custom", speaker=trained.speaker, model=str(trained.model), voice=None)
                own.emotion, own.instruct, own.intensity = None, "", None
                return [self._custom(own, text, seed, progress, cancel) for text in request.texts]
            chosen = saved.clip(clip)
            reference = saved.path / chosen.file
            transcript = chosen.transcript or saved.transcript
        elif reference is None:
            raise InputError(
                zh="请提供参考音频（上传或录音），或选择一个已保存的声音。",
                en="Give a reference clip (upload or record one), or choose a saved voice.",
            )
        transcript = (transcript or "").strip()
        if not request.x_vector_only and not transcript:
            raise InputError(
                zh="请填写参考音频的文字内容（逐字），或者勾选“仅用声纹（x-vector）”。",
                en="Type the reference clip's transcript (word for word), or tick 'x-vector only'.",
            )
        ref = reference if isinstance(reference, Audio) else load_audio(reference)
        check_reference(ref)
        ref = resample(ref, MODEL_SR)  # 24 kHz in: qwen-tts then skips its slow librosa resampling
        backend = self.backend
        blend = bool(saved is not None and clip and intensity < 1.0 and saved.clip(None).file != saved.clip(clip).file)
        voice = CloneVoice(saved, clip, library, intensity if blend else None) if saved is not None else None
        with backend.session(progress, cancel):
            loaded, load_seconds = backend.acquire(model, "base", progress, cancel)
            prompt = backend.clone_prompt(loaded, ref, transcript, request.x_vector_only, voice)
            results = self._generate(
                loaded,
                "generate_voice_clone",
                model_texts,
                seed,
                request.sampling,
                progress,
                cancel,
                load_seconds,
                request.delivery,
                language=language,
                voice_clone_prompt=prompt,
            )
        for result, warnings in zip(results, notes, strict=True):
            result.notes = [
                *warnings,
                *backend.notes(request.sampling, blend),
                *accel_notes(result.timings),
                *result.notes,
            ]
        return results

    # -- preset speakers and designed voices -----------------------------------------------------
    def _custom(self, request: SpeechRequest, text: str, seed, progress: ProgressFn, cancel) -> SynthesisResult:
        """One text with a preset (or fine-tuned) speaker; emotion and instruction composed into the style."""
        text = check_text(text)
        model_texts, notes = self._model_texts([text], request.normalize, request.delivery)
        speaker = request.speaker
        is_preset = any(speaker.strip().lower() == n.lower() for n, _, _ in SPEAKERS)
        speaker = speaker_name(speaker) if is_preset else speaker.strip()
        language = normalize_language(request.language)
        model = self._model_for(request.model, "custom_voice")
        if not is_preset and spec_for(model) is not None:  # an official checkpoint has the presets only
            speaker_name(speaker)
        lang = instruction_language(text, language)
        instruct = compose_instruction(request.emotion, request.strength(), request.instruct, lang)

        def prepare(backend: Backend, loaded) -> dict:
            name = speaker
            known = backend.speakers(loaded)
            if known and name.lower() not in {k.lower() for k in known}:  # e.g. a fine-tuned checkpoint's own
                speaker_name(name, known)
            elif known and not is_preset:
                name = speaker_name(name, known)
            backend.check_instruct(loaded, instruct)
            return {"speaker": name, "language": language, "instruct": instruct or None}

        job = (model_texts, notes[0], seed, instruct)
        return self._styled(request, "custom_voice", model, job, prepare, progress, cancel)

    def _design(self, request: SpeechRequest, text: str, seed, progress: ProgressFn, cancel) -> SynthesisResult:
        """One text in a voice described in words, optionally with an emotion preset."""
        text = check_text(text)
        model_texts, notes = self._model_texts([text], request.normalize, request.delivery)
        description = check_text(request.description, ("声音描述", "voice description"))
        language = normalize_language(request.language)
        model = self._model_for(request.model, "voice_design")
        lang = instruction_language(text, language)
        instruct = compose_instruction(None, 0.5, description, lang)
        if request.emotion:
            instruct = ("，" if lang == "zh" else ". ").join(
                [instruct, compose_instruction(request.emotion, request.strength(), "", lang)]
            )
        job = (model_texts, notes[0], seed, instruct)
        return self._styled(
            request,
            "voice_design",
            model,
            job,
            lambda *_: {"instruct": instruct, "language": language},
            progress,
            cancel,
        )

    def _styled(self, request: SpeechRequest, kind: str, model: str, job: tuple, prepare, progress, cancel):
        """Generate a custom or designed voice: ``job`` is (model texts, notes, seed, instruction);
        ``prepare(backend, loaded)`` checks the loaded model and returns the model call's own arguments."""
        model_texts, notes, seed, instruct = job
        backend = self.backend
        with backend.session(progress, cancel):
            loaded, load_seconds = backend.acquire(model, kind, progress, cancel)
            kwargs = prepare(backend, loaded)
            method = "generate_custom_voice" if kind == "custom_voice" else "generate_voice_design"
            result = self._generate(
                loaded,
                method,
                model_texts,
                seed,
                request.sampling,
                progress,
                cancel,
                load_seconds,
                request.delivery,
                **kwargs,
            )[0]
            result.instruction = instruct
            result.notes = [*notes, *backend.notes(request.sampling), *accel_notes(result.timings), *result.notes]
            return result

    # -- shared ----------------------------------------------------------------------------------
    def _model_for(self, model: str | None, kind: str) -> str:
        """``model`` or the default for ``kind``; an unknown registry id fails here, before any work."""
        model = (model or "").strip() or self.manager.default_model(kind)
        spec_for(model)
        return model

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
        """Generate (N takes with a target duration or a take checker), fit each clip to its target, then polish it."""
        delivery = delivery or Delivery()
        delivery.check()
        # best-of-N needs something to rank by: the length fit or the take check
        ranked = delivery.duration is not None or delivery.checker is not None
        takes = delivery.takes if ranked and len(texts) == 1 else 1
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
            results = self._generate_segmented(
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
                from .takecheck import hear_take

                hear_take(delivery.checker, results[0], texts[0])
            if best is None or rank(results[0], delivery) < rank(best[0], delivery):
                best = results
        for result, text in zip(best, texts, strict=True):
            result.model_text = text
            if load_seconds is not None:
                result.timings["load"] = load_seconds
            deliver(result, delivery)
        return best

    def _generate_segmented(self, loaded, method, texts, seed, sampling, progress, cancel, max_seconds, **kwargs):
        """Generate ``texts``; a long one goes sentence group by sentence group, joined with short pauses.

        Each piece costs the same bounded amount, so time grows linearly with
        the text's length instead of quadratically. Pause tags are never sent
        to the model: they become exact silence of their length.
        """
        plans = [plan(t) for t in texts]
        if all(len(p) == 1 and p[0][1] == 0.0 for p in plans):
            return self._generate_once(loaded, method, texts, seed, sampling, progress, cancel, max_seconds, **kwargs)
        total = sum(1 for pieces in plans for segment, _ in pieces if segment) or 1
        done = 0
        results = []
        for pieces in plans:
            parts: list[tuple[SynthesisResult | None, float]] = []
            for segment, pause in pieces:
                if not segment:
                    parts.append((None, pause))
                    continue
                part_progress = scaled_progress(progress, done / total, 1 / total, done + 1, total)
                part = self._generate_once(
                    loaded, method, [segment], seed, sampling, part_progress, cancel, max_seconds, **kwargs
                )[0]
                seed = part.seed  # every piece of one text in the same sampling state
                parts.append((part, pause))
                done += 1
            results.append(join(parts))
        return results

    def _generate_once(self, loaded, method, texts, seed, sampling, progress, cancel, max_seconds, **kwargs):
        """One model call, on the backend ``loaded`` came from."""
        backend = self._local if isinstance(loaded, LoadedModel) else RemoteBackend(loaded)
        return backend.generate(loaded, method, texts, seed, sampling, progress, cancel, max_seconds, **kwargs)


def _trained(voice):
    """The trained checkpoint of a saved voice (see :mod:`studio.finetune.library`), or None."""
    from .finetune.library import trained_voice

    return trained_voice(voice)
