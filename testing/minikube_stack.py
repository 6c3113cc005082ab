"""A project copy set up for `doit minikube_up` on the stateful fakes: the image-load (or
docker-env) test environment, the fake docker with Minikube's daemon apart, and a handle on
the fake cluster (used by the contract tests of the Minikube and deploy workflows)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from testing.fakes import docker as fake_docker
from testing.fakes.cluster import FakeCluster
from testing.minikube_env import write_test_env
from testing.project import DoitRun, run_doit

NS = "srvthreds"
DEPLOYMENTS = ["engine", "persistence-agent", "session-agent"]


@dataclass
class Stack:
    project: Path
    cluster: FakeCluster
    docker: fake_docker.FakeDocker
    env: str

    def up(self, *extra: str) -> DoitRun:
        return run_doit(self.project, "minikube_up", f"env={self.env}", *extra)

    def run(self, *args: str) -> DoitRun:
        return run_doit(self.project, *args, f"env={self.env}")

    def mutations(self) -> list[tuple[str, list[str]]]:
        return [(c["tool"], c["argv"]) for c in self.cluster.mutating_calls()]

    def loads(self) -> list[str]:
        return [argv[-1] for tool, argv in self.mutations() if argv[2:4] == ["image", "load"]]


def make_stack(
    project: Path, cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, strategy: str
) -> Stack:
    env = write_test_env(project, strategy)
    assert cluster.bin_dir is not None
    docker = fake_docker.install(cluster.bin_dir, tmp_path / "fake-docker")
    # Minikube's daemon is a different "daemon" for the fake docker than the local one.
    monkeypatch.setenv("FAKE_DOCKER_HOST", "fake://minikube")
    handle = FakeCluster(cluster.state_dir, profile="mktest")
    handle.bin_dir = cluster.bin_dir
    return Stack(project, handle, docker, env)
