"""The inner loop's per-service records (tasks/store/devstate.py): one file per environment,
read back as written, damaged or missing reads as empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.store import devstate


@pytest.fixture(autouse=True)
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_record_is_read_back_as_written() -> None:
    assert devstate.read("offline") == {}
    made = devstate.update("offline", "api", result="ok", seconds=1.5, files=("app/a.js",))
    assert made == devstate.Record("api", result="ok", seconds=1.5, files=("app/a.js",))
    assert devstate.read("offline") == {"api": made}
    assert devstate.read("local") == {}  # one file per environment


def test_an_update_changes_only_the_fields_given() -> None:
    devstate.update("offline", "api", result="failed", summary="exit 1", image="x/api:1")
    again = devstate.update("offline", "api", synced_at=42.0)
    assert again.result == "failed" and again.image == "x/api:1" and again.synced
    assert not devstate.update("offline", "web").synced


def test_a_damaged_file_reads_as_no_records(here: Path) -> None:
    devstate.path("offline").parent.mkdir(parents=True)
    devstate.path("offline").write_text("{not json")
    assert devstate.read("offline") == {}
    devstate.path("offline").write_text('{"api": {"unknown": 1}}')
    assert devstate.read("offline") == {}
    devstate.path("offline").write_text("[]")  # valid JSON, not a mapping
    assert devstate.read("offline") == {}
    devstate.path("offline").unlink()
    devstate.path("offline").mkdir()  # a folder where the file goes
    assert devstate.read("offline") == {}


def test_a_deploy_of_a_new_image_forgets_the_sync_into_the_old_one() -> None:
    devstate.update("offline", "api", synced_at=5.0, image="x/api:1", files=("app/a.js",))
    devstate.update("offline", "worker", synced_at=5.0, image="x/worker:1")
    devstate.update("offline", "web", image="x/web:1")
    gone = devstate.forget_syncs("offline", {"api": "x/api:2", "worker": "x/worker:1", "web": "x/web:2"})
    assert gone == ["api"]
    records = devstate.read("offline")
    assert not records["api"].synced and records["api"].image == "x/api:2"
    assert records["api"].files == ("app/a.js",)
    assert records["worker"].synced  # the same image: its containers were kept, with the sync
    assert records["web"].image == "x/web:1"  # never synced: not this function's record to change
    assert devstate.forget_syncs("offline", {}) == []
