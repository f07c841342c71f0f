"""The browser UI through gradio_client, against a real server started like a user starts it."""

import re
import subprocess
import sys
import time

import httpx
import pytest
import soundfile as sf

from tests.helpers import ROOT, read_generated_speech, running_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_home(tmp_path_factory):
    return tmp_path_factory.mktemp("ui-home")


@pytest.fixture(scope="module")
def server(server_home, tiny_base):
    with running_app(server_home, env={"STUDIO_MODEL": str(tiny_base), "STUDIO_LANG": "zh"}) as url:
        yield url


@pytest.fixture
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


def test_page_is_served_without_loading_torch_or_qwen_tts():
    code = (
        "import sys; from studio.ui.app import build_app; build_app(); "
        "print(sorted(m for m in ('torch', 'qwen_tts', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr


def test_clone_through_the_ui(client, reference_wav, tiny_base):
    from gradio_client import handle_file

    audio, info = client.predict(
        handle_file(str(reference_wav)),
        "参考文字。",
        False,
        "你好，世界。",
        "Chinese",
        str(tiny_base),
        11,
        api_name="/clone",
    )
    read_generated_speech(audio)
    assert "种子 11" in info and "噪声" in info  # Chinese by default; the test model is labelled


def test_errors_come_back_in_the_chosen_language(client, reference_wav, tiny_base):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="文本是空的"):
        client.predict(
            handle_file(str(reference_wav)), "参考", False, "", "Auto", str(tiny_base), -1, api_name="/clone"
        )
    client.predict("en", api_name="/set_language")
    with pytest.raises(AppError, match="The text is empty"):
        client.predict(
            handle_file(str(reference_wav)), "参考", False, " ", "Auto", str(tiny_base), -1, api_name="/clone"
        )
    with pytest.raises(AppError, match="CustomVoice"):
        client.predict("hello", "Vivian", "", "Auto", str(tiny_base), -1, api_name="/custom")


def test_custom_and_design_through_the_ui(client, tiny_custom, tiny_design):
    client.predict("zh", api_name="/set_language")
    audio, info = client.predict("你好。", "Serena", "温柔地说", "Chinese", str(tiny_custom), 1, api_name="/custom")
    assert sf.info(audio).samplerate == 24_000
    assert "种子 1" in info
    audio, info = client.predict("一个低沉的男声", "你好。", "Auto", str(tiny_design), 2, api_name="/design")
    assert sf.info(audio).frames > 0
    assert "种子 2" in info


def test_server_keeps_serving_after_bad_input(client, server, tmp_path, tiny_base):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("this is not audio")
    with pytest.raises(AppError):
        client.predict(
            handle_file(str(not_audio)), "参考", False, "你好", "Auto", str(tiny_base), -1, api_name="/clone"
        )
    assert httpx.get(server, timeout=5).status_code == 200


def test_save_a_voice_then_clone_with_it_to_an_exact_length(client, tmp_path, tiny_base):
    from gradio_client import handle_file

    from tests.audio_fixtures import utterance

    samples, _ = utterance([("sil", 0.3), ("speech", 2.0), ("sil", 0.3), ("speech", 2.0), ("sil", 0.3)])
    clip = tmp_path / "me.wav"
    sf.write(clip, samples, 24_000)
    client.predict("en", api_name="/set_language")
    with pytest.raises(Exception, match="Consent is required"):
        client.predict(handle_file(str(clip)), "UI voice", "参考文字。", "zh", "", False, api_name="/save_voice")
    status, table = client.predict(
        handle_file(str(clip)), "UI voice", "参考文字。", "zh", "calm", True, api_name="/save_voice"
    )
    assert "UI voice" in status and any(row[0] == "UI voice" for row in table["data"])
    audio, info = client.predict(
        None, "", False, "你好。", "Chinese", str(tiny_base), 3, "UI voice", "neutral", True, 2.0, 1.0, 1,
        api_name="/clone",
    )  # fmt: skip
    data, sr = sf.read(audio)
    assert abs(len(data) / sr - 2.0) <= 0.01
    assert "result 2.000 s" in info and "Sent to the model" in info
    client.predict("UI voice", api_name="/delete_voice")
    with pytest.raises(Exception, match="UI voice"):
        client.predict(
            None, "", False, "你好。", "Chinese", str(tiny_base), 3, "UI voice", "neutral", api_name="/clone"
        )


