"""The exit codes and the one error handler (tasks/cli/exits.py), called directly."""

from __future__ import annotations

import io
import signal
import sys
from collections.abc import Iterator
from types import TracebackType

import pytest

from tasks.cli import exits
from tasks.errors import ConfigError, StackError


def test_codes_are_the_documented_ones() -> None:
    assert (exits.TASK_FAILED, exits.DOIT_ERROR, exits.DOIT_REFUSED) == (1, 2, 3)
    assert (exits.USAGE, exits.CONFIG, exits.INTERRUPTED) == (64, 78, 130)
    documented = exits.__doc__ or ""
    for code in (0, 1, 2, 3, 64, 78, 130):
        assert f"\n{code} " in documented, code


def test_a_configuration_error_is_78_and_anything_else_64() -> None:
    assert exits.code_of(ConfigError("f", "k", 1, "p")) == exits.CONFIG
    assert exits.code_of(StackError("p")) == exits.USAGE
    assert exits.code_of(exits.UsageError("p")) == exits.USAGE


def test_fatal_prints_each_error_with_its_fix_and_exits_with_the_highest_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        exits.fatal(exits.UsageError("no such task", fix="see doit list"), ConfigError("f", "k", 2, "bad"))
    assert info.value.code == 78
    assert capsys.readouterr().err == (
        "ERROR: no such task\nFix: see doit list\nERROR: ==> File f, line 2\n==> At k\n=====> bad\n"
    )
    with pytest.raises(SystemExit) as usage:
        exits.fatal(StackError("no such task"))
    assert usage.value.code == 64


def test_several_errors_are_reported_one_by_one(capsys: pytest.CaptureFixture[str]) -> None:
    several = exits.Several([StackError("one", fix="a"), ConfigError("f", "k", None, "two")])
    assert several.message == "one\nFix: a\n==> File f\n==> At k\n=====> two"
    with pytest.raises(SystemExit) as info:
        exits.fatal(several)
    assert info.value.code == 78
    assert capsys.readouterr().err.count("ERROR: ") == 2


def test_a_handled_step_ends_on_an_error_or_ctrl_c_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as usage, exits.handled():
        raise exits.UsageError("no such task", fix="see doit list")
    assert usage.value.code == 64
    assert capsys.readouterr().err == "ERROR: no such task\nFix: see doit list\n"
    with pytest.raises(SystemExit) as interrupted, exits.handled(interrupted="stopped: nothing ran."):
        raise KeyboardInterrupt
    assert interrupted.value.code == 130
    assert capsys.readouterr().err == "\nstopped: nothing ran.\n"
    with pytest.raises(ValueError), exits.handled():  # a bug keeps its traceback
        raise ValueError("bug")
    with exits.handled():
        pass  # nothing to handle
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- Ctrl-C and SIGTERM


@pytest.fixture
def clean_hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[type[BaseException]]]:
    """A plain excepthook that records what reached it; the SIGTERM handler restored after."""
    seen: list[type[BaseException]] = []

    def plain(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        seen.append(kind)

    monkeypatch.setattr(sys, "excepthook", plain)
    previous = signal.getsignal(signal.SIGTERM)
    yield seen
    signal.signal(signal.SIGTERM, previous)


def test_ctrl_c_is_one_sentence_and_other_errors_reach_the_old_hook(
    clean_hooks: list[type[BaseException]], capsys: pytest.CaptureFixture[str]
) -> None:
    exits.install()
    sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    assert capsys.readouterr().err == (
        "\nInterrupted: the running task was not recorded as done; run the command again.\n"
    )
    assert clean_hooks == []
    sys.excepthook(ValueError, ValueError("bug"), None)
    assert clean_hooks == [ValueError] and capsys.readouterr().err == ""


def test_installing_twice_wraps_once(clean_hooks: list[type[BaseException]]) -> None:
    exits.install()
    hook = sys.excepthook
    exits.install()
    assert sys.excepthook is hook
    sys.excepthook(ValueError, ValueError("bug"), None)
    assert clean_hooks == [ValueError]  # passed on once, not twice


def test_sigterm_takes_the_ctrl_c_path(clean_hooks: list[type[BaseException]]) -> None:
    exits.install()
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGTERM)  # its handler runs before this returns


def test_a_captured_stdout_keeps_pythons_broken_pipe_handling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # in-process doit under a test: no file descriptor
    before = signal.getsignal(signal.SIGPIPE)
    exits.quiet_broken_pipe()
    assert signal.getsignal(signal.SIGPIPE) == before
