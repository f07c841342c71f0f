"""The Dubbing tab: edit a project in a table, map speakers to voices, generate, fit and export.

Every handler reads the project from its folder, applies the table, acts and
saves, so two browser tabs never hold diverging copies and nothing is lost
when the page closes. Generation is the project's job (:mod:`studio.dubbing.jobs`):
the buttons start it and return, a timer polls it, Stop cancels it, and it
keeps running when the browser closes; a page that opens the project again
shows it. While it runs, edits are refused (playing a take still works).
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from .. import space_mode as space
from ..dubbing.checks import check_line
from ..dubbing.jobs import FINAL, registry
from ..dubbing.listening import heard_cell
from ..dubbing.lock import describe_marker, interrupted, running_elsewhere
from ..dubbing.project import Line, Project, project_folder
from ..dubbing.script_writer import SCRIPT_COLUMNS
from ..errors import ConflictError, InputError, StudioError
from ..paths import outputs_dir
from .common import UiContext, audio_output, escape_md, show_last_error, user_errors
from .dub_video_panel import build_dub_video_panel
from .dubbing_jobs import job_text, project_status, stop_project
from .i18n import t
from .i18n_tables import columns
from .layout import FITTED_TABLE, column_widths
from .redub_panel import build_redub_panel

#: The table's columns: the script's own (the output file name is edited in the script), then the take's state.
_HEADERS = ["#", "id", *(c for c in SCRIPT_COLUMNS if c != "output"), "locked", "takes", "heard"]
_COLUMNS = tuple(f"col_{'number' if h == '#' else h}" for h in _HEADERS)
_VOICE_COLUMNS = ("col_speaker", "col_voice")
#: Widest content of the short columns, in characters (an id, a time like 123.45).
_CONTENT_CHARS = {"col_id": 8, "col_speaker": 8, "col_duration": 6, "col_start": 6, "col_end": 6}
_DEFAULT_FOLDER = "dubbing/my-dub"
#: Seconds between two polls of the project's job (status, progress, finished lines).
POLL_S = 1.0


def _rows(project: Project) -> list[list]:
    return [
        [
            i + 1,
            line.id,
            line.scene,
            line.speaker,
            line.text,
            line.emotion,
            line.intensity,
            "" if line.duration is None else line.duration,
            "" if line.start is None else line.start,
            "" if line.end is None else line.end,
            line.pause_after or "",
            line.locked,
            f"{line.chosen + 1}/{len(line.takes)}" if line.takes else "",
            heard_cell(line.take.check if line.take else None),
        ]
        for i, line in enumerate(project.lines)
    ]


def _records(table) -> list[list]:
    if table is None:
        return []
    if hasattr(table, "values") and hasattr(table, "columns"):  # pandas
        return table.values.tolist()
    return list(table.get("data", [])) if isinstance(table, dict) else list(table)


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""


def apply_table(project: Project, table, voices_table) -> Project:
    """Replace ``project``'s lines and voices with the edited tables, keeping each known line's takes."""
    known = {line.id: line for line in project.lines}
    lines = []
    for i, row in enumerate(r for r in _records(table) if any(not _blank(c) for c in r[2:5])):
        values = dict(zip(_HEADERS, list(row) + [""] * (len(_HEADERS) - len(row)), strict=False))
        old = known.get(str(values["id"]).strip())
        line = Line(
            scene=str(values["scene"] or ""),
            speaker=str(values["speaker"] or ""),
            text=str(values["text"] or ""),
            emotion="" if _blank(values["emotion"]) else str(values["emotion"]),
            intensity=0.5 if _blank(values["intensity"]) else values["intensity"],
            duration=None if _blank(values["duration"]) else values["duration"],
            start=None if _blank(values["start"]) else values["start"],
            end=None if _blank(values["end"]) else values["end"],
            pause_after=0.0 if _blank(values["pause_after"]) else values["pause_after"],
            locked=str(values["locked"]).lower() in ("true", "1", "yes", "x", "✓"),
        )
        if old is not None:
            line.id, line.takes, line.chosen = old.id, old.takes, old.chosen
        lines.append(check_line(line, i))
    project.lines = lines
    project.voices = {
        str(r[0]).strip(): str(r[1]).strip()
        for r in _records(voices_table)
        if len(r) >= 2 and not _blank(r[0]) and not _blank(r[1])
    }
    return project


def _outputs_root() -> Path:
    """The studio's outputs folder; on a Space, the outputs of the visitor whose event is being served."""
    if not space.enabled():
        return outputs_dir()
    from gradio.context import LocalContext  # the request of the running event (None outside one: refused)

    return space.storage().outputs(LocalContext.request.get(None))


