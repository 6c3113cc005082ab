"""tasks/programs/kubectl.py against the stateful fake kubectl (testing/fakes) and a tiny
overlay of its own (testing/k8s_overlay.py): typed reads, the objects an apply reports, the
exact command lines, and what an unreachable cluster or non-JSON output reads as."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tasks.errors import ToolError
from tasks.programs import kubectl
from testing.fakes.cluster import FakeCluster
from testing.harness import FakeBin, fake_path
from testing.k8s_overlay import NS, PROFILE, Kube, make_kube, manifests


@pytest.fixture
def kube(fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kube:
    return make_kube(fake_cluster, tmp_path, monkeypatch)


def test_namespace_uid_of_missing_contexts_namespaces_and_clusters(fake_cluster: FakeCluster) -> None:
    assert kubectl.namespace_uid("nope", "kube-system") is None  # no such context
    c = FakeCluster(fake_cluster.state_dir, profile="p1")
    uid = c.create_cluster()
    assert kubectl.namespace_uid("p1", "kube-system") == uid
    assert kubectl.namespace_uid("p1", "absent") is None


def test_a_cluster_is_reachable_while_its_api_answers_even_without_the_namespace(
    fake_cluster: FakeCluster,
) -> None:
    assert kubectl.reachable("nope") is False  # no such context
    c = FakeCluster(fake_cluster.state_dir, profile="p1")
    c.create_cluster()
    assert kubectl.reachable("p1") is True
    c.stop_cluster()
    assert kubectl.reachable("p1") is False


def _write(path: Path, docs: list[dict[str, object]]) -> str:
    path.write_text(yaml.safe_dump_all(docs))
    return str(path)


def test_apply_reports_each_object_and_what_happened_to_it(kube: Kube, tmp_path: Path) -> None:
    scope = kubectl.Scope(PROFILE, NS)
    docs = [{**d, "metadata": {**d["metadata"], "namespace": NS}} for d in manifests()]  # type: ignore[dict-item]
    path = _write(tmp_path / "all.yaml", docs[:3])
    first = kubectl.apply(scope, path, namespaced=False)
    assert [(a.kind, a.name, a.action) for a in first] == [
        ("namespace", NS, "created"),
        ("configmap", "cfg", "created"),
        ("deployment", "web", "created"),
    ]
    assert first[2].line == "deployment.apps/web created" and first[2].ref == "deployment/web"
    assert all(a.changed for a in first)
    again = kubectl.apply(scope, path, namespaced=False)
    assert [a.action for a in again] == ["unchanged"] * 3 and not any(a.changed for a in again)
    assert kube.cluster.calls("kubectl")[-1]["argv"] == ["--context", PROFILE, "apply", "-f", path]
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}}
    assert [a.ref for a in kubectl.apply_text(scope, yaml.safe_dump(secret))] == ["secret/s"]
    assert kube.cluster.calls("kubectl")[-1]["argv"] == ["--context", PROFILE, "-n", NS, "apply", "-f", "-"]


def test_reads_of_objects_items_logs_and_events(kube: Kube) -> None:
    kube.applied()
    scope = kubectl.Scope(PROFILE, NS)
    ns = kubectl.get_json(scope, "namespace", NS, namespaced=False)
    assert ns is not None and ns["metadata"]["name"] == NS
    assert kubectl.get_json(scope, "deployment", "ghost") is None
    names = [d["metadata"]["name"] for d in kubectl.items(scope, "deployments")]
    assert names == ["web"]
    assert kubectl.pod_logs(scope, "no-such-pod", tail=5) == []
    kube.cluster.inject_rollout_failure("web")
    pod = next(p["metadata"]["name"] for p in kubectl.items(scope, "pods") if "web" in p["metadata"]["name"])
    logs = kubectl.pod_logs(scope, pod, tail=3)
    assert len(logs) == 3 and "Error: cannot connect to rabbitmq:5672" in logs
    assert any("BackOff" in line for line in kubectl.events(scope, pod))
    out = kubectl.logs(scope, "app.kubernetes.io/part-of=acme", tail=2)
    assert "Error: cannot connect to rabbitmq:5672" in out
    assert kube.cluster.calls("kubectl")[-1]["argv"] == [
        "--context",
        PROFILE,
        "-n",
        NS,
        "logs",
        "-l",
        "app.kubernetes.io/part-of=acme",
        "--tail=2",
        "--prefix",
    ]


def test_delete_and_undo_are_the_commands_they_say(kube: Kube) -> None:
    kube.applied()
    scope = kubectl.Scope(PROFILE, NS)
    kubectl.delete(scope, "job", "init")
    kubectl.delete(scope, "job", "init")  # already gone: --ignore-not-found
    assert kube.cluster.get("Job", "init", NS) is None
    with pytest.raises(ToolError, match="no rollout history found"):
        kubectl.rollout_undo(scope, "web")
    kubectl.delete(scope, "namespace", NS, namespaced=False)
    assert NS not in kube.cluster.namespaces()
    argvs = [c["argv"] for c in kube.cluster.calls("kubectl")][-4:]
    assert argvs == [
        ["--context", PROFILE, "-n", NS, "delete", "job", "init", "--ignore-not-found"],
        ["--context", PROFILE, "-n", NS, "delete", "job", "init", "--ignore-not-found"],
        ["--context", PROFILE, "-n", NS, "rollout", "undo", "deployment/web"],
        ["--context", PROFILE, "delete", "namespace", NS, "--ignore-not-found"],
    ]


def test_an_unreachable_cluster_is_an_error_for_items_and_nothing_for_one_object(
    fake_cluster: FakeCluster,
) -> None:
    gone = kubectl.Scope("no-such-context", NS)
    assert kubectl.get_json(gone, "namespace", NS, namespaced=False) is None
    assert kubectl.events(gone, "pod") == []
    with pytest.raises(ToolError, match='context "no-such-context"'):
        kubectl.items(gone, "deployments")


def test_output_that_is_not_json_reads_as_nothing(fakebin: FakeBin, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kubectl (or proxy) printing something else than JSON: nothing found, no traceback."""
    fakebin.script("kubectl", 'echo "not json"\n')
    fakebin.activate(monkeypatch)
    scope = kubectl.Scope("ctx", "ns")
    assert kubectl.items(scope, "deployments") == []
    assert kubectl.get_json(scope, "pod", "web-1") is None
    assert fakebin.argvs("kubectl") == [
        ["--context", "ctx", "-n", "ns", "get", "deployments", "-o", "json"],
        ["--context", "ctx", "-n", "ns", "get", "pod", "web-1", "-o", "json"],
    ]


