"""The Train tab: clips in, review table, options, start / cancel / resume, progress, per-epoch report, A/B.

A thin adapter: checking and reviewing is :mod:`studio.finetune.review`, the
job is :mod:`studio.finetune.jobs` (one training at a time for the whole app),
the result joins the voice library (:mod:`studio.finetune.library`).
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import gradio as gr

from .. import space_mode as space
from ..audio import load_audio
from ..errors import InputError
from ..progress import duration_text
from .common import UiContext, audio_output, user_errors
from .files import file_paths
from .generate_shared import model_choices
from .i18n import t
from .i18n_tables import columns

_REVIEW_COLUMNS = ("col_keep", "col_clip", "col_seconds", "col_transcript")
_REPORT_COLUMNS = ("col_epoch", "col_loss", "col_rate", "col_similarity", "col_cer", "col_score")
POLL_S = 1.0
_API = {"api_visibility": "undocumented"}
_JOBS: dict = {}  #: the app's TrainingJobs (one training at a time, whichever tab or window starts it)


def _jobs(library):
    from ..finetune.jobs import TrainingJobs

    if "jobs" not in _JOBS:
        _JOBS["jobs"] = TrainingJobs(library=library)
    return _JOBS["jobs"]


def _root() -> Path:
    from ..paths import outputs_dir

    return outputs_dir() / "finetune"


def report_rows(report: list[dict]) -> list[list]:
    """The per-epoch report as table rows."""
    rows = []
    for entry in report:
        e = entry.get("evaluation") or {}
        cer = e.get("cer")
        rows.append(
            [
                entry["epoch"],
                round(entry["loss"], 3),
                round(e["rate_ratio"], 2) if e else "",
                round(e["similarity"], 3) if e else "",
                "" if cer is None else round(cer, 3),
                round(e["score"], 3) if e else "",
            ]
        )
    return rows


def progress_percent(fraction: float) -> float:
    """The progress bar's value: percent done, 0-100."""
    return round(max(0.0, min(100.0, 100.0 * float(fraction or 0.0))), 1)


def status_text(snapshot: dict, lang: str) -> str:
    """One line saying where the job stands."""
    state = snapshot["state"]
    if state == "done":
        return t("train_done", lang, name=snapshot["name"], speaker=snapshot["speaker"], model=snapshot["out"])
    if state == "cancelled":
        return t("train_cancelled", lang)
    if state == "failed":
        error = snapshot.get("error") or {}
        return t("train_failed", lang, error=error.get(lang, error.get("en", "")))
    if not snapshot["steps"]:
        return snapshot["message"]
    loss = "" if snapshot["loss"] is None else f"{snapshot['loss']:.3f}"
    eta = duration_text(snapshot["eta_s"] or 0, lang)
    fields = {k: snapshot[k] for k in ("epoch", "epochs", "step", "steps")}
    return t("train_running", lang, loss=loss, eta=eta, **fields)


def check_clips(files, folder: str, workspace: Path):
    """Copy the uploads (or read ``folder``), check them, write the reviewed clips; (target, rows, rejected)."""
    from ..finetune.review import review

    files = files or []
    plain = [f for f in files if isinstance(f, str)]  # gr.File hands file paths; a client sends file objects
    paths = [Path(p) for p in [*plain, *file_paths([f for f in files if not isinstance(f, str)])]]
    if paths:
        data = workspace / "data"
        data.mkdir(parents=True, exist_ok=True)
        for path in paths:
            shutil.copyfile(path, data / path.name)
    elif (folder or "").strip():
        space.check_operator_only()
        data = Path(folder.strip()).expanduser()
    else:
        raise InputError(zh=t("train_no_data", "zh"), en=t("train_no_data", "en"))
    return review(data, workspace / "reviewed")


