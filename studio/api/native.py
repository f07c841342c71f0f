"""The studio's own API: ``/api/clone``, ``/api/custom``, ``/api/design`` (JSON in, audio out),
``/api/uploads`` (a reference clip for later requests), ``/api/voices`` (aliases under
``/api/voices/{name}/aliases``, see :mod:`.voice_aliases`), ``/api/models``, ``/api/health``;
and the text tools, which need no model: ``/api/readings``, ``/api/readings/pin``, ``/api/normalize``,
``/api/dictionary``.

Unknown fields are errors here (a typo should not pass silently). Errors are
``{"error": <code>, "message": ...}`` with the status of the studio error.
Responses carry ``X-Seed``, ``X-Model`` and ``X-Segments`` headers; with an
exact length (``duration`` or ``ratio``) also ``X-Natural-Seconds``,
``X-Target-Seconds``, ``X-Final-Seconds`` and ``X-Stretch``.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..accel.chunks import MAX_CHUNK_FRAMES, ChunkPlan, chunk_plan
from ..audio import check_reference, load_audio, to_wav_bytes
from ..engine import Delivery
from ..errors import InputError, NotFoundError
from ..reference import detect_speech, no_speech_error
from ..registry import SPEAKERS
from ..synthesis import Sampling
from .app import UPLOAD_TTL_S, ApiContext, Job, Reference, context, parse_language
from .errors import request_language
from .streaming import segments, speech_response

router = APIRouter(prefix="/api", tags=["Studio"])
text_router = APIRouter(prefix="/api", tags=["Text"])

Format = Literal["wav", "pcm", "flac", "ogg", "opus", "mp3", "aac"]


class _Speech(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="what to say")
    language: str = Field("Auto", max_length=32, description="Auto, Chinese, English, ... or a code (zh, en)")
    model: str | None = Field(None, max_length=64, description="a registry id; default: the server's model")
    seed: int | None = Field(None, ge=-1, le=2**32 - 1, description="-1 or none: random (reported in X-Seed)")
    format: Format = "wav"
    speed: float = Field(1.0, ge=0.25, le=4.0, description="time-stretch, pitch kept")
    stream: bool = Field(False, description="send the audio while it is generated, in chunks of codec frames")
    chunk_frames: int | None = Field(
        None, ge=1, le=MAX_CHUNK_FRAMES, description="streamed chunk size in codec frames (12.5 a second; default 12)"
    )
    first_chunk_frames: int | None = Field(
        None, ge=1, le=MAX_CHUNK_FRAMES, description="the first streamed chunk's size (default 4: audio starts sooner)"
    )
    split: Literal["sentences", "none"] = Field("sentences", description="speak long text sentence by sentence")
    pause: float = Field(0.0, ge=0.0, le=5.0, description="seconds of silence between segments")
    temperature: float | None = Field(None, gt=0.0, le=2.0)
    top_k: int | None = Field(None, ge=1, le=1000)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    repetition_penalty: float | None = Field(None, ge=1.0, le=2.0)
    duration: float | None = Field(
        None,
        gt=0.0,
        le=600.0,
        description="exact length in seconds (0.3-600): the audio lasts this to the sample (edge silence, pauses, "
        "then a pitch-kept time-stretch); the text is spoken in one piece",
    )
    ratio: float | None = Field(None, ge=0.5, le=2.0, description="or a length as a ratio of the natural one (0.5-2)")
    takes: int = Field(1, ge=1, le=8, description="with a duration: generate this many takes, keep the closest")
    intensity: float | None = Field(None, ge=0.0, le=1.0, description="of the emotion (0-1; default 0.5, clone 1.0)")

    def delivery(self) -> Delivery | None:
        """The engine's exact-length control for ``duration`` / ``ratio`` / ``takes`` (None: natural length)."""
        if self.duration is None and self.ratio is None:
            if self.takes != 1:
                raise InputError(
                    zh="takes 只在指定 duration（目标时长）时有用。",
                    en="takes only applies with a target duration.",
                    param="takes",
                )
            return None
        if abs(self.speed - 1.0) > 1e-9:
            raise InputError(
                zh="speed 不能和 duration/ratio 一起用：目标时长已经决定了语速。",
                en="speed cannot be combined with duration or ratio: the target length sets the pace.",
                param="speed",
            )
        delivery = Delivery(duration=self.duration, ratio=self.ratio, takes=self.takes)
        delivery.check()
        return delivery

    def chunk_plan(self) -> ChunkPlan | None:
        """The request's streamed chunk sizes (None: the server's)."""
        if self.chunk_frames is None and self.first_chunk_frames is None:
            return None
        return chunk_plan(self.first_chunk_frames, self.chunk_frames)

    def job(self, ctx: ApiContext, kind: str, **fields) -> Job:
        """The :class:`Job` for this request (text, language, model and delivery checked)."""
        text = ctx.check_text(self.text)
        sampling = Sampling(
            temperature=self.temperature, top_k=self.top_k, top_p=self.top_p, repetition_penalty=self.repetition_penalty
        )
        delivery = self.delivery()
        whole = delivery is not None or self.split == "none"  # an exact length is for the whole text
        return Job(
            kind=kind,
            segments=[text] if whole else segments(text),
            language=parse_language(self.language),
            model=ctx.model_for(
                {"clone": "base", "custom": "custom_voice"}.get(kind, "voice_design"), self.model, True
            ),
            seed=self.seed,
            sampling=sampling,
            speed=self.speed,
            pause_s=self.pause,
            delivery=delivery,
            intensity=self.intensity,
            chunk_plan=self.chunk_plan(),
            **fields,
        )


