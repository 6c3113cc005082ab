"""hadolint (shipped by the `tools` extra): Dockerfile lint."""

from __future__ import annotations

from tasks.programs import tools


def lint(dockerfiles: list[str]) -> str:
    """hadolint's report (empty: clean); a finding raises ToolError with the report.

    `--no-color`: hadolint colours its report even on a pipe, and the report lands in error
    messages and CI logs."""
    return tools.run("hadolint", "--no-color", *dockerfiles).stdout
