"""The keyword-argument ways into the engine: ``clone``, ``clone_batch``, ``custom`` and ``design``.

Each builds one :class:`~studio.speech.SpeechRequest` and runs it through
:meth:`studio.engine.Engine.speak`; they exist for callers (scripts, the
dubbing runner, tests) that prefer a call to building a request.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .progress import CancelToken, ProgressFn, no_progress
from .speech import SpeechRequest

if TYPE_CHECKING:
    from .audio import Audio
    from .delivery import Delivery
    from .synthesis import Sampling, SynthesisResult


class SpeechCalls:
    """The keyword wrappers :class:`~studio.engine.Engine` offers over its ``speak``."""

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
        request = SpeechRequest(
            "clone",
            list(texts),
            reference=reference,
            transcript=transcript,
            x_vector_only=x_vector_only,
            voice=voice,
            clip=clip,
            library=library,
            language=language,
            intensity=intensity,
            model=model,
            seed=seed,
            sampling=sampling,
            delivery=delivery,
            normalize=normalize,
        )
        return list(self.speak(request, progress, cancel))

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
        request = SpeechRequest(
            "custom",
            [text],
            speaker=speaker,
            instruct=instruct,
            language=language,
            model=model,
            seed=seed,
            sampling=sampling,
            delivery=delivery,
            emotion=emotion,
            intensity=intensity,
            normalize=normalize,
        )
        return next(iter(self.speak(request, progress, cancel)))

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
        request = SpeechRequest(
            "design",
            [text],
            description=description,
            language=language,
            model=model,
            seed=seed,
            sampling=sampling,
            delivery=delivery,
            emotion=emotion,
            intensity=intensity,
            normalize=normalize,
        )
        return next(iter(self.speak(request, progress, cancel)))
