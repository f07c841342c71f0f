"""An error stays readable: a toast titled in the UI's language, then the message kept in the result area."""

import gradio as gr
import pytest

from studio.errors import InputError
from studio.ui.common import show_last_error, user_errors


def _failing(lang, request: gr.Request):
    raise InputError(zh="模型还没有下载，当前无法联网。", en="The model is not downloaded and there is no network.")


@pytest.mark.parametrize(
    ("lang", "title", "words"), [("zh", "出错了", "模型还没有下载"), ("en", "Error", "not downloaded")]
)
def test_the_message_outlives_the_toast_until_shown_once(lang, title, words):
    request = gr.Request(session_hash=f"s-{lang}")
    with pytest.raises(gr.Error) as err:
        user_errors(_failing)(lang, request)
    assert err.value.title == title and words in err.value.message
    kept = show_last_error(lang, request)
    assert words in kept and kept.startswith("**" + title)
    assert show_last_error(lang, request) == ""  # the next action starts clean
    assert show_last_error(lang, gr.Request(session_hash="another")) == ""


def test_unexpected_errors_show_no_raw_exception_text():
    def broken(lang, request: gr.Request):
        raise RuntimeError("secret /home/user/path detail")

    with pytest.raises(gr.Error) as err:
        user_errors(broken)("en", gr.Request(session_hash="s-raw"))
    assert err.value.message and "secret" not in err.value.message
    assert "secret" not in show_last_error("en", gr.Request(session_hash="s-raw"))


def test_every_run_button_puts_its_failure_in_its_result_area():
    from studio.ui.app import build_app

    deps = build_app().get_config_file()["dependencies"]
    by_id = {d["id"]: d for d in deps}
    failures = {by_id[d["trigger_after"]]["api_name"]: d for d in deps if d.get("trigger_only_on_failure")}
    assert {
        "clone",
        "custom",
        "design",
        "dub_generate_all",
        "dub_generate_selected",
        "dub_regenerate",
        "dub_build",
    } <= set(failures)
    for name, dep in failures.items():
        run = by_id[dep["trigger_after"]]
        assert set(dep["outputs"]) <= set(run["outputs"]), name  # written where the run's result goes
        assert len(run["show_progress_on"] or []) == 1, name  # one progress bar per run
