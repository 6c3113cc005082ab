"""Old import path, kept for tests written against it: use testing.fakes.docker and
testing.minikube_env."""

from __future__ import annotations

from pathlib import Path

from testing import harness
from testing.fakes import docker
from testing.minikube_env import TEST_ENV, TEST_ENV_YAML, write_test_env

__all__ = ["TEST_ENV", "TEST_ENV_YAML", "builds", "docker_calls", "install_docker", "write_test_env"]


def install_docker(bin_dir: Path, state_dir: Path) -> Path:
    docker.install(bin_dir, state_dir)
    return bin_dir / "docker"


def docker_calls(state_dir: Path) -> list[list[str]]:
    return [c["argv"] for c in harness.read_calls(state_dir / "calls.jsonl", "docker")]


def builds(state_dir: Path) -> list[str]:
    return docker.FakeDocker(state_dir, state_dir / "calls.jsonl").builds()
