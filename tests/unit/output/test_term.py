"""Colours (tasks/output/term.py): only on a terminal, never with NO_COLOR."""

from __future__ import annotations

import io

import pytest

from tasks.output import term


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colours_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert term.painter(Tty())("ok", "green") == "\x1b[32mok\x1b[0m"
    assert term.painter(io.StringIO())("ok", "green") == "ok"
    monkeypatch.setenv("NO_COLOR", "")
    assert term.painter(Tty())("ok", "green") == "ok"
