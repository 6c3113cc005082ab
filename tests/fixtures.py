"""Old import path, kept for tests written against it: use testing.project and the fixtures
of testing.plugin (every test gets them through tests/conftest.py)."""

from __future__ import annotations

from testing.plugin import docker_daemon, doit, project
from testing.project import COPIED, REPO, DoitRun, copy_build_state, copy_project, run_doit, snapshot

__all__ = [
    "COPIED",
    "REPO",
    "DoitRun",
    "copy_build_state",
    "copy_project",
    "docker_daemon",
    "doit",
    "project",
    "run_doit",
    "snapshot",
]
