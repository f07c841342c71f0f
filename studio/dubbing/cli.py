"""``python -m studio dub PROJECT_OR_SCRIPT --out DIR``: the Dubbing tab from the command line.

A script (txt/csv/tsv/yaml/json/srt/vtt) becomes a project in ``DIR/project``;
running the same command again resumes it: unchanged lines are reused, only
missing or edited ones are generated. A project folder (or its
``project.json``) is generated in place. Outputs go to ``DIR``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..cli_messages import message, say
from ..errors import InputError
from ..progress import TqdmProgress
from .project import PROJECT_FILE, Project, parse_voice
from .service import parse_line_numbers

__all__ = ["add_dub_parser", "apply_arguments", "cmd_dub", "open_project", "parse_line_numbers", "print_summary"]


def add_dub_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``dub`` subcommand to ``subparsers`` (of ``studio.cli.build_parser``)."""
    p = subparsers.add_parser("dub", help="dub a whole script or subtitle file: line files, track, captions, zip")
    p.add_argument("input", metavar="PROJECT_OR_SCRIPT", help="project folder or project.json, or a script file")
    p.add_argument("--out", required=True, help="output folder (the project of a script is kept in OUT/project)")
    p.add_argument("--voice", help="default voice: a saved voice or preset speaker name, or design:DESCRIPTION")
    p.add_argument(
        "--speaker", action="append", default=[], metavar="LABEL=VOICE", help="map a speaker label, e.g. A=Vivian"
    )
    p.add_argument("--srt", help="subtitle file whose cues give the lines' slots (in order)")
    p.add_argument("--format", choices=["mp3", "wav", "flac", "ogg"], help="format of the line files (default mp3)")
    p.add_argument("--model", help="model for cloned voices (a registry id or checkpoint folder)")
    p.add_argument("--custom-model", help="model for preset speakers")
    p.add_argument("--design-model", help="model for designed voices")
    p.add_argument("--language", help="Auto, Chinese, English, ...")
    p.add_argument("--seed", type=int, help="seed for reproducible takes")
    p.add_argument(
        "--max-new-tokens",
        type=int,
        help="cap on model steps for each segment (a line is split into segments at sentence ends; "
        "each segment gets this cap, not the whole line; 12.5 steps = 1 second of audio)",
    )
    p.add_argument("--gap", type=float, help="scene mode: seconds of silence between lines")
    p.add_argument("--max-stretch", type=float, help="allowed stretch factor, 1-2 (default 1.33)")
    p.add_argument("--allow-overlap", action="store_true", help="let a long line run into the following gap")
    p.add_argument("--lines", help="only these line numbers, e.g. 1,3-5")
    p.add_argument("--force", action="store_true", help="make new takes even for unchanged lines")
    p.add_argument(
        "--check-takes", choices=["auto", "on", "off"], help="hear each take with the recogniser (auto: with a GPU)"
    )
    p.add_argument("--video", help="also mux the track into a copy of this video")
    p.add_argument(
        "--mix",
        choices=["duck", "keep", "replace", "background"],
        default="duck",
        help="original audio (with --video); background: the project's separated background (redub --keep-background)",
    )
    p.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"], help="override the device")
    p.add_argument("--dtype", choices=["auto", "bfloat16", "float16", "float32"], help="override the dtype")
    p.set_defaults(func=cmd_dub)
    return p


def open_project(source: str | Path, out: Path) -> Project:
    """The project to run: ``source`` itself, or a script imported into ``out/project`` (resuming it)."""
    from .scripts import import_script

    source = Path(source)
    if source.is_dir() or source.name == PROJECT_FILE:
        return Project.load(source)
    project = import_script(source)
    for i, line in enumerate(project.lines):
        line.id = f"l{i + 1:03d}"
    folder = out / "project"
    if (folder / PROJECT_FILE).is_file():
        previous = Project.load(folder)
        takes = {line.id: line for line in previous.lines}
        for line in project.lines:
            if line.id in takes:
                line.takes, line.chosen, line.locked = (
                    takes[line.id].takes,
                    takes[line.id].chosen,
                    takes[line.id].locked,
                )
        project.settings = previous.settings
        project.voices = {**previous.voices, **project.voices}
    project.folder = folder
    return project


def apply_arguments(project: Project, args) -> None:
    """Command-line options override the project's saved settings."""
    s = project.settings
    if args.voice:
        parse_voice(args.voice)
        s.default_voice = args.voice
    for item in args.speaker:
        label, sep, spec = item.partition("=")
        if not sep or not label.strip():
            raise InputError(
                zh=f"--speaker 应写成 标签=声音（收到 “{item}”）。", en=f"--speaker takes LABEL=VOICE (got '{item}')."
            )
        parse_voice(spec)
        project.voices[label.strip()] = spec.strip()
    for attr, value in (
        ("model_base", args.model),
        ("model_custom", args.custom_model),
        ("model_design", args.design_model),
        ("language", args.language),
        ("seed", args.seed),
        ("max_new_tokens", args.max_new_tokens),
        ("gap_s", args.gap),
        ("max_stretch", args.max_stretch),
        ("format", args.format),
    ):
        if value is not None:
            setattr(s, attr, value)
    if args.allow_overlap:
        s.allow_overlap = True
    if getattr(args, "check_takes", None):
        s.check_takes = {"auto": None, "on": True, "off": False}[args.check_takes]


