"""`doit deploy:<env>` against the fake kubectl: pinned registry images, no-op re-run,
rollback with reasons, smoke check. The fake docker makes `push:<env>` a no-op."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.fakes import docker as fake_docker
from testing.fakes.cluster import FakeCluster
from testing.project import run_doit

REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
NS = "srvthreds"


def _ref(project: Path, name: str) -> str:
    """What `images env=dev` (run through push's dependencies, on the fake docker) recorded."""
    return (project / f".build/dev/images/{name}.ref").read_text().strip()


def _image(cluster: FakeCluster, name: str) -> str:
    obj = cluster.get("Deployment", name, NS)
    assert obj is not None
    return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])


@pytest.fixture
def dev(project: Path, fake_cluster: FakeCluster, tmp_path: Path) -> FakeCluster:
    assert fake_cluster.bin_dir is not None
    fake_docker.install(fake_cluster.bin_dir, tmp_path / "fake-docker")
    cluster = FakeCluster(fake_cluster.state_dir, profile="srvthreds-dev")
    cluster.create_cluster()
    assert run_doit(project, "images", "env=dev").code == 0  # what CI does before push/deploy
    return cluster


def test_deploy_pins_registry_images_and_is_a_noop_twice(project: Path, dev: FakeCluster) -> None:
    first = run_doit(project, "deploy:dev", "env=dev")
    assert first.code == 0, first.out
    assert _image(dev, "engine") == f"{REGISTRY}/{_ref(project, 'engine')}"
    assert dev.get("Job", "bootstrap", NS) is not None
    assert "smoke check: 3 deployments ready" in first.out
    assert all(
        c["argv"][:2] == ["--context", "srvthreds-dev"]
        for c in dev.calls("kubectl")
        if c["argv"][0] != "kustomize"
    )
    dev.clear_calls()
    again = run_doit(project, "deploy:dev", "env=dev")
    assert again.code == 0, again.out
    assert dev.mutating_calls() == []
    assert "deploy:dev" not in again.executed()


def test_new_tag_rolls_out_and_failure_rolls_back(project: Path, dev: FakeCluster) -> None:
    assert run_doit(project, "deploy:dev", "env=dev").code == 0
    good = _image(dev, "engine")
    module = project / "demo/srvthreds_demo/engine.py"
    module.write_text(module.read_text() + "\n# bad release\n")
    assert run_doit(project, "images:engine", "env=dev").code == 0
    bad = f"{REGISTRY}/{_ref(project, 'engine')}"
    assert bad != good
    dev.inject_rollout_failure("engine", image=bad)
    dev.clear_calls()
    failed = run_doit(project, "deploy:dev", "env=dev")
    assert failed.code != 0
    assert any(c["argv"][-2:] == ["undo", "deployment/engine"] for c in dev.mutating_calls("kubectl"))
    assert "CrashLoopBackOff" in failed.out and "Traceback" not in failed.out
    # Rolled back to the good image.
    assert _image(dev, "engine") == good


def test_unreachable_cluster_fails_cleanly(project: Path, fake_cluster: FakeCluster, tmp_path: Path) -> None:
    assert fake_cluster.bin_dir is not None
    fake_docker.install(fake_cluster.bin_dir, tmp_path / "fake-docker")
    assert run_doit(project, "images", "env=dev").code == 0
    result = run_doit(project, "deploy:dev", "env=dev")  # no srvthreds-dev context exists
    assert result.code != 0
    assert 'context "srvthreds-dev" does not exist' in result.out and "Traceback" not in result.out
    assert "run `doit kubeconfig:<env>` (cloud)" in result.out  # the fix, not only kubectl's words
