"""``python -m studio finetune DATA_DIR --name NAME --base 0.6b-base --out DIR``: train a voice of your own.

The first Ctrl-C stops at the next optimiser step and keeps the run's state in
``DIR/training``; running the same command again resumes it. A second Ctrl-C
stops at once (the last epoch's state is still there).
"""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

from ..cli_messages import message, say
from ..errors import InputError
from ..progress import CancelToken, TqdmProgress
from .train import TrainOptions

MAX_EPOCHS = 100


def add_finetune_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``finetune`` subcommand to ``subparsers`` (of ``studio.cli.build_parser``)."""
    p = subparsers.add_parser("finetune", help="train a voice of your own from 10-30 minutes of recordings")
    p.add_argument(
        "data_dir", metavar="DATA_DIR", help="*.wav clips with same-named *.txt transcripts, or one recording"
    )
    p.add_argument("--name", required=True, help="the new speaker's name (used as --speaker later)")
    p.add_argument("--base", default="0.6b-base", help="0.6b-base, 1.7b-base or a Base checkpoint folder")
    p.add_argument("--out", required=True, help="folder for the trained CustomVoice checkpoint")
    p.add_argument("--lora", type=int, default=16, metavar="R", help="LoRA rank (default 16); 0 = full fine-tuning")
    p.add_argument("--epochs", type=int, default=3, help="passes over the data (default 3)")
    p.add_argument("--batch-size", type=int, default=2)
    p.add_argument("--grad-accum", type=int, default=4, help="batches per optimiser step (default 4)")
    p.add_argument("--lr", type=float, help="peak learning rate (default 1e-4 LoRA, 1e-5 full)")
    p.add_argument("--language", default="Auto", help="language the voice will speak: Auto (default), Chinese, ...")
    p.add_argument("--reference", help="the clip (file name) whose voice print becomes the speaker's")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--eval-sentences",
        type=int,
        default=3,
        help="held-out sentences spoken after each epoch to pick the best (0-3)",
    )
    p.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"], default="auto")
    p.add_argument("--consent", action="store_true", help="confirm the voice is yours or its owner agreed (required)")
    p.add_argument("--consent-by", default="", help="who gave the consent (kept in the voice's record)")
    p.add_argument("--no-library", action="store_true", help="do not add the result to the voice library")
    p.set_defaults(func=cmd_finetune)
    return p


def _options(args) -> TrainOptions:
    if not 1 <= args.epochs <= MAX_EPOCHS:
        raise InputError(zh=f"--epochs 需要在 1-{MAX_EPOCHS} 之间。", en=f"--epochs must be 1-{MAX_EPOCHS}.")
    if not 0 <= args.lora <= 256 or not 1 <= args.batch_size <= 64 or not 1 <= args.grad_accum <= 256:
        raise InputError(
            zh="--lora 需要 0-256，--batch-size 1-64，--grad-accum 1-256。",
            en="--lora must be 0-256, --batch-size 1-64, --grad-accum 1-256.",
        )
    if args.lr is not None and not 0 < args.lr < 1:
        raise InputError(zh="--lr 需要在 0 和 1 之间。", en="--lr must be between 0 and 1.")
    return TrainOptions(
        epochs=args.epochs,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        lr=args.lr,
        lora_rank=args.lora,
        language=args.language,
        seed=args.seed,
    )


def cmd_finetune(args) -> int:
    from ..cli import user_language
    from ..errors import Cancelled
    from .job import FinetuneRequest, run_finetune

    lang = user_language()
    request = FinetuneRequest(
        data_dir=args.data_dir,
        name=args.name,
        base=args.base,
        out=args.out,
        options=_options(args),
        reference=args.reference,
        device=args.device,
        eval_sentences=max(0, min(3, args.eval_sentences)),
        consent=args.consent,
        consent_by=args.consent_by,
        add_to_library=not args.no_library,
    )
    cancel = CancelToken()

    def first_interrupt(signum, frame):
        print(message("finetune_stopping", lang), flush=True)
        cancel.cancel()
        signal.signal(signal.SIGINT, previous)

    previous = signal.signal(signal.SIGINT, first_interrupt)
    progress = TqdmProgress("finetune", lang)
    try:
        result = run_finetune(request, progress, cancel)
    except Cancelled:
        say("finetune_stopped", lang, folder=Path(args.out) / "training")
        return 130
    finally:
        progress.close()
        signal.signal(signal.SIGINT, previous)
    data = result.report["data"]
    for record in result.report["epochs"]:
        line = message("finetune_epoch", lang, epoch=record["epoch"], loss=record["loss"])
        if record.get("evaluation"):
            e = record["evaluation"]
            line += message("finetune_evaluation", lang, rate=e["rate_ratio"], similarity=e["similarity"])
        print(line)
    say(
        "finetune_done",
        lang,
        out=result.out,
        speaker=result.speaker,
        clips=data["clips"],
        minutes=data["minutes"],
        epoch=result.report["exported_epoch"],
        epochs=len(result.report["epochs"]),
    )
    if data["rejected"]:
        say("finetune_rejected", lang, count=len(data["rejected"]), report=result.out / "training" / "report.json")
    if not args.no_library:
        say("finetune_in_library", lang, name=args.name)
    say("finetune_speak", lang, out=result.out, speaker=result.speaker)
    return 0