def build_train_tab(ctx: UiContext, lang_state: gr.State) -> gr.State:
    """The Train tab. Returns a state that changes to a job's id when that job's voice has joined the library.

    Its handlers have Gradio API names (undocumented), so scripts and tests can drive the tab.
    """
    session = gr.State({})
    finished = gr.State("")
    ctx.loc(gr.Markdown(t("train_intro", "zh")), value="train_intro")
    with gr.Row():
        files = ctx.loc(gr.File(file_count="multiple", label=t("train_files", "zh")), label="train_files")
        folder = ctx.loc(gr.Textbox(label=t("train_folder", "zh"), visible=not space.enabled()), label="train_folder")
    check = ctx.loc(gr.Button(t("train_check", "zh")), value="train_check")
    summary = gr.Markdown()
    table = ctx.loc(
        gr.Dataframe(
            headers=columns(_REVIEW_COLUMNS, "zh"),
            datatype=["bool", "str", "number", "str"],
            interactive=True,
            type="array",
            wrap=True,
        ),
        headers=_REVIEW_COLUMNS,
    )
    clip_audio = ctx.loc(gr.Audio(label=t("train_clip_audio", "zh"), interactive=False), label="train_clip_audio")
    with gr.Row():
        name = ctx.loc(gr.Textbox(label=t("train_name", "zh")), label="train_name")
        choices = model_choices("base")
        base = ctx.loc(
            gr.Dropdown(choices, value=choices[0][1], allow_custom_value=True, label=t("train_base", "zh")),
            label="train_base",
        )
        lora = ctx.loc(
            gr.Number(16, precision=0, minimum=0, maximum=256, label=t("train_lora", "zh")), label="train_lora"
        )
        epochs = ctx.loc(
            gr.Number(3, precision=0, minimum=1, maximum=100, label=t("train_epochs", "zh")), label="train_epochs"
        )
    consent = ctx.loc(gr.Checkbox(label=t("train_consent", "zh")), label="train_consent")
    with gr.Row():
        start = ctx.loc(gr.Button(t("train_start", "zh"), variant="primary"), value="train_start")
        cancel = ctx.loc(gr.Button(t("train_cancel", "zh"), variant="stop"), value="train_cancel")
        resume = ctx.loc(gr.Button(t("train_resume", "zh")), value="train_resume")
    status = gr.Markdown()
    bar = ctx.loc(
        gr.Slider(0, 100, value=0, interactive=False, label=t("train_progress", "zh")), label="train_progress"
    )
    report = ctx.loc(
        gr.Dataframe(headers=columns(_REPORT_COLUMNS, "zh"), interactive=False, label=t("train_report", "zh")),
        headers=_REPORT_COLUMNS,
        label="train_report",
    )
    with gr.Row():
        ab_epoch = ctx.loc(
            gr.Number(1, precision=0, minimum=1, label=t("train_ab_epoch", "zh")), label="train_ab_epoch"
        )
        ab_play = ctx.loc(gr.Button(t("dub_play", "zh"), size="sm"), value="dub_play")
        ab_trained = ctx.loc(gr.Audio(label=t("train_ab_trained", "zh"), interactive=False), label="train_ab_trained")
        ab_zero = ctx.loc(gr.Audio(label=t("train_ab_zero", "zh"), interactive=False), label="train_ab_zero")

    @user_errors
    def do_check(lang, uploaded, local, state, request: gr.Request):
        workspace = _root() / "ui" / uuid.uuid4().hex[:12]
        target, rows, rejected = check_clips(uploaded, local, workspace)
        from ..finetune.review import total_minutes

        lines = [t("train_summary", lang, clips=len(rows), minutes=total_minutes(rows), rejected=len(rejected))]
        lines += [f"- {n}: {zh if lang == 'zh' else en}" for n, zh, en in rejected[:20]]
        table_rows = [[r.keep, r.name, r.seconds, r.text] for r in rows]
        return "\n".join(lines), table_rows, {**state, "target": str(target), "workspace": str(workspace)}

    check.click(
        do_check, [lang_state, files, folder, session], [summary, table, session], api_name="train_check", **_API
    )

    def play(state, evt: gr.SelectData):
        if not state.get("target") or evt.index is None:
            return None
        row = evt.row_value if evt.row_value else None
        wav = Path(state["target"]) / f"{row[1]}.wav" if row else None
        if wav is None or not wav.is_file():
            return None
        audio = load_audio(wav)
        return audio_output(audio.samples, audio.sr)

    table.select(play, [session], [clip_audio], api_visibility="private")

    def _rows(values) -> list:
        from ..finetune.review import ReviewRow

        rows = []
        for value in values or []:
            if len(value) >= 4 and str(value[1]).strip():
                keep = value[0] if isinstance(value[0], bool) else str(value[0]).lower() in ("true", "1")
                rows.append(ReviewRow(keep, str(value[1]), float(value[2] or 0), str(value[3])))
        return rows

    @user_errors
    def do_start(lang, state, values, voice, model, rank, passes, agreed, request: gr.Request):
        from ..finetune.job import FinetuneRequest
        from ..finetune.library import require_consent
        from ..finetune.review import apply_review
        from ..finetune.train import TrainOptions

        require_consent(bool(agreed))
        if not state.get("target"):
            raise InputError(zh=t("train_no_data", "zh"), en=t("train_no_data", "en"))
        offered = {value for _, value in model_choices("base")}
        space.check_operator_only((model or "").strip() in offered)
        apply_review(state["target"], _rows(values))
        options = TrainOptions(epochs=int(passes or 3), lora_rank=int(rank or 0))
        out = Path(state["workspace"]) / "voice"
        job_request = FinetuneRequest(state["target"], voice or "", model, str(out), options=options, consent=True)
        job = _jobs(ctx.library(request)).start(job_request)
        return {**state, "job": job.id}

    start.click(
        do_start,
        [lang_state, session, table, name, base, lora, epochs, consent],
        [session],
        api_name="train_start",
        **_API,
    )

    def poll(lang, state, request: gr.Request):
        """Every second: the job's line, progress bar and report, and the job's id once its voice is in the
        library (nothing changes without a job)."""
        if not state.get("job"):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        job = _jobs(ctx.library(request)).get(state["job"])
        snapshot = {**job.snapshot(lang), "out": job.request.out}
        done = job.id if snapshot["state"] == "done" else gr.skip()
        bar_value = progress_percent(snapshot["fraction"])
        return status_text(snapshot, lang), bar_value, report_rows(snapshot["report"]), done

    timer = gr.Timer(POLL_S)
    outputs = [status, bar, report, finished]
    # Queued (without a limit: it never waits for the model), since only a queued event's answer tells the page
    # that ``finished`` changed, which refreshes the voice lists.
    quick = {"concurrency_limit": None, "show_progress": "hidden"}
    timer.tick(poll, [lang_state, session], outputs, api_name="train_status", **quick, **_API)

    @user_errors
    def do_cancel(lang, state, request: gr.Request):
        if not state.get("job"):
            return t("train_no_job", lang)
        _jobs(ctx.library(request)).cancel(state["job"])
        return t("train_cancelled", lang)

    cancel.click(do_cancel, [lang_state, session], [status], api_name="train_cancel", queue=False, **_API)

    @user_errors
    def do_resume(lang, state, request: gr.Request):
        if not state.get("job"):
            raise InputError(zh=t("train_no_job", "zh"), en=t("train_no_job", "en"))
        _jobs(ctx.library(request)).resume(state["job"])
        return state

    resume.click(do_resume, [lang_state, session], [session], api_name="train_resume", **_API)

    def do_ab(state, epoch):
        if not state.get("workspace"):
            return None, None
        folder = Path(state["workspace"]) / "voice" / "training" / "ab"
        trained, zero = folder / f"epoch-{int(epoch or 1):03d}.wav", folder / "zero-shot.wav"
        return tuple(
            audio_output(*(lambda a: (a.samples, a.sr))(load_audio(p))) if p.is_file() else None
            for p in (trained, zero)
        )

    ab_epoch.change(do_ab, [session, ab_epoch], [ab_trained, ab_zero], api_visibility="private")
    ab_play.click(do_ab, [session, ab_epoch], [ab_trained, ab_zero], api_visibility="private")
    return finished
