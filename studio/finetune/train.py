"""The training loop: which weights learn, the optimiser, and resumable epochs.

Weights stay float32 (the master copy) and AdamW keeps float32 state; on a GPU
with bf16 the forward pass runs under bf16 autocast. LoRA (peft) on the
attention and MLP projections of the talker and the code predictor is the
default; ``lora_rank=0`` trains every talker weight instead. The text embedding
and the speaker encoder never learn (the speaker embedding is a fixed input).

A run lives in one folder: ``resume.pt`` (trainable weights, optimiser state,
where in which epoch the run stopped) and ``epoch-NNN.pt`` (the trainable
weights at the end of each epoch). The batch order of an epoch depends only on
the seed and the epoch number, so a cancelled run that resumes ends with the
same weights as one that never stopped.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import atomic
from ..errors import Cancelled, ConflictError
from ..progress import CancelToken, ProgressFn, no_progress
from .layout import Sample, build_batch, compute_losses

#: The linear layers LoRA adapts, in the talker's decoder layers and the code predictor's.
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
RESUME_FILE = "resume.pt"


@dataclass
class TrainOptions:
    """How to train; every field has a default that suits 10-30 minutes of speech."""

    epochs: int = 3
    batch_size: int = 2  #: utterances per forward pass
    grad_accum: int = 4  #: forward passes per optimiser step
    lr: float | None = None  #: default 1e-4 with LoRA, 1e-5 for full fine-tuning
    warmup_steps: int = 10  #: linear warm-up, then cosine decay to 10 % of lr
    max_grad_norm: float = 1.0
    weight_decay: float = 0.01
    lora_rank: int = 16  #: 0 = full fine-tuning of the talker (text embedding excluded)
    lora_alpha: int | None = None  #: default 2 x rank
    predictor_weight: float = 1.0  #: weight of the code-predictor loss against the talker's
    language: str = "Auto"  #: the language the voice will be used with: Auto, or as inference names it
    seed: int = 0

    def learning_rate(self) -> float:
        """The peak learning rate."""
        if self.lr is not None:
            return self.lr
        return 1e-4 if self.lora_rank else 1e-5

    def identity(self) -> dict:
        """What must match for a run to resume (the number of epochs may grow)."""
        data = asdict(self)
        data.pop("epochs")
        return data


@dataclass
class EpochRecord:
    """What one epoch did."""

    epoch: int  #: 1-based
    loss: float  #: mean total loss over its batches
    talker_accuracy: float
    predictor_accuracy: float
    seconds: float
    evaluation: dict | None = None  #: held-out speaking rate and speaker similarity (see evaluate.py)


@dataclass
class TrainState:
    """Where a run stands; saved in ``resume.pt``."""

    epoch: int = 0  #: 0-based epoch in progress (== epochs when done)
    batch: int = 0  #: batches of that epoch already done
    step: int = 0  #: optimiser steps so far
    history: list[EpochRecord] = field(default_factory=list)
    sums: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])  #: this epoch's loss/accuracy sums, batches


def _torch():
    from ..backend import torch

    return torch()


def attach_trainable(model, options: TrainOptions):
    """Freeze what must not learn and return ``(model, lora)``; ``lora`` is the peft wrapper or None.

    LoRA is injected into ``model.talker`` in place, so the layout code keeps calling the same modules.
    """
    model.float()  # master weights (and so AdamW state) in float32: bf16 would round small updates away
    for p in model.parameters():
        p.requires_grad_(False)
    lora = None
    if options.lora_rank > 0:
        from peft import LoraConfig, get_peft_model

        config = LoraConfig(
            r=options.lora_rank,
            lora_alpha=options.lora_alpha or 2 * options.lora_rank,
            lora_dropout=0.0,
            target_modules=list(LORA_TARGETS),
        )
        with _torch().random.fork_rng(devices=[]):  # LoRA's random init depends on the seed alone
            _torch().manual_seed(options.seed)
            lora = get_peft_model(model.talker, config)
    else:
        for name, p in model.talker.named_parameters():
            p.requires_grad_(not name.startswith("model.text_embedding."))
    return model, lora


def trainable_state(model) -> dict:
    """The weights that learn, by name (a copy on the CPU)."""
    return {n: p.detach().to("cpu", copy=True) for n, p in model.named_parameters() if p.requires_grad}


def load_trainable(model, state: dict) -> None:
    """Put weights saved by :func:`trainable_state` back into ``model``."""
    params = dict(model.named_parameters())
    missing = [n for n in state if n not in params]
    if missing:
        raise KeyError(f"not in the model: {missing[:3]}")
    with _torch().no_grad():
        for name, value in state.items():
            params[name].copy_(value)


def lr_at(step: int, total: int, options: TrainOptions) -> float:
    """Learning rate at optimiser step ``step`` (0-based): linear warm-up, cosine decay to 10 %."""
    peak = options.learning_rate()
    warm = max(1, options.warmup_steps)
    if step < warm:
        return peak * (step + 1) / warm
    span = max(1, total - warm)
    progress = min(1.0, (step - warm) / span)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def epoch_order(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The batches of one epoch: a shuffle that depends only on seed and epoch."""
    torch = _torch()
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    order = torch.randperm(n, generator=generator).tolist()
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def _save(path: Path, data: dict) -> None:
    with atomic.replacing(path) as tmp:  # a crash mid-write never leaves a half checkpoint
        _torch().save(data, tmp)


def _autocast(device):
    torch = _torch()
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    import contextlib

    return contextlib.nullcontext()


