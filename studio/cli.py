"""The command line: ``python -m studio COMMAND``. A thin adapter over the engine."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import config
from .cli_help import localise
from .cli_messages import say
from .errors import InputError, StudioError
from .progress import TqdmProgress


def user_language() -> str:
    """'zh' or 'en' by the studio's one rule (:func:`studio.config.language`)."""
    return config.language()


def load_settings(args):
    """The user's settings with this run's choices applied (``--remote``/``--local``; ``--device``/``--dtype``)."""
    from .settings import Settings

    settings = Settings.load()
    settings.remote_choice = getattr(args, "remote_choice", None)
    settings.device = getattr(args, "device", None) or settings.device
    settings.dtype = getattr(args, "dtype", None) or settings.dtype
    return settings


def engine_for(args):
    """An engine with the user's settings, ``--device`` and ``--dtype`` applied (every generating command)."""
    from .engine import Engine
    from .models import ModelManager

    return Engine(ModelManager(load_settings(args)))


def _write_result(result, args, voice: str = "") -> None:
    from .export import Tags, export_audio
    from .synthesis import NOT_SECONDS

    tags = Tags(title=Path(args.out).stem, voice=voice, model=result.model)
    path = export_audio(result.samples, result.sr, args.out, sample_rate=args.sample_rate, tags=tags)
    timing = ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items() if k not in NOT_SECONDS)
    lang = user_language()
    from .checkpoints import random_note

    model = result.model + (random_note(lang) if result.random_weights else "")
    say("result", lang, path=path, seconds=result.seconds, seed=result.seed, model=model, timing=timing)
    if result.model_text:
        say("sent_to_model", lang, text=result.model_text)
    if result.instruction:
        say("instruction", lang, text=result.instruction)
    if result.fit is not None:
        fit = result.fit
        say(
            "fitted",
            lang,
            natural=fit.natural_s,
            target=fit.target_s,
            final=result.seconds,
            trimmed=fit.trimmed_s,
            pauses=fit.pause_change_s,
            stretch=fit.stretch,
        )
        if fit.warning:
            from .timing import NATURAL_STRETCH

            low, high = NATURAL_STRETCH
            message = (
                f"伸缩 ×{fit.stretch:.2f} 超出自然范围 {low}-{high}，可能听起来不自然。"
                if lang == "zh"
                else f"stretch x{fit.stretch:.2f} is outside the natural range {low}-{high} and may sound unnatural."
            )
            say("note", lang, err=True, message=message)
    for note in result.notes:
        say("note", lang, err=True, message=note.message(lang))
    if result.check is not None:
        check = result.check
        if check.ok:
            say("take_check", lang, summary=check.summary(lang))
        else:
            say("take_check_wrong", lang, summary=check.summary(lang), heard=check.heard)


def _read_text(args) -> str:
    if getattr(args, "text_file", None):
        try:
            return Path(args.text_file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                zh=f"无法读取文本文件 {args.text_file}：{exc}。请提供 UTF-8 编码的文本文件。",
                en=f"Cannot read the text file {args.text_file}: {exc}. Give a UTF-8 text file.",
            ) from exc
    return args.text or ""


def _delivery(args):
    from .engine import Delivery

    return Delivery(
        duration=args.duration,
        ratio=args.ratio,
        takes=args.takes,
        loudness=None if args.no_polish else args.loudness,
        watermark=not args.no_watermark,
        checker=_take_checker(args),
    )


def _take_checker(args):
    """With ``--check-take``: the recogniser's checker (refused here, before generating, when there is none)."""
    if not getattr(args, "check_take", False):
        return None
    from .asr import take_checker

    return take_checker(args.language)


def _common(args) -> dict:
    """Keyword arguments every generating engine call takes."""
    from .style import sampling_preset

    return dict(
        language=args.language,
        model=args.model,
        seed=args.seed,
        sampling=sampling_preset(args.sampling) if args.sampling else None,
        delivery=_delivery(args),
        normalize=not args.no_normalize,
    )


def _run(name: str, call):
    """Run ``call(progress)`` under a tqdm bar; Ctrl-C cancels cleanly."""
    progress = TqdmProgress(name, user_language())
    try:
        return call(progress)
    finally:
        progress.close()


