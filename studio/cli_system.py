"""``python -m studio models | download | doctor | remote | make-test-checkpoint``: the studio's own setup."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from dataclasses import asdict

from .cli import user_language
from .errors import InputError, StudioError
from .progress import TqdmProgress


def cmd_models(args) -> None:
    from .models import ModelManager

    rows = ModelManager().statuses()
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False))
        return
    print(f"{'id':<16}{'kind':<14}{'downloaded':<12}{'disk MB':>9}  path")
    for r in rows:
        print(f"{r.id:<16}{r.kind:<14}{'yes' if r.downloaded else 'no':<12}{r.disk_mb:>9.0f}  {r.path}")


def cmd_download(args) -> None:
    from . import checkpoints
    from .registry import get_spec
    from .settings import Settings

    progress = TqdmProgress("download", user_language())
    try:
        path = checkpoints.download(get_spec(args.model), args.endpoint or Settings.load().endpoint or None, progress)
    finally:
        progress.close()
    print(path)


def doctor_report() -> list[tuple[str, str, bool]]:
    """(check, finding, ok) rows describing this install."""
    rows: list[tuple[str, str, bool]] = [("python", platform.python_version(), sys.version_info >= (3, 10))]
    try:
        import torch

        rows.append(("torch", torch.__version__, True))
    except Exception as exc:
        rows.append(("torch", f"not importable: {exc}", False))
        return rows
    from .device import choose_placement, probe
    from .models import ModelManager
    from .settings import Settings

    caps = probe()
    settings = Settings.load()
    try:
        placement = choose_placement(caps, settings.device, settings.dtype)
        rows.append(("device", f"{placement.device} ({placement.dtype}, attention {placement.attention})", True))
    except StudioError as exc:
        rows.append(("device", exc.message(user_language()), False))
    if caps.cuda:
        free, total = torch.cuda.mem_get_info()
        rows.append(("gpu memory", f"{free / 1e9:.1f} GB free of {total / 1e9:.1f} GB", True))
    import psutil

    rows.append(("ram", f"{psutil.virtual_memory().available / 1e9:.1f} GB available", True))
    from .paths import studio_home

    home = studio_home()
    rows.append(("data folder", f"{home} ({shutil.disk_usage(home).free / 1e9:.0f} GB free)", os.access(home, os.W_OK)))
    try:
        from .backend import qwen_tts

        rows.append(("qwen-tts", qwen_tts().__name__ + " imports", True))
    except Exception as exc:
        rows.append(("qwen-tts", f"cannot import: {type(exc).__name__}: {exc}", False))
    present = [r.id for r in ModelManager(settings, caps).statuses() if r.downloaded]
    rows.append(("checkpoints", ", ".join(present) or "none downloaded yet (the first generate downloads one)", True))
    if os.environ.get("STUDIO_MODEL"):
        rows.append(("STUDIO_MODEL", os.environ["STUDIO_MODEL"], True))
    from .remote import remote_config

    remote_url, _ = remote_config(settings)
    rows.append(("remote", remote_url or "none: generation runs here", True))
    return rows


def cmd_doctor(args) -> int:
    rows = doctor_report()
    for name, finding, ok in rows:
        print(f"{'ok ' if ok else 'BAD'} {name:<12} {finding}")
    return 0 if all(ok for _, _, ok in rows) else 1


def cmd_remote(args) -> int:
    """``remote show | set URL [--key KEY] | clear | test``: the remote engine in the settings."""
    from .remote import KEY_ENV, URL_ENV, RemoteModel, mask_key, normalize_url, remote_config
    from .settings import Settings

    settings = Settings.load()
    action = args.remote_command
    if action == "set":
        settings.remote_url = normalize_url(args.url)
        if args.key is not None:
            settings.remote_key = args.key.strip()
        settings.save()
    elif action == "clear":
        settings.remote_url = settings.remote_key = ""
        settings.save()
    url, key = remote_config(settings)
    if action == "test":
        if not url:
            raise InputError(
                zh="没有设置远程引擎：python -m studio remote set URL [--key KEY]。",
                en="No remote engine is set: python -m studio remote set URL [--key KEY].",
            )
        report = RemoteModel(url, key).check()
        print(f"ok {report['url']}")
        print(f"models: {', '.join(report['models']) or '-'}")
        print(f"voices: {', '.join(report['voices']) or '-'}")
        return 0
    print(f"remote engine: {url or 'none (generation runs on this computer)'}")
    if url:
        print(f"api key: {mask_key(key) or 'none'}")
    overridden = [name for name in (URL_ENV, KEY_ENV) if name in os.environ]
    if overridden:
        print(f"note: {', '.join(overridden)} (environment or --remote/--local) override the settings", file=sys.stderr)
    return 0


def add_remote_parser(sub) -> None:
    """The ``remote`` command group: the remote engine (an OpenAI-compatible speech server)."""
    p = sub.add_parser(
        "remote",
        help="generate on a remote speech server (vLLM-Omni, another studio): show, set, clear, test",
        description="Generation goes to the remote engine when its URL is set; everything else stays local. "
        "Environment: STUDIO_REMOTE_URL and STUDIO_REMOTE_KEY override the settings.",
    )
    rs = p.add_subparsers(dest="remote_command", required=True)
    rs.add_parser("show", help="the remote engine in use (the key masked)")
    q = rs.add_parser("set", help="use the server at URL, e.g. http://gpu-box:8091")
    q.add_argument("url")
    q.add_argument("--key", help="its API key (sent as 'Authorization: Bearer KEY')")
    rs.add_parser("clear", help="forget the URL and key: generate on this computer")
    rs.add_parser("test", help="ask the server what it serves (GET /v1/audio/voices and /v1/models)")
    p.set_defaults(func=cmd_remote)


def cmd_make_test_checkpoint(args) -> None:
    if args.kind == "asr":
        from .random_recogniser import build_random_recogniser

        print(f"{build_random_recogniser(args.out_dir, args.seed)}  (random weights: its transcripts are noise)")
        return
    from .random_checkpoint import build_random_checkpoint

    path = build_random_checkpoint(args.out_dir, args.kind, args.size, args.seed, args.weights_dtype)
    print(f"{path}  (random weights: its audio is noise)")


def _add_models(sub) -> None:
    p = sub.add_parser("models", help="list the official checkpoints and their state")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)


def _add_download(sub) -> None:
    p = sub.add_parser("download", help="download an official checkpoint")
    p.add_argument("model", help="registry id, e.g. 0.6b-base")
    p.add_argument("--endpoint", help="hub mirror, e.g. https://hf-mirror.com")
    p.set_defaults(func=cmd_download)


def _add_doctor(sub) -> None:
    p = sub.add_parser("doctor", help="check the install: python, torch, device, memory, checkpoints")
    p.set_defaults(func=cmd_doctor)


def _add_make_test_checkpoint(sub) -> None:
    p = sub.add_parser("make-test-checkpoint", help="build a random-weight checkpoint offline (output is noise)")
    p.add_argument("out_dir")
    p.add_argument("--kind", default="base", choices=["base", "custom_voice", "voice_design", "asr"])
    p.add_argument("--size", default="tiny", choices=["tiny", "0.6b", "1.7b"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--weights-dtype",
        choices=["float32", "bfloat16"],
        help="how the weights are stored (default: bfloat16 for 0.6b/1.7b, as released; float32 for tiny)",
    )
    p.set_defaults(func=cmd_make_test_checkpoint)