class Trainer:
    """Train ``model`` on ``samples`` for one speaker; checkpoints go to ``run_dir``."""

    def __init__(self, model, samples: list[Sample], speaker_embed, options: TrainOptions, run_dir, language_id=None):
        self.model, self.lora = attach_trainable(model, options)
        self.samples = samples
        self.speaker_embed = speaker_embed.detach().float()
        self.options = options
        self.language_id = language_id
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = _torch().optim.AdamW(params, lr=options.learning_rate(), weight_decay=options.weight_decay)
        self.state = TrainState()
        self.batches_per_epoch = math.ceil(len(samples) / options.batch_size)
        self.steps_per_epoch = math.ceil(self.batches_per_epoch / options.grad_accum)

    @property
    def total_steps(self) -> int:
        """Optimiser steps over the whole run."""
        return self.steps_per_epoch * self.options.epochs

    def resume(self) -> bool:
        """Load ``resume.pt`` if there is one; refuse one written with other options. True if resumed."""
        path = self.run_dir / RESUME_FILE
        if not path.is_file():
            return False
        data = _torch().load(path, map_location="cpu", weights_only=False)
        if data["options"] != self.options.identity() or data["samples"] != len(self.samples):
            raise ConflictError(
                zh=f"{self.run_dir} 里已有一次用不同设置或数据的训练。请换一个输出文件夹，或删掉其中的 {RESUME_FILE} 重新开始。",
                en=f"{self.run_dir} holds a run with other options or data. Use another output folder, "
                f"or delete its {RESUME_FILE} to start over.",
            )
        load_trainable(self.model, data["trainable"])
        self.optimizer.load_state_dict(data["optimizer"])
        state = data["state"]
        history = [EpochRecord(**r) for r in state.pop("history")]
        self.state = TrainState(**state, history=history)
        return True

    def _save_resume(self) -> None:
        state = asdict(self.state)
        _save(
            self.run_dir / RESUME_FILE,
            {
                "trainable": trainable_state(self.model),
                "optimizer": self.optimizer.state_dict(),
                "state": state,
                "options": self.options.identity(),
                "samples": len(self.samples),
            },
        )

    def epoch_path(self, epoch: int) -> Path:
        """Where the weights at the end of 1-based ``epoch`` are kept."""
        return self.run_dir / f"epoch-{epoch:03d}.pt"

    def _step(self) -> None:
        torch = _torch()
        params = [p for p in self.model.parameters() if p.requires_grad]
        torch.nn.utils.clip_grad_norm_(params, self.options.max_grad_norm)
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(self.state.step, self.total_steps, self.options)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.state.step += 1

    def run(
        self, progress: ProgressFn = no_progress, cancel: CancelToken | None = None, on_epoch=None
    ) -> list[EpochRecord]:
        """Train until ``options.epochs`` are done; on cancel, save where it stopped and raise :class:`Cancelled`.

        ``on_epoch(record) -> dict | None``, called at the end of each epoch, evaluates it.
        """
        opts = self.options
        device = self.speaker_embed.device
        self.model.train()
        started, done_at_start = time.monotonic(), self._batches_done()
        while self.state.epoch < opts.epochs:
            epoch = self.state.epoch
            batches = epoch_order(len(self.samples), opts.batch_size, opts.seed, epoch)
            sums = self.state.sums
            epoch_start = time.monotonic()
            for index in range(self.state.batch, len(batches)):
                group_start = index - index % opts.grad_accum
                group_size = min(opts.grad_accum, len(batches) - group_start)
                batch = build_batch(
                    self.model, [self.samples[i] for i in batches[index]], self.speaker_embed, self.language_id
                )
                with _autocast(device):
                    losses = compute_losses(self.model, batch, opts.predictor_weight)
                (losses.total / group_size).backward()
                for k, value in enumerate((losses.total.item(), losses.talker_accuracy, losses.predictor_accuracy, 1)):
                    sums[k] += value
                if index + 1 == group_start + group_size:
                    self._step()
                    self.state.batch = index + 1
                    self._report(progress, losses.total.item(), started, done_at_start)
                    if cancel is not None and cancel.cancelled and self.state.batch < len(batches):
                        self._save_resume()
                        raise Cancelled()
            n = max(1, sums[3])
            record = EpochRecord(epoch + 1, sums[0] / n, sums[1] / n, sums[2] / n, time.monotonic() - epoch_start)
            if on_epoch is not None:
                progress(None, f"evaluating epoch {epoch + 1}")
                record.evaluation = on_epoch(record)
            self.state.history.append(record)
            _save(self.epoch_path(epoch + 1), {"trainable": trainable_state(self.model), "record": asdict(record)})
            self.state.epoch, self.state.batch, self.state.sums = epoch + 1, 0, [0.0, 0.0, 0.0, 0.0]
            self._save_resume()
            if cancel is not None and cancel.cancelled and self.state.epoch < opts.epochs:
                raise Cancelled()
        self.model.eval()
        return self.state.history

    def _batches_done(self) -> int:
        return self.state.epoch * self.batches_per_epoch + self.state.batch

    def _report(self, progress: ProgressFn, loss: float, started: float, done_at_start: int) -> None:
        total = self.options.epochs * self.batches_per_epoch
        done = self._batches_done()
        rate = (time.monotonic() - started) / max(1, done - done_at_start)
        eta = rate * (total - done)
        progress(
            done / total,
            f"epoch {self.state.epoch + 1}/{self.options.epochs}  step {self.state.step}/{self.total_steps}  "
            f"loss {loss:.3f}  ETA {_clock(eta)}",
        )


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else f"{seconds // 60}:{seconds % 60:02d}"
    )