def cmd_dub(args) -> int:
    """Run the ``dub`` subcommand."""
    from ..cli import engine_for, user_language
    from .lock import busy_error, describe_marker, interrupted, running_elsewhere
    from .runner import run_project
    from .scripts import apply_timings, import_script
    from .service import build, failed_lines, nothing_usable, select_lines

    started = time.perf_counter()
    lang = user_language()
    out = Path(args.out)
    project = open_project(args.input, out)
    if args.srt:
        apply_timings(project, import_script(args.srt))
    if project.folder is not None:
        busy = running_elsewhere(project.folder)
        if busy is not None:  # refuse before saving anything over the running job's project
            raise busy_error(busy)
        left = interrupted(project.folder)
        if left is not None:  # a run that crashed: its finished lines are reused below
            zh, en = describe_marker(left)
            say("dub_resuming", lang, where=zh if lang == "zh" else en)
    apply_arguments(project, args)
    if args.video and args.mix == "background":
        from .mux import check_background

        check_background(project.folder / "redub" / "background.wav" if project.folder is not None else None)
    if args.video:
        from .mux import check_within_video

        check_within_video(project, args.video)  # before any generation: a slot past the video's end is a typo
    project.save()
    only = select_lines(project, args.lines) if args.lines else None
    progress = TqdmProgress("dub", lang)
    try:
        report = run_project(project, engine_for(args), only=only, force=args.force, progress=progress)
    finally:
        progress.close()
    for flagged in report.flagged:
        print(f"! {flagged.message(lang)}")
    if nothing_usable(report):
        raise failed_lines(report)
    built = build(project, folder=out)
    outputs, track = built.outputs, built.track
    if args.video:
        from .mux import mux

        video = Path(args.video)
        dest = out / f"{video.stem}-dubbed{video.suffix or '.mp4'}"
        background = (
            project.folder / "redub" / "background.wav" if args.mix == "background" and project.folder else None
        )
        outputs.video = mux(video, outputs.track_wav, dest, args.mix, background=background)
        print(outputs.video)
    print_summary(project, report, track, outputs, time.perf_counter() - started, lang)
    if built.missing:
        print(built.missing_text(lang))
    if report.failed:
        raise failed_lines(report)
    return 0


def print_summary(project: Project, report, track, outputs, wall_s: float, lang: str = "en") -> None:
    """The table printed after a run: one row per line, then the totals."""
    results = {r.line_id: r for r in report.results}
    heads = dict(
        zip(
            ("n", "scene", "speaker", "status", "natural", "slot", "stretch", "file"),
            message("dub_columns", lang).split("|"),
            strict=True,
        )
    )
    say("dub_header", lang, **heads)
    for p in track.placements:
        line = project.lines[p.index]
        status = message(f"status_{results[line.id].status}", lang) if line.id in results else "-"
        flag = f"  ! {p.suggestion(lang)}" if p.flagged else ""
        file = outputs.line_files.get(line.id)
        print(
            f"{p.index + 1:>3}  {line.scene[:13]:<14}{line.speaker[:9]:<10}{status:<10}{p.natural_s:>7.2f}s"
            f"{p.end_s - p.start_s:>7.2f}s{p.stretch:>8.2f}  {file.name if file else '-'}{flag}"
        )
    audio_s = sum(len(c) for c in track.clips.values()) / track.sr
    say(
        "dub_totals",
        lang,
        lines=len(project.lines),
        generated=report.count("generated"),
        reused=report.count("reused"),
        locked=report.count("locked"),
        failed=len(report.failed),
        audio=audio_s,
        track=track.seconds,
        mode=message(f"mode_{track.mode}", lang),
        wall=wall_s,
        over=len(track.flagged),
    )
    timelines = outputs.timelines
    if timelines:
        names = {k: timelines[f"timeline.{k}"].name for k in ("xml", "fcpxml", "otio")}
        say("dub_timelines", lang, **names)
    if outputs.jianying is not None:
        say("dub_jianying", lang, path=outputs.jianying)
    print_checks(project, report, lang)
    words = [p.name for k, p in outputs.subtitles.items() if k.startswith(("words.", "karaoke."))]
    if words:
        say("dub_words", lang, names=", ".join(words))
    say("dub_zip", lang, path=outputs.zip)


def print_checks(project: Project, report, lang: str = "en") -> None:
    """The lines checked by ear, and each one still wrong with what was heard."""
    from .listening import check_report

    checked = [(r, check_report(r.check, lang)) for r in report.results if r.check is not None]
    if not checked:
        return
    wrong = [(r, c) for r, c in checked if not c["ok"]]
    say("dub_checked", lang, checked=len(checked), wrong=len(wrong))
    for r, c in wrong:
        problems = ("；" if lang == "zh" else "; ").join(c["problems"]) or "-"
        say("dub_heard_wrong", lang, n=r.index + 1, cer=c["cer"], problems=problems, heard=c["heard"][:80])
