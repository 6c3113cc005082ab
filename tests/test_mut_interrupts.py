"""Ctrl-C and SIGTERM end a run with one sentence (tasks/cli/interrupts.py), called directly."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from types import TracebackType

import pytest

from tasks.cli import interrupts


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
    interrupts.install()
    sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    assert capsys.readouterr().err == f"\n{interrupts.MESSAGE}\n"
    assert clean_hooks == []
    sys.excepthook(ValueError, ValueError("bug"), None)
    assert clean_hooks == [ValueError] and capsys.readouterr().err == ""


def test_installing_twice_wraps_once(clean_hooks: list[type[BaseException]]) -> None:
    interrupts.install()
    hook = sys.excepthook
    interrupts.install()
    assert sys.excepthook is hook
    sys.excepthook(ValueError, ValueError("bug"), None)
    assert clean_hooks == [ValueError]  # passed on once, not twice


def test_sigterm_takes_the_ctrl_c_path(clean_hooks: list[type[BaseException]]) -> None:
    interrupts.install()
    assert signal.getsignal(signal.SIGTERM) is interrupts._sigterm
    with pytest.raises(KeyboardInterrupt):
        interrupts._sigterm(signal.SIGTERM, None)
