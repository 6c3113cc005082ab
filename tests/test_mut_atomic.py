"""Writing only what changed (tasks/store/atomic.py), edges found unguarded by `bench/mutation.py atomic`."""

from __future__ import annotations

import stat
from pathlib import Path

from tasks.store import atomic


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_file_is_written_only_when_its_bytes_change(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "out.txt"
    assert atomic.write_text(path, "one\n") is True
    assert path.read_text() == "one\n" and mode(path) == 0o644
    before = path.stat().st_mtime_ns, path.stat().st_ino
    assert atomic.write_text(path, "one\n") is False
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == before  # not even rewritten
    assert atomic.write_text(path, "two\n") is True and path.read_text() == "two\n"


def test_a_secret_is_private_even_when_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    assert atomic.write_text(path, "A=1\n", secret=True) is True and mode(path) == 0o600
    path.chmod(0o644)  # loosened by hand, or written by an older version
    assert atomic.write_text(path, "A=1\n", secret=True) is False and mode(path) == 0o600
    assert atomic.write_text(path, "A=1\n") is False and mode(path) == 0o600  # a plain write never loosens it


def test_unreadable_bytes_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_bytes(b"\xff\xfe not utf-8")
    assert atomic.write_text(path, "text\n") is True and path.read_text() == "text\n"
