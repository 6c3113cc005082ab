"""tasks/programs/minikube.py against the stateful fake minikube/kubectl (testing/fakes): what
each reader makes of missing, stopped and running clusters, the arguments of a start, and the
exact command lines of enable, load and delete."""

from __future__ import annotations

import pytest

from tasks.config import load as config
from tasks.programs import minikube as mk
from testing.fakes.cluster import FakeCluster
from testing.project import REPO


def test_minikube_readers_on_missing_stopped_and_running_clusters(fake_cluster: FakeCluster) -> None:
    assert mk.status("p1") is None
    assert mk.running("p1") is False
    assert mk.cluster_uid("p1") is None
    c = FakeCluster(fake_cluster.state_dir, profile="p1")
    uid = c.create_cluster()
    st = mk.status("p1")
    assert st == mk.Status("Running", "Running")
    assert mk.running("p1") is True and mk.cluster_uid("p1") == uid
    enabled = mk.enabled_addons("p1")
    assert enabled == {a for a, on in c.addons().items() if on}
    env = mk.docker_env("p1")
    assert env["MINIKUBE_ACTIVE_DOCKERD"] == "p1" and "DOCKER_HOST" in env
    c.add_image("docker.io/library/acme:1")
    assert "acme:1" in mk.images("p1")
    c.stop_cluster()
    assert mk.running("p1") is False


def test_start_passes_the_profile_settings(fake_cluster: FakeCluster) -> None:
    m = config.load("minikube", REPO).minikube
    mk.start(m)
    c = FakeCluster(fake_cluster.state_dir, profile=m.profile)
    argv = c.calls("minikube")[-1]["argv"]
    assert argv == [
        "-p",
        m.profile,
        "start",
        f"--driver={m.driver}",
        f"--cpus={m.cpus}",
        f"--memory={m.memory}",
        f"--disk-size={m.disk}",
    ]
    assert mk.missing_addons(m) == [a for a in m.addons if not c.addons().get(a)]


def test_normalize() -> None:
    assert mk.normalize("docker.io/library/x:1") == "x:1"
    assert mk.normalize("docker.io/acme/x:1") == "acme/x:1"
    assert mk.normalize("x:1") == "x:1"


def test_enable_load_and_delete_are_one_call_each(
    fake_cluster: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    c = FakeCluster(fake_cluster.state_dir, profile="p1")
    c.create_cluster()
    c.clear_calls()
    mk.enable_addon("p1", "ingress")
    assert c.addons()["ingress"] is True
    mk.load_image("p1", "acme:1")
    assert "acme:1" in mk.images("p1")
    assert capsys.readouterr().out == "  minikube image load acme:1\n"
    mk.delete("p1")
    assert mk.status("p1") is None
    assert [call["argv"] for call in c.calls("minikube")] == [
        ["-p", "p1", "addons", "enable", "ingress"],
        ["-p", "p1", "image", "load", "acme:1"],
        ["-p", "p1", "image", "ls", "--format", "json"],
        ["-p", "p1", "delete"],
        ["-p", "p1", "status", "--output", "json"],
    ]
