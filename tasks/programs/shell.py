"""`sh -c`: the user's own commands (environment hooks), output collapsed under a label."""

from __future__ import annotations

from tasks.programs import tools


def run(command: str, *, prefix: str) -> None:
    """Run one shell command line; ToolError (with its exit code and output tail) if it fails."""
    tools.run("sh", "-c", command, prefix=prefix)
