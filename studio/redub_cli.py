"""``python -m studio redub VIDEO --out DIR``: a video's speech becomes a timed dubbing project.

The project lands in ``DIR/project`` (the Dubbing tab and ``python -m studio dub``
open it); rerunning the command resumes an interrupted transcription and never
overwrites the lines once they exist. With ``--generate`` the project is then
dubbed like ``python -m studio dub DIR/project --out DIR --video VIDEO``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .cli_messages import message, say
from .progress import TqdmProgress


def add_redub_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``redub`` subcommand to ``subparsers`` (of ``studio.cli.build_parser``)."""
    p = subparsers.add_parser(
        "redub", help="re-dub a video: transcribe it into a timed dubbing project (then optionally generate it)"
    )
    p.add_argument("video", metavar="VIDEO")
    p.add_argument("--out", required=True, help="output folder (the project is kept in OUT/project)")
    p.add_argument("--voice", help="voice for every line: a saved voice or preset speaker name, or design:DESCRIPTION")
    p.add_argument("--language", help="language spoken in the video: zh, en, Chinese, 中文, ... (default: detect)")
    p.add_argument(
        "--asr-model", help="speech recogniser: a registry id (whisper-small, ...) or a faster-whisper model folder"
    )
    p.add_argument(
        "--separator-model", help="voice/background separator: a registry id (htdemucs) or a Demucs model folder"
    )
    p.add_argument(
        "--keep-background",
        action="store_true",
        help="separate the voice from the music and effects (OUT/project/redub/background.wav); --generate then mixes the new "
        "voice over the background",
    )
    p.add_argument(
        "--clone-from-video",
        action="store_true",
        help="save the cleanest 3-10 s of the (separated) voice as a voice and dub with it (needs --consent)",
    )
    p.add_argument("--voice-name", help="with --clone-from-video: the new voice's name (default: the video's name)")
    p.add_argument("--consent", action="store_true", help="confirm the voice in the video is yours or you may clone it")
    p.add_argument(
        "--speakers",
        action="store_true",
        help="tell the speakers apart (S1, S2, ... in the speaker column) with the Base model's speaker encoder "
        "(--model, default: the studio's Base model)",
    )
    p.add_argument("--endpoint", help="hub mirror for downloading the models, e.g. https://hf-mirror.com")
    p.add_argument(
        "--no-vad", action="store_true", help="transcribe everything, not only the parts voice detection keeps"
    )
    p.add_argument("--generate", action="store_true", help="also dub the project and mux it into a copy of the video")
    p.add_argument("--model", help="with --generate: model for cloned voices (registry id or checkpoint folder)")
    p.add_argument("--custom-model", help="with --generate: model for preset speakers")
    p.add_argument("--design-model", help="with --generate: model for designed voices")
    p.add_argument("--max-new-tokens", type=int, help="with --generate: cap on model steps for each segment")
    p.add_argument(
        "--word-captions",
        action="store_true",
        help="with --generate: also word-level and karaoke captions, timed by this recogniser",
    )
    p.add_argument(
        "--mix",
        choices=["duck", "keep", "replace", "background"],
        help="with --generate: original audio (default: background with --keep-background, else duck)",
    )
    p.set_defaults(func=cmd_redub)
    return p


def cmd_redub(args) -> int:
    """Run the ``redub`` subcommand."""
    from .cli import user_language
    from .redub import create_project
    from .settings import Settings
    from .speakers import base_model_embedder

    out = Path(args.out)
    lang = user_language()
    progress = TqdmProgress("redub", lang)
    try:
        result = create_project(
            args.video,
            out / "project",
            language=args.language,
            voice=args.voice,
            model=args.asr_model,
            vad=not args.no_vad,
            endpoint=args.endpoint or Settings.load().endpoint or None,
            progress=progress,
            separator_model=args.separator_model,
            keep_background=args.keep_background,
            clone_voice=(args.voice_name or Path(args.video).stem) if args.clone_from_video else None,
            consent=args.consent,
            speakers=(lambda: base_model_embedder(args.model)) if args.speakers else None,
        )
    finally:
        progress.close()
    project = result.project
    state = message("redub_created" if result.created else "redub_kept", lang)
    say("redub_project", lang, folder=project.folder, state=state)
    transcript = result.transcript
    say(
        "redub_heard",
        lang,
        sentences=len(transcript.segments),
        seconds=transcript.duration,
        language=transcript.language or "?",
        lines=len(project.lines),
    )
    if result.separation is not None:
        say("redub_stems", lang, voice=result.separation.voice, background=result.separation.background)
    if result.cloned is not None:
        cloned = result.cloned
        separated = cloned.used == "voice" and result.separation
        source = message("redub_from_voice" if separated else "redub_from_sound", lang)
        span = message("redub_span", lang, source=source, start=cloned.span[0], end=cloned.span[1])
        where = message("redub_reused", lang) if cloned.reused else span
        say("redub_cloned", lang, name=cloned.name, where=where, transcript=cloned.transcript[:60])
        for finding in getattr(cloned.report, "findings", ()):
            say("finding", lang, level=message(f"level_{finding.level}", lang), message=finding.message(lang))
    for i, line in enumerate(project.lines[:20]):
        print(f"{i + 1:>3}  {line.start:>8.2f} {line.end:>8.2f}  {line.speaker:<4} {line.text[:60]}")
    if len(project.lines) > 20:
        say("redub_more", lang, count=len(project.lines) - 20)
    if not args.generate:
        say("redub_next", lang, folder=project.folder, out=out, video=args.video)
        return 0
    from .cli import build_parser

    if args.word_captions:
        project.settings.word_captions = True
        if args.asr_model and Path(args.asr_model).expanduser().is_dir():
            project.settings.asr_model = str(Path(args.asr_model).expanduser().resolve())
        project.save()
    mix = args.mix or ("background" if result.separation is not None else "duck")
    dub = ["dub", str(project.folder), "--out", str(out), "--video", str(args.video), "--mix", mix]
    for flag, value in (
        ("--model", args.model),
        ("--custom-model", args.custom_model),
        ("--design-model", args.design_model),
        ("--max-new-tokens", args.max_new_tokens),
    ):
        if value is not None:
            dub += [flag, str(value)]
    dub_args = build_parser().parse_args(dub)
    return dub_args.func(dub_args)
