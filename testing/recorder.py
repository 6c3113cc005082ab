"""Count the calls of real programs: a wrapper first on PATH logs each argv, then runs the real
program (the one the product would start: the virtualenv's first), so nothing is faked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.programs import tools
from testing import harness

WRAPPER = """#!/bin/sh
printf '%s\\n' "{program} $*" >> {log}
if [ -n "{fail}" ] && [ "$1" = "{fail}" ]; then echo "injected failure of {program} {fail}" >&2; exit 1; fi
exec {real} "$@"
"""


def record(monkeypatch: pytest.MonkeyPatch, folder: Path, *programs: str, fail: str = "") -> Path:
    """Put a logging wrapper of each program first on PATH; returns the log (one line a call,
    `<program> <args>`). `fail`: a subcommand (`copy`) that fails, with a message, instead of
    running."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "calls.log"
    log.touch()
    for program in programs:
        real = tools.which(program)  # the one the product would start (the venv's first)
        wrapper = folder / program
        # A missing program stays missing: the wrapper would otherwise hide it.
        if real is not None:
            wrapper.write_text(WRAPPER.format(program=program, log=log, real=real, fail=fail))
            wrapper.chmod(0o755)
    # The wrappers before the venv: the product puts the venv's bin first unless PATH names it.
    monkeypatch.setenv("PATH", harness.fake_path(folder))
    return log


def calls(log: Path, program: str) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.split(" ", 1)[0] == program]
