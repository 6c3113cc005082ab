"""tasks/store/atomic.py: a file is written only when its bytes change, and a secret is private from
its first byte."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

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


def test_secret_file_is_private_even_if_chmod_never_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A crash between "write" and "chmod" must not leave a readable secret: with chmod
    # disabled, the file still has to be 0600 (created that way, not narrowed later).
    monkeypatch.setattr(os, "chmod", lambda *a, **k: None)
    monkeypatch.setattr(Path, "chmod", lambda *a, **k: None)
    old = os.umask(0o022)
    try:
        atomic.write_text(tmp_path / "secrets.env", "A=b\n", secret=True)
    finally:
        os.umask(old)
    assert mode(tmp_path / "secrets.env") == 0o600
