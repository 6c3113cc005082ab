"""tasks/programs/{kubectl,minikube,kubernetes_validate}.py: each call against the fake
kubectl/minikube (testing/fakes) or the real kubernetes-validate.

Found unguarded by the mutation benchmark (bench/mutation.py programs.*): that strict
validation really rejects a bad manifest, what each minikube reader makes of missing or
stopped clusters, and the arguments a start is given.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tasks.config import load as config
from tasks.errors import StackError
from tasks.programs import kubectl, kubernetes_validate
from tasks.programs import minikube as mk
from testing.fakes.cluster import FakeCluster
from testing.project import REPO

VERSION = config.load_stack(REPO).kubernetes_version


def _manifest(tmp_path: Path, **spec: object) -> str:
    path = tmp_path / "m.yaml"
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}, **spec}
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_strict_validation_rejects_unknown_fields(tmp_path: Path) -> None:
    kubernetes_validate.strict(_manifest(tmp_path), VERSION)
    with pytest.raises(StackError, match="kubernetes-validate") as info:
        kubernetes_validate.strict(_manifest(tmp_path, bogus=1), VERSION)
    assert "bogus" in str(info.value)


def test_kubectl_context_namespace_and_uid(fake_cluster: FakeCluster) -> None:
    assert kubectl.namespace_uid("nope", "kube-system") is None  # no such context
    c = FakeCluster(fake_cluster.state_dir, profile="p1")
    uid = c.create_cluster()
    assert kubectl.namespace_uid("p1", "kube-system") == uid
    assert kubectl.namespace_uid("p1", "absent") is None
    kubectl.run("p1", "get", "pods", namespace="default")
    kubectl.run("p1", "get", "namespaces")
    argvs = [call["argv"] for call in c.calls("kubectl")][-2:]
    assert argvs == [
        ["--context", "p1", "-n", "default", "get", "pods"],
        ["--context", "p1", "get", "namespaces"],
    ]


def test_minikube_readers_on_missing_stopped_and_running_clusters(fake_cluster: FakeCluster) -> None:
    assert mk.status("p1") is None
    assert mk.running("p1") is False
    assert mk.cluster_uid("p1") is None
    c = FakeCluster(fake_cluster.state_dir, profile="p1")
    uid = c.create_cluster()
    st = mk.status("p1")
    assert st is not None and st["Host"] == "Running"
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
