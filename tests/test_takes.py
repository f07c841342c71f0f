"""The takes history: kept, starred, deleted, bounded, and safe against damage."""

import json

import pytest
import soundfile as sf

from studio import takes as takes_module
from studio.errors import NotFoundError, StorageError
from studio.takes import TakeHistory
from tests.helpers import voiced_clip


def add(history, seed=1, text="你好。"):
    return history.add(
        voiced_clip(1.0), 24_000, kind="clone", text=text, voice="主播", seed=seed, model="tiny",
        settings={"voice": "主播", "delivery": {"duration": 1.0}, "not_json": object()},
    )  # fmt: skip


def test_takes_are_kept_with_what_made_them(tmp_path):
    history = TakeHistory(tmp_path)
    first = add(history, seed=1)
    second = add(history, seed=2, text="第二条。")
    assert [t.id for t in history.list()] == [second.id, first.id]  # newest first
    again = TakeHistory(tmp_path).get(first.id)  # read back from disk
    assert again.text == "你好。" and again.seed == 1 and again.seconds == 1.0
    assert again.settings == {"voice": "主播", "delivery": {"duration": 1.0}, "not_json": None}
    data, sr = sf.read(history.path(first.id))
    assert sr == 24_000 and len(data) == 24_000


def test_star_delete_and_clear_errors(tmp_path):
    history = TakeHistory(tmp_path)
    take = add(history)
    assert history.star(take.id).starred and history.get(take.id).starred
    assert not history.star(take.id, False).starred
    history.delete(take.id)
    assert history.list() == [] and not (tmp_path / take.file).exists()
    with pytest.raises(NotFoundError, match=take.id):
        history.delete(take.id)
    with pytest.raises(NotFoundError):
        history.star("nope")


def test_history_is_bounded_but_starred_takes_stay(tmp_path, monkeypatch):
    monkeypatch.setattr(takes_module, "MAX_TAKES", 3)
    history = TakeHistory(tmp_path)
    keep = add(history, seed=0)
    history.star(keep.id)
    for seed in range(1, 6):
        add(history, seed=seed)
    left = history.list()
    assert len(left) == 3 and keep.id in [t.id for t in left]
    assert len(list(tmp_path.glob("*.wav"))) == 3


def test_a_damaged_index_is_reported_not_overwritten(tmp_path):
    history = TakeHistory(tmp_path)
    add(history)
    (tmp_path / "takes.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(StorageError, match="damaged"):
        history.list()
    with pytest.raises(StorageError):
        add(history)
    assert (tmp_path / "takes.json").read_text(encoding="utf-8") == "{broken"


def test_a_newer_index_is_refused(tmp_path):
    (tmp_path / "takes.json").write_text(
        json.dumps({"format": takes_module.FORMAT, "version": 99, "takes": []}), encoding="utf-8"
    )
    with pytest.raises(Exception, match="newer version"):
        TakeHistory(tmp_path).list()