def _emotion(name: str | None) -> str | None:
    """The preset id for ``name`` (id, Chinese or English name); 404 listing the presets when unknown."""
    from ..style import get_emotion

    if name is None or not name.strip():
        return None
    try:
        return get_emotion(name).id
    except NotFoundError as exc:
        raise NotFoundError(zh=exc.zh, en=exc.en, param="emotion") from None


class CloneRequest(_Speech):
    """Clone a voice: a saved ``voice``, an allowed ``ref_audio_path``, or a clip in ``ref_audio_base64``."""

    voice: str | None = Field(None, max_length=200, description="a saved voice's name")
    clip_tag: str | None = Field(None, max_length=32, description="which of the voice's clips (default neutral)")
    ref_audio_path: str | None = Field(None, max_length=1024, description="a file from /api/uploads or the library")
    ref_audio_base64: str | None = Field(None, description="a reference clip file (wav, mp3, flac, ogg), base64")
    transcript: str | None = Field(None, max_length=2000, description="what the reference says; default: stored")
    x_vector_only: bool = Field(False, description="clone from the speaker embedding alone")
    emotion: str | None = Field(
        None,
        max_length=32,
        description="with voice: use the voice's clip tagged with this emotion (Base models take no instruction); "
        "same as clip_tag",
    )


class CustomRequest(_Speech):
    """Speak with a preset speaker."""

    speaker: str = Field(max_length=64)
    instruct: str = Field("", max_length=2000, description="style instruction (1.7B CustomVoice)")
    emotion: str | None = Field(None, max_length=32, description="an emotion preset (1.7B CustomVoice), e.g. happy")


class DesignRequest(_Speech):
    """Speak in a voice described in words."""

    description: str = Field(max_length=2000)
    emotion: str | None = Field(None, max_length=32, description="an emotion preset, e.g. calm")


def _response_mode(req: _Speech) -> str:
    return "stream" if req.stream else "file"