def test_kustomize_builds_a_folder(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    (tmp_path / "kustomization.yaml").write_text("namePrefix: p-\nresources: [cm.yaml]\n")
    assert "name: p-x" in kubectl.kustomize(str(tmp_path))


def test_pods_by_label_and_copy_and_exec_into_one(kube: Kube, tmp_path: Path) -> None:
    kube.applied()
    scope = kubectl.Scope(PROFILE, NS)
    pods = kubectl.pods(scope, "app.kubernetes.io/name=web")
    assert len(pods) == 2 and all(p["metadata"]["name"].startswith("web-") for p in pods)
    assert kubectl.pods(scope, "app.kubernetes.io/name=none") == []
    pod = pods[0]["metadata"]["name"]
    source = tmp_path / "lib.py"
    source.write_text("X = 1\n")
    kubectl.copy_into(scope, pod, "web", str(source), "/srv/lib.py", timeout=5)
    kubectl.exec_in(scope, pod, "web", "kill -HUP 1", timeout=5)
    argvs = [c["argv"] for c in kube.cluster.calls("kubectl")[-2:]]
    assert argvs == [
        ["--context", PROFILE, "-n", NS, "cp", str(source), f"{pod}:/srv/lib.py", "-c", "web"],
        ["--context", PROFILE, "-n", NS, "exec", pod, "-c", "web", "--", "sh", "-c", "kill -HUP 1"],
    ]
    assert kube.cluster.pod_files(NS)[pod]["/srv/lib.py"]["text"] == "X = 1\n"
    with pytest.raises(ToolError):
        kubectl.exec_in(scope, pod, "other", "true", timeout=5)  # no such container in the pod


def test_kustomize_identity_changes_when_the_kubectl_on_path_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = tmp_path / "bin" / "kubectl"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\necho v1\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", fake_path(program.parent))
    first = kubectl.kustomize_identity()
    assert first.startswith(f"{program.resolve()}\0")
    assert kubectl.kustomize_identity() == first  # nothing started, nothing changed
    program.write_text("#!/bin/sh\necho v1.1\n")  # an upgrade: another size
    assert kubectl.kustomize_identity() != first
