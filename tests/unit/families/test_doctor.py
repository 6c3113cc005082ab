"""The doctor family (tasks/families/doctor.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.families import doctor as doctor_tasks
from testing import harness
from testing.project import REPO


def test_doctor_knows_which_host_ports_its_own_stack_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.script(
        tmp_path / "bin", "docker", 'echo "0.0.0.0:6379->6379/tcp, [::]:6379->6379/tcp"\necho ""\n'
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert doctor_tasks.own_stack_ports(config.load("local", REPO)) == {6379}
