"""The offline demo stack on a real Docker daemon, as the integration tests drive and inspect it
(tests/integration): `doit` started as a user starts it, what Docker holds of a Compose project,
and `scratch_stack`, the one set-up and tear-down of a scratch copy with its stack up."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tasks.programs import tools
from testing.project import copy_build_state, copy_project

ENV = "offline"
PROJECT = f"srvthreds-{ENV}"


def doit(
    project: Path, *args: str, env: str = ENV, timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "doit", *args, f"env={env}"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def out(result: subprocess.CompletedProcess[str]) -> str:
    """The ends of what a `doit` run printed, for an assertion's message."""
    return result.stdout[-4000:] + result.stderr[-4000:]


def containers(compose_project: str = PROJECT) -> dict[str, str]:
    """service -> container ID of every container of the project (running or not)."""
    listing = tools.run(
        "docker",
        "ps",
        "-a",
        "--filter",
        f"label=com.docker.compose.project={compose_project}",
        "--format",
        '{{.Label "com.docker.compose.service"}} {{.ID}}',
    ).stdout
    return dict(line.split() for line in listing.splitlines() if line.strip())


def _listed(kind: str, compose_project: str) -> list[str]:
    return tools.run(
        "docker", kind, "ls", "-q", "--filter", f"label=com.docker.compose.project={compose_project}"
    ).stdout.split()


def volumes(compose_project: str = PROJECT) -> list[str]:
    return _listed("volume", compose_project)


def networks(compose_project: str = PROJECT) -> list[str]:
    return _listed("network", compose_project)


def offline_copy(dest: Path) -> Path:
    """The repository copied to `dest`; the debootstrap base is only rebuilt when missing, so
    the repository's recorded one is reused."""
    copy_project(dest)
    copy_build_state(dest, ENV, "base")
    return dest


@contextmanager
def scratch_stack(
    dest: Path,
    *,
    make: Callable[[Path], Path] = offline_copy,
    env: str = ENV,
    compose_project: str = PROJECT,
    up: bool = True,
) -> Iterator[Path]:
    """A scratch copy made by `make(dest)`, with `doit compose_up` run in it (unless `up` is
    False: the test brings the stack up itself), torn down with `compose_down wipe=1` (volumes
    too) whatever happens. A project that already has containers or volumes fails the test
    before anything is copied or started: never touch someone's stack (its volumes also hold
    other credentials than ours)."""
    if containers(compose_project) or volumes(compose_project):
        pytest.fail(
            f"{compose_project} already has containers or volumes; "
            f"run `doit compose_down env={env} wipe=1` where it was started"
        )
    project = make(dest)
    try:
        if up:
            started = doit(project, "compose_up", env=env)
            assert started.returncode == 0, out(started)
        yield project
    finally:
        doit(project, "compose_down", "wipe=1", env=env, timeout=300)
