"""hadolint (shipped by the `tools` extra): Dockerfile lint."""

from __future__ import annotations

from tasks.programs import tools


def lint(dockerfiles: list[str]) -> str:
    """hadolint's report (empty: clean); a finding raises ToolError with the report."""
    return tools.run("hadolint", *dockerfiles).stdout
