"""tasks/config/saved.py: a key follows the files' contents and the caller's parts, and a kept
value comes back only while every disk answer it was made with still holds."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tasks.config import disk, saved
from tasks.store import memo, state


def test_the_key_follows_file_contents_and_parts_not_stamps(tmp_path: Path) -> None:
    f = tmp_path / "stack.yaml"
    f.write_text("a: 1\n")
    first = saved.key([f], "config", "dev")
    assert saved.key([f], "config", "dev") == first
    assert saved.key([f], "config", "prod") != first
    stamp = f.stat()
    f.write_text("a: 2\n")  # same size, and the same mtime: only the contents tell
    os.utime(f, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert saved.key([f], "config", "dev") != first
    f.unlink()
    assert saved.key([f], "config", "dev") not in (first, saved.key([tmp_path], "config", "dev"))


def test_a_kept_value_comes_back_until_a_disk_answer_changes(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    with disk.recording() as probes:
        disk.kind(tmp_path / "ctx")
    saved.keep(tmp_path, "dev", "k", probes, {"replicas": 2})
    assert saved.recall(tmp_path, "dev", "k") == {"replicas": 2}
    assert saved.recall(tmp_path, "dev", "other key") is None
    assert saved.recall(tmp_path, "prod", "k") is None
    (tmp_path / "ctx").rmdir()
    assert saved.recall(tmp_path, "dev", "k") is None


def test_a_file_of_another_shape_is_a_miss(tmp_path: Path) -> None:
    memo.keep(tmp_path / state.memo("dev"), "k", "not a (probes, value) pair")
    assert saved.recall(tmp_path, "dev", "k") is None


def test_a_fifo_or_an_endless_file_is_keyed_without_reading_it_through(tmp_path: Path) -> None:
    """Its load refuses it (not a regular file, too large); the key must not hang or fill memory."""
    fifo = tmp_path / "local.yaml"
    os.mkfifo(fifo)  # no writer: a plain read would block forever
    first = saved.key([fifo], "config")
    assert first == saved.key([fifo], "config")
    fifo.unlink()
    fifo.symlink_to("/dev/zero")  # a character device that never ends
    assert saved.key([fifo], "config") != saved.key([tmp_path / "none"], "config")


def test_an_edit_of_the_tools_code_changes_the_key_and_an_editors_lock_file_is_no_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each run is a new process: here, a copy of the tool per run (the stamps go with cp -a)."""

    def key_in(tool: str) -> str:
        monkeypatch.setattr(saved, "__file__", str(tmp_path / tool / "tasks" / "config" / "saved.py"))
        return saved.key([], "config")

    rules = tmp_path / "first" / "tasks" / "config" / "rules"
    rules.mkdir(parents=True)
    (rules / "names.py").write_text("RULE = 1\n")
    first = key_in("first")
    shutil.copytree(tmp_path / "first", tmp_path / "locked")
    # Emacs's lock file while the rule is edited: a link to a file that does not exist.
    (tmp_path / "locked" / "tasks" / "config" / "rules" / ".#names.py").symlink_to("user@host.42:1700000000")
    assert key_in("locked") == first
    shutil.copytree(tmp_path / "first", tmp_path / "edited")
    (tmp_path / "edited" / "tasks" / "config" / "rules" / "names.py").write_text("RULE = 22\n")
    assert key_in("edited") != first
