"""The text tools of the studio's own API, which need no model: ``/api/readings``, ``/api/readings/pin``,
``/api/normalize`` and the pronunciation dictionary (``/api/dictionary``).

Unknown fields are errors here, as in :mod:`.native`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..errors import InputError, NotFoundError
from .context import ApiContext, context
from .errors import request_language

text_router = APIRouter(prefix="/api", tags=["Text"])


class CharacterReading(BaseModel):
    """The reading of one Chinese character, as the readings panel shows it."""

    position: int = Field(description="offset of the character in the text as sent (pin annotations included)")
    index: int = Field(description="offset once pin annotations and dictionary aliases are applied")
    char: str
    pinyin: str = Field(description="the reading used, tone marks (háng)")
    tone3: str = Field(description="the same with a tone digit (hang2; 5 = neutral)")
    is_polyphone: bool
    candidates: list[str] = Field(
        description="every reading the character has (tone marks), the context model's most probable first; "
        "pin one of these"
    )
    source: str = Field(description="pypinyin | model | phrase | rule | correction | dictionary | pinned")
    note: str = ""
    confidence: float | None = Field(
        None, description="the context model's probability of the reading used (1 for a pin; null: not scored)"
    )
    scores: list[float | None] = Field(
        default_factory=list, description="the model's probability of each candidate (null: not scored)"
    )
    low_confidence: bool = Field(False, description="the reading is unsure: check it first")


class TextNote(BaseModel):
    """Something text preparation changed or cannot honour."""

    code: str
    message: str
    position: int | None = None


class AppliedDictionaryRule(BaseModel):
    """A dictionary rule applied to ``text[start:end]``."""

    start: int
    end: int
    word: str
    kind: str
    value: str
    scope: str = ""


class ReadingsResponse(BaseModel):
    """What the readings panel shows for a text."""

    text: str = Field(description="the text as given (with its pins); positions index it")
    display_text: str = Field(description="what will be spoken, in your characters (numbers spelled out)")
    model_text: str = Field(description="what the model gets (pinned characters swapped for homophones)")
    characters: list[CharacterReading]
    polyphones: list[int] = Field(description="positions of characters with more than one reading or a pin")
    model_load_seconds: float | None = Field(
        None, description="how long the polyphone model took to load in this process (null: not loaded yet)"
    )
    warnings: list[TextNote]
    applied_rules: list[AppliedDictionaryRule]


class ReadingsRequest(BaseModel):
    """A text to read."""

    model_config = ConfigDict(extra="forbid")

    text: str
    normalize: bool = Field(True, description="spell out numbers, dates, units (2% -> 百分之二)")


class PinRequest(BaseModel):
    """Pin (or unpin) the reading of one character."""

    model_config = ConfigDict(extra="forbid")

    text: str
    position: int = Field(
        ge=0,
        validation_alias=AliasChoices("position", "index"),
        description="the character's position from /api/readings (its offset in text); 'index' is accepted too",
    )
    reading: str | None = Field(
        None, max_length=16, description="háng or hang2; null or empty removes the character's pin"
    )
    normalize: bool = True


class PinResponse(ReadingsResponse):
    """The text with the pin set, and its readings."""


class NormalizeRequest(BaseModel):
    """A text whose numbers and symbols to spell out."""

    model_config = ConfigDict(extra="forbid")

    text: str


def _readings(ctx: ApiContext, text: str, normalize: bool, lang: str) -> dict:
    from ..text import model_load_seconds, pinyin_report

    ctx.check_text(text)  # empty or too long: 400; positions index the text as given, so it is not stripped
    prepared = ctx.engine.prepare_text(text, normalize=normalize)
    characters = pinyin_report(text, dictionary=ctx.engine.dictionary)
    marked = []
    for entry in characters:
        if (entry["is_polyphone"] or entry["source"] != "pypinyin") and entry["position"] not in marked:
            marked.append(entry["position"])
    return {
        "text": text,
        "display_text": prepared.display_text,
        "model_text": prepared.model_text,
        "characters": characters,
        "polyphones": marked,
        "model_load_seconds": model_load_seconds(),
        "warnings": [{"code": w.code, "message": w.message(lang), "position": w.position} for w in prepared.warnings],
        "applied_rules": [
            {
                "start": a.start,
                "end": a.end,
                "word": a.rule.word,
                "kind": a.rule.kind,
                "value": a.rule.value,
                "scope": a.rule.scope,
            }
            for a in prepared.applied_rules
        ],
    }


@text_router.post("/readings", summary="readings of a text (polyphones and their candidates)")
async def readings(request: Request, body: ReadingsRequest) -> ReadingsResponse:
    """Per Chinese character: the reading predicted in context, whether it is a polyphone, the readings it
    could take; the text the model will get, and what preparation changed. Needs no model."""
    ctx = context(request)
    lang = request_language(request.headers, ctx.lang)
    return ReadingsResponse(**await run_in_threadpool(_readings, ctx, body.text, body.normalize, lang))


@text_router.post("/readings/pin", summary="pin the reading of one character")
async def pin(request: Request, body: PinRequest) -> PinResponse:
    """The text with the character at ``position`` pinned to ``reading`` (written inline as ``行(háng)``), or
    its pin removed when ``reading`` is empty; with the new text's readings."""
    ctx = context(request)
    lang = request_language(request.headers, ctx.lang)

    def run() -> dict:
        from ..text.pins import set_pin

        ctx.check_text(body.text)
        return _readings(ctx, set_pin(body.text, body.position, body.reading or None), body.normalize, lang)

    return PinResponse(**await run_in_threadpool(run))