def _reference(ctx: ApiContext, req: CloneRequest) -> Reference:
    given = [x for x in (req.voice, req.ref_audio_path, req.ref_audio_base64) if x]
    if len(given) != 1:
        raise InputError(
            zh="请只给出一个参考：voice、ref_audio_path 或 ref_audio_base64。",
            en="Give exactly one reference: voice, ref_audio_path or ref_audio_base64.",
            param="voice",
        )
    if req.ref_audio_base64:
        ref = Reference(
            audio=ctx.audio_from_base64(req.ref_audio_base64, "ref_audio_base64"), transcript="", label="upload"
        )
    elif req.voice:
        if ctx.saved_voice(req.voice) is None:
            raise ctx.unknown_voice(req.voice)
        ref = ctx.reference(req.voice, None, req.clip_tag)
    else:
        ref = ctx.reference(req.ref_audio_path)
    if req.transcript is not None and req.transcript.strip():
        ref.transcript = req.transcript.strip()
    if req.x_vector_only:
        ref.transcript = ""
    return ref


_AUDIO_RESPONSES: dict = {
    200: {
        "description": "the audio (``format``); headers X-Seed, X-Model, X-Segments, and with duration/ratio "
        "X-Natural-Seconds, X-Target-Seconds, X-Final-Seconds, X-Stretch",
        "content": {"audio/wav": {}, "audio/mpeg": {}, "audio/flac": {}, "audio/ogg": {}},
    }
}


def _clone_job(ctx: ApiContext, body: CloneRequest) -> Job:
    tags = {t.strip() for t in (body.clip_tag, body.emotion) if t and t.strip()}
    if len(tags) > 1:
        raise InputError(
            zh="clip_tag 和 emotion 指的是同一件事（用哪段片段），请只给一个。",
            en="clip_tag and emotion both choose the voice's clip; give one.",
            param="emotion",
        )
    tag = tags.pop() if tags else None
    if body.emotion and body.emotion.strip() and not body.voice:
        raise InputError(
            zh="emotion 选的是已保存声音的情绪片段，需要同时给出 voice。",
            en="emotion picks one of a saved voice's clips: give voice too.",
            param="emotion",
        )
    if body.intensity is not None:  # blending needs the saved voice itself, not just a clip
        if not body.voice or not tag:
            raise InputError(
                zh="克隆时 intensity 需要 voice（已保存的声音）和它的情绪片段（emotion 或 clip_tag）。",
                en="For cloning, intensity needs voice (a saved voice) and one of its emotion clips (emotion or clip_tag).",
                param="intensity",
            )
        if ctx.saved_voice(body.voice) is None:
            raise ctx.unknown_voice(body.voice)
        if body.ref_audio_path or body.ref_audio_base64:
            raise InputError(
                zh="请只给出一个参考：voice、ref_audio_path 或 ref_audio_base64。",
                en="Give exactly one reference: voice, ref_audio_path or ref_audio_base64.",
                param="voice",
            )
        ctx.library().clip_path(body.voice, tag)  # 404 naming the voice's tags
        return body.job(ctx, "clone", voice=body.voice, clip=tag, x_vector_only=body.x_vector_only)
    body = body.model_copy(update={"clip_tag": tag})
    return body.job(ctx, "clone", reference=_reference(ctx, body))


@router.post("/clone", summary="clone a voice", responses=_AUDIO_RESPONSES)
async def clone(request: Request, body: CloneRequest) -> Response:
    """Speak ``text`` in a saved voice or a given reference clip (Base model).

    ``duration`` (or ``ratio``) makes the audio last exactly that long; ``emotion``
    picks the voice's clip tagged with it, and ``intensity`` blends its timbre
    with the neutral clip's (0 = neutral timbre, emotional delivery; 1 = all emotional).
    """
    ctx = context(request)
    job = await run_in_threadpool(_clone_job, ctx, body)
    return await speech_response(ctx, job, body.format, _response_mode(body))


@router.post("/custom", summary="speak with a preset speaker", responses=_AUDIO_RESPONSES)
async def custom(request: Request, body: CustomRequest) -> Response:
    """Speak ``text`` with a preset speaker (CustomVoice model), optionally styled by ``emotion`` at
    ``intensity`` and ``instruct`` (1.7B only); ``duration`` or ``ratio`` sets an exact length."""
    ctx = context(request)

    def build() -> Job:
        speaker = ctx.speaker(body.speaker)
        if speaker is None:
            raise ctx.unknown_voice(body.speaker)
        emotion = _emotion(body.emotion)
        return body.job(ctx, "custom", speaker=speaker, instruct=body.instruct.strip(), emotion=emotion)

    job = await run_in_threadpool(build)
    return await speech_response(ctx, job, body.format, _response_mode(body))


