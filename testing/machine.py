"""A PATH of fake programs for `doit doctor` and the preflights: a working docker, docker-compose,
kubectl and AWS CLI v2, no minikube (the fixture `machine`; `fake` replaces one of them)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from testing import harness


def fake(bin_dir: Path, name: str, script: str) -> None:
    harness.script(bin_dir, name, script)


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with a working docker, docker-compose, kubectl and AWS CLI v2; no minikube."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake(bin_dir, "docker", 'case "$1" in version) echo 24.0.7;; ps) ;; esac\n')
    fake(bin_dir, "docker-compose", "echo 2.29.1\n")
    fake(bin_dir, "kubectl", 'echo "Client Version: v1.37.1"\n')
    fake(bin_dir, "aws", 'echo "aws-cli/2.15.0 Python/3.11.6 Linux/6 exe/x86_64"\n')
    venv_bin = Path(sys.executable).parent
    # Only the wheels' python from the venv; the venv's own kubectl etc. would shadow nothing here.
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), str(venv_bin), "/usr/bin", "/bin"]))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    return bin_dir