def test_space_mode_keeps_each_visitors_voices_private(tmp_path, tiny_base):
    from gradio_client import Client, handle_file

    from tests.audio_fixtures import utterance

    env = {"STUDIO_MODEL": str(tiny_base), "STUDIO_LANG": "en"}
    with running_app(tmp_path / "home", "--space", "--host", "127.0.0.1", env=env) as url:
        samples, _ = utterance([("sil", 0.3), ("speech", 2.0), ("sil", 0.3), ("speech", 1.5), ("sil", 0.3)])
        clip = tmp_path / "me.wav"
        sf.write(clip, samples, 24_000)
        alice, bob = Client(url, verbose=False), Client(url, verbose=False)
        _status, table = alice.predict(
            handle_file(str(clip)), "Alice", "参考文字。", "zh", "", True, api_name="/save_voice"
        )
        assert [row[0] for row in table["data"]] == ["Alice"]
        _status, table = bob.predict(
            handle_file(str(clip)), "Bob", "参考文字。", "zh", "", True, api_name="/save_voice"
        )
        assert [row[0] for row in table["data"]] == ["Bob"]  # Bob's library does not list Alice
        with pytest.raises(Exception, match="Alice"):
            bob.predict("Alice", api_name="/delete_voice")
        with pytest.raises(Exception, match="Alice"):
            bob.predict(None, "", False, "你好。", "Chinese", str(tiny_base), 1, "Alice", "neutral", api_name="/clone")
        assert not (tmp_path / "home" / "voices" / "Alice").exists()


def test_every_generation_is_kept_and_can_be_regenerated(client, server_home, tiny_custom):
    from studio.takes import TakeHistory

    client.predict("你好。", "Serena", "", "Chinese", str(tiny_custom), 5, api_name="/custom")
    history = TakeHistory(server_home / "outputs" / "takes")
    take = next(t for t in history.list() if t.kind == "custom" and t.seed == 5)
    assert take.voice == "Serena" and take.text == "你好。" and take.settings["model"] == str(tiny_custom)
    audio, _info, table, new_id = client.predict(take.id, api_name="/regenerate_take")
    assert sf.info(audio).samplerate == 24_000 and new_id != take.id
    again = history.get(new_id)
    assert again.text == take.text and again.voice == "Serena" and again.kind == "custom"
    assert any(row[0] == new_id for row in table["data"])
    with pytest.raises(Exception, match="nope"):
        client.predict("nope", api_name="/regenerate_take")


