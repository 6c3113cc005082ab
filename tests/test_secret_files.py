"""Secret files: 0600 from the first byte, readable .env refused, placeholders refused outside local."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.store import atomic, envfile
from testing.project import run_doit


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secret_file_is_private_even_if_chmod_never_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A crash between "write" and "chmod" must not leave a readable secret: with chmod
    # disabled, the file still has to be 0600 (created that way, not narrowed later).
    monkeypatch.setattr(os, "chmod", lambda *a, **k: None)
    monkeypatch.setattr(Path, "chmod", lambda *a, **k: None)
    old = os.umask(0o022)
    try:
        atomic.write_text(tmp_path / "secrets.env", "A=b\n", secret=True)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "secrets.env") == 0o600


def test_readable_env_is_refused_with_the_fix(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("RABBITMQ_PASSWORD=abc\n")
    env.chmod(0o644)
    with pytest.raises(StackError) as err:
        envfile.read_secrets(env, "dev", ["RABBITMQ_PASSWORD"])
    assert "readable by others (mode 644)" in err.value.message and f"chmod 600 {env}" in (
        err.value.fix or ""
    )
    env.chmod(0o600)
    assert envfile.read_secrets(env, "dev", ["RABBITMQ_PASSWORD"]) == {"RABBITMQ_PASSWORD": "abc"}


def test_placeholder_is_refused_outside_local(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("RABBITMQ_PASSWORD=change-me\n")
    env.chmod(0o600)
    assert envfile.read_secrets(env, "local", ["RABBITMQ_PASSWORD"])["RABBITMQ_PASSWORD"] == "change-me"
    with pytest.raises(StackError) as err:
        envfile.read_secrets(env, "minikube", ["RABBITMQ_PASSWORD"])
    assert "RABBITMQ_PASSWORD still hold the placeholder 'change-me'" in err.value.message


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