@text_router.post("/normalize", summary="spell out numbers, dates, units")
async def normalize(request: Request, body: NormalizeRequest) -> dict:
    """``{"text": ...}`` with numbers, dates, times, percentages, money and units written as read."""
    from ..text import normalize as spell_out

    ctx = context(request)
    return {"text": spell_out(ctx.check_text(body.text))}


# -- the pronunciation dictionary -------------------------------------------------------------------


class DictionaryRule(BaseModel):
    """A rule: ``word`` is read as pinyin (``reading``: one syllable per character, * = any) or spoken as
    other text (``alias``); ``scope`` limits it to requests that ask for that scope."""

    model_config = ConfigDict(extra="forbid")

    word: str = Field(min_length=1, max_length=100)
    kind: Literal["reading", "alias"]
    value: str = Field(min_length=1, max_length=500)
    scope: str = Field("", max_length=100)


class DictionaryResponse(BaseModel):
    """Every rule, and the file's text (comments included)."""

    rules: list[DictionaryRule]
    tsv: str


class DictionaryReplace(BaseModel):
    """The whole dictionary: either its TSV text (comments kept) or a list of rules."""

    model_config = ConfigDict(extra="forbid")

    tsv: str | None = Field(None, max_length=1_000_000, description="word<TAB>reading|alias<TAB>value[<TAB>scope]")
    rules: list[DictionaryRule] | None = None


def _dictionary_file():
    from pathlib import Path

    from ..text import dictionary

    return Path(dictionary.DEFAULT_PATH)


def _dictionary_state() -> DictionaryResponse:
    from ..text import PronunciationDictionary

    path = _dictionary_file()
    text = path.read_text(encoding="utf-8-sig") if path.exists() else ""
    parsed = PronunciationDictionary.from_tsv(text, source=path.name)
    rules = [DictionaryRule(word=r.word, kind=r.kind, value=r.value, scope=r.scope) for r in parsed.rules]
    return DictionaryResponse(rules=rules, tsv=text)


def _write_dictionary(text: str) -> None:
    """Check ``text`` as a dictionary, then replace the file atomically."""
    from ..dubbing.project import write_text_atomic
    from ..text import PronunciationDictionary

    path = _dictionary_file()
    PronunciationDictionary.from_tsv(text, source=path.name)
    write_text_atomic(path, text if text.endswith("\n") or not text else text + "\n")