def _generate(args, method: str, voice_tag: str, **options) -> None:
    """What every generating command does: a ``method`` speech request under a tqdm bar, then write and report.

    ``options`` are the command's own fields of the request (speaker, description, reference, ...);
    ``voice_tag`` names the voice in the output file's tags.
    """
    from .speech import SpeechRequest

    engine = engine_for(args)

    def speak(progress):
        request = SpeechRequest(method, [_read_text(args)], **options, **_common(args))
        return next(iter(engine.speak(request, progress)))

    result = _run(method, speak)
    _write_result(result, args, voice=voice_tag)


def cmd_clone(args) -> None:
    if not args.voice and not args.voice_audio:
        raise InputError(
            zh="请用 --voice 指定已保存的声音，或用 --voice-audio 给出参考音频。",
            en="Name a saved voice with --voice, or give a reference clip with --voice-audio.",
        )
    _generate(
        args,
        "clone",
        args.voice or Path(args.voice_audio).stem,
        reference=args.voice_audio,
        transcript=args.voice_text or "",
        x_vector_only=args.x_vector_only,
        voice=args.voice,
        clip=args.clip,
    )


def cmd_custom(args) -> None:
    _generate(
        args,
        "custom",
        args.speaker,
        speaker=args.speaker,
        instruct=args.instruct or "",
        emotion=args.emotion,
        intensity=args.intensity,
    )


def cmd_design(args) -> None:
    _generate(args, "design", "designed", description=args.description, emotion=args.emotion, intensity=args.intensity)


def _emotion_options(p: argparse.ArgumentParser) -> None:
    from .style import emotions

    p.add_argument("--emotion", choices=[e.id for e in emotions()], help="emotion preset (presets/emotions.json)")
    p.add_argument("--intensity", type=float, default=0.5, help="emotion intensity 0-1 (default 0.5)")


def _generating(sub, name: str, help_text: str) -> argparse.ArgumentParser:
    """A generating command's parser with the options every generating command takes."""
    p = sub.add_parser(name, help=help_text)
    text = p.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="text to speak")
    text.add_argument("--text-file", help="UTF-8 file with the text to speak")
    p.add_argument("--out", required=True, help="output audio file (.wav, .mp3, .flac, .ogg)")
    p.add_argument("--sample-rate", type=int, choices=[24000, 44100, 48000], help="output rate (default 24000)")
    p.add_argument("--language", default="Auto", help="Auto, Chinese, English, Japanese, ... (default Auto)")
    p.add_argument(
        "--model",
        help="registry id (0.6b-base, 1.7b-base, 0.6b-custom, 1.7b-custom, 1.7b-design) "
        "or a local checkpoint folder; default: STUDIO_MODEL or the registry default",
    )
    p.add_argument("--seed", type=int, help="seed for a reproducible result")
    p.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"], help="override the device")
    p.add_argument("--dtype", choices=["auto", "bfloat16", "float16", "float32"], help="override the dtype")
    p.add_argument("--duration", type=float, help="exact length of the result in seconds")
    p.add_argument("--ratio", type=float, help="length as a ratio of the natural length (0.5-2.0)")
    p.add_argument(
        "--takes", type=int, default=1, help="with --duration or --check-take: generate N takes, keep the best"
    )
    p.add_argument(
        "--check-take",
        action="store_true",
        help="hear the result with the speech recogniser: error rate, problems found, what was heard",
    )
    p.add_argument("--loudness", type=float, default=-16.0, help="integrated loudness in LUFS (default -16)")
    p.add_argument("--no-polish", action="store_true", help="leave loudness and peaks as generated")
    p.add_argument("--no-normalize", action="store_true", help="read numbers and symbols as written")
    p.add_argument("--no-watermark", action="store_true", help="leave out the inaudible studio watermark")
    p.add_argument("--sampling", help="sampling preset from presets/sampling.json (default, stable, natural, ...)")
    return p


def _add_clone(sub) -> None:
    p = _generating(sub, "clone", "clone a voice from a reference clip (Base models)")
    p.add_argument("--voice", help="a saved voice (python -m studio voices list)")
    p.add_argument("--clip", help="with --voice: the tag of the clip to use (e.g. happy); default neutral")
    p.add_argument("--voice-audio", help="reference clip, 3-10 s ideal (instead of --voice)")
    p.add_argument("--voice-text", help="transcript of the reference clip (needed unless --x-vector-only)")
    p.add_argument("--x-vector-only", action="store_true", help="use only the speaker embedding (no transcript)")
    p.set_defaults(func=cmd_clone)


