"""tasks/programs/version.py: a program's version line, or why there is none."""

from __future__ import annotations

from pathlib import Path

from tasks.programs import version
from testing.machine import fake, machine

__all__ = ["machine"]  # the fixture


def test_a_version_is_the_first_line_or_why_there_is_none(machine: Path) -> None:
    assert version.probe("nonesuch", timeout=5) == (None, "not installed")
    fake(machine, "tool", 'printf "  v1.2  \\nmore\\n"\n')
    assert version.probe("tool", timeout=5) == ("v1.2", "")
    fake(machine, "tool", 'echo "from stderr" >&2\n')
    assert version.probe("tool", timeout=5) == ("from stderr", "")
    fake(machine, "tool", "exit 0\n")
    assert version.probe("tool", timeout=5) == ("?", "")
    fake(machine, "tool", 'echo first; echo "last words" >&2; exit 3\n')
    assert version.probe("tool", timeout=5) == (None, "first")
    fake(machine, "tool", 'printf "a\\nb\\n"; exit 3\n')
    assert version.probe("tool", timeout=5) == (None, "b")
    fake(machine, "tool", "exit 3\n")
    assert version.probe("tool", timeout=5) == (None, "exit 3")


def test_a_program_slower_than_its_timeout_has_no_version(machine: Path) -> None:
    fake(machine, "tool", "sleep 5\n")
    found, why = version.probe("tool", timeout=0.5)
    assert found is None and "did not finish within 0.5 s" in why
