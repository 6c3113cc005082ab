"""tasks/store/passed.py: keys of checks that passed, newest first, bounded, and a record that
cannot be read is only a check to run again."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tasks.store import passed


def key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_remembered_keys_are_passed_in_every_record_of_the_folder(tmp_path: Path) -> None:
    assert passed.remember(tmp_path / "a.txt", [key("one"), key("two")])
    assert passed.remember(tmp_path / "b.txt", [key("three")])
    (tmp_path / "notes.md").write_text(key("not a record") + "\n")
    assert passed.passed(tmp_path) == {key("one"), key("two"), key("three")}


def test_a_record_keeps_earlier_keys_after_the_newest(tmp_path: Path) -> None:
    record = tmp_path / "env.txt"
    passed.remember(record, [key("a"), key("b")])
    passed.remember(record, [key("c"), key("a")])
    assert passed.keys_in(record) == [key("c"), key("a"), key("b")]


def test_a_record_drops_its_oldest_keys_past_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(passed, "MAX_KEYS", 3)
    record = tmp_path / "env.txt"
    passed.remember(record, [key("old1"), key("old2")])
    passed.remember(record, [key("new1"), key("new2")])
    assert passed.keys_in(record) == [key("new1"), key("new2"), key("old1")]


def test_a_corrupt_record_keeps_only_its_well_formed_keys(tmp_path: Path) -> None:
    record = tmp_path / "env.txt"
    record.write_bytes(b"\xff\xfe garbage\n" + key("good").encode() + b"\nABC\n" + key("x").upper().encode())
    assert passed.keys_in(record) == [key("good")]
    assert passed.passed(tmp_path) == {key("good")}


def test_a_missing_folder_or_an_unreadable_record_has_no_keys(tmp_path: Path) -> None:
    assert passed.passed(tmp_path / "nothing-here") == set()
    (tmp_path / "dir.txt").mkdir()  # a folder where a record should be
    assert passed.keys_in(tmp_path / "dir.txt") == []
    assert passed.passed(tmp_path) == set()


def test_a_record_that_cannot_be_written_says_so(tmp_path: Path) -> None:
    (tmp_path / "dir.txt").mkdir()
    assert passed.remember(tmp_path / "dir.txt", [key("a")]) is False
    assert passed.passed(tmp_path) == set()
