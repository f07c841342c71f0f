import json
import shutil

import pytest

from studio import checkpoints
from studio.errors import CheckpointError, DownloadError, NotFoundError
from studio.registry import get_spec
from tests.helpers import free_port


@pytest.fixture
def copy_of(tmp_path, tiny_base):
    def make():
        target = tmp_path / "copy"
        shutil.copytree(tiny_base, target)
        return target

    return make


def test_valid_checkpoint_is_described(tiny_base, tiny_custom, tiny_design):
    assert checkpoints.validate_checkpoint(tiny_base).kind == "base"
    assert checkpoints.validate_checkpoint(tiny_custom).kind == "custom_voice"
    info = checkpoints.validate_checkpoint(tiny_design)
    assert info.kind == "voice_design" and info.size == "1.7b" and info.is_random
    assert info.describe("en").endswith("[test model: noise]") and info.describe("zh").endswith("（测试模型：噪声）")
    assert info.label == info.describe("en").removesuffix(" [test model: noise]")  # the label is in no language


def test_missing_folder(tmp_path):
    with pytest.raises(NotFoundError):
        checkpoints.validate_checkpoint(tmp_path / "nope")


def test_missing_files_are_named(copy_of):
    folder = copy_of()
    (folder / "vocab.json").unlink()
    (folder / "speech_tokenizer" / "config.json").unlink()
    with pytest.raises(CheckpointError) as info:
        checkpoints.validate_checkpoint(folder)
    assert "vocab.json" in info.value.en and "speech_tokenizer/config.json" in info.value.zh


def test_corrupt_config(copy_of):
    folder = copy_of()
    (folder / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CheckpointError, match="corrupt"):
        checkpoints.validate_checkpoint(folder)


def test_other_model_is_refused(copy_of):
    folder = copy_of()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}), encoding="utf-8")
    with pytest.raises(CheckpointError, match="different model"):
        checkpoints.validate_checkpoint(folder)


def test_missing_weights_mean_incomplete_download(copy_of):
    folder = copy_of()
    (folder / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="incomplete"):
        checkpoints.validate_checkpoint(folder)


def test_download_without_network_explains_mirror_and_local_folder(studio_home):
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DownloadError) as info:
        checkpoints.download(get_spec("0.6b-base"), endpoint=closed)
    assert "hf-mirror.com" in info.value.zh and "local checkpoint folder" in info.value.en


def test_locate_finds_a_studio_download(studio_home, tiny_base):
    spec = get_spec("0.6b-base")
    assert checkpoints.locate(spec) is None
    shutil.copytree(tiny_base, checkpoints.local_dir(spec))
    assert checkpoints.locate(spec) == checkpoints.local_dir(spec)
    assert checkpoints.disk_bytes(checkpoints.local_dir(spec)) > 1_000_000
    assert checkpoints.delete(spec) and checkpoints.locate(spec) is None


@pytest.fixture
def hub(tiny_base):
    from tests.fake_hub import FakeHub

    server = FakeHub(tiny_base, get_spec("0.6b-base").repo_id)
    yield server
    server.close()


def test_download_from_a_hub_endpoint_gives_a_loadable_folder(studio_home, hub):
    reports = []
    path = checkpoints.download(get_spec("0.6b-base"), endpoint=hub.url, progress=lambda f, m: reports.append((f, m)))
    assert checkpoints.validate_checkpoint(path).kind == "base"
    assert reports[-1][0] == 1.0 and "MB" in reports[-1][1]
    fractions = [f for f, _ in reports if f is not None]
    assert fractions == sorted(fractions)


def test_interrupted_download_resumes_where_it_stopped(studio_home, hub):
    spec = get_spec("0.6b-base")
    hub.cut_after = 3_000_000
    with pytest.raises(DownloadError):
        checkpoints.download(spec, endpoint=hub.url)
    partial = list(checkpoints.local_dir(spec).rglob("*.part"))
    assert len(partial) == 1
    kept = partial[0].stat().st_size
    assert 0 < kept <= 3_000_000  # whole chunks received before the cut are kept
    checkpoints.download(spec, endpoint=hub.url)
    ranges = [r for _, r in hub.requests if r]
    assert ranges == [f"bytes={kept}-"]
    assert checkpoints.validate_checkpoint(checkpoints.local_dir(spec)).kind == "base"


def test_corrupted_file_is_detected_and_fetched_again(studio_home, hub):
    spec = get_spec("0.6b-base")
    hub.corrupt = "model.safetensors"
    with pytest.raises(DownloadError, match="checksum"):
        checkpoints.download(spec, endpoint=hub.url)
    assert not (checkpoints.local_dir(spec) / "model.safetensors").exists()
    hub.corrupt = None
    checkpoints.download(spec, endpoint=hub.url)
    assert checkpoints.validate_checkpoint(checkpoints.local_dir(spec)).kind == "base"


def test_cancelled_download_keeps_its_partial_file(studio_home, hub):
    from studio.errors import Cancelled
    from studio.progress import CancelToken

    token = CancelToken()

    def cancel_midway(fraction, message):
        if fraction and fraction > 0.2:
            token.cancel()

    with pytest.raises(Cancelled):
        checkpoints.download(get_spec("0.6b-base"), endpoint=hub.url, progress=cancel_midway, cancel=token)
    assert list(checkpoints.local_dir(get_spec("0.6b-base")).rglob("*.part"))


def test_random_checkpoint_stores_the_dtype_asked_for(tmp_path, tiny_base):
    from safetensors import safe_open

    from studio.errors import InputError
    from studio.random_checkpoint import MARKER_FILE, build_random_checkpoint

    # tiny: float32 by default; the real sizes default to bfloat16 like the official release
    assert json.loads((tiny_base / MARKER_FILE).read_text())["weights_dtype"] == "float32"
    with safe_open(tiny_base / "model.safetensors", framework="pt") as f:
        assert {str(f.get_slice(k).get_dtype()) for k in f.keys()}  # noqa: SIM118 - a safetensors handle, not a dict == {"F32"}
    assert "dtype" not in json.loads((tiny_base / "config.json").read_text())  # as in the official config
    with pytest.raises(InputError, match="float32 or bfloat16"):
        build_random_checkpoint(tmp_path / "x", "base", weights_dtype="float16")