def _rule_row(rule: DictionaryRule) -> str:
    return "\t".join([rule.word, rule.kind, rule.value] + ([rule.scope] if rule.scope else []))


def _edit_dictionary(word: str, scope: str, new: DictionaryRule | None) -> bool:
    """Replace (``new``) or remove the rule for (word, scope) in place, keeping comments; whether it was there."""
    from ..text import PronunciationDictionary, PronunciationRule

    if new is not None:
        PronunciationDictionary([PronunciationRule(new.word, new.kind, new.value, new.scope)])  # 400 if invalid
    path = _dictionary_file()
    text = path.read_text(encoding="utf-8-sig") if path.exists() else ""
    if not text.strip():
        text = PronunciationDictionary().to_tsv()
    out, found = [], False
    for line in text.splitlines():
        fields = line.rstrip("\r").split("\t")
        is_rule = not line.lstrip().startswith("#") and len(fields) in (3, 4)
        if is_rule and fields[0].strip() == word and (fields[3].strip() if len(fields) == 4 else "") == scope:
            if new is not None and not found:
                out.append(_rule_row(new))
            found = True
            continue
        out.append(line)
    if new is None and not found:
        return False
    if new is not None and not found:
        out.append(_rule_row(new))
    _write_dictionary("\n".join(out) + "\n")
    return found


@text_router.get("/dictionary", summary="the pronunciation dictionary")
async def get_dictionary(request: Request) -> DictionaryResponse:
    """Every rule of ``presets/pronunciation.tsv`` (the dictionary the UI edits), and the file's text."""
    return await run_in_threadpool(_dictionary_state)


@text_router.put("/dictionary", summary="replace the pronunciation dictionary")
async def put_dictionary(request: Request, body: DictionaryReplace) -> DictionaryResponse:
    """Replace every rule: ``tsv`` (the file's text; comments kept) or ``rules``. Checked before writing;
    a bad rule is a 400 naming its line."""
    from ..text import PronunciationDictionary, PronunciationRule

    ctx = context(request)
    if (body.tsv is None) == (body.rules is None):
        raise InputError(zh="请给出 tsv 或 rules 之一。", en="Give either tsv or rules.", param="tsv")

    def run() -> DictionaryResponse:
        with ctx.dictionary_lock:
            if body.tsv is not None:
                _write_dictionary(body.tsv)
            else:
                rules = [PronunciationRule(r.word, r.kind, r.value, r.scope) for r in body.rules or []]
                _write_dictionary(PronunciationDictionary(rules).to_tsv())
            return _dictionary_state()

    return await run_in_threadpool(run)


@text_router.post("/dictionary/rules", summary="add or change one dictionary rule")
async def add_rule(request: Request, body: DictionaryRule) -> DictionaryResponse:
    """Add the rule, or replace the one for the same word and scope in place (the file's comments stay)."""
    ctx = context(request)

    def run() -> DictionaryResponse:
        with ctx.dictionary_lock:
            _edit_dictionary(body.word, body.scope, body)
            return _dictionary_state()

    return await run_in_threadpool(run)


@text_router.delete("/dictionary/rules", summary="remove one dictionary rule")
async def remove_rule(
    request: Request,
    word: Annotated[str, Query(min_length=1, max_length=100)],
    scope: Annotated[str, Query(max_length=100)] = "",
) -> DictionaryResponse:
    """Remove the rule for ``word`` (in ``scope``, default global); 404 when there is none."""
    ctx = context(request)

    def run() -> DictionaryResponse:
        with ctx.dictionary_lock:
            if not _edit_dictionary(word, scope, None):
                raise NotFoundError(
                    zh=f"词典里没有 “{word}” 的词条{f'（范围 {scope}）' if scope else ''}。",
                    en=f"The dictionary has no rule for '{word}'{f' in scope {scope}' if scope else ''}.",
                    param="word",
                )
            return _dictionary_state()

    return await run_in_threadpool(run)
