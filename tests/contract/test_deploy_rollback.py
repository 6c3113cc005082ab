"""Contract tests of failing deploys and rollback (`minikube_up`, `deploy:<env>`, `rollback:<env>`)
on the cluster fakes: a deploy never reports success for a broken
stack, status tells the truth, and rollback re-applies a recorded known-good release.

Each test records the exit code and the seconds until the failure was reported
(`SCENARIOS`, printed at the end of the session with -s) for the closing note."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from testing.fakes import docker as fake_docker
from testing.fakes import skopeo as fake_skopeo
from testing.fakes.cluster import FakeCluster
from testing.minikube_stack import NS, Stack, make_stack
from testing.project import REPO, DoitRun, run_doit

REGISTRY = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
SCENARIOS: list[tuple[str, int, float]] = []


def timed(label: str, fn: Callable[..., DoitRun], *args: object) -> DoitRun:
    start = time.perf_counter()
    result = fn(*args)
    SCENARIOS.append((label, result.code, time.perf_counter() - start))
    return result


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    for label, code, secs in SCENARIOS:
        print(f"\nSCENARIO {label}: exit {code}, {secs:.1f}s")


@pytest.fixture
def stack(project: Path, fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stack:
    return make_stack(project, fake_cluster, tmp_path, monkeypatch, "image-load")


def _verdict(out: str, workload: str) -> str:
    m = re.search(rf"^\s+{re.escape(workload)}\s.*\s(ok|stale|failed)\b", out, re.MULTILINE)
    assert m, out
    return m.group(1)


def test_first_deploy_failure_fails_twice_in_a_row(stack: Stack) -> None:
    stack.cluster.inject_rollout_failure("engine")
    first = timed("first-deploy failure, run 1", stack.up)
    assert first.code != 0
    assert "deployment/engine: CrashLoopBackOff" in first.out and "nothing to roll back to" in first.out
    assert "cannot connect to rabbitmq" in first.out and "Traceback" not in first.out
    second = timed("first-deploy failure, run 2", stack.up)
    assert second.code != 0, second.out
    assert "deployment/engine: CrashLoopBackOff" in second.out
    assert "is up" not in second.out
    # Recovery: once the cause is gone, the next run waits, sees it ready and records it.
    stack.cluster.clear_rollout_failure("engine")
    fixed = timed("first-deploy failure, after the fix", stack.up)
    assert fixed.code == 0, fixed.out
    assert "is up" in fixed.out
    assert stack.run("minikube_status").code == 0


def test_two_failing_deployments_are_both_reported(stack: Stack) -> None:
    stack.cluster.inject_rollout_failure("engine")
    stack.cluster.inject_rollout_failure("session-agent")
    both = timed("two failing deployments", stack.up)
    assert both.code != 0
    assert "2 workload(s) not healthy" in both.out
    assert "deployment/engine: CrashLoopBackOff" in both.out
    assert "deployment/session-agent: CrashLoopBackOff" in both.out
    stack.cluster.clear_rollout_failure("engine")
    one = timed("two failing deployments, one fixed", stack.up)
    assert one.code != 0, one.out
    assert "deployment/session-agent: CrashLoopBackOff" in one.out
    assert "deployment/engine:" not in one.out
    stack.cluster.clear_rollout_failure("session-agent")
    assert timed("two failing deployments, both fixed", stack.up).code == 0


def test_status_while_broken_exits_non_zero(stack: Stack) -> None:
    stack.cluster.inject_rollout_failure("engine")
    assert stack.up().code != 0
    status = timed("status while broken", stack.run, "minikube_status")
    assert status.code != 0
    assert _verdict(status.out, "deployment/engine") == "failed"
    assert _verdict(status.out, "deployment/session-agent") == "stale"  # healthy, but not recorded as applied
    assert "deployment/engine failed" in status.out
    stack.cluster.clear_rollout_failure("engine")
    assert stack.up().code == 0
    fine = stack.run("minikube_status")
    assert fine.code == 0, fine.out
    assert _verdict(fine.out, "deployment/engine") == "ok"


def test_bad_release_on_a_running_stack_is_rolled_back_and_stays_failing(stack: Stack) -> None:
    assert stack.up().code == 0
    module = stack.project / "demo/srvthreds_demo/engine.py"
    module.write_text(module.read_text() + "\n# broken release\n")
    assert stack.run("minikube_images:engine").code == 0
    bad = (stack.project / ".build/mktest/minikube_images/engine.ref").read_text().strip()
    stack.cluster.inject_rollout_failure("engine", image=bad)  # the old revision is healthy
    failed = timed("bad release on a running stack", stack.up)
    assert failed.code != 0
    assert "rolled back to the previous revision, which is ready" in failed.out
    # The undo restored the old pods, but the new release is still not applied: not ok.
    status = stack.run("minikube_status")
    assert status.code != 0 and _verdict(status.out, "deployment/engine") == "stale"
    again = stack.up()
    assert again.code != 0 and "deployment/engine: CrashLoopBackOff" in again.out


def test_published_port_is_what_the_cluster_dials(project: Path) -> None:
    from tasks.config import load as config

    stack_yaml = project / "environments/stack.yaml"
    doc = yaml.safe_load(stack_yaml.read_text())
    doc["databases"]["mongodb"]["publish"] = 15432
    stack_yaml.write_text(yaml.safe_dump(doc, sort_keys=False))
    cfg = config.load("minikube", project)
    assert cfg.databases["mongodb"].endpoint == "host.minikube.internal:15432"
    assert cfg.databases["mongodb"].port == 27017
    # Inside Compose, the services still dial the container port.
    assert config.load("local", project).databases["mongodb"].endpoint == "mongodb:27017"
    assert run_doit(project, "render").code == 0
    rendered = (project / "k8s/overlays/minikube/configmap-minikube.yaml").read_text()
    assert "host.minikube.internal:15432" in rendered and "host.minikube.internal:27017" not in rendered


# --------------------------------------------------------------------------- cloud rollback


def _image(cluster: FakeCluster, name: str) -> str:
    obj = cluster.get("Deployment", name, NS)
    assert obj is not None
    return str(obj["spec"]["template"]["spec"]["containers"][0]["image"])


def _ref(project: Path, name: str) -> str:
    return (project / f".build/dev/images/{name}.ref").read_text().strip()


@pytest.fixture
def dev(project: Path, fake_cluster: FakeCluster, tmp_path: Path) -> FakeCluster:
    assert fake_cluster.bin_dir is not None
    fake_docker.install(fake_cluster.bin_dir, tmp_path / "fake-docker")
    cluster = FakeCluster(fake_cluster.state_dir, profile="srvthreds-dev")
    cluster.create_cluster()
    assert run_doit(project, "images", "env=dev").code == 0
    return cluster


def _bad_release(project: Path, dev: FakeCluster) -> str:
    module = project / "demo/srvthreds_demo/engine.py"
    module.write_text(module.read_text() + "\n# bad release\n")
    assert run_doit(project, "images:engine", "env=dev").code == 0
    bad = fake_skopeo.pinned(f"{REGISTRY}/{_ref(project, 'engine')}")
    dev.inject_rollout_failure("engine", image=bad)
    return bad


def _workflow_rollback_needed(project: Path) -> bool:
    """What .github/workflows/deploy.yml's `restored` step decides (its rollback step's `if`)."""
    workflow = yaml.safe_load((REPO / ".github/workflows/deploy.yml").read_text())
    steps = {s.get("name"): s for s in workflow["jobs"]["deploy"]["steps"]}
    assert "steps.restored.outcome != 'success'" in steps["Roll back"]["if"]
    assert steps["Did the deploy restore the previous release?"]["run"].startswith("doit deploy_restored:")
    return run_doit(project, "deploy_restored:dev", "env=dev").code != 0


def test_failed_deploy_then_workflow_rollback_keeps_the_good_release(project: Path, dev: FakeCluster) -> None:
    assert run_doit(project, "push:dev", "deploy:dev", "env=dev").code == 0
    good = _image(dev, "engine")
    _bad_release(project, dev)
    failed = timed("cloud deploy of a bad release", run_doit, project, "push:dev", "deploy:dev", "env=dev")
    assert failed.code != 0
    assert _image(dev, "engine") == good  # the deploy restored it itself...
    assert not _workflow_rollback_needed(project)  # ...so the workflow skips its rollback step
    # Even if the rollback runs anyway, it re-applies the record: the good release stays.
    dev.clear_calls()
    rolled = timed("rollback after a restoring deploy", run_doit, project, "rollback:dev", "env=dev")
    assert rolled.code == 0, rolled.out
    assert _image(dev, "engine") == good
    assert not any(c["argv"][-2:-1] == ["undo"] for c in dev.mutating_calls("kubectl"))


def test_rollback_after_a_bad_release_that_went_live_twice_changes_nothing(
    project: Path, dev: FakeCluster
) -> None:
    assert run_doit(project, "push:dev", "deploy:dev", "env=dev").code == 0
    good = _image(dev, "engine")
    module = project / "demo/srvthreds_demo/engine.py"
    module.write_text(module.read_text() + "\n# release that passes its rollout, fails later\n")
    assert run_doit(project, "images:engine", "env=dev").code == 0
    assert run_doit(project, "push:dev", "deploy:dev", "env=dev").code == 0
    assert _image(dev, "engine") != good
    assert _workflow_rollback_needed(
        project
    )  # deploy succeeded, restored nothing: a later failure rolls back
    known = project / ".build/dev/deploy/known-good.json"
    assert good.rsplit("/", 1)[-1] in known.read_text()
    first = timed("rollback, first run", run_doit, project, "rollback:dev", "env=dev")
    assert first.code == 0, first.out
    assert _image(dev, "engine") == good
    dev.clear_calls()
    second = timed("rollback, second run", run_doit, project, "rollback:dev", "env=dev")
    assert second.code == 0, second.out
    assert dev.mutating_calls() == []
    assert _image(dev, "engine") == good
    # The committed record still names the bad release: the next deploy applies it again,
    # unless the record is reverted (README, "Releases").
    record = (project / "deploy/dev/release.yaml").read_text()
    assert good.rsplit("@", 1)[-1] not in record and "PASSWORD" not in record


def test_rollback_without_a_record_says_how_to_get_one(project: Path, dev: FakeCluster) -> None:
    result = run_doit(project, "rollback:dev", "env=dev")
    assert result.code != 0
    assert "no known-good release recorded for dev" in result.out and "Traceback" not in result.out
    assert dev.mutating_calls() == []


def test_failing_statefulset_is_waited_for_and_named(stack: Stack) -> None:
    stack.cluster.inject_rollout_failure("rabbitmq")
    result = timed("failing StatefulSet", stack.up)
    assert result.code != 0
    assert "statefulset/rabbitmq: CrashLoopBackOff; not rolled back" in result.out
    assert "pod rabbitmq-0:" in result.out


def _pod(reason: str, restarts: int) -> dict[str, object]:
    return {
        "metadata": {
            "name": "engine-abc-1",
            "labels": {"app.kubernetes.io/name": "engine"},
            "ownerReferences": [{"kind": "ReplicaSet"}],
        },
        "status": {
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{"restartCount": restarts, "state": {"waiting": {"reason": reason}}}],
        },
    }


@pytest.mark.parametrize(
    ("reason", "restarts", "state"),
    [
        ("CrashLoopBackOff", 1, "progressing"),  # a service that started before its broker: give it time
        ("CrashLoopBackOff", 3, "failed"),
        ("ImagePullBackOff", 0, "failed"),  # never heals by waiting
        ("ContainerCreating", 0, "progressing"),
    ],
)
def test_which_pod_states_fail_a_rollout_early(reason: str, restarts: int, state: str) -> None:
    from tasks.ops import k8s_health

    deployment = {
        "kind": "Deployment",
        "metadata": {"name": "engine", "generation": 2},
        "spec": {"replicas": 1},
        "status": {"observedGeneration": 2, "replicas": 1},
    }
    got = k8s_health.verdict(deployment, [_pod(reason, restarts)])
    assert (got.state, got.ready, got.desired) == (state, 0, 1)
    if state == "failed":
        assert got.reason == reason and got.pods == ("engine-abc-1",)