@router.post("/design", summary="speak in a described voice", responses=_AUDIO_RESPONSES)
async def design(request: Request, body: DesignRequest) -> Response:
    """Speak ``text`` in a voice described in words (VoiceDesign model), optionally with an ``emotion`` at
    ``intensity``; ``duration`` or ``ratio`` sets an exact length."""
    ctx = context(request)
    job = await run_in_threadpool(
        lambda: body.job(ctx, "design", description=body.description, emotion=_emotion(body.emotion))
    )
    return await speech_response(ctx, job, body.format, _response_mode(body))


@router.post("/uploads", summary="upload a reference clip")
async def upload(request: Request, file: Annotated[UploadFile, File(description="wav, mp3, flac or ogg")]) -> dict:
    """Store a reference clip for an hour; its ``ref_audio_path`` works in /tts, / and /api/clone."""
    ctx = context(request)
    data = await file.read()

    def store() -> dict:
        ctx.purge_uploads()
        tmp = ctx.upload_dir / f"tmp-{uuid.uuid4().hex}"
        try:
            tmp.write_bytes(data)
            audio = load_audio(tmp)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        check_reference(audio)
        if not detect_speech(audio):  # noise, music, a test tone: nothing a voice can be cloned from
            raise no_speech_error()
        name = f"{uuid.uuid4().hex}.wav"
        (ctx.upload_dir / name).write_bytes(to_wav_bytes(audio.samples, audio.sr))
        return {"ref_audio_path": name, "seconds": round(audio.seconds, 3), "expires_in_s": int(UPLOAD_TTL_S)}

    return await run_in_threadpool(store)


@router.get("/voices", summary="saved voices and preset speakers")
async def voices(request: Request) -> dict:
    """Saved voices (name, language, transcript, tags, clip tags) and the preset speakers."""
    ctx = context(request)

    def listing() -> dict:
        saved = [
            {
                "name": v.name,
                "language": v.language,
                "transcript": v.transcript,
                "tags": list(v.tags),
                "clips": [c.tag for c in v.clips],
                "aliases": list(v.aliases),
            }
            for v in ctx.saved_voices()
        ]
        speakers = [{"name": n, "language": lang, "description": d} for n, lang, d in SPEAKERS]
        return {"voices": saved, "speakers": speakers}

    return await run_in_threadpool(listing)


@router.get("/models", summary="checkpoints and the server's choices")
async def models(request: Request) -> dict:
    """Every official checkpoint with its state, the models the server uses per kind, and the loaded one."""
    ctx = context(request)
    manager = ctx.engine.manager

    def listing() -> dict:
        from dataclasses import asdict

        rows = [asdict(s) for s in manager.statuses()]
        defaults = {k: ctx.models.get(k) or manager.default_model(k) for k in ("base", "custom_voice", "voice_design")}
        loaded = manager.loaded.info.label if manager.loaded is not None else None
        return {"models": rows, "defaults": defaults, "loaded": loaded}

    return await run_in_threadpool(listing)


@router.get("/health", summary="liveness, queue and loaded model (no key needed)")
async def health(request: Request) -> dict:
    """``{"status": "ok", "queue": {...}, "loaded": ..., "dubbing_jobs": {"queued": n, "running": n}}``."""
    ctx = context(request)
    loaded = ctx.engine.manager.loaded
    jobs = [j.status for j in ctx.jobs.list()] if ctx.jobs is not None else []
    return {
        "status": "ok",
        "queue": {"pending": ctx.gate.pending, "max_waiting": ctx.gate.max_waiting},
        "loaded": loaded.info.label if loaded is not None else None,
        "dubbing_jobs": {"queued": jobs.count("queued"), "running": jobs.count("running")},
    }


# -- text: readings, pins, normalisation, the pronunciation dictionary (no model) ------------------------


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
