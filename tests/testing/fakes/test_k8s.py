"""Behavioural tests for the fake `minikube`/`kubectl` used by the Minikube pipeline tests.

These pin the semantics the product relies on (idempotent start, apply
created/configured/unchanged, revision history, injected failures, drift), so a product
test failing against the fakes points at the product, not at the fakes.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from testing.fakes.cluster import FakeCluster

# Registers the `fake_cluster` fixture (a no-op if conftest.py already lists this plugin).

PROFILE = "srvthreds"
NS = "srv"


def run(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a tool exactly as the product would: by bare name, resolved through PATH."""
    return subprocess.run(list(argv), capture_output=True, text=True, input=stdin, timeout=60, check=False)


def kubectl(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run("kubectl", "--context", PROFILE, *argv, stdin=stdin)


def start() -> subprocess.CompletedProcess[str]:
    return run(
        "minikube", "-p", PROFILE, "start", "--driver=docker", "--cpus=4", "--memory=8192", "--disk-size=20g"
    )


def deployment_yaml(image: str = "engine:v1", replicas: int = 2, name: str = "engine") -> str:
    return textwrap.dedent(
        f"""\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: {NS}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
          namespace: {NS}
          labels: {{app.kubernetes.io/name: {name}, app.kubernetes.io/part-of: srvthreds}}
        spec:
          replicas: {replicas}
          selector:
            matchLabels: {{app.kubernetes.io/name: {name}}}
          template:
            metadata:
              labels: {{app.kubernetes.io/name: {name}, app.kubernetes.io/part-of: srvthreds}}
            spec:
              containers:
                - name: {name}
                  image: {image}
        ---
        apiVersion: v1
        kind: Service
        metadata: {{name: {name}, namespace: {NS}}}
        spec:
          selector: {{app.kubernetes.io/name: {name}}}
          ports: [{{port: 3000}}]
        """
    )


JOB_YAML = textwrap.dedent(
    f"""\
    apiVersion: batch/v1
    kind: Job
    metadata: {{name: migrate, namespace: {NS}}}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{{name: migrate, image: "engine:v1"}}]
    """
)


def apply(text: str, tmp_path: Path, name: str = "m.yaml") -> subprocess.CompletedProcess[str]:
    path = tmp_path / name
    path.write_text(text)
    return kubectl("apply", "-f", str(path))


def deployments() -> list[dict[str, Any]]:
    res = kubectl("-n", NS, "get", "deployments", "-o", "json")
    assert res.returncode == 0, res.stderr
    items: list[dict[str, Any]] = json.loads(res.stdout)["items"]
    return items


@pytest.fixture
def running(fake_cluster: FakeCluster) -> FakeCluster:
    """A cluster started through the fake CLI, with the call log cleared."""
    assert start().returncode == 0
    fake_cluster.clear_calls()
    return fake_cluster


# --------------------------------------------------------------------------- minikube


def test_status_without_cluster_exits_85_without_json(fake_cluster: FakeCluster) -> None:
    res = run("minikube", "-p", PROFILE, "status", "--output", "json")
    assert res.returncode == 85
    assert f'Profile "{PROFILE}" not found' in res.stdout
    with pytest.raises(json.JSONDecodeError):
        json.loads(res.stdout)


def test_start_twice_keeps_uid_and_status_reports_running(fake_cluster: FakeCluster) -> None:
    assert start().returncode == 0
    uid = fake_cluster.uid
    # The second start must not recreate the cluster: UID identity is how the product detects recreation.
    second = run(
        "minikube", "-p", PROFILE, "start", "--driver=docker", "--cpus=2", "--memory=8192", "--disk-size=20g"
    )
    assert second.returncode == 0
    assert fake_cluster.uid == uid
    # Like real minikube, resources of an existing cluster don't change; it only warns.
    assert "You cannot change the CPUs" in second.stdout
    assert fake_cluster.settings()["cpus"] == 4
    status = run("minikube", "-p", PROFILE, "status", "--output", "json")
    assert status.returncode == 0
    assert json.loads(status.stdout) == {
        "Name": PROFILE,
        "Host": "Running",
        "Kubelet": "Running",
        "APIServer": "Running",
        "Kubeconfig": "Configured",
        "Worker": False,
    }
    uid_out = kubectl("get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}")
    assert uid_out.stdout == uid  # jsonpath output has no trailing newline, like kubectl
    assert [c["mutating"] for c in fake_cluster.calls("minikube")] == [True, True, False]


def test_stopped_cluster_status_7_and_kubectl_refused(running: FakeCluster) -> None:
    running.stop_cluster()
    status = run("minikube", "-p", PROFILE, "status", "--output", "json")
    assert status.returncode == 7
    assert json.loads(status.stdout)["Host"] == "Stopped"
    res = kubectl("get", "deployments", "-o", "json")
    assert res.returncode == 1
    assert "The connection to the server 127.0.0.1:8443 was refused" in res.stderr
    # Restarting keeps the cluster (same UID).
    uid = running.uid
    assert start().returncode == 0
    assert running.uid == uid and running.running


def test_delete_then_start_gives_new_uid(running: FakeCluster) -> None:
    uid = running.uid
    assert run("minikube", "-p", PROFILE, "delete").returncode == 0
    assert not running.exists
    assert run("minikube", "-p", PROFILE, "ip").returncode == 85
    assert start().returncode == 0
    assert running.uid != uid


def test_addons_images_and_docker_env(running: FakeCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    addons = json.loads(run("minikube", "-p", PROFILE, "addons", "list", "--output", "json").stdout)
    assert addons["ingress"] == {"Profile": PROFILE, "Status": "disabled"}
    assert addons["storage-provisioner"]["Status"] == "enabled"
    assert run("minikube", "-p", PROFILE, "addons", "enable", "ingress").returncode == 0
    assert running.addons()["ingress"] is True
    bad = run("minikube", "-p", PROFILE, "addons", "enable", "no-such-addon")
    assert bad.returncode != 0 and "not a valid addon" in bad.stderr

    assert run("minikube", "-p", PROFILE, "image", "load", "engine:dev").returncode == 0
    listed = json.loads(run("minikube", "-p", PROFILE, "image", "ls", "--format", "json").stdout)
    tags = {t for item in listed for t in item["repoTags"]}
    assert "docker.io/library/engine:dev" in tags  # normalized like the container runtime reports it
    assert running.images() == ["docker.io/library/engine:dev"]

    monkeypatch.setenv("FAKE_DOCKER_HOST", "tcp://127.0.0.1:2376")
    env = run("minikube", "-p", PROFILE, "docker-env", "--shell", "none")
    assert env.stdout.splitlines() == [
        "DOCKER_HOST=tcp://127.0.0.1:2376",
        f"MINIKUBE_ACTIVE_DOCKERD={PROFILE}",
    ]
    mutating = [c["argv"] for c in running.mutating_calls()]
    assert mutating == [
        ["-p", PROFILE, "addons", "enable", "ingress"],
        ["-p", PROFILE, "image", "load", "engine:dev"],
    ]


# --------------------------------------------------------------------------- unknown / invalid


def test_unknown_commands_and_flags_fail_like_the_real_tools(running: FakeCluster) -> None:
    res = run("kubectl", "foo")
    assert res.returncode == 1 and 'error: unknown command "foo" for "kubectl"' in res.stderr
    res = kubectl("apply", "--prune", "-f", "x.yaml")
    assert res.returncode == 1 and "error: unknown flag: --prune" in res.stderr
    res = kubectl("get", "widgets")
    assert res.returncode == 1 and 'the server doesn\'t have a resource type "widgets"' in res.stderr
    res = kubectl("rollout", "status", "deployment/x", "--timeout=abc")
    assert res.returncode == 1 and 'invalid duration "abc"' in res.stderr
    res = run("minikube", "frobnicate")
    assert res.returncode != 0 and 'unknown command "frobnicate" for "minikube"' in res.stderr
    res = run("minikube", "-p", PROFILE, "start", "--nodes=3")
    assert res.returncode != 0 and "unknown flag: --nodes" in res.stderr
    assert running.mutating_calls() == []
    assert all(c["exit"] != 0 for c in running.calls())


def test_unknown_context_fails(running: FakeCluster) -> None:
    res = run("kubectl", "--context", "other", "get", "pods")
    assert res.returncode == 1 and 'error: context "other" does not exist' in res.stderr


# --------------------------------------------------------------------------- apply / revisions


def test_apply_twice_is_unchanged_and_not_mutating(running: FakeCluster, tmp_path: Path) -> None:
    first = apply(deployment_yaml(), tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "namespace/srv created",
        "deployment.apps/engine created",
        "service/engine created",
    ]
    second = apply(deployment_yaml(), tmp_path)
    assert second.stdout.splitlines() == [
        "namespace/srv unchanged",
        "deployment.apps/engine unchanged",
        "service/engine unchanged",
    ]
    assert [c["mutating"] for c in running.calls()] == [True, False]
    # stdin form is equivalent
    third = kubectl("apply", "-f", "-", stdin=deployment_yaml())
    assert "deployment.apps/engine unchanged" in third.stdout


def test_revision_only_changes_with_template(running: FakeCluster, tmp_path: Path) -> None:
    apply(deployment_yaml(), tmp_path)
    assert running.revision("engine", NS) == 1
    # Scaling is a spec change but not a template change: configured, same revision.
    res = apply(deployment_yaml(replicas=3), tmp_path)
    assert "deployment.apps/engine configured" in res.stdout
    assert running.revision("engine", NS) == 1
    dep = deployments()[0]
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert (
        dep["status"]["readyReplicas"] == 3
        and dep["status"]["observedGeneration"] == dep["metadata"]["generation"] == 2
    )
    apply(deployment_yaml(image="engine:v2", replicas=3), tmp_path)
    assert running.revision("engine", NS) == 2


def test_rollout_undo_restores_previous_template(running: FakeCluster, tmp_path: Path) -> None:
    apply(deployment_yaml(), tmp_path)
    none = kubectl("-n", NS, "rollout", "undo", "deployment/engine")
    assert none.returncode == 1 and 'no rollout history found for deployment "engine"' in none.stderr
    apply(deployment_yaml(image="engine:v2"), tmp_path)
    res = kubectl("-n", NS, "rollout", "undo", "deployment/engine")
    assert res.returncode == 0 and res.stdout == "deployment.apps/engine rolled back\n"
    # Like the deployment controller: the old template is re-used and becomes revision 3.
    assert running.revision("engine", NS) == 3
    obj = running.get("Deployment", "engine", NS)
    assert obj is not None and obj["spec"]["template"]["spec"]["containers"][0]["image"] == "engine:v1"
    assert running.mutating_calls()[-1]["argv"][-3:] == ["rollout", "undo", "deployment/engine"]
    # Re-applying the v2 manifest after an undo is a real change again (live != manifest).
    assert "deployment.apps/engine configured" in apply(deployment_yaml(image="engine:v2"), tmp_path).stdout


def test_invalid_and_misplaced_objects_are_rejected(running: FakeCluster, tmp_path: Path) -> None:
    res = apply(JOB_YAML, tmp_path)  # namespace srv doesn't exist yet
    assert res.returncode == 1
    assert (
        "Error from server (NotFound): error when creating" in res.stderr
        and 'namespaces "srv" not found' in res.stderr
    )
    assert running.mutating_calls() == []
    crd = apply("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n", tmp_path, "w.yaml")
    assert crd.returncode == 1 and 'no matches for kind "Widget"' in crd.stderr
    # Jobs' pod templates are immutable: the product must delete a Job before re-applying a changed one.
    apply(deployment_yaml(), tmp_path)
    assert apply(JOB_YAML, tmp_path, "job.yaml").returncode == 0
    changed = apply(JOB_YAML.replace("engine:v1", "engine:v2"), tmp_path, "job.yaml")
    assert changed.returncode == 1 and "field is immutable" in changed.stderr


# --------------------------------------------------------------------------- failures


def test_injected_rollout_failure(running: FakeCluster, tmp_path: Path) -> None:
    apply(deployment_yaml(), tmp_path)
    running.inject_rollout_failure("engine")
    res = kubectl("-n", NS, "rollout", "status", "deployment/engine", "--timeout=120s")
    assert res.returncode == 1
    assert res.stderr == 'error: deployment "engine" exceeded its progress deadline\n'
    status = deployments()[0]["status"]
    assert "readyReplicas" not in status  # omitted when 0, exactly like the API server
    pods = json.loads(
        kubectl("-n", NS, "get", "pods", "-l", "app.kubernetes.io/name=engine", "-o", "json").stdout
    )["items"]
    assert len(pods) == 2
    assert {p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] for p in pods} == {
        "CrashLoopBackOff"
    }
    pod = pods[0]["metadata"]["name"]
    assert pod.startswith("engine-")
    events = kubectl("-n", NS, "get", "events", "--field-selector", f"involvedObject.name={pod}")
    assert "BackOff" in events.stdout and events.stdout.startswith("LAST SEEN")
    logs = kubectl("-n", NS, "logs", pod, "--tail=20")
    assert "Error: cannot connect to rabbitmq:5672" in logs.stdout
    multi = kubectl("-n", NS, "logs", "-l", "app.kubernetes.io/part-of=srvthreds", "--tail=1", "--prefix")
    assert all(line.startswith("[pod/engine-") for line in multi.stdout.splitlines())


def test_image_bound_failure_is_healed_by_undo(running: FakeCluster, tmp_path: Path) -> None:
    apply(deployment_yaml(), tmp_path)
    running.inject_rollout_failure("engine", image="engine:bad")
    assert kubectl("-n", NS, "rollout", "status", "deployment/engine").returncode == 0
    apply(deployment_yaml(image="engine:bad"), tmp_path)
    assert kubectl("-n", NS, "rollout", "status", "deployment/engine").returncode == 1
    assert kubectl("-n", NS, "rollout", "undo", "deployment/engine").returncode == 0
    assert kubectl("-n", NS, "rollout", "status", "deployment/engine").returncode == 0


def test_jobs_wait_delete_and_injected_failure(running: FakeCluster, tmp_path: Path) -> None:
    apply(deployment_yaml(), tmp_path)
    apply(JOB_YAML, tmp_path, "job.yaml")
    ok = kubectl("-n", NS, "wait", "--for=condition=complete", "job/migrate", "--timeout=120s")
    assert ok.returncode == 0 and ok.stdout == "job.batch/migrate condition met\n"
    running.clear_calls()
    assert kubectl("-n", NS, "delete", "job", "migrate", "--ignore-not-found").returncode == 0
    assert kubectl("-n", NS, "delete", "job", "migrate", "--ignore-not-found").returncode == 0
    assert [c["mutating"] for c in running.calls()] == [True, False]  # only the delete that removed something
    running.inject_job_failure("migrate")
    apply(JOB_YAML, tmp_path, "job.yaml")
    bad = kubectl("-n", NS, "wait", "--for=condition=complete", "job/migrate", "--timeout=120s")
    assert (
        bad.returncode == 1 and bad.stderr == "error: timed out waiting for the condition on jobs/migrate\n"
    )


# --------------------------------------------------------------------------- drift


def test_namespace_deletion_drift(running: FakeCluster, tmp_path: Path) -> None:
    apply(deployment_yaml(), tmp_path)
    ns = json.loads(kubectl("get", "namespace", NS, "-o", "json").stdout)
    assert ns["metadata"]["uid"] and ns["status"]["phase"] == "Active"
    assert running.delete_namespace(NS)
    gone = kubectl("get", "namespace", NS, "-o", "json")
    assert (
        gone.returncode == 1 and gone.stderr == f'Error from server (NotFound): namespaces "{NS}" not found\n'
    )
    assert running.objects(namespace=NS) == []
    # Re-applying recreates everything (a different namespace uid).
    assert "deployment.apps/engine created" in apply(deployment_yaml(), tmp_path).stdout
    assert (
        json.loads(kubectl("get", "namespace", NS, "-o", "json").stdout)["metadata"]["uid"]
        != ns["metadata"]["uid"]
    )
    # kubectl delete namespace behaves the same and is idempotent with --ignore-not-found.
    assert kubectl("delete", "namespace", NS, "--ignore-not-found").stdout == f'namespace "{NS}" deleted\n'
    assert kubectl("delete", "namespace", NS, "--ignore-not-found").returncode == 0
    assert kubectl("delete", "namespace", "kube-system").returncode == 1


def test_recreate_cluster_changes_uid_and_empties(running: FakeCluster, tmp_path: Path) -> None:
    apply(deployment_yaml(), tmp_path)
    old = running.uid
    new = running.recreate_cluster()
    assert new != old and running.uid == new
    assert kubectl("get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}").stdout == new
    assert running.objects("Deployment") == []


def test_port_forward_exits_immediately(running: FakeCluster, tmp_path: Path) -> None:
    apply(deployment_yaml(), tmp_path)
    res = kubectl("-n", NS, "port-forward", "svc/engine", "3000:3000")
    assert res.returncode == 0 and res.stdout.startswith("Forwarding from 127.0.0.1:3000 -> 3000\n")
    assert kubectl("-n", NS, "port-forward", "svc/nope", "3000:3000").returncode == 1


# --------------------------------------------------------------------------- delegation / concurrency


def test_kustomize_and_client_version_delegate_to_real_kubectl(
    fake_cluster: FakeCluster, tmp_path: Path
) -> None:
    kdir = tmp_path / "k"
    kdir.mkdir()
    (kdir / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n")
    (kdir / "kustomization.yaml").write_text("namespace: srv\nnamePrefix: x-\nresources: [cm.yaml]\n")
    # No cluster exists: kustomize must still work, since it is purely client-side.
    res = run("kubectl", "kustomize", str(kdir))
    assert res.returncode == 0, res.stderr
    assert "name: x-cfg" in res.stdout and "namespace: srv" in res.stdout
    bad = run("kubectl", "kustomize", str(tmp_path / "missing"))
    assert bad.returncode != 0  # error comes from the real kustomize
    version = run("kubectl", "version", "--client")
    assert version.returncode == 0 and "Client Version" in version.stdout
    assert [c["mutating"] for c in fake_cluster.calls()] == [False, False, False]


def test_parallel_calls_do_not_lose_updates(running: FakeCluster, tmp_path: Path) -> None:
    apply(deployment_yaml(), tmp_path)
    results: list[int] = []

    def worker(i: int) -> None:
        manifest = (
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{i}, namespace: {NS}}}\n"
            f"data: {{i: '{i}'}}\n"
        )
        results.append(kubectl("apply", "-f", "-", stdin=manifest).returncode)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [0] * 8
    assert sorted(o["metadata"]["name"] for o in running.objects("ConfigMap", NS)) == [
        f"cm{i}" for i in range(8)
    ]
    assert len(running.calls()) == 9  # every call logged exactly once


