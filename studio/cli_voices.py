"""``python -m studio voices ...``: the voice library on the command line."""

from __future__ import annotations

import json

from .cli import user_language
from .cli_aliases import add_alias_parsers, cmd_alias, cmd_import_gsv
from .cli_messages import message, say


def _library():
    from .voices import VoiceLibrary

    return VoiceLibrary()


def cmd_voices(args) -> None:
    lib = _library()
    lang = user_language()
    action = args.voices_command
    if action == "list":
        voices = lib.list(tag=args.tag, query=args.query)
        if not voices:
            say("no_voices", lang)
        for v in voices:
            tags = ",".join(c.tag for c in v.clips)
            say("voice_row", lang, name=v.name, language=v.language, tags=tags, transcript=v.transcript[:40])
    elif action == "check":
        from .reference import prepare_reference

        prepared = prepare_reference(args.audio, window=True)
        report = prepared.report
        lufs = report.loudness_lufs if report.loudness_lufs is not None else float("nan")
        say(
            "ref_report",
            lang,
            duration=report.duration_s,
            speech=report.speech_s,
            ratio=report.speech_ratio,
            snr=report.snr_db,
            clipping=report.clipping_ratio,
            sr=report.sample_rate,
            lufs=lufs,
        )
        span = prepared.source_span
        kept = message("ref_kept", lang, start=span[0], end=span[1], seconds=prepared.audio.seconds)
        print(kept + (message("ref_window", lang) if prepared.windowed else ""))
        for finding in report.findings:
            say("finding", lang, level=message(f"level_{finding.level}", lang), message=finding.message(lang))
    elif action == "add":
        voice = lib.create(
            args.name,
            args.audio,
            args.transcript or "",
            language=args.language,
            tags=args.tags or (),
            consent=args.consent,
            notes=args.notes or "",
        )
        say("voice_saved", lang, name=voice.name, path=voice.path)
    elif action == "add-clip":
        voice = lib.add_clip(args.name, args.audio, args.tag, args.transcript or "", replace_existing=args.replace)
        say("voice_clips", lang, name=voice.name, tags=", ".join(c.tag for c in voice.clips))
    elif action == "show":
        v = lib.get(args.name)
        print(json.dumps(v.to_profile(), ensure_ascii=False, indent=2))
    elif action == "rename":
        say("voice_renamed", lang, name=lib.rename(args.name, args.new_name).name)
    elif action == "remove":
        lib.delete(args.name)
        say("voice_removed", lang, name=args.name)
    elif action == "restore":
        say("voice_restored", lang, name=lib.restore(args.name).name)
    elif action == "export":
        print(lib.export(args.name, args.zip))
    elif action == "import":
        say("voice_imported", lang, name=lib.import_(args.zip, name=args.name).name)
    elif action == "alias":
        cmd_alias(lib, args, lang)
    elif action == "import-gsv":
        cmd_import_gsv(lib, args, lang)


def add_voices_parser(sub) -> None:
    """The ``voices`` command group: the saved-voice library."""
    p = sub.add_parser("voices", help="the voice library: list, check, add, add-clip, show, rename, remove, ...")
    vs = p.add_subparsers(dest="voices_command", required=True)
    q = vs.add_parser("list", help="list saved voices")
    q.add_argument("--tag")
    q.add_argument("--query")
    q = vs.add_parser("check", help="quality report of a reference clip and the part that would be kept")
    q.add_argument("audio")
    q = vs.add_parser("add", help="save a new voice from a reference clip")
    q.add_argument("name")
    q.add_argument("--audio", required=True, help="reference clip (wav, mp3, flac, ogg, m4a)")
    q.add_argument("--transcript", "--text", dest="transcript", help="what the clip says, word for word")
    q.add_argument("--language", default="auto")
    q.add_argument("--tags", "--tag", dest="tags", nargs="*", help="tags of the voice (e.g. narrator, female)")
    q.add_argument("--notes")
    q.add_argument("--consent", action="store_true", help="confirm this is your voice or you may clone it")
    q = vs.add_parser("add-clip", help="add a clip tagged with an emotion or style (happy, whisper, 开心...)")
    q.add_argument("name")
    q.add_argument("--audio", required=True)
    q.add_argument("--tag", required=True)
    q.add_argument("--transcript", "--text", dest="transcript")
    q.add_argument("--replace", action="store_true", help="replace a clip with the same tag")
    for action in ("show", "remove", "restore"):
        vs.add_parser(action).add_argument("name")
    q = vs.add_parser("rename")
    q.add_argument("name")
    q.add_argument("new_name")
    q = vs.add_parser("export", help="write a voice to a zip archive")
    q.add_argument("name")
    q.add_argument("zip")
    q = vs.add_parser("import", help="add a voice from a zip archive")
    q.add_argument("zip")
    q.add_argument("--name", help="save under another name")
    add_alias_parsers(vs)
    p.set_defaults(func=cmd_voices)
