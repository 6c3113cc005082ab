"""Process start-up (tasks/cli/start.py): the lock, the sweep, the atomic database, and how a
run that cannot start ends. Called in this process on a scratch copy of the environments."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest
from doit.dependency import JSONCodec, JsonDB

from tasks.cli import exits, start
from tasks.store import state
from testing.environments import break_environment, copy_environments


@pytest.fixture
def started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    copy_environments(tmp_path)
    monkeypatch.chdir(tmp_path)
    state.release_lock()
    yield tmp_path
    state.release_lock()


def test_start_takes_the_lock_and_sweeps_what_a_killed_run_left(
    started: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (started / "k8s" / "base").mkdir(parents=True)
    (started / "k8s" / "base" / ".a.yaml.tmp").write_text("partial")
    (started / "docs").mkdir()
    (started / "docs" / ".b.tmp").write_text("not ours")
    state.dep_file("local").parent.mkdir(parents=True)
    state.dep_file("local").write_text("{trunc")
    resolved = start.start(["render"], started)
    assert resolved.env == "local"
    assert "pid" in state.lock_file().read_text() and "`doit render`" in state.lock_file().read_text()
    assert not (started / "k8s" / "base" / ".a.yaml.tmp").exists()
    assert (started / "docs" / ".b.tmp").exists()
    assert "NOTE: the dependency database" in capsys.readouterr().err


def test_doits_database_is_saved_whole_and_wrapped_once(started: Path) -> None:
    start.start(["list"], started)
    db = JsonDB(str(started / "db.json"), codec=JSONCodec())
    db._db = {"render": {"x": "1"}}
    db.dump()
    assert json.loads((started / "db.json").read_text()) == {"render": {"x": "1"}}
    assert not list(started.glob("*.tmp"))
    dump = JsonDB.dump
    start.install_atomic_db()
    assert JsonDB.dump is dump


def test_a_read_only_command_neither_locks_nor_sweeps(
    started: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (started / "k8s").mkdir()
    (started / "k8s" / ".a.yaml.tmp").write_text("maybe another run's")
    for command in start.READ_ONLY:
        start.start([command], started)
    assert not state.lock_file().exists() and (started / "k8s" / ".a.yaml.tmp").exists()
    assert capsys.readouterr().err == ""


def test_start_reports_a_usage_error_and_exits(started: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        start.start(["compse_up"], started)
    assert info.value.code == exits.USAGE
    assert capsys.readouterr().err == (
        "ERROR: unknown task 'compse_up'\nFix: did you mean 'compose_up'? `doit list` shows every task\n"
    )


def test_start_reports_every_broken_file(started: Path, capsys: pytest.CaptureFixture[str]) -> None:
    break_environment(started, "dev")
    break_environment(started, "test")
    with pytest.raises(SystemExit) as info:
        start.start(["list"], started)
    assert info.value.code == exits.CONFIG
    err = capsys.readouterr().err
    assert err.count("ERROR: ") == 2 and "dev.yaml" in err and "test.yaml" in err


def test_each_start_reads_the_configuration_as_the_disk_has_it(
    started: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert start.start(["list"], started).env == "local"
    # No environment file changes, but a rule reads environments/ itself.
    (started / "environments" / "qa.yml").write_text("runtime: compose\n")
    with pytest.raises(SystemExit) as info:
        start.start(["list"], started)
    assert info.value.code == exits.CONFIG
    assert "environments/qa.yml is never read" in capsys.readouterr().err


def test_a_build_folder_in_the_way_is_a_clear_error(
    started: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (started / ".build").write_text("a file, not a folder")
    with pytest.raises(SystemExit) as info:
        start.start(["render"], started)
    assert info.value.code == exits.USAGE
    err = capsys.readouterr().err
    assert "cannot use the build state folder .build/" in err and "rm -rf .build" in err
    with pytest.raises(SystemExit) as listing:  # a command that takes no lock is told the same
        start.start(["list"], started)
    assert listing.value.code == exits.USAGE
    assert "cannot use the build state folder .build/" in capsys.readouterr().err


def test_start_installs_the_interrupt_handlers(started: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def plain(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        pass

    monkeypatch.setattr(sys, "excepthook", plain)
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        start.start(["list"], started)
        assert getattr(sys.excepthook, "stackbuild", False)
        with pytest.raises(KeyboardInterrupt):  # SIGTERM takes Ctrl-C's path
            signal.raise_signal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_ctrl_c_while_waiting_for_the_lock_says_nothing_ran(
    started: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(describe: str, *, waiting: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(state, "acquire_lock", interrupted)
    with pytest.raises(SystemExit) as info:
        start.start(["render"], started)
    assert info.value.code == exits.INTERRUPTED
    assert capsys.readouterr().err == "\nInterrupted while waiting for the other run: nothing ran.\n"


def test_waiting_says_for_whom_and_for_how_long(capsys: pytest.CaptureFixture[str]) -> None:
    start.say_waiting("pid 42 (`doit images`)")
    start.say_waiting("done waiting after 1.0 s")
    assert capsys.readouterr().err == (
        "Another run holds this checkout: waiting for pid 42 (`doit images`) to finish"
        " (Ctrl-C to give up)...\n"
        "  done waiting after 1.0 s\n"
    )
