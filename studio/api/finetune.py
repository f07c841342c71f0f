"""Training a voice over HTTP: upload a data set, start a job, poll it, cancel, resume, play its A/B pairs.

- ``POST /api/finetune/datasets`` (multipart ``files``: ``*.wav`` clips with same-named ``*.txt``
  transcripts, or one long recording) makes a data set and answers its id; ``POST
  /api/finetune/datasets/{id}`` adds more files (a body is bounded, a data set is not sent at once).
- ``POST /api/finetune/jobs`` starts training on a data set: the voice's name, the Base model (a
  registry id, default the server's), LoRA rank, epochs, and the consent. The data folder and the
  output folder are the server's own (under ``outputs/finetune``): a request never names a path.
- ``GET /api/finetune/jobs/{id}``: state, step, epoch, loss, ETA and the per-epoch report;
  ``POST .../cancel`` stops after the current step, ``POST .../resume`` goes on from there.
- ``GET /api/finetune/jobs/{id}/ab/{file}``: an epoch's A/B pair (trained vs zero-shot clone).

The finished voice joins the server's voice library under its name, so every dialect speaks with it.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..errors import InputError, NotFoundError
from ..finetune.data import AUDIO_SUFFIXES
from ..finetune.train import TrainOptions
from ..paths import outputs_dir
from .context import context

router = APIRouter(prefix="/api/finetune", tags=["Studio"])

MAX_DATASET_FILES = 2000
_FILE_NAME = re.compile(r"^[\w][\w .()-]{0,119}$")
_DATASET = re.compile(r"^[0-9a-f]{12}$")
_AB_FILE = re.compile(r"^(epoch-\d{3}|zero-shot)\.wav$")


def _root(request: Request) -> Path:
    return Path(getattr(request.app.state, "training_root", None) or outputs_dir() / "finetune")


def _jobs(request: Request):
    """The app's training jobs (made on first use, with the server's voice library)."""
    state = request.app.state
    if getattr(state, "training", None) is None:
        from ..finetune.jobs import TrainingJobs

        state.training = TrainingJobs(library=context(request).library())
    return state.training


def _dataset(request: Request, dataset_id: str) -> Path:
    folder = _root(request) / "datasets" / dataset_id
    if not _DATASET.match(dataset_id or "") or not folder.is_dir():
        raise NotFoundError(
            zh=f"没有数据集 {dataset_id}，请先上传片段。",
            en=f"No data set {dataset_id}; upload the clips first.",
            param="dataset",
        )
    return folder


def _store(folder: Path, files: list[tuple[str, bytes]]) -> dict:
    present = sum(1 for _ in folder.iterdir())
    if present + len(files) > MAX_DATASET_FILES:
        raise InputError(
            zh=f"一个数据集最多 {MAX_DATASET_FILES} 个文件。",
            en=f"A data set holds at most {MAX_DATASET_FILES} files.",
            param="files",
        )
    for name, data in files:
        plain = Path((name or "").replace("\\", "/")).name
        if not _FILE_NAME.match(plain) or not plain.lower().endswith((*AUDIO_SUFFIXES, ".txt")):
            raise InputError(
                zh=f"文件名“{name}”不可用：只接受 .wav/.flac/.mp3/.m4a/.ogg 音频和同名 .txt 文字稿。",
                en=f"The file name '{name}' cannot be used: only .wav/.flac/.mp3/.m4a/.ogg audio and same-named "
                ".txt transcripts.",
                param="files",
            )
        (folder / plain).write_bytes(data)
    names = sorted(p.name for p in folder.iterdir())
    return {"dataset": folder.name, "files": len(names), "names": names}


async def _read(files: list[UploadFile]) -> list[tuple[str, bytes]]:
    return [(f.filename or "", await f.read()) for f in files]


@router.post("/datasets", summary="upload clips and transcripts for training")
async def new_dataset(request: Request, files: Annotated[list[UploadFile], File(description="clips and .txt")]) -> dict:
    """A new data set from the uploaded files; answers its id."""
    data = await _read(files)

    def make() -> dict:
        folder = _root(request) / "datasets" / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True)
        return _store(folder, data)

    return await run_in_threadpool(make)


@router.post("/datasets/{dataset_id}", summary="add files to a data set")
async def add_to_dataset(
    request: Request, dataset_id: str, files: Annotated[list[UploadFile], File(description="clips and .txt")]
) -> dict:
    """More files for an existing data set (a name sent again replaces the file)."""
    folder = _dataset(request, dataset_id)
    data = await _read(files)
    return await run_in_threadpool(_store, folder, data)


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(max_length=12, description="the id POST /api/finetune/datasets answered")
    name: str = Field(max_length=64, description="the voice's name in the library (its speaker name, lower case)")
    base: str | None = Field(None, max_length=64, description="0.6b-base or 1.7b-base; default: the server's Base")
    lora: int = Field(16, ge=0, le=256, description="LoRA rank; 0 = full fine-tuning")
    epochs: int = Field(3, ge=1, le=100)
    batch_size: int = Field(2, ge=1, le=64)
    grad_accum: int = Field(4, ge=1, le=256)
    language: str = Field("Auto", max_length=32)
    reference: str | None = Field(None, max_length=120, description="the clip whose voice print becomes the voice")
    eval_sentences: int = Field(3, ge=0, le=3)
    consent: bool = Field(False, description="the voice is yours, or its owner agreed (required)")
    consent_by: str = Field("", max_length=200)


@router.post("/jobs", summary="start training a voice", status_code=202)
async def start(request: Request, body: TrainRequest) -> dict:
    """Start training on an uploaded data set; poll ``GET /api/finetune/jobs/{id}``."""
    from ..finetune.job import FinetuneRequest
    from ..finetune.library import require_consent

    ctx = context(request)
    require_consent(body.consent)
    folder = _dataset(request, body.dataset)
    base = ctx.model_for("base", body.base, strict=True)
    options = TrainOptions(
        epochs=body.epochs,
        batch_size=body.batch_size,
        grad_accum=body.grad_accum,
        lora_rank=body.lora,
        language=body.language,
    )
    out = _root(request) / "voices" / f"{uuid.uuid4().hex[:12]}"
    job_request = FinetuneRequest(
        data_dir=str(folder),
        name=body.name,
        base=base or "0.6b-base",
        out=str(out),
        options=options,
        reference=body.reference,
        eval_sentences=body.eval_sentences,
        consent=True,
        consent_by=body.consent_by,
    )
    job = _jobs(request).start(job_request)
    return job.snapshot(ctx.lang)


@router.get("/jobs/{job_id}", summary="a training job's progress and per-epoch report")
async def status(request: Request, job_id: str) -> dict:
    """State, step, epoch, loss, ETA, and each finished epoch's loss, evaluation and A/B files."""
    return await run_in_threadpool(lambda: _jobs(request).get(job_id).snapshot(context(request).lang))


@router.post("/jobs/{job_id}/cancel", summary="stop a training job after its current step")
async def cancel(request: Request, job_id: str) -> dict:
    """The run's state is kept: resume it later."""
    return _jobs(request).cancel(job_id).snapshot(context(request).lang)


@router.post("/jobs/{job_id}/resume", summary="go on with a cancelled or failed training job")
async def resume(request: Request, job_id: str) -> dict:
    """Starts again from the last saved step, with the same data and options."""
    return _jobs(request).resume(job_id).snapshot(context(request).lang)


@router.get("/jobs/{job_id}/ab/{file}", summary="an epoch's A/B clip (trained or zero-shot)")
async def ab_clip(request: Request, job_id: str, file: str) -> FileResponse:
    """``epoch-NNN.wav`` (the trained model) or ``zero-shot.wav`` (the Base cloning the same reference)."""
    job = _jobs(request).get(job_id)
    path = Path(job.request.out) / "training" / "ab" / file
    if not _AB_FILE.match(file) or not path.is_file():
        raise NotFoundError(zh=f"没有这个试听文件：{file}。", en=f"No such A/B clip: {file}.", param="file")
    return FileResponse(path, media_type="audio/wav")
