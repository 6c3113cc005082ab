"""`doit minikube_up` in a copy of the project, against the fake cluster and docker (testing/fakes)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from testing.project import run_doit


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_minikube_up_refuses_a_readable_env_and_writes_private_state(
    project: Path, fake_cluster: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from testing.fakes import docker as fake_docker
    from testing.minikube_env import write_test_env

    env = write_test_env(project)
    fake_docker.install(fake_cluster.bin_dir, tmp_path / "fake-docker")  # type: ignore[attr-defined]
    monkeypatch.setenv("FAKE_DOCKER_HOST", "fake://minikube")
    dotenv = project / "compose" / env / ".env"
    dotenv.parent.mkdir(parents=True, exist_ok=True)
    dotenv.write_text("OTHER=1\n")
    dotenv.chmod(0o644)
    refused = run_doit(project, "minikube_up", f"env={env}")
    assert refused.code != 0 and f"chmod 600 compose/{env}/.env" in refused.out
    dotenv.unlink()
    result = run_doit(project, "minikube_up", f"env={env}")
    assert result.code == 0, result.out
    state = project / ".build" / env / "deploy"
    assert _mode(state / "secrets.env") == 0o600 and _mode(state / ".fingerprint-key") == 0o600