def shown(markdown: str) -> str:
    """Markdown text as it reads on the page (backslash escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def test_aliases_and_gsv_config_import_through_the_ui(client, tmp_path):
    from gradio_client import handle_file

    from tests.audio_fixtures import utterance

    samples, _ = utterance([("sil", 0.3), ("speech", 2.5), ("sil", 0.3)])
    clip = tmp_path / "0.wav"
    sf.write(clip, samples, 24_000)
    config = tmp_path / "config.yaml"
    config.write_text(
        "TTS:\n  GPT_SOVITS_V2:\n    type: gpt_sovits_v2\n"
        '    ref_audio_path: "E:\\\\alearn\\\\GPT-SoVITS\\\\纳西妲\\\\0.wav"\n'
        '    prompt_text: "你好，我是纳西妲。"\n    prompt_lang: "zh"\n'
        '  GPT_SOVITS_V3:\n    refer_wav_path: "caixukun.wav"\n    prompt_text: ""\n',
        encoding="utf-8",
    )
    client.predict("en", api_name="/set_language")
    nahida = "E:\\alearn\\GPT-SoVITS\\纳西妲\\0.wav"
    args = [handle_file(str(config)), None, "GPT_SOVITS_V2", "", False, True, ""]
    with pytest.raises(Exception, match="is not here"):  # the UI never opens a path the config names
        client.predict(*args, api_name="/import_gsv_config")
    args[1] = handle_file(str(clip))
    status, table, chosen, listing = client.predict(*args, api_name="/import_gsv_config")
    assert chosen == "纳西妲" and "Saved voice" in status and "纳西妲" in {row[0] for row in table["data"]}
    assert nahida in shown(listing)
    # the V3 block's path becomes an alias of the chosen voice
    status, _, _, listing = client.predict(
        handle_file(str(config)), None, "GPT_SOVITS_V3", "", True, False, "纳西妲", api_name="/import_gsv_config"
    )
    assert "now answers to caixukun.wav" in shown(status) and "caixukun.wav" in shown(listing)
    listing, box = client.predict("纳西妲", "参考音频.wav", api_name="/add_alias")
    assert "参考音频.wav" in shown(listing) and box == ""
    with pytest.raises(Exception, match="alias is empty"):
        client.predict("纳西妲", "  ", api_name="/add_alias")
    assert shown(client.predict("纳西妲", nahida, api_name="/add_alias")[0]).count(nahida) == 1  # added once
    listing, _ = client.predict("纳西妲", "参考音频.wav", api_name="/remove_alias")
    assert "参考音频.wav" not in shown(listing)
    client.predict("纳西妲", api_name="/delete_voice")


def test_a_dubbing_job_outlives_the_page_and_another_page_sees_and_stops_it(server, server_home, tiny_custom):
    """Start "generate all", drop the page; a new page sees the job running, gets answers from actions that need
    no model (readings, bad input) meanwhile, and stops the job."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from studio.dubbing.project import Line, Project

    folder = "dubbing/outlives"
    text = "这是一句比较长的台词，用来让生成多花一些时间，好让我们在它运行的时候做别的事情。"
    project = Project(name="outlives", lines=[Line(scene=f"s{i}", speaker="A", text=text) for i in range(1, 9)])
    project.voices = {"A": "preset:Vivian"}
    project.settings.model_custom, project.settings.loudness, project.settings.format = str(tiny_custom), None, "wav"
    project.save(server_home / "outputs" / folder)

    first = Client(server, verbose=False)
    view = first.predict(folder, api_name="/dub_open")
    first.predict(folder, *view[:7], api_name="/dub_generate_all")  # the table and settings as the page shows them
    first.close()

    second = Client(server, verbose=False)

    def status() -> str:
        return second.predict(folder, api_name="/dub_status")[1]

    deadline = time.monotonic() + 300
    while "正在生成" not in (message := status()):
        assert time.monotonic() < deadline and "失败" not in message, message
        time.sleep(0.2)
    assert "项目 “outlives” 的配音任务" in message

    highlights, sent = second.predict("银行行长说行不行", True, api_name="/clone_readings")
    assert sent and highlights  # the readings answer while the job holds the model
    with pytest.raises(AppError, match="文本是空的"):
        second.predict("", "Vivian", "", "Auto", str(tiny_custom), 1, api_name="/custom")
    with pytest.raises(AppError, match="正在进行"):
        second.predict(folder, *view[:7], api_name="/dub_save")  # no edit under a running job
    assert "正在生成" in status()  # all of that happened while the job ran

    # a generation from a third page meanwhile waits for the model, and says for what
    third = Client(server, verbose=False)
    waiting = third.submit("你好。", "Vivian", "", "Auto", str(tiny_custom), 1, api_name="/custom")

    def told() -> str:
        return " ".join(p.desc or "" for p in waiting.status().progress_data or [])

    while "排队等待项目 “outlives” 的配音任务（第" not in (said := told()):
        assert time.monotonic() < deadline and not waiting.done(), said
        time.sleep(0.2)

    assert "正在停止" in second.predict(folder, api_name="/dub_stop")
    while "已停止" not in (message := status()):
        assert time.monotonic() < deadline, message
        time.sleep(0.2)
    made = [line for line in Project.load(server_home / "outputs" / folder).lines if line.takes]
    assert len(made) < 8
    audio, info = waiting.result(timeout=300)  # its turn came when the job stopped
    assert sf.info(audio).frames > 0 and "种子 1" in info


def test_building_the_track_before_any_line_is_generated_is_refused_and_writes_nothing(client, server_home):
    from gradio_client.exceptions import AppError

    from studio.dubbing.project import Line, Project

    folder = "dubbing/nothing-yet"
    Project(name="nothing-yet", lines=[Line(scene="s1", text="你好。")]).save(server_home / "outputs" / folder)
    view = client.predict(folder, api_name="/dub_open")
    with pytest.raises(AppError, match="请先生成台词"):
        client.predict(folder, *view[:7], api_name="/dub_build")
    assert not (server_home / "outputs" / folder / "outputs").exists()
