"""docker-compose (Compose v2, shipped by the `tools` extra): run a project's command, check a file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tasks.programs import tools


def run(
    project_args: Sequence[str],
    *args: str,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    prefix: str | None = None,
    timeout: float | None = None,
) -> tools.Result:
    """`docker-compose <project_args> args...` (project_args: --project-directory, -f, --env-file)."""
    return tools.run(
        "docker-compose", *project_args, *args, env=env, check=check, prefix=prefix, timeout=timeout
    )


def check_file(path: str, env_file: str) -> None:
    """`docker-compose config -q`: the file is valid Compose (ToolError naming the problem if not)."""
    tools.run("docker-compose", "-f", path, "--env-file", env_file, "config", "-q")
