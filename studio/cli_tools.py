"""The command line's inspection and install commands: pinyin, check, models, download, doctor, remote and
make-test-checkpoint (the generating and library commands are in :mod:`studio.cli`)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

from . import config
from .cli import _read_text, load_settings, user_language
from .cli_messages import message, say
from .errors import InputError, StudioError
from .progress import TqdmProgress


def cmd_pinyin(args) -> None:
    from .engine import Engine

    args.text = args.text or args.text_option
    if not args.text and not args.text_file:
        raise InputError(
            zh='请给出要分析的文字：python -m studio pinyin "文字"，或 --text-file 文件。',
            en='Give the text to analyse: python -m studio pinyin "TEXT", or --text-file FILE.',
        )

    from .text import model_load_seconds, tone3_to_marks

    prepared = Engine().prepare_text(_read_text(args), normalize=not args.no_normalize)
    if args.json:
        from dataclasses import asdict as as_dict

        print(
            json.dumps(
                {
                    "display_text": prepared.display_text,
                    "model_text": prepared.model_text,
                    "readings": [as_dict(r) for r in prepared.readings],
                    "model_load_seconds": model_load_seconds(),
                    "warnings": [w.message(user_language()) for w in prepared.warnings],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    lang = user_language()
    for r in prepared.readings:
        if r.is_polyphone or r.source != "pypinyin" or args.all:
            mark = "!" if r.low_confidence else "*" if r.is_polyphone else " "
            score = f"{r.confidence:.0%}" if r.confidence is not None else ""
            candidates = "/".join(tone3_to_marks(c) for c in r.candidates)
            source = message(f"source_{r.source}", lang)
            note = r.note if lang == "en" else ""  # the rules explain themselves in English only
            print(f"{r.index:>5} {r.char} {r.pinyin:<8}{mark} {score:>5} {source:<10} {candidates}  {note}".rstrip())
    say("readings_text", lang, text=prepared.display_text)
    say("readings_model", lang, text=prepared.model_text)
    for warning in prepared.warnings:
        say("note", lang, message=warning.message(lang))
    if model_load_seconds() is not None:
        say("readings_loaded", lang, ms=model_load_seconds() * 1000)


def cmd_check(args) -> int:
    from .export import read_tags
    from .watermark import check_file

    lang = user_language()
    status = 0
    for path in args.files:
        report = check_file(path)
        tags = read_tags(path) if Path(path).suffix.lower() in (".mp3", ".flac", ".ogg", ".wav") else {}
        tagged = tags.get("ai_generated") == "true"
        print(f"{path}: {report['message_zh'] if lang == 'zh' else report['message_en']}")
        if tagged:
            say("check_tag", lang)
        status = status or (0 if report["found"] or tagged else 1)
    return status


def cmd_models(args) -> None:
    from .models import ModelManager

    rows = ModelManager().statuses()
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False))
        return
    lang = user_language()
    heads = message("models_columns", lang).split("|")
    say("models_row", lang, **dict(zip(("id", "kind", "downloaded", "disk", "path"), heads, strict=True)))
    for r in rows:
        kind = message(f"kind_{r.kind}", lang)
        downloaded = message("yes" if r.downloaded else "no", lang)
        say("models_row", lang, id=r.id, kind=kind, downloaded=downloaded, disk=f"{r.disk_mb:.0f}", path=r.path)


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


def doctor_report(lang: str = "en", args=None) -> list[tuple[str, str, bool]]:
    """(check, finding, ok) rows describing this install (with this run's ``args`` applied), in ``lang``."""

    def m(key: str, **values) -> str:
        return message(key, lang, **values)

    rows: list[tuple[str, str, bool]] = [(m("doc_python"), platform.python_version(), sys.version_info >= (3, 10))]
    try:
        import torch

        rows.append((m("doc_torch"), torch.__version__, True))
    except Exception as exc:
        rows.append((m("doc_torch"), m("doc_not_importable", error=exc), False))
        return rows
    from .device import choose_placement, probe
    from .models import ModelManager

    caps = probe()
    settings = load_settings(args)
    try:
        placement = choose_placement(caps, settings.device, settings.dtype)
        where = m("doc_placement", device=placement.device, dtype=placement.dtype, attention=placement.attention)
        rows.append((m("doc_device"), where, True))
    except StudioError as exc:
        rows.append((m("doc_device"), exc.message(lang), False))
    if caps.cuda:
        free, total = torch.cuda.mem_get_info()
        rows.append((m("doc_gpu"), m("doc_gpu_free", free=free / 1e9, total=total / 1e9), True))
    import psutil

    rows.append((m("doc_ram"), m("doc_ram_free", free=psutil.virtual_memory().available / 1e9), True))
    from .paths import studio_home

    home = studio_home()
    free_home = shutil.disk_usage(home).free / 1e9
    rows.append((m("doc_home"), m("doc_home_free", home=home, free=free_home), os.access(home, os.W_OK)))
    try:
        from .backend import qwen_tts

        rows.append((m("doc_qwen"), m("doc_imports", name=qwen_tts().__name__), True))
    except Exception as exc:
        rows.append((m("doc_qwen"), m("doc_cannot_import", error=f"{type(exc).__name__}: {exc}"), False))
    present = [r.id for r in ModelManager(settings, caps).statuses() if r.downloaded]
    rows.append((m("doc_checkpoints"), ", ".join(present) or m("doc_no_checkpoints"), True))
    if config.model():
        rows.append(("STUDIO_MODEL", config.model(), True))
    from .remote import remote_config

    remote_url, _ = remote_config(settings)
    rows.append((m("doc_remote"), remote_url or m("doc_no_remote"), True))
    return rows


def cmd_doctor(args) -> int:
    lang = user_language()
    rows = doctor_report(lang, args)
    for name, finding, ok in rows:
        say("doctor_row", lang, mark=message("doctor_ok" if ok else "doctor_bad", lang), name=name, finding=finding)
    return 0 if all(ok for _, _, ok in rows) else 1


def cmd_remote(args) -> int:
    """``remote show | set URL [--key KEY] | clear | test``: the remote engine in the settings."""
    from .remote import KEY_ENV, URL_ENV, RemoteModel, mask_key, normalize_url, remote_config

    settings = load_settings(args)
    lang = user_language()
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
        say("remote_ok", lang, url=report["url"])
        say("remote_models", lang, names=", ".join(report["models"]) or "-")
        say("remote_voices", lang, names=", ".join(report["voices"]) or "-")
        return 0
    say("remote_engine", lang, url=url or message("remote_none", lang))
    if url:
        say("remote_key", lang, masked=mask_key(key) or message("remote_key_none", lang))
    chosen = settings.remote_choice.chosen if settings.remote_choice else ()
    overridden = [name for name in (URL_ENV, KEY_ENV) if name in os.environ or name in chosen]
    if overridden:
        say("remote_overridden", lang, err=True, names=", ".join(overridden))
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

        say("random_asr", user_language(), path=build_random_recogniser(args.out_dir, args.seed))
        return
    if args.kind == "separator":
        from .random_separator import build_random_separator

        say("random_separator", user_language(), path=build_random_separator(args.out_dir, args.seed))
        return
    from .random_checkpoint import build_random_checkpoint

    path = build_random_checkpoint(args.out_dir, args.kind, args.size, args.seed, args.weights_dtype)
    say("random_checkpoint", user_language(), path=path)


def _add_pinyin(sub) -> None:
    p = sub.add_parser("pinyin", help="show the readings the studio predicts and the text sent to the model")
    p.add_argument("text", nargs="?", help="the text (or --text / --text-file)")
    p.add_argument("--text", dest="text_option", help=argparse.SUPPRESS)
    p.add_argument("--text-file")
    p.add_argument("--all", action="store_true", help="every character, not only polyphones and overrides")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-normalize", action="store_true")
    p.set_defaults(func=cmd_pinyin)


def _add_check(sub) -> None:
    p = sub.add_parser("check", help="does a file carry the studio's watermark or AI-generated tag? (exit 1 if not)")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_check)


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
    p.add_argument("--kind", default="base", choices=["base", "custom_voice", "voice_design", "asr", "separator"])
    p.add_argument("--size", default="tiny", choices=["tiny", "0.6b", "1.7b"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--weights-dtype",
        choices=["float32", "bfloat16"],
        help="how the weights are stored (default: bfloat16 for 0.6b/1.7b, as released; float32 for tiny)",
    )
    p.set_defaults(func=cmd_make_test_checkpoint)
