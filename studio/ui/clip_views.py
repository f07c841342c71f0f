"""What the Voices tab shows, without Gradio: a reference clip's waveform and quality report, the trim, the table.

:mod:`studio.ui.voice_tab` wires these into components; tests use them directly, without importing Gradio.
"""

from __future__ import annotations

import numpy as np

from ..audio import Audio, load_audio
from ..errors import InputError
from ..reference import IDEAL_MAX_S, best_window, detect_speech, prepare_reference, quality_report
from .i18n import t

_LEVEL_ICON = {"error": "❌", "warning": "⚠️", "ok": "✅"}


def waveform_image(audio: Audio, regions: list[tuple[float, float]], window: tuple[float, float] | None):
    """A small PNG-ready picture: the waveform, detected speech in green, the proposed window outlined in blue."""
    from PIL import Image, ImageDraw

    width, height = 900, 140
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    seconds = max(audio.seconds, 1e-6)

    def x(s: float) -> int:
        return round(s / seconds * (width - 1))

    for start, end in regions:
        draw.rectangle([x(start), 0, x(end), height], fill=(214, 245, 214))
    samples = audio.samples
    edges = np.linspace(0, len(samples), width + 1).astype(int)
    mid = height // 2
    for i in range(width):
        chunk = samples[edges[i] : max(edges[i + 1], edges[i] + 1)]
        peak = float(np.max(np.abs(chunk))) if chunk.size else 0.0
        draw.line([i, mid - peak * (mid - 4), i, mid + peak * (mid - 4)], fill=(60, 60, 60))
    if window is not None:
        draw.rectangle([x(window[0]), 1, x(window[1]), height - 2], outline=(30, 90, 220), width=3)
    return image


def analyse_clip(path: str, lang: str) -> tuple[object, str, float, float]:
    """Waveform picture, quality report (markdown) and the proposed start/end of a reference recording."""
    audio = load_audio(path)
    regions = detect_speech(audio)
    report = quality_report(audio, regions)
    if regions:
        window = best_window(audio, regions) if audio.seconds > IDEAL_MAX_S else None
        start, end = window or (max(0.0, regions[0][0] - 0.1), min(audio.seconds, regions[-1][1] + 0.1))
    else:
        window, start, end = None, 0.0, audio.seconds
    lines = [
        t(
            "quality_summary",
            lang,
            duration=report.duration_s,
            speech=report.speech_s,
            ratio=report.speech_ratio * 100,
            snr=report.snr_db,
            clipping=report.clipping_ratio * 100,
            sr=report.sample_rate,
            lufs=report.loudness_lufs if report.loudness_lufs is not None else float("nan"),
        )
    ]
    lines += [f"- {_LEVEL_ICON.get(f.level, '')} {f.message(lang)}" for f in report.findings]
    if window is not None:
        lines.append(t("window_proposed", lang, start=window[0], end=window[1]))
    return waveform_image(audio, regions, (start, end)), "\n".join(lines), round(start, 2), round(end, 2)


def trimmed_reference(path: str, start: float, end: float):
    """The recording cut to ``start``-``end`` seconds and prepared (silence trimmed, loudness, 24 kHz)."""
    audio = load_audio(path)
    start, end = float(start or 0.0), float(end or audio.seconds)
    if not 0 <= start < end <= audio.seconds + 1e-3:
        raise InputError(
            zh=f"裁剪范围无效：{start:.2f}-{end:.2f} 秒（录音共 {audio.seconds:.2f} 秒）。开始必须小于结束。",
            en=f"Invalid trim range {start:.2f}-{end:.2f} s (the recording is {audio.seconds:.2f} s); "
            "start must be before end.",
        )
    cut = Audio(audio.samples[int(start * audio.sr) : int(end * audio.sr)], audio.sr)
    return prepare_reference(cut, window=False)


def library_rows(library, query: str = "") -> list[list]:
    """A voice library as table rows; ``query`` filters by name, tag, notes or transcript."""
    return [
        [
            v.name,
            v.language,
            ", ".join(c.tag for c in v.clips),
            v.transcript[:60],
            v.consent.date[:10] if v.consent.confirmed else "",
            v.updated[:10],
        ]
        for v in library.list(query=(query or "").strip() or None)
    ]
