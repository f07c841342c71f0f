"""``python -m studio serve``: the HTTP API on the command line (wired by ``studio.cli``)."""

from __future__ import annotations

import argparse

from .. import config


def add_serve_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``serve`` subcommand to ``subparsers`` (an ``add_subparsers()`` result)."""
    p = subparsers.add_parser(
        "serve",
        help="serve the HTTP API (GPT-SoVITS, OpenAI compatible and native)",
        description="Serve the HTTP API. Listening beyond 127.0.0.1 needs an API key.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=9880, help="port (default 9880, GPT-SoVITS' port)")
    p.add_argument(
        "--api-key",
        default=config.api_key() or None,
        help="require 'Authorization: Bearer KEY' (default: STUDIO_API_KEY); needed off loopback",
    )
    p.add_argument("--max-queue", type=int, default=8, help="requests that may wait; more get 503 (default 8)")
    p.add_argument("--max-text-chars", type=int, default=5000, help="longest text per request (default 5000)")
    p.add_argument("--max-body-mb", type=float, default=25.0, help="largest request body in MB (default 25)")
    p.add_argument("--cors-origin", action="append", default=[], help="allow this browser origin (repeatable)")
    p.add_argument("--base-model", help="model for cloning: registry id or local folder")
    p.add_argument("--custom-model", help="model for preset speakers: registry id or local folder")
    p.add_argument("--design-model", help="model for voice design: registry id or local folder")
    p.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"], help="override the device")
    p.add_argument("--dtype", choices=["auto", "bfloat16", "float16", "float32"], help="override the dtype")
    p.set_defaults(func=cmd_serve)
    return p


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the server until interrupted (a :class:`~studio.errors.StudioError` if it may not start)."""
    from ..engine import Engine
    from ..models import ModelManager
    from ..settings import Settings
    from .server import check_bind, run_server

    check_bind(args.host, args.api_key)
    settings = Settings.load()
    settings.remote_choice = getattr(args, "remote_choice", None)  # python -m studio --remote URL serve
    settings.device = args.device or settings.device
    settings.dtype = args.dtype or settings.dtype
    lang = config.language(settings.language)
    run_server(
        args.host,
        args.port,
        args.api_key,
        engine=Engine(ModelManager(settings)),
        models={"base": args.base_model, "custom_voice": args.custom_model, "voice_design": args.design_model},
        max_queue=args.max_queue,
        max_text_chars=args.max_text_chars,
        max_body_bytes=int(args.max_body_mb * 1024 * 1024),
        cors_origins=args.cors_origin or None,
        lang=lang,
    )
    return 0
