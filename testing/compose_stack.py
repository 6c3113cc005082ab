"""The offline demo stack on a real Docker daemon, as the integration tests drive and inspect it
(tests/integration): `doit` started as a user starts it, and what Docker holds of the stack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tasks.programs import tools

ENV = "offline"
PROJECT = f"srvthreds-{ENV}"


def doit(project: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "doit", *args, f"env={ENV}"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def containers() -> dict[str, str]:
    """service -> container ID of every container of the project (running or not)."""
    out = tools.run(
        "docker",
        "ps",
        "-a",
        "--filter",
        f"label=com.docker.compose.project={PROJECT}",
        "--format",
        '{{.Label "com.docker.compose.service"}} {{.ID}}',
    ).stdout
    return dict(line.split() for line in out.splitlines() if line.strip())


def volumes() -> list[str]:
    return tools.run(
        "docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}"
    ).stdout.split()


def networks() -> list[str]:
    return tools.run(
        "docker", "network", "ls", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}"
    ).stdout.split()