def _add_custom(sub) -> None:
    p = _generating(sub, "custom", "speak with a preset speaker (CustomVoice models)")
    p.add_argument(
        "--speaker", required=True, help="Vivian, Serena, Uncle_Fu, Dylan, Eric, Ryan, Aiden, Ono_Anna, Sohee"
    )
    p.add_argument("--instruct", help="style instruction (1.7B CustomVoice only)")
    _emotion_options(p)
    p.set_defaults(func=cmd_custom)


def _add_design(sub) -> None:
    p = _generating(sub, "design", "make a voice from a description (VoiceDesign model)")
    p.add_argument("--description", required=True, help="what the voice sounds like")
    _emotion_options(p)
    p.set_defaults(func=cmd_design)


#: The one command table: every subcommand of ``python -m studio``, in ``--help`` order, with the function
#: ("module:function", imported only when the parser is built) that adds its parser. ``app.py`` (the desktop
#: build's entry point) hands exactly these names to :func:`main`, so a command added here works there too.
COMMANDS: dict[str, str] = {
    "clone": "studio.cli:_add_clone",
    "custom": "studio.cli:_add_custom",
    "design": "studio.cli:_add_design",
    "pinyin": "studio.cli_tools:_add_pinyin",
    "voices": "studio.cli_voices:add_voices_parser",
    "remote": "studio.cli_tools:add_remote_parser",
    "check": "studio.cli_tools:_add_check",
    "models": "studio.cli_tools:_add_models",
    "download": "studio.cli_tools:_add_download",
    "doctor": "studio.cli_tools:_add_doctor",
    "make-test-checkpoint": "studio.cli_tools:_add_make_test_checkpoint",
    "serve": "studio.api.cli:add_serve_parser",
    "dub": "studio.dubbing.cli:add_dub_parser",
    "finetune": "studio.finetune.cli:add_finetune_parser",
    "redub": "studio.redub_cli:add_redub_parser",
}
#: Options of ``python -m studio`` itself (before the command), also routed to the command line by app.py.
GLOBAL_OPTIONS = ("--remote", "--remote-key", "--local")


def is_command_line(argv: list[str]) -> bool:
    """True when ``argv`` (without the program) is a ``python -m studio`` invocation: a command or a global option."""
    return bool(argv) and (argv[0] in COMMANDS or argv[0].split("=", 1)[0] in GLOBAL_OPTIONS)


def build_parser(prog: str = "python -m studio", lang: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of every subcommand (:data:`COMMANDS`), its help in ``lang`` (default: the user's)."""
    import importlib

    parser = argparse.ArgumentParser(prog=prog, description="Qwen Voice Studio command line")
    engine = parser.add_mutually_exclusive_group()
    engine.add_argument(
        "--remote",
        metavar="URL",
        help="for this command, generate on the remote speech server at URL (vLLM-Omni, another studio)",
    )
    engine.add_argument("--local", action="store_true", help="for this command, generate on this computer")
    parser.add_argument("--remote-key", metavar="KEY", help="with --remote: its API key")
    sub = parser.add_subparsers(dest="command", required=True)
    for target in COMMANDS.values():
        module, function = target.split(":")
        getattr(importlib.import_module(module), function)(sub)
    return localise(parser, config.language() if lang is None else lang)


def _remote_choice(args) -> config.RemoteChoice | None:
    """The remote engine ``--remote URL`` / ``--remote-key`` / ``--local`` choose for this invocation."""
    from .remote import normalize_url

    if args.local:
        return config.RemoteChoice(url="")
    if args.remote is None:
        return config.RemoteChoice(key=args.remote_key) if args.remote_key is not None else None
    return config.RemoteChoice(url=normalize_url(args.remote), key=args.remote_key)


def main(argv: list[str] | None = None, prog: str = "python -m studio") -> int:
    """Run the command line; return the exit code (2 for a user error). ``prog`` names it in help and errors."""
    args = build_parser(prog).parse_args(argv)
    try:
        args.remote_choice = _remote_choice(args)  # handed to the engine through load_settings, not the environment
        return args.func(args) or 0
    except StudioError as exc:
        say("error", user_language(), err=True, message=exc.message(user_language()))
        return 2
    except KeyboardInterrupt:
        say("cancelled", user_language(), err=True)
        return 130