def _folder(value: str) -> Path:
    # Confined to the outputs folder: no absolute path, "..", "~" or symbolic link (the UI may be remote).
    # On a Space each visitor has their own, deleted with the rest of their files when the tab closes.
    return project_folder((value or "").strip() or _DEFAULT_FOLDER, _outputs_root())


def _open(folder: str) -> Project:
    path = _folder(folder)
    if (path / "project.json").is_file():
        return Project.load(path)
    project = Project(name=path.name)
    project.folder = path
    return project


def _voices_rows(project: Project) -> list[list[str]]:
    speakers = dict.fromkeys([line.speaker for line in project.lines if line.speaker] + list(project.voices))
    return [[s, project.voices.get(s, "")] for s in speakers] or [["", ""]]


def _line_id(project: Project, number) -> str:
    if _blank(number) or not 1 <= int(number) <= len(project.lines):
        raise InputError(
            zh=f"行号 {number} 无效：项目共有 {len(project.lines)} 行。",
            en=f"Invalid line number {number}: the project has {len(project.lines)} lines.",
        )
    return project.lines[int(number) - 1].id


def build_dubbing_tab(ctx: UiContext, lang_state: gr.State) -> None:
    """The Dubbing tab (see the module docstring)."""
    ctx.loc(gr.Markdown(t("dub_intro", "zh")), value="dub_intro")
    with gr.Row():
        folder = ctx.loc(gr.Textbox(value=_DEFAULT_FOLDER, label=t("dub_folder", "zh"), scale=3), label="dub_folder")
        open_button = ctx.loc(gr.Button(t("dub_open", "zh")), value="dub_open")
        upload = ctx.loc(
            gr.File(
                label=t("dub_import", "zh"),
                file_types=[".txt", ".csv", ".tsv", ".yaml", ".yml", ".json", ".srt", ".vtt"],
            ),
            label="dub_import",
        )
    build_redub_panel(ctx, lang_state, folder, _folder)  # "Re-dub a video": writes the project in this folder
    table = ctx.loc(
        gr.Dataframe(
            headers=columns(_COLUMNS, "zh"),
            interactive=True,
            wrap=True,
            column_widths=column_widths(_COLUMNS, "col_text", _CONTENT_CHARS),
            elem_classes=[FITTED_TABLE],
            label=t("dub_lines", "zh"),
        ),
        label="dub_lines",
        headers=_COLUMNS,
    )
    with gr.Row():
        voices = ctx.loc(
            gr.Dataframe(headers=columns(_VOICE_COLUMNS, "zh"), interactive=True, label=t("dub_voices", "zh"), scale=2),
            label="dub_voices",
            headers=_VOICE_COLUMNS,
        )
        with gr.Column():
            default_voice = ctx.loc(gr.Textbox(label=t("dub_default_voice", "zh")), label="dub_default_voice")
            gap = ctx.loc(gr.Number(value=0.4, label=t("dub_gap", "zh")), label="dub_gap")
            max_stretch = ctx.loc(
                gr.Slider(1.0, 2.0, value=1.33, step=0.01, label=t("dub_max_stretch", "zh")), label="dub_max_stretch"
            )
            overlap = ctx.loc(gr.Checkbox(label=t("dub_overlap", "zh")), label="dub_overlap")
            fmt = ctx.loc(
                gr.Dropdown(["mp3", "wav", "flac", "ogg"], value="mp3", label=t("dub_format", "zh")),
                label="dub_format",
            )
    with gr.Row():
        save = ctx.loc(gr.Button(t("dub_save", "zh")), value="dub_save")
        run_all = ctx.loc(gr.Button(t("dub_generate_all", "zh"), variant="primary"), value="dub_generate_all")
        selection = ctx.loc(gr.Textbox(label=t("dub_selection", "zh")), label="dub_selection")
        run_selected = ctx.loc(gr.Button(t("dub_generate_selected", "zh")), value="dub_generate_selected")
        stop = ctx.loc(gr.Button(t("stop", "zh"), variant="stop"), value="stop")
    with gr.Row():
        number = ctx.loc(gr.Number(value=1, precision=0, label=t("dub_line", "zh")), label="dub_line")
        play = ctx.loc(gr.Button(t("dub_play", "zh")), value="dub_play")
        regenerate = ctx.loc(gr.Button(t("dub_regenerate", "zh")), value="dub_regenerate")
        take = ctx.loc(gr.Number(value=1, precision=0, label=t("dub_take", "zh")), label="dub_take")
        choose = ctx.loc(gr.Button(t("dub_choose_take", "zh")), value="dub_choose_take")
        lock = ctx.loc(gr.Button(t("dub_lock", "zh")), value="dub_lock")
    line_audio = ctx.loc(gr.Audio(label=t("dub_line_audio", "zh"), interactive=False), label="dub_line_audio")
    build = ctx.loc(gr.Button(t("dub_build", "zh"), variant="primary"), value="dub_build")
    with gr.Row():
        track_audio = ctx.loc(gr.Audio(label=t("dub_track", "zh"), interactive=False), label="dub_track")
        files = ctx.loc(gr.File(label=t("dub_files", "zh"), file_count="multiple"), label="dub_files")
    status = gr.Markdown()
    build_dub_video_panel(ctx, lang_state, folder, _open)  # "Put the dub into the video": the built track, muxed

    seen = gr.State(())  #: what the last poll showed (job, status, lines done): the table is refreshed on change
    timer = gr.Timer(POLL_S)

    # The handlers that act on the edited project take ``*settings`` after ``lang`` and their own
    # inputs: the values of these components, in this order, which ``current`` applies and saves.
    settings_inputs = [folder, table, voices, default_voice, gap, max_stretch, overlap, fmt]

    def current(folder_value, rows, voice_rows, default, gap_value, stretch, allow, fmt_value) -> Project:
        """The project with the page's edits applied and saved; refused while a job generates it."""
        path = _folder(folder_value)
        with registry().hold(path):
            elsewhere = running_elsewhere(path)
            if elsewhere is not None:
                zh, en = describe_marker(elsewhere)
                raise ConflictError(
                    zh=f"这个项目正在另一个程序里生成（{zh}）。等它结束再修改。",
                    en=f"This project is being generated by another program ({en}). Wait for it to end.",
                )
            project = apply_table(_open(folder_value), rows, voice_rows)
            s = project.settings
            s.default_voice, s.gap_s, s.max_stretch = (default or "").strip(), float(gap_value or 0), float(stretch)
            s.allow_overlap, s.format = bool(allow), fmt_value
            project.save()
        return project

    def shown(project: Project, message: str = ""):
        s = project.settings
        return (
            _rows(project),
            _voices_rows(project),
            s.default_voice,
            s.gap_s,
            s.max_stretch,
            s.allow_overlap,
            s.format,
            message,
        )

    view = [table, voices, default_voice, gap, max_stretch, overlap, fmt, status]

    @user_errors
    def do_open(lang, folder_value, request: gr.Request):
        project = _open(folder_value)
        message, _ = project_status(project.folder, lang)
        left = interrupted(project.folder)
        if left is not None and registry().resume(project.folder, ctx.engine, ctx.library(request), owner="ui"):
            zh, en = describe_marker(left)
            where = zh if lang == "zh" else en
            message = t("dub_job_resumed", lang, where=where, count=len(left["pending"]))
        return shown(project, message)

    @user_errors
    def do_import(lang, folder_value, file):
        from ..dubbing.scripts import import_script

        if not file:
            return shown(_open(folder_value))
        path = _folder(folder_value)
        with registry().hold(path):
            project = _open(folder_value)
            imported = import_script(getattr(file, "name", file))
            project.lines, project.voices = imported.lines, {**project.voices, **imported.voices}
            project.save()
        return shown(project, t("dub_saved", lang, path=escape_md(project.folder)))

    @user_errors
    def do_save(lang, *settings):
        project = current(*settings)
        return shown(project, t("dub_saved", lang, path=escape_md(project.folder)))

    def generate(lang, settings, only, force, request):
        """What the run handlers share: start the project's job on the lines ``only(project)`` picks (all when
        None). It runs in the background; the poll shows its progress, here and on any page opening the project."""
        project = current(*settings)
        ids = only(project) if only else None
        job = registry().submit(project, ctx.engine, ctx.library(request), only=ids, force=force, owner="ui")
        return shown(project, job_text(job, lang))

    @user_errors
    def do_run_all(lang, request: gr.Request, *settings):
        return generate(lang, settings, None, False, request)

    @user_errors
    def do_run_selected(lang, selected, request: gr.Request, *settings):
        from ..dubbing.service import select_lines

        def only(project):
            return select_lines(project, selected or "") or []

        return generate(lang, settings, only, False, request)

    @user_errors
    def do_regenerate(lang, line_number, request: gr.Request, *settings):
        return generate(lang, settings, lambda p: [_line_id(p, line_number)], True, request)

    @user_errors
    def do_stop(lang, folder_value):
        return stop_project(_folder(folder_value), lang)

    def do_status(lang, folder_value, last):
        """The poll: the job's status; the table again when a line finished or the job changed state.

        Quiet about a folder still being typed or a project that cannot be read (no error every second), and
        about nothing new (no job): the status line then keeps what the last action wrote."""
        try:
            path = _folder(folder_value)
            message, key = project_status(path, lang)
            if not key:
                return gr.update(), gr.update(), key
            if key == tuple(last or ()):
                # a finished job's text is shown once: what the page shows since (a build's report) stays
                return gr.update(), message if key[1] not in FINAL else gr.update(), key
            return _rows(_open(folder_value)), message, key
        except StudioError:
            return gr.update(), "", ()

    @user_errors
    def do_play(lang, line_number, folder_value):
        from ..dubbing.runner import read_take, take_rate

        project = _open(folder_value)  # read only: playing works while a job runs
        line = project.lines[project.index_of(_line_id(project, line_number))]
        samples = read_take(project, line)
        if samples is None:
            raise gr.Error(t("dub_no_take", lang))
        return audio_output(samples, take_rate(project))

    @user_errors
    def do_choose(lang, line_number, take_number, *settings):
        from ..dubbing.runner import choose_take

        project = current(*settings)
        choose_take(project, _line_id(project, line_number), int(take_number or 1) - 1)
        return shown(project)

    @user_errors
    def do_lock(lang, line_number, *settings):
        from ..dubbing.runner import set_locked

        project = current(*settings)
        line_id = _line_id(project, line_number)
        set_locked(project, line_id, not project.lines[project.index_of(line_id)].locked)
        return shown(project)

    @user_errors
    def do_build(lang, *settings):
        from ..dubbing.service import build

        project = current(*settings)
        built = build(project)
        track, outputs = built.track, built.outputs
        report = t("dub_built", lang, seconds=track.seconds, mode=track.mode, flagged=len(track.flagged))
        report += "".join(f"\n- #{p.index + 1} {p.scene}: {p.suggestion(lang)}" for p in track.flagged)
        if built.missing:
            report += f"\n\n{built.missing_text(lang)}"
        downloads = [str(outputs.zip), str(outputs.track_wav), *(str(p) for p in outputs.subtitles.values())]
        downloads += [str(p) for p in outputs.timelines.values()]
        return audio_output(track.samples, track.sr), downloads, report

    # None of these waits for the model: each runs at once, beside a generation (concurrency_limit=None).
    # The Gradio API names (undocumented) let scripts and tests drive the tab.
    quick = {"concurrency_limit": None, "api_visibility": "undocumented"}
    open_button.click(do_open, [lang_state, folder], view, api_name="dub_open", **quick)
    upload.upload(do_import, [lang_state, folder, upload], view, concurrency_limit=None, api_visibility="private")
    save.click(do_save, [lang_state, *settings_inputs], view, api_name="dub_save", **quick)
    run = {**quick, "show_progress_on": [status]}  # one bar, over the status line, not one over every output
    events = [
        run_all.click(do_run_all, [lang_state, *settings_inputs], view, api_name="dub_generate_all", **run),
        run_selected.click(
            do_run_selected, [lang_state, selection, *settings_inputs], view, api_name="dub_generate_selected", **run
        ),
        regenerate.click(do_regenerate, [lang_state, number, *settings_inputs], view, api_name="dub_regenerate", **run),
    ]
    stop.click(do_stop, [lang_state, folder], [status], api_name="dub_stop", **quick)
    timer.tick(
        do_status,
        [lang_state, folder, seen],
        [table, status, seen],
        api_name="dub_status",
        show_progress="hidden",
        **quick,
    )
    play.click(do_play, [lang_state, number, folder], [line_audio], api_name="dub_play", **quick)
    choose.click(do_choose, [lang_state, number, take, *settings_inputs], view, api_name="dub_choose", **quick)
    lock.click(do_lock, [lang_state, number, *settings_inputs], view, api_name="dub_lock", **quick)
    build_event = build.click(
        do_build,
        [lang_state, *settings_inputs],
        [track_audio, files, status],
        api_name="dub_build",
        **run,
    )
    for event in [*events, build_event]:  # the toast fades; the message stays in the status line
        event.failure(show_last_error, [lang_state], [status], api_visibility="private")
