"""``voices alias`` and ``voices import-gsv``: make old GPT-SoVITS client configs work unchanged."""

from __future__ import annotations

from .cli_messages import message, say


def cmd_alias(lib, args, lang: str) -> None:
    """Add (default), remove (``--remove``) or list (no alias given) a voice's aliases."""
    if args.remove:
        voice = lib.remove_alias(args.name, args.remove)
        say("alias_removed", lang, name=voice.name, alias=args.remove)
    elif args.alias:
        voice = lib.add_alias(args.name, args.alias)
        say("alias_added", lang, name=voice.name, alias=args.alias)
    else:
        voice = lib.get(args.name)
        if not voice.aliases:
            say("alias_none", lang, name=voice.name)
    for alias in voice.aliases:
        print(f"  {alias}")


def cmd_import_gsv(lib, args, lang: str) -> None:
    """Create a voice (or add an alias to ``--voice``) from a GPT-SoVITS client's YAML or .py config."""
    from .gsv_config import import_gsv_config

    done = import_gsv_config(
        lib, args.config, block=args.block, audio=args.audio, name=args.name, voice=args.voice, consent=args.consent
    )
    if done.created:
        transcript = done.reference.prompt_text or message("gsv_no_transcript", lang)
        say("gsv_saved", lang, name=done.voice, block=done.reference.block, transcript=transcript)
    say("gsv_alias", lang, name=done.voice, alias=done.alias)


def add_alias_parsers(vs) -> None:
    """Add ``alias`` and ``import-gsv`` to the ``voices`` subcommands."""
    q = vs.add_parser(
        "alias",
        help="exact strings (old GPT-SoVITS reference paths) a voice also answers to: add, --remove, or list",
    )
    q.add_argument("name", help="a saved voice")
    q.add_argument("alias", nargs="?", help='the exact string a client sends, e.g. "E:\\GPT-SoVITS\\纳西妲\\0.wav"')
    q.add_argument("--remove", metavar="ALIAS", help="stop answering to ALIAS")
    q = vs.add_parser(
        "import-gsv",
        help="import the reference voice of a GPT-SoVITS client config (xiaozhi config.yaml, a .py app) with its alias",
    )
    q.add_argument("config", help=".yaml/.yml or .py file (read as data, never run)")
    q.add_argument("--block", help="which block when the config has several (e.g. GPT_SOVITS_V2)")
    q.add_argument("--audio", help="the reference clip, when the config's path is not on this computer")
    q.add_argument("--name", help="name of the new voice (default: from the path)")
    q.add_argument("--voice", help="an existing voice to answer to the config's path instead of creating one")
    q.add_argument("--consent", action="store_true", help="confirm this is your voice or you may clone it")
