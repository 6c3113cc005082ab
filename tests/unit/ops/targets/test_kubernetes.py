"""tasks/ops/targets/kubernetes.py's KubeTarget against the stateful fake kubectl, on the tiny
overlay of testing/k8s_overlay.py, driven by the engine (tasks/ops/targets/rollout.py).

What the wait records and prints, what a roll back does per kind and revision, what is
recorded once healthy, each verdict of the status table, and the targets' factories.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import cast

import pytest

from tasks.config import load as config
from tasks.errors import StackError
from tasks.ops import k8s_deploy as kd
from tasks.ops.targets import kubernetes, rollout
from tasks.ops.targets.base import Failure, Row
from tasks.ops.targets.kubernetes import KubeTarget
from tasks.store import devstate
from testing.fakes.cluster import FakeCluster
from testing.k8s_overlay import NS, REFS, Kube, kube_target, make_kube
from testing.project import REPO


@pytest.fixture
def kube(fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kube:
    return make_kube(fake_cluster, tmp_path, monkeypatch)


def _outcome(kube: Kube) -> dict[str, object]:
    return cast(dict[str, object], json.loads((kube.t.state / "outcome.json").read_text()))


def test_converge_applies_waits_records_and_says_what_became_ready(
    kube: Kube, capsys: pytest.CaptureFixture[str]
) -> None:
    tgt = kube_target(kube)
    rollout.converge(tgt)
    out = capsys.readouterr().out
    assert "waiting for 2 workload(s), 30s at most" in out
    assert "  deployment/web ready" in out and "  job/init ready" in out
    assert "failed" not in out
    state = kube.t.state
    assert not (state / "pending.json").exists()
    applied = json.loads((state / "applied.json").read_text())["hash"]
    assert applied == kd.annotation_of(kd.live_namespace(kube.t))
    healthy = kube.t.record.release()
    assert healthy is not None and healthy.refs == REFS
    assert json.loads(healthy.text) == {"env": "test", "refs": REFS, "images": REFS}
    assert _outcome(kube) == {"ok": True, "restored": False, "failed": []}
    done = json.loads((state / "jobs" / "init.done").read_text())
    assert done["ns_uid"] == kd.namespace_uid(kube.t) and done["inputs"]
    assert kd.job_current(kube.t, "init", kd.live_namespace(kube.t))
    # Nothing changed: nothing is re-applied, the job is not started again, nothing waited for
    # but the workloads, and an unchanged workload is not announced as ready.
    capsys.readouterr()
    kube.cluster.clear_calls()
    rollout.converge(tgt)
    out = capsys.readouterr().out
    assert kube.cluster.mutating_calls() == []
    assert "waiting for 1 workload(s)" in out and "ready" not in out


def test_wait_with_nothing_pending_asks_nothing(kube: Kube) -> None:
    tgt = kube_target(kube)
    assert tgt.wait() == []
    (kube.t.state).mkdir(parents=True, exist_ok=True)
    (kube.t.state / "pending.json").write_text(json.dumps({"workloads": [], "jobs": []}))
    kube.cluster.clear_calls()
    assert tgt.wait() == []
    assert kube.cluster.calls() == []


def test_a_deploy_remembers_the_release_it_replaces(kube: Kube) -> None:
    rollout.converge(kube_target(kube))
    newer = {**REFS, "web": "acme/web:t2"}
    kube_target(kube, newer).apply()
    known = kube.t.record.known_good()
    assert known is not None and known.refs == REFS
    # A rollback target does not: what it replaces is the failure.
    kube.t.record.known_good_file.unlink()
    tgt = kube_target(kube, newer)
    rollout.finish(tgt)
    tgt.remember = False
    tgt.apply(REFS)
    assert not kube.t.record.known_good_file.exists()


def test_a_failed_first_revision_stays_failed_and_is_explained(kube: Kube) -> None:
    kube.cluster.inject_rollout_failure("web")
    tgt = kube_target(kube)
    with pytest.raises(StackError) as info:
        rollout.converge(tgt)
    text = str(info.value)
    assert text.startswith("1 workload(s) not healthy in the test cluster; nothing was recorded as applied:")
    assert "  deployment/web: CrashLoopBackOff; first revision, nothing to roll back to" in text
    assert "cannot connect to rabbitmq" in text
    assert info.value.fix == tgt.fix() and "`doit again`" in tgt.fix()
    assert not any(c["argv"][2:4] == ["rollout", "undo"] for c in kube.cluster.calls("kubectl"))
    assert _outcome(kube) == {"ok": False, "restored": False, "failed": ["deployment/web"]}
    assert not (kube.t.state / "pending.json").exists()
    assert not (kube.t.state / "applied.json").exists()


def test_a_failed_new_revision_is_undone_and_restored(kube: Kube, capsys: pytest.CaptureFixture[str]) -> None:
    rollout.converge(kube_target(kube))
    bad = {**REFS, "web": "acme/web:bad"}
    kube.cluster.inject_rollout_failure("web", image="acme/web:bad")
    capsys.readouterr()
    with pytest.raises(StackError) as info:
        rollout.converge(kube_target(kube, bad))
    assert "1 of 1 workload(s) failed" in capsys.readouterr().out
    assert "deployment/web: CrashLoopBackOff; rolled back to the previous revision, which is ready" in str(
        info.value
    )
    assert any(c["argv"][-2:] == ["undo", "deployment/web"] for c in kube.cluster.mutating_calls("kubectl"))
    assert _outcome(kube) == {"ok": False, "restored": True, "failed": ["deployment/web"]}


def test_an_undo_to_a_broken_revision_is_not_restored(kube: Kube) -> None:
    rollout.converge(kube_target(kube))
    kube.cluster.inject_rollout_failure("web")  # every image fails, the previous one too
    with pytest.raises(StackError) as info:
        rollout.converge(kube_target(kube, {**REFS, "web": "acme/web:t2"}))
    assert "rolled back, but the previous revision is not ready either (CrashLoopBackOff)" in str(info.value)
    assert _outcome(kube)["restored"] is False


def test_a_failed_job_is_not_rolled_back_and_runs_again(kube: Kube) -> None:
    kube.cluster.inject_job_failure("init")
    tgt = kube_target(kube)
    with pytest.raises(StackError) as info:
        rollout.converge(tgt)
    assert "job/init: BackoffLimitExceeded; a failed job is not rolled back; it runs again next time" in str(
        info.value
    )
    assert not (kube.t.state / "jobs" / "init.done").exists()
    assert _outcome(kube) == {"ok": False, "restored": False, "failed": ["job/init"]}


def test_roll_back_notes_for_unknown_and_statefulset_failures(kube: Kube) -> None:
    tgt = kube_target(kube)
    (kube.t.state).mkdir(parents=True, exist_ok=True)
    notes = tgt.roll_back([Failure("statefulset/db", "x", [])])
    assert notes == {"statefulset/db": "not rolled back (only Deployments keep revisions here)"}
    assert tgt.roll_back([]) == {}
    assert _outcome(kube)["restored"] is False  # nothing failed, nothing restored


def test_record_without_a_pending_apply_writes_only_the_outcome(kube: Kube) -> None:
    tgt = kube_target(kube)
    (kube.t.state).mkdir(parents=True, exist_ok=True)
    tgt.record()
    assert not (kube.t.state / "applied.json").exists()
    assert not kube.t.record.release_file.exists()
    assert _outcome(kube)["ok"] is True


def _rows(tgt: KubeTarget) -> dict[str, Row]:
    return {r.workload: r for r in tgt.status()}


def test_status_before_anything_is_deployed(kube: Kube) -> None:
    rows = _rows(kube_target(kube))
    assert rows["deployment/web"] == Row(
        "deployment/web", "-", "-", "acme/web:t1", "no", "stale", "not deployed"
    )
    assert rows["job/init"].verdict == "stale"


def test_status_of_an_unreachable_cluster_is_one_error_with_its_fix_not_rows_not_deployed(kube: Kube) -> None:
    kube.cluster.stop_cluster()  # the API server refuses connections
    with pytest.raises(StackError) as info:
        kube_target(kube).status()
    assert (
        info.value.message
        == "the Kubernetes API of the test cluster is unreachable, so no workload can be read"
    )
    # The Minikube runtime's own target (no such context on this fake machine) names its start.
    with pytest.raises(StackError, match="is unreachable") as info:
        kubernetes.minikube(config.load("minikube", REPO)).status()
    assert info.value.fix == "start the cluster with `doit minikube_up`"


def test_status_after_a_deploy_is_ok_with_live_images(kube: Kube) -> None:
    tgt = kube_target(kube)
    rollout.converge(tgt)
    rows = _rows(tgt)
    assert rows["deployment/web"] == Row("deployment/web", "2", "2", "acme/web:t1", "yes", "ok", "")
    job = rows["job/init"]
    assert (job.workload, job.desired, job.ready, job.image, job.applied, job.verdict) == (
        "job/init",
        "1",
        "1",
        "acme/init:t1",
        "yes",
        "ok",
    )
    # The job's last result and when it ran (the Job's completionTime), as Compose's rows say it.
    assert re.fullmatch(r"succeeded at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", job.note), job.note
    rollout.status(tgt, out=lambda _: None)


def test_status_of_a_failed_job_says_why_and_when(kube: Kube) -> None:
    kube.cluster.inject_job_failure("init")
    tgt = kube_target(kube)
    with pytest.raises(StackError):
        rollout.converge(tgt)
    job = _rows(tgt)["job/init"]
    assert (job.verdict, job.applied) == ("failed", "no")
    assert re.fullmatch(r"BackoffLimitExceeded at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", job.note), job.note


def test_status_names_a_stale_image_an_unrecorded_apply_and_a_failure(kube: Kube) -> None:
    rollout.converge(kube_target(kube))
    rows = _rows(kube_target(kube, {**REFS, "web": "acme/web:t9"}))
    assert (rows["deployment/web"].verdict, rows["deployment/web"].note) == (
        "stale",
        "recorded image is acme/web:t9",
    )
    (kube.t.state / "applied.json").unlink()
    rows = _rows(kube_target(kube))
    assert (rows["deployment/web"].verdict, rows["deployment/web"].note) == (
        "stale",
        "not recorded as applied",
    )
    assert rows["deployment/web"].applied == "no" and rows["job/init"].verdict == "ok"
    kube.cluster.inject_rollout_failure("web")
    rows = _rows(kube_target(kube))
    assert (rows["deployment/web"].verdict, rows["deployment/web"].note) == ("failed", "CrashLoopBackOff")
    with pytest.raises(
        StackError, match=r"1 of 2 workload\(s\) in the test cluster are not ok: deployment/web failed"
    ):
        rollout.status(kube_target(kube), out=lambda _: None)


def test_status_of_a_cloud_target_prefixes_the_registry_and_lists_cluster_databases(kube: Kube) -> None:
    tgt = kube_target(kube, databases=("db",))
    tgt.t = kd.Target(kube.t.env, kube.t.context, NS, "acme", 30, registry="reg.io")
    rows = _rows(tgt)
    assert rows["deployment/web"].image == "reg.io/acme/web:t1"
    assert rows["statefulset/db"] == Row("statefulset/db", "-", "-", "-", "no", "stale", "not deployed")


def test_missing_image_records_are_named_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StackError, match="no image recorded for ") as info:
        kubernetes.minikube(config.load("minikube", REPO)).refs()
    assert info.value.fix == "run `doit minikube_up`"
    with pytest.raises(
        StackError, match=r"dev has no release record \(deploy/dev/release.yaml is missing\)"
    ) as info:
        kubernetes.cloud(config.load("dev", REPO)).refs()
    assert info.value.fix == (
        "run `doit push:dev` (or `doit promote from=<env> to=dev`) and commit deploy/dev/release.yaml"
    )
    assert kubernetes.cloud(config.load("dev", REPO)).recorded() == {}


def test_a_recorded_deploy_forgets_a_sync_into_another_image(kube: Kube) -> None:
    devstate.update(kube.t.env, "web", synced_at=5.0, image="acme/web:t0")
    devstate.update(kube.t.env, "init", synced_at=5.0, image=REFS["init"])
    rollout.converge(kube_target(kube))
    records = devstate.read(kube.t.env)
    assert not records["web"].synced and records["web"].image == REFS["web"]
    assert records["init"].synced
