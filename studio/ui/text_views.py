"""What the text controls show, without Gradio: the readings view, the text sent to the model, timing values.

:mod:`studio.ui.controls` wires these into components; tests use them directly, without importing Gradio.
"""

from __future__ import annotations

from ..engine import Delivery, Engine
from ..text import pinyin_report
from ..text.pauses import PAUSE_TAG, find_pauses
from .i18n import t
from .markdown import escape_md


def reading_highlights(engine: Engine, text: str, lang: str = "zh") -> list[tuple[str, str | None]]:
    """One ``(character, label)`` per character of ``text``: polyphones and pinned characters carry their pinyin.

    Index ``i`` of the list is index ``i`` of ``text``, so a click maps straight
    back to the character to pin. A pause tag's first character carries the pause's length.
    """
    if not (text or "").strip():
        return []
    pauses = find_pauses(text)
    labels: dict[int, str] = {p.start: t("pause_mark", lang, s=f"{p.seconds:g}") for p in pauses}
    labels.update({i: None for p in pauses for i in range(p.start + 1, p.end)})  # a tag's own letters: no reading
    for entry in pinyin_report(text, dictionary=engine.dictionary):
        if entry["position"] in labels or not (entry["is_polyphone"] or entry["source"] != "pypinyin"):
            continue
        mark = "📌" if entry["source"] == "pinned" else ("⚠" if entry.get("low_confidence") else "")
        labels[entry["position"]] = f"{mark}{entry['pinyin']}"
    return [(char, labels.get(i)) for i, char in enumerate(text)]


def reading_candidates(engine: Engine, text: str, position: int) -> list[str]:
    """The readings (tone marks) a user can pin on the character at ``position``, the most probable first."""
    return [value for _, value in reading_choices(engine, text, position)]


def reading_choices(engine: Engine, text: str, position: int) -> list[tuple[str, str]]:
    """``(label, reading)`` per candidate at ``position``, most probable first; the label shows the model's
    probability ("háng · 89%") where it scores the reading."""
    for entry in pinyin_report(text, dictionary=engine.dictionary):
        if entry["position"] == position:
            scores = entry.get("scores") or [None] * len(entry["candidates"])
            return [
                (f"{c} · {s:.0%}" if s is not None else c, c) for c, s in zip(entry["candidates"], scores, strict=True)
            ]
    return []


def model_text_markdown(engine: Engine, text: str, normalize: bool, lang: str) -> str:
    """What will be sent to the model, and what preparation changed."""
    if not (text or "").strip():
        return ""
    prepared = engine.prepare_text(text, normalize=normalize)
    pauses = find_pauses(prepared.model_text)
    spoken = PAUSE_TAG.sub(
        lambda m: f" {t('pause_mark', lang, s=f'{find_pauses(m.group(0))[0].seconds:g}')} ", prepared.model_text
    )
    lines = [t("sent_to_model", lang, text=escape_md(spoken.strip()))]
    if pauses:
        total = f"{sum(p.seconds for p in pauses):g}"
        lines.append(f"- {t('pauses_note', lang, n=len(pauses), s=total)}")
    lines += [f"- {escape_md(w.message(lang))}" for w in prepared.warnings]
    lines += [f"- {escape_md(a.rule.word)} → {escape_md(a.rule.value)}" for a in prepared.applied_rules]
    return "\n".join(lines)


def delivery_from(duration, ratio, takes) -> Delivery:
    """The engine's :class:`Delivery` from the controls' values (0 s and ratio 1 mean natural length)."""
    seconds = float(duration) if duration not in (None, "") else 0.0
    factor = float(ratio) if ratio not in (None, "") else 1.0
    return Delivery(
        duration=seconds if seconds != 0 else None,
        ratio=factor if seconds == 0 and abs(factor - 1.0) > 1e-9 else None,
        takes=int(takes or 1),
    )
