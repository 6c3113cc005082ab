"""Opt-in: `doit minikube_up` against a real Minikube (STACKBUILD_MINIKUBE=1, minikube on PATH).

Slow (cluster start, image builds) and it changes the machine's Minikube profile, so it
never runs by default, not even under CI=true (conftest exempts the `minikube` marker).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from testing.project import run_doit

pytestmark = [
    pytest.mark.minikube,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("STACKBUILD_MINIKUBE") != "1" or shutil.which("minikube") is None,
        reason="real Minikube tests are opt-in: STACKBUILD_MINIKUBE=1 and minikube on PATH",
    ),
]


def test_up_twice_then_down(project: Path) -> None:
    first = run_doit(project, "minikube_up")
    assert first.code == 0, first.out
    second = run_doit(project, "minikube_up")
    assert second.code == 0, second.out
    assert second.executed() == ["minikube_up"]  # nothing to redo
    pods = subprocess.run(
        ["kubectl", "--context", "srvthreds", "-n", "srvthreds", "get", "deployments"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "session-agent" in pods.stdout
    assert run_doit(project, "minikube_down").code == 0
