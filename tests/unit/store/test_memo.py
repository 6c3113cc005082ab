"""tasks/store/memo.py: a value comes back only under the key it was kept with, and a cache
file that is missing, torn or cannot be written is a miss, never an error."""

from __future__ import annotations

from pathlib import Path

from tasks.store import memo


def test_a_kept_value_comes_back_under_its_key_only(tmp_path: Path) -> None:
    path = tmp_path / "memo" / "one.pickle"
    assert memo.keep(path, "k1", {"a": (1, 2)})
    assert memo.recall(path, "k1") == {"a": (1, 2)}
    assert memo.recall(path, "k2") is None


def test_keeping_again_replaces_the_value(tmp_path: Path) -> None:
    path = tmp_path / "one.pickle"
    memo.keep(path, "k1", "old")
    memo.keep(path, "k2", "new")
    assert (memo.recall(path, "k1"), memo.recall(path, "k2")) == (None, "new")
    assert [p.name for p in tmp_path.iterdir()] == ["one.pickle"]  # no temp file is left


def test_a_missing_torn_or_foreign_file_is_a_miss(tmp_path: Path) -> None:
    assert memo.recall(tmp_path / "none.pickle", "k") is None
    torn = tmp_path / "torn.pickle"
    memo.keep(torn, "k", list(range(1000)))
    torn.write_bytes(torn.read_bytes()[:50])
    assert memo.recall(torn, "k") is None
    empty = tmp_path / "empty.pickle"  # what a crash may leave: the file is never fsynced
    empty.write_bytes(b"")
    assert memo.recall(empty, "k") is None
    foreign = tmp_path / "foreign.pickle"
    foreign.write_bytes(b"not a pickle at all")
    assert memo.recall(foreign, "k") is None


def test_a_value_that_cannot_be_written_is_only_not_kept(tmp_path: Path) -> None:
    (tmp_path / "memo").write_text("a file where the folder should be")
    assert memo.keep(tmp_path / "memo" / "one.pickle", "k", 1) is False
    assert memo.keep(tmp_path / "two.pickle", "k", lambda: None) is False  # no pickle for it
    assert not (tmp_path / "two.pickle").exists()