def test_cp_and_exec_reach_only_a_running_pods_container(running: FakeCluster, tmp_path: Path) -> None:
    assert apply(deployment_yaml(replicas=1), tmp_path).returncode == 0
    pods = json.loads(kubectl("-n", "srv", "get", "pods", "-o", "json").stdout)["items"]
    pod = pods[0]["metadata"]["name"]
    source = tmp_path / "lib.py"
    source.write_text("X = 1\n")
    source.chmod(0o640)
    copied = kubectl("-n", "srv", "cp", str(source), f"{pod}:/app/lib.py", "-c", "engine")
    assert copied.returncode == 0, copied.stderr
    assert running.pod_files("srv") == {pod: {"/app/lib.py": {"text": "X = 1\n", "mode": "0o640"}}}
    ran = kubectl("-n", "srv", "exec", pod, "-c", "engine", "--", "sh", "-c", "kill -HUP 1")
    assert ran.returncode == 0, ran.stderr
    running.inject_exec_failure("sh -c kill -HUP 1")
    failed = kubectl("-n", "srv", "exec", pod, "-c", "engine", "--", "sh", "-c", "kill -HUP 1")
    assert failed.returncode == 1 and "exit code 1" in failed.stderr
    assert running.pod_execs("srv") == {pod: [["sh", "-c", "kill -HUP 1"]] * 2}
    assert [c["mutating"] for c in running.calls()[-3:]] == [True, True, True]
    # Like kubectl: an unknown pod or container, or a missing local file, is an error.
    assert kubectl("-n", "srv", "cp", str(source), "nope:/x").returncode == 1
    assert "not valid" in kubectl("-n", "srv", "exec", pod, "-c", "other", "--", "true").stderr
    assert kubectl("-n", "srv", "cp", str(tmp_path / "gone"), f"{pod}:/x").returncode == 1


def test_an_application_reports_the_status_the_test_sets(running: FakeCluster) -> None:
    app = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "shop-dev", "namespace": "argocd"},
        "spec": {"project": "default"},
    }
    running.add_object(app)
    assert "argocd" in running.namespaces()
    got = json.loads(
        kubectl("get", "applications.argoproj.io", "shop-dev", "-n", "argocd", "-o", "json").stdout
    )
    assert got["status"] == {}  # Argo CD has said nothing yet
    running.set_application(
        "shop-dev", "argocd", sync="Synced", health="Degraded", revision="abc", message="m"
    )
    got = json.loads(kubectl("get", "app", "shop-dev", "-n", "argocd", "-o", "json").stdout)
    assert got["status"] == {
        "sync": {"status": "Synced", "revision": "abc"},
        "health": {"status": "Degraded", "message": "m"},
        "resources": [],
    }
    assert running.mutating_calls() == []
