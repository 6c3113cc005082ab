"""The pytest plugin every test gets (tests/conftest.py): project copies, the fake cluster,
docker and Terraform, scripted fakes, and the guard against real daemons (testing/guard.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from testing import guard as guard_mod
from testing.fakes import docker as fake_docker
from testing.fakes.cluster import FakeCluster
from testing.fakes.k8s import fake_env, install_fakes
from testing.fakes.terraform import FakeTerraform, install_fake_terraform
from testing.harness import FakeBin, fake_path
from testing.project import DoitRun, copy_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A scratch copy of the project (sources and committed output, no build state)."""
    return copy_project(tmp_path / "project")


@pytest.fixture
def doit() -> Iterator[type[DoitRun]]:
    yield DoitRun


@pytest.fixture(scope="session")
def docker_daemon() -> None:
    """Skip (a failure under CI=true, see conftest) when no Docker daemon answers."""
    from tasks.errors import StackError
    from tasks.programs import tools

    try:
        tools.run("docker", "info", "--format", "{{.ServerVersion}}", timeout=20)
    except StackError as exc:
        pytest.skip(f"no reachable Docker daemon: {exc.message}")


@pytest.fixture
def fakebin(tmp_path: Path) -> FakeBin:
    """A folder for scripted fakes with one call log; `fakebin.activate(monkeypatch)` puts it on PATH."""
    return FakeBin(tmp_path / "fakes")


@pytest.fixture
def fake_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCluster]:
    """Fresh fake-cluster state (no cluster exists yet) with fakes first on PATH.

    The cluster is created by the product's own `minikube start`, or by
    ``fake_cluster.create_cluster()`` for tests that start from a running cluster."""
    state_dir = tmp_path / "fake-k8s-state"
    bin_dir = install_fakes(tmp_path / "fake-bin")
    state_dir.mkdir()
    env = fake_env(state_dir, bin_dir)
    for key in ("PATH", "FAKE_K8S_STATE", "FAKE_K8S_BIN_DIR"):
        monkeypatch.setenv(key, env[key])
    cluster = FakeCluster(state_dir)
    cluster.bin_dir = bin_dir
    yield cluster


@pytest.fixture
def fake_docker_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> fake_docker.FakeDocker:
    """The fake `docker` first on PATH, with an empty store."""
    bin_dir = tmp_path / "fake-docker-bin"
    daemon = fake_docker.install(bin_dir, tmp_path / "fake-docker")
    monkeypatch.setenv("PATH", fake_path(bin_dir))
    return daemon


@pytest.fixture
def fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTerraform:
    """Terraform faked where the program starts (testing/fakes/terraform): every call logged."""
    return install_fake_terraform(tmp_path, monkeypatch)


@dataclass
class FakeMachine:
    docker: fake_docker.FakeDocker
    cluster: FakeCluster


@pytest.fixture
def fake_machine(fake_cluster: FakeCluster, tmp_path: Path) -> FakeMachine:
    """A machine whose docker, minikube and kubectl are all fakes, with an empty daemon and no
    cluster: for tests that run whole commands (`doit doctor`, `doit list --status`)."""
    assert fake_cluster.bin_dir is not None
    return FakeMachine(fake_docker.install(fake_cluster.bin_dir, tmp_path / "fake-docker"), fake_cluster)


@pytest.fixture(autouse=True)
def no_hidden_values_between_tests() -> Iterator[None]:
    """The secret values one test's operations declared are not masked in the next test's output."""
    from tasks.output import console

    yield
    console.forget_hidden()


@pytest.fixture(autouse=True)
def real_program_guard(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[guard_mod.Guard]:
    """Fail a test that starts a real docker/docker-compose/kubectl/minikube unless it is
    marked for it (docker, minikube)."""
    from tasks.programs import tools

    allowed: set[str] = set()
    for mark, names in guard_mod.ALLOWED_BY_MARK.items():
        if request.node.get_closest_marker(mark) is not None:
            allowed |= names
    guard = guard_mod.Guard(allowed)
    monkeypatch.setattr(tools, "run", guard.wrap(tools.run))
    monkeypatch.setattr(tools, "run_foreground", guard.wrap(tools.run_foreground))
    yield guard
    if guard.blocked:
        pytest.fail("\n".join(guard.blocked), pytrace=False)
