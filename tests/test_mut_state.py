"""Build state on disk (tasks/state.py), edges found unguarded by bench/mutation.py state."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tasks import state


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)  # state paths are relative to the project root
    yield tmp_path
    state.release_lock()


def test_write_atomic_sets_the_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "secret.env"
    state.write_atomic(target, "A=1\n", mode=0o600)
    assert target.read_text() == "A=1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    state.write_atomic(target, b"B=2\n")
    assert target.read_bytes() == b"B=2\n" and stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in target.parent.iterdir()) == ["secret.env"]


def test_a_failed_write_removes_its_temp_and_raises(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()  # renaming a file over a directory fails
    with pytest.raises(OSError):
        state.write_atomic(target, "x")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_only_write_atomic_temps_are_swept(tmp_path: Path) -> None:
    (tmp_path / "k8s" / "a").mkdir(parents=True)
    (tmp_path / "k8s" / "a" / ".x.yaml.tmp").write_text("partial")
    (tmp_path / "k8s" / "a" / "x.yaml.tmp").write_text("not ours")
    (tmp_path / "k8s" / ".hidden").write_text("keep")
    (tmp_path / "k8s" / ".dir.tmp").mkdir()
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose" / ".c.tmp").write_text("partial")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / ".o.tmp").write_text("not swept")
    removed = state.sweep_temps(tmp_path, ("k8s", "compose"))
    assert sorted(removed) == ["compose/.c.tmp", "k8s/a/.x.yaml.tmp"]
    assert (tmp_path / "k8s" / "a" / "x.yaml.tmp").exists() and (tmp_path / "k8s" / ".hidden").exists()
    assert (tmp_path / "k8s" / ".dir.tmp").is_dir() and (tmp_path / "other" / ".o.tmp").exists()
    assert [state.is_temp(Path(n)) for n in (".a.tmp", "a.tmp", ".a", ".a.tmpx")] == [
        True,
        False,
        False,
        False,
    ]


def test_built_refs_start_empty_and_collect_each_build(in_tmp: Path) -> None:
    assert state.built_refs() == set()
    state.record_built("srvthreds/engine:aaa")
    state.record_built("srvthreds/engine:bbb")
    assert state.built_refs() == {"srvthreds/engine:aaa", "srvthreds/engine:bbb"}
    assert state.built_log().read_text() == "srvthreds/engine:aaa\nsrvthreds/engine:bbb\n"


def test_the_lock_waits_for_its_holder_and_names_it(in_tmp: Path) -> None:
    lock = state.lock_file()
    lock.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import fcntl, os, sys, time\n"
                f"fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT)\n"
                "fcntl.flock(fd, fcntl.LOCK_EX)\n"
                "os.write(fd, b'pid 42 (`doit images`)\\n')\n"
                "print('held', flush=True)\n"
                "time.sleep(1.0)\n"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    said: list[str] = []
    started = time.monotonic()
    state.acquire_lock("doit render", waiting=said.append)
    holder.wait()
    holder.stdout.close()
    assert said[0] == "pid 42 (`doit images`)"
    assert said[1].startswith("done waiting after ") and time.monotonic() - started >= 0.5
    assert lock.read_text() == f"pid {os.getpid()} (`doit render`)\n"
    state.acquire_lock("again", waiting=said.append)  # re-entrant: no wait, no rewrite
    assert len(said) == 2 and "doit render" in lock.read_text()
    state.release_lock()
    assert lock.read_text() == ""


def test_an_unheld_lock_is_taken_without_waiting(in_tmp: Path) -> None:
    said: list[str] = []
    state.acquire_lock("doit list", waiting=said.append)
    assert said == [] and "doit list" in state.lock_file().read_text()


@pytest.mark.parametrize(
    "content, damaged",
    [
        (None, False),
        ('{"render": {"deps": "x"}}', False),
        ("{}", False),
        ('{"render": 1}', True),
        ("[1, 2]", True),
        ('{"render": {"de', True),
        (b"\xff\xfe", True),
    ],
)
def test_a_damaged_dependency_file_is_moved_aside(
    tmp_path: Path, content: str | bytes | None, damaged: bool
) -> None:
    path = tmp_path / "state" / "dev.json"
    path.parent.mkdir()
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    message = state.repair_dep_file(path)
    if not damaged:
        assert message is None and path.exists() == (content is not None)
        return
    assert message is not None and "dev.json.damaged" in message and "every task is checked again" in message
    assert not path.exists() and (tmp_path / "state" / "dev.json.damaged").exists()
