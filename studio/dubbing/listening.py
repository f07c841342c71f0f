"""The dubbing side's use of the recogniser: whether takes are checked by ear, and word-caption timing.

``check_takes`` (project setting) True checks every take, False never; None
(the default) checks when a GPU is there and a recogniser is on disk (on a CPU
the check costs about as much as generating: see ``bench/take_check_cost.py``).
``word_captions`` None follows the same choice. Never downloads a model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import NotFoundError
from .project import DubSettings, Project

AUTO = "auto"


def recogniser_folder() -> Path | None:
    """The recogniser on this machine (see :func:`studio.asr.status`), or None."""
    from .. import asr

    state = asr.status()
    return state.model if state.available else None


def _gpu() -> bool:
    try:
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    except Exception:  # no CTranslate2 or no driver: no GPU for the recogniser
        return False


def _wanted(setting: bool | None, settings: DubSettings | None = None) -> Path | None:
    """The recogniser folder when ``setting`` (True/False/None = automatic) asks for it, else None.

    The project's own recogniser (``settings.asr_model``, e.g. the one a re-dub transcribed with) comes first.
    """
    if setting is False or (setting is None and not _gpu()):
        return None
    if settings is not None and settings.asr_model:
        from ..recogniser import validate

        return validate(settings.asr_model)
    folder = recogniser_folder()
    if setting is True and folder is None:
        from .. import asr

        state = asr.status()
        raise NotFoundError(
            zh=f"项目设置要求语音识别（逐条听写检查或逐字字幕），但没有可用的模型。{state.zh}",
            en="The project asks for the recogniser (takes checked by ear or word captions), but none is "
            f"available. {state.en}",
        )
    return folder


def _language(settings: DubSettings) -> str | None:
    from ..recogniser import language_code

    try:
        return language_code(settings.language)
    except Exception:  # a language the recogniser lacks: let it detect
        return None


def take_checker(project: Project) -> Callable | None:
    """A ``check(samples, sr, text) -> TakeCheck`` for the project's takes, or None when not checking."""
    folder = _wanted(project.settings.check_takes, project.settings)
    if folder is None:
        return None
    from ..takecheck import checker

    return checker(folder, _language(project.settings))


def word_transcriber(project: Project) -> Callable | None:
    """A ``transcribe(samples, sr, text) -> Transcript`` for word captions, or None when they are not made."""
    settings = project.settings
    wanted = settings.word_captions if settings.word_captions is not None else settings.check_takes
    folder = _wanted(wanted, settings)
    if folder is None:
        return None
    language = _language(settings)

    def transcribe(samples: np.ndarray, sr: int, text: str = ""):
        from .. import recogniser
        from ..takecheck import token_budget

        audio = np.asarray(samples, dtype=np.float32)
        if sr != recogniser.SAMPLE_RATE:
            import soxr

            audio = soxr.resample(audio, sr, recogniser.SAMPLE_RATE).astype(np.float32)
        budget = token_budget(text) if text else None
        return recogniser.get(folder).transcribe(audio, language, vad=False, greedy=True, max_new_tokens=budget)

    return transcribe


def check_take(check: Callable, project: Project, line, index: int | None = None) -> dict | None:
    """Check the line's chosen take (or take ``index``) and store the result with it; None when it cannot be heard.

    A recogniser that fails (damaged model, out of memory) leaves the take unchecked, with a log line:
    a take is never lost because its check failed.
    """
    import logging

    from ..errors import Cancelled, StudioError
    from .take_files import read_take, take_path
    from .voicing import spoken_text

    take = line.takes[line.chosen if index is None else index]
    samples = read_take(project, line, index)
    if samples is None:
        return None
    import soundfile as sf

    sr = sf.info(str(take_path(project, line, index))).samplerate
    try:
        result = check(samples, sr, spoken_text(line))
    except Cancelled:
        raise
    except StudioError as exc:
        logging.getLogger(__name__).warning("could not check %s: %s", take.file, exc.en)
        return None
    take.check = result.to_dict()
    return take.check


def fit_distance(line, seconds: float) -> float:
    """How far a take of ``seconds`` is from the line's slot or target length (0 without one)."""
    target = line.end - line.start if line.timed else line.duration
    return abs(seconds - target) if target is not None else 0.0


def choose_best(line, digest: str) -> int:
    """Make the best checked take with ``digest`` the chosen one (check score first, then length fit)."""
    from ..takecheck import TakeCheck, rank_key

    checked = [(k, t) for k, t in enumerate(line.takes) if t.hash == digest and t.check is not None]
    if checked:
        best = min(
            checked, key=lambda kt: rank_key(TakeCheck.from_dict(kt[1].check), fit_distance(line, kt[1].seconds))
        )
        line.chosen = best[0]
    return line.chosen


def is_wrong(check: dict | None) -> bool:
    """Whether a stored check says the take does not sound like its text."""
    return check is not None and not check.get("ok", True)


def heard_cell(check: dict | None) -> str:
    """A table cell for a stored check, the same in every language: "✓ 3%" or "⚠ 17% 「what was heard」"."""
    if check is None:
        return ""
    rate = f"{float(check.get('cer', 0.0)):.0%}"
    if not is_wrong(check):
        return f"✓ {rate}"
    heard = str(check.get("heard", ""))
    return f"⚠ {rate} 「{heard[:60]}{'…' if len(heard) > 60 else ''}」"


def check_report(check: dict | None, lang: str = "zh") -> dict | None:
    """A stored check for a reader: error rate, ok, the flags in words (``lang``) and what was heard."""
    if check is None:
        return None
    from ..takecheck import TakeCheck

    result = TakeCheck.from_dict(check)
    return {
        "ok": result.ok,
        "cer": result.cer,
        "score": result.score,
        "flags": [f.kind for f in result.flags],
        "problems": [f.describe(lang) for f in result.flags],
        "heard": result.heard,
    }
