"""tasks/ops/k8s_health.py: the verdict per workload from its API document and pods, one
look and the joint wait against the stateful fake kubectl, and the diagnosis.

Each edge of the verdict (stale generation, surplus old pods, crash loop restarts, job
conditions), the deadline, and what the diagnosis shows.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tasks.errors import StackError
from tasks.ops import k8s_deploy as kd
from tasks.ops import k8s_health as health
from tasks.programs import kubectl
from testing.fakes.cluster import FakeCluster
from testing.harness import FakeBin
from testing.k8s_overlay import NS, Kube, make_kube

Doc = dict[str, Any]


@pytest.fixture
def kube(fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kube:
    return make_kube(fake_cluster, tmp_path, monkeypatch)


# --------------------------------------------------------------------------- pods


def _waiting(reason: str, restarts: int = 0) -> Doc:
    return {"state": {"waiting": {"reason": reason}}, "restartCount": restarts}


def _pod(*statuses: Doc, phase: str = "Running", ready: bool = False) -> Doc:
    cond = [{"type": "Ready", "status": "True" if ready else "False"}]
    return {"status": {"phase": phase, "containerStatuses": list(statuses), "conditions": cond}}


@pytest.mark.parametrize(
    "status, expected",
    [
        (_waiting("ImagePullBackOff"), ("ImagePullBackOff", True)),
        (_waiting("ContainerCreating"), ("ContainerCreating", False)),
        (_waiting("CrashLoopBackOff", health.CRASH_RESTARTS - 1), ("CrashLoopBackOff", False)),
        (_waiting("CrashLoopBackOff", health.CRASH_RESTARTS), ("CrashLoopBackOff", True)),
        ({"state": {"waiting": {"message": "m"}}}, ("Waiting", False)),
        ({"state": {"terminated": {"exitCode": 2, "reason": "OOMKilled"}}}, ("OOMKilled", False)),
        ({"state": {"terminated": {"exitCode": 1}}}, ("Error", False)),
        ({"state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}, ("Running", False)),
    ],
)
def test_pod_reason(status: Doc, expected: tuple[str, bool]) -> None:
    assert health.pod_reason(_pod(status)) == expected


def test_pod_reason_takes_the_first_container_with_one_and_falls_back_to_the_phase() -> None:
    pod = _pod({"state": {"running": {}}}, _waiting("ErrImagePull"), _waiting("CrashLoopBackOff"))
    assert health.pod_reason(pod) == ("ErrImagePull", True)
    assert health.pod_reason({"status": {}}) == ("Pending", False)
    assert health.pod_reason({}) == ("Pending", False)


def _owned(name: str, owner: str, labels: Doc | None = None) -> Doc:
    return {
        "metadata": {
            "name": f"{name}-pod",
            "labels": labels if labels is not None else {"app.kubernetes.io/name": name},
            "ownerReferences": [{"kind": owner}],
        },
        "status": {"conditions": [{"type": "Ready", "status": "False"}]},
    }


def test_pods_of_match_owner_kind_and_name() -> None:
    rs = _owned("web", "ReplicaSet")
    sts = _owned("web", "StatefulSet")
    other = _owned("api", "ReplicaSet")
    job = _owned("x", "Job", {"job-name": "init"})
    pods = [rs, sts, other, job]
    assert health.pods_of(pods, "Deployment", "web") == [rs]
    assert health.pods_of(pods, "StatefulSet", "web") == [sts]
    assert health.pods_of(pods, "Job", "init") == [job]
    assert health.pods_of([{}], "Job", "init") == []


# --------------------------------------------------------------------------- verdicts


def _deployment(spec: Doc | None = None, status: Doc | None = None, **meta: Any) -> Doc:
    return {
        "kind": "Deployment",
        "metadata": {"name": "web", **meta},
        "spec": {"replicas": 2, **(spec or {})},
        "status": {
            "observedGeneration": 3,
            "updatedReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
            "replicas": 2,
            **(status or {}),
        },
    }


def test_a_rolled_out_deployment_is_ready_with_its_revision_and_images() -> None:
    doc = _deployment(
        {"template": {"spec": {"containers": [{"image": "a:1"}, {"image": "b:1"}]}}},
        generation=3,
        annotations={"deployment.kubernetes.io/revision": "4"},
    )
    h = health.verdict(doc, [])
    assert (h.state, h.desired, h.ready, h.revision, h.images) == ("ready", 2, 2, 4, ("a:1", "b:1"))
    assert h.ref == "deployment/web" and h.key == ("Deployment", "web")


@pytest.mark.parametrize(
    "status, meta",
    [
        ({"observedGeneration": 2}, {"generation": 3}),  # the controller has not seen the change
        ({"updatedReplicas": 1}, {}),
        ({"readyReplicas": 1}, {}),
        ({"availableReplicas": 1}, {}),
        ({"replicas": 3}, {}),  # an old pod is still there
    ],
)
def test_a_deployment_short_of_any_counter_is_progressing(status: Doc, meta: Doc) -> None:
    h = health.verdict(_deployment(status=status, **meta), [])
    assert h.state == "progressing" and h.reason == ""


def test_a_deployment_without_replicas_wants_one_and_zero_wants_zero() -> None:
    one = _deployment(
        status={"updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1, "replicas": 1}
    )
    del one["spec"]["replicas"]
    assert health.verdict(one, []).desired == 1
    assert health.verdict(one, []).state == "ready"
    zero = _deployment(
        {"replicas": 0}, {"updatedReplicas": 0, "readyReplicas": 0, "availableReplicas": 0, "replicas": 0}
    )
    assert (health.verdict(zero, []).desired, health.verdict(zero, []).state) == (0, "ready")


def test_a_stuck_or_crashing_deployment_has_failed_with_its_pods() -> None:
    stuck = _deployment(
        status={
            "readyReplicas": 1,
            "conditions": [{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}],
        }
    )
    h = health.verdict(stuck, [])
    assert (h.state, h.reason, h.ready) == ("failed", "ProgressDeadlineExceeded", 1)
    pod = _owned("web", "ReplicaSet")
    pod["status"]["containerStatuses"] = [_waiting("CrashLoopBackOff", 5)]
    crashing = health.verdict(_deployment(status={"readyReplicas": 1}), [pod])
    assert (crashing.state, crashing.reason, crashing.pods) == ("failed", "CrashLoopBackOff", ("web-pod",))
    pod["status"]["containerStatuses"] = [_waiting("CrashLoopBackOff", 1)]
    early = health.verdict(_deployment(status={"readyReplicas": 1}), [pod])
    assert (early.state, early.reason) == ("progressing", "CrashLoopBackOff")


def test_ready_pods_are_not_blamed() -> None:
    pod = _owned("web", "ReplicaSet")
    pod["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    h = health.verdict(_deployment(status={"readyReplicas": 1}), [pod])
    assert h.pods == () and h.reason == ""


def test_statefulset_verdict_follows_revisions() -> None:
    doc: Doc = {
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {"replicas": 1},
        "status": {"readyReplicas": 1, "updateRevision": "r2", "currentRevision": "r2"},
    }
    assert health.verdict(doc, []).state == "ready"
    doc["status"]["currentRevision"] = "r1"
    assert health.verdict(doc, []).state == "progressing"
    doc["status"] = {"updateRevision": "r2", "currentRevision": "r2"}
    assert health.verdict(doc, []).state == "progressing"
    # A StatefulSet never reports ProgressDeadlineExceeded: the condition is not read for it.
    doc["status"]["conditions"] = [{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]
    assert health.verdict(doc, []).state == "progressing"


def _job(status: Doc, spec: Doc | None = None) -> Doc:
    return {"kind": "Job", "metadata": {"name": "init"}, "spec": spec or {}, "status": status}


def test_job_verdicts() -> None:
    complete = health.verdict(
        _job({"succeeded": 2, "conditions": [{"type": "Complete", "status": "True"}]}, {"completions": 2}), []
    )
    assert (complete.state, complete.desired, complete.ready) == ("ready", 2, 2)
    failed = health.verdict(
        _job({"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}), []
    )
    assert (failed.state, failed.reason, failed.desired) == ("failed", "BackoffLimitExceeded", 1)
    bare = health.verdict(_job({"conditions": [{"type": "Failed", "status": "True"}]}), [])
    assert bare.reason == "Failed"
    pod = _owned("x", "Job", {"job-name": "init"})
    pod["status"]["containerStatuses"] = [_waiting("ErrImagePull")]
    pulling = health.verdict(_job({}), [pod])
    assert (pulling.state, pulling.reason, pulling.pods) == ("failed", "ErrImagePull", ("x-pod",))
    running = health.verdict(_job({"conditions": [{"type": "Complete", "status": "False"}]}), [])
    assert running.state == "progressing"


# --------------------------------------------------------------------------- on the fake cluster


def test_look_wait_and_diagnose_on_the_cluster(kube: Kube) -> None:
    kube.applied()
    k = kube.t.scope
    seen = health.look(k, [("Deployment", "web"), ("Job", "init"), ("Deployment", "ghost")])
    assert seen[("Deployment", "web")].state == "ready"
    assert seen[("Job", "init")].state == "ready"
    assert seen[("Deployment", "ghost")] == health.Health(
        "Deployment", "ghost", 0, 0, (), "missing", "not found"
    )
    assert health.look(k, []) == {}
    kube.cluster.inject_rollout_failure("web")
    failed = health.wait(k, [("Deployment", "web")], time.monotonic() + 30, poll=0.01)
    h = failed[("Deployment", "web")]
    assert (h.state, h.reason) == ("failed", "CrashLoopBackOff") and h.pods
    lines = health.diagnose(k, h, tail=1)
    assert lines[0] == f"    pod {h.pods[0]}:"
    assert any("web: CrashLoopBackOff" in line for line in lines)
    assert "    last events:" in lines and any("BackOff" in line for line in lines)
    assert lines[-2] == "    logs (last 1 lines):"
    last = kubectl.pod_logs(k, h.pods[0], tail=20)[-1]
    assert lines[-1] == f"      {last}"
    assert "Error: cannot connect to rabbitmq:5672" in "\n".join(health.diagnose(k, h))


def test_wait_gives_up_at_the_deadline_naming_how_long(kube: Kube) -> None:
    k = kube.t.scope
    kube.applied()
    started = time.monotonic()
    seen = health.wait(k, [("Deployment", "ghost"), ("Deployment", "web")], started + 0.3, poll=0.05)
    assert time.monotonic() - started < 5
    assert seen[("Deployment", "ghost")].state == "failed"
    assert seen[("Deployment", "ghost")].reason == "not ready after 0s (not found)"
    assert seen[("Deployment", "web")].state == "ready"


def test_unreadable_kinds_raise_with_the_cause(kube: Kube) -> None:
    gone = kd.Target("test", "no-such-context", NS, "acme", 30)
    with pytest.raises(StackError, match='cannot read deployments: error: context "no-such-context"'):
        health.look(gone.scope, [("Deployment", "web")])


def test_diagnose_without_pods_names_the_reason_and_asks_nothing() -> None:
    nowhere = kubectl.Scope("no-such-context", "ns")  # a kubectl call would fail the test (testing/guard.py)
    h = health.Health("Deployment", "web", 1, 0, (), "failed", "ProgressDeadlineExceeded")
    assert health.diagnose(nowhere, h) == ["    no failing pod found (ProgressDeadlineExceeded)"]
    h = health.Health("Deployment", "web", 1, 0, (), "missing")
    assert health.diagnose(nowhere, h) == ["    no failing pod found (missing)"]


def test_output_that_is_not_json_reads_as_nothing(fakebin: FakeBin, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kubectl (or proxy) printing something else than JSON: nothing found, no traceback."""
    fakebin.script("kubectl", 'echo "not json"\n')
    fakebin.activate(monkeypatch)
    k = kubectl.Scope("ctx", "ns")
    seen = health.look(k, [("Deployment", "web")])
    assert seen[("Deployment", "web")].state == "missing"
    h = health.Health("Deployment", "web", 1, 0, (), "failed", "x", pods=("web-1",))
    lines = health.diagnose(k, h)
    assert lines[:2] == ["    pod web-1:", "    last events:"]
