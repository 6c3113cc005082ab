"""tasks/ops/k8s_deploy.py called directly against the stateful fake kubectl (testing/fakes).

The secret values and where they come from, the image pins with and without a registry, the
plan's checks and hashes, the skip of an unchanged apply, which jobs start, and the smoke
check. A tiny overlay of its own (testing/k8s_overlay.py) keeps each test at a few kubectl calls.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import cast

import pytest

from tasks.config import load as config
from tasks.errors import StackError
from tasks.model import Config
from tasks.ops import k8s_deploy as kd
from tasks.ops.deploy_record import Pending
from testing.fakes.cluster import FakeCluster
from testing.k8s_overlay import NS, Kube, make_kube
from testing.project import REPO


@pytest.fixture
def kube(fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kube:
    return make_kube(fake_cluster, tmp_path, monkeypatch)


class _Cfg:
    """The one field secret_values reads."""

    def __init__(self, *secrets: str, cloud: object = None) -> None:
        self.secrets = secrets
        self.cloud = cloud


def _cfg(*secrets: str, cloud: object = None) -> Config:
    return cast(Config, _Cfg(*secrets, cloud=cloud))


# --------------------------------------------------------------------------- secrets


def test_no_secrets_means_none_managed(kube: Kube) -> None:
    assert kd.secret_values(_cfg(), kube.t, generate=True) is None
    assert not (kube.t.state / "secrets.env").exists()


def test_a_cloud_environments_secrets_are_never_written_from_a_local_env_file(kube: Kube) -> None:
    """Its Secret is the External Secrets Operator's, from AWS Secrets Manager."""
    kube.env_file("A=one\n")
    assert kd.secret_values(_cfg("A", cloud=object()), kube.t, generate=True) is None
    assert not (kube.t.state / "secrets.env").exists()
    assert kd.secret_values(_cfg("A"), kube.t, generate=False) == {"A": "one"}


def test_secrets_all_in_the_env_file_are_used_and_nothing_is_generated(kube: Kube) -> None:
    kube.env_file("A=one\nB=two\n")
    assert kd.secret_values(_cfg("A", "B"), kube.t, generate=False) == {"A": "one", "B": "two"}
    assert kd.secret_values(_cfg("A", "B"), kube.t, generate=True) == {"A": "one", "B": "two"}
    assert not (kube.t.state / "secrets.env").exists()


def test_missing_secrets_are_generated_once_and_kept_private(kube: Kube) -> None:
    kube.env_file("A=one\n")
    assert kd.secret_values(_cfg("A", "B"), kube.t, generate=False) is None  # cloud: out of band
    first = kd.secret_values(_cfg("A", "B"), kube.t, generate=True)
    assert first is not None and first["A"] == "one" and len(first["B"]) >= 24
    store = kube.t.state / "secrets.env"
    assert store.read_text() == f"B={first['B']}\n"  # only what the .env lacks
    assert store.stat().st_mode & 0o777 == 0o600
    assert kd.secret_values(_cfg("A", "B"), kube.t, generate=True) == first  # kept, not regenerated


def test_secret_manifest() -> None:
    t = kd.Target("e", "ctx", "ns1", "proj", 10)
    doc = kd.secret_manifest(t, {"Z": "1", "A": "2"})
    assert doc["metadata"] == {
        "name": "proj-secrets",
        "namespace": "ns1",
        "labels": {"app.kubernetes.io/part-of": "proj"},
    }
    assert list(doc["stringData"]) == ["A", "Z"] and doc["kind"] == "Secret"


def test_fingerprint_is_keyed_stable_and_follows_the_values(kube: Kube) -> None:
    assert kd.fingerprint(kube.t, None) == ""
    one = kd.fingerprint(kube.t, {"A": "1"})
    key = kube.t.state / ".fingerprint-key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert kd.fingerprint(kube.t, {"A": "1"}) == one  # the key is kept
    assert kd.fingerprint(kube.t, {"A": "2"}) != one
    assert (
        one != hashlib.sha256(json.dumps({"A": "1"}, sort_keys=True).encode()).hexdigest()
    )  # not a bare sha256


# --------------------------------------------------------------------------- plan


def test_image_entries_with_and_without_registry() -> None:
    refs = {"b": "acme/b:2", "a": "acme/a:1"}
    assert kd.image_entries(refs, None) == [
        {"name": "acme/a", "newTag": "1"},
        {"name": "acme/b", "newTag": "2"},
    ]
    assert kd.image_entries({"a": "acme/a:1"}, "reg.io") == [
        {"name": "acme/a", "newName": "reg.io/acme/a", "newTag": "1"},
        {"name": "reg.io/acme/a", "newTag": "1"},
    ]


def test_containers_and_init_containers() -> None:
    doc = {"spec": {"template": {"spec": {"containers": [{"n": 1}], "initContainers": [{"n": 2}]}}}}
    assert kd.containers(doc) == [{"n": 1}, {"n": 2}]
    assert kd.containers({}) == []


def test_check_pinned_names_every_missing_image() -> None:
    docs = [{"spec": {"template": {"spec": {"containers": [{"image": "reg/acme/a:1"}]}}}}]
    kd.check_pinned(docs, {"a": "acme/a:1"}, "reg")
    with pytest.raises(StackError, match="do not use acme/a:1, acme/b:2"):
        kd.check_pinned(docs, {"a": "acme/a:1", "b": "acme/b:2"}, None)


def test_plan_pins_annotates_and_hashes(kube: Kube) -> None:
    p = kd.plan(kube.t, kube.refs, None)
    kinds = sorted(str(d["kind"]) for d in p.main)
    assert kinds == ["ConfigMap", "Deployment", "Namespace"]
    assert list(p.jobs) == ["init"] and p.secret is None
    ns = next(d for d in p.main if d["kind"] == "Namespace")
    assert ns["metadata"]["annotations"][kd.ANNOTATION] == p.hash
    assert kd.workloads(p) == [("Deployment", "web")]
    again = kd.plan(kube.t, kube.refs, None)
    assert again.hash == p.hash and again.job_inputs == p.job_inputs
    secret = kd.plan(kube.t, kube.refs, {"A": "1"})
    assert secret.hash != p.hash and secret.job_inputs["init"] != p.job_inputs["init"]
    assert secret.secret is not None and secret.secret["stringData"] == {"A": "1"}


def test_a_config_change_reruns_the_job_but_not_the_others(kube: Kube) -> None:
    p = kd.plan(kube.t, kube.refs, None)
    kube.set_config("v2")
    q = kd.plan(kube.t, kube.refs, None)
    assert q.hash != p.hash and q.job_inputs["init"] != p.job_inputs["init"]


def test_plan_refuses_an_overlay_without_the_namespace(kube: Kube) -> None:
    t = kd.Target(kube.t.env, kube.t.context, "elsewhere", "acme", 30)
    with pytest.raises(StackError, match="k8s/overlays/test has no Namespace 'elsewhere'"):
        kd.plan(t, kube.refs, None)


# --------------------------------------------------------------------------- live state


def test_live_namespace_none_when_missing_or_unreachable(kube: Kube) -> None:
    assert kd.live_namespace(kube.t) is None  # not created yet
    assert kd.namespace_uid(kube.t) is None
    gone = kd.Target("test", "no-such-context", NS, "acme", 30)
    assert kd.live_namespace(gone) is None


def test_annotation_and_uid_readers() -> None:
    assert kd.annotation_of(None) is None
    assert kd.annotation_of({"metadata": {"annotations": {kd.ANNOTATION: "h"}}}) == "h"
    assert kd.annotation_of({"metadata": {"annotations": {kd.ANNOTATION: ""}}}) is None
    assert kd.uid_of({"metadata": {"uid": "u1"}}) == "u1"
    assert kd.uid_of({"metadata": {}}) is None


# --------------------------------------------------------------------------- apply


def test_first_apply_creates_starts_the_job_and_leaves_everything_pending(
    kube: Kube, capsys: pytest.CaptureFixture[str]
) -> None:
    p = kd.plan(kube.t, kube.refs, {"A": "s3cret"})
    changed = kd.apply(kube.t, p, kd.live_namespace(kube.t), kube.refs)
    out = capsys.readouterr().out
    assert changed == ["deployment/web"]
    assert "deployment.apps/web created" in out and "job/init started" in out
    c = kube.cluster
    assert c.get("Deployment", "web", NS) is not None and c.get("Job", "init", NS) is not None
    secret = c.get("Secret", "acme-secrets", NS)
    assert secret is not None and secret["stringData"] == {"A": "s3cret"}
    assert not any("s3cret" in f.read_text() for f in kube.t.state.rglob("*.yaml"))
    assert kube.t.record.pending() == Pending(
        hash=p.hash,
        workloads=[("Deployment", "web")],
        jobs=["init"],
        changed=["deployment/web"],
        refs=kube.refs,
    )
    assert not kd.apply_current(kube.t, kd.live_namespace(kube.t))  # pending, nothing applied


def test_second_apply_of_the_same_plan_sends_nothing(kube: Kube, capsys: pytest.CaptureFixture[str]) -> None:
    p = kube.applied()
    kube.cluster.clear_calls()
    capsys.readouterr()
    changed = kd.apply(kube.t, p, kd.live_namespace(kube.t))
    assert changed == []
    assert f"{NS}: manifests unchanged ({p.hash[:12]}), nothing to apply" in capsys.readouterr().out
    assert kube.cluster.mutating_calls() == []
    assert kube.t.record.pending().jobs == [] and kube.t.record.pending().refs == {}
    assert kd.apply_current(kube.t, kd.live_namespace(kube.t)) is False  # pending.json exists
    kube.t.record.clear_pending()
    assert kd.apply_current(kube.t, kd.live_namespace(kube.t)) is True


def test_apply_runs_when_the_cluster_lost_the_annotation(kube: Kube) -> None:
    p = kube.applied()
    kube.cluster.delete_namespace(NS)
    changed = kd.apply(kube.t, p, kd.live_namespace(kube.t))
    assert changed == ["deployment/web"]
    assert "init" in kube.t.record.pending().jobs  # a new namespace UID: the job runs again


def test_apply_runs_when_nothing_was_recorded(kube: Kube) -> None:
    p = kube.applied()
    (kube.t.state / "applied.json").unlink()
    kube.cluster.clear_calls()
    kd.apply(kube.t, p, kd.live_namespace(kube.t))
    assert any(c["argv"][2:3] == ["apply"] for c in kube.cluster.calls("kubectl"))


def test_unchanged_lines_are_not_printed(kube: Kube, capsys: pytest.CaptureFixture[str]) -> None:
    p = kube.applied()
    (kube.t.state / "applied.json").unlink()
    capsys.readouterr()
    assert kd.apply(kube.t, p, kd.live_namespace(kube.t)) == []
    assert "unchanged" not in capsys.readouterr().out


def test_job_current_needs_inputs_and_the_same_namespace(kube: Kube) -> None:
    kube.applied()
    ns = kd.live_namespace(kube.t)
    assert kd.job_current(kube.t, "init", ns)
    assert not kd.job_current(kube.t, "init", None)
    assert not kd.job_current(kube.t, "init", {"metadata": {"uid": "other"}})
    assert not kd.job_current(kube.t, "other", ns)
    done = kube.t.state / "jobs" / "init.done"
    done.write_text(json.dumps({"inputs": "old", "ns_uid": kd.uid_of(ns)}))
    assert not kd.job_current(kube.t, "init", ns)


def test_start_job_refuses_without_a_manifest(kube: Kube) -> None:
    with pytest.raises(StackError, match="no manifest for job nope") as info:
        kd.start_job(kube.t, "nope")
    assert info.value.fix == "run the apply step first"


# --------------------------------------------------------------------------- smoke


def test_smoke_passes_when_ready_and_names_what_is_short_or_missing(
    kube: Kube, capsys: pytest.CaptureFixture[str]
) -> None:
    kube.applied()
    assert kd.deployments_ready(kube.t) == {"web": (2, 2)}
    kd.smoke(kube.t, ["web"])
    assert "smoke check: 1 deployments ready" in capsys.readouterr().out
    with pytest.raises(StackError, match="smoke check failed: ghost missing") as info:
        kd.smoke(kube.t, ["web", "ghost"])
    assert info.value.fix == f"`kubectl --context {kube.t.context} -n {NS} get pods`"
    kube.cluster.inject_rollout_failure("web")
    with pytest.raises(StackError, match="smoke check failed: web 0/2"):
        kd.smoke(kube.t, ["web"])


def test_the_namespace_is_read_again_after_an_apply(kube: Kube) -> None:
    """Jobs are keyed by the namespace UID the apply leaves, not the one known before it."""
    p = kube.applied()
    (kube.t.state / "applied.json").unlink()
    kd.apply(kube.t, p, None)  # nothing known before: the apply re-reads it
    assert kube.t.record.pending().jobs == []


def test_a_job_whose_inputs_changed_is_deleted_and_applied_again(kube: Kube) -> None:
    kube.applied()
    kube.set_config("v2")  # the Job's manifest is the same, what it reads is not
    p = kd.plan(kube.t, kube.refs, None)
    kube.cluster.clear_calls()
    kd.apply(kube.t, p, kd.live_namespace(kube.t))
    assert kube.t.record.pending().jobs == ["init"]
    argvs = [c["argv"][4:] for c in kube.cluster.calls("kubectl")]
    delete = argvs.index(["delete", "job", "init", "--ignore-not-found"])
    assert argvs[delete + 1][:2] == ["apply", "-f"]
    assert any(c["argv"][4:6] == ["delete", "job"] for c in kube.cluster.mutating_calls("kubectl"))


def test_target_of_a_config() -> None:
    cfg = config.load("dev", REPO)
    t = kd.Target.of(cfg, "ctx", "reg.io")
    assert t == kd.Target("dev", "ctx", cfg.namespace, cfg.project, cfg.timeouts["rollout"], "reg.io")
    assert t.overlay == Path("k8s/overlays/dev") and t.state == Path(".build/dev/deploy")


def test_plan_refuses_an_image_the_overlay_does_not_use(kube: Kube) -> None:
    with pytest.raises(StackError, match="the built manifests do not use acme/other:1"):
        kd.plan(kube.t, {**kube.refs, "other": "acme/other:1"}, None)


def test_a_new_image_of_another_workload_does_not_rerun_the_job(kube: Kube) -> None:
    p = kd.plan(kube.t, kube.refs, None)
    q = kd.plan(kube.t, {**kube.refs, "web": "acme/web:t2"}, None)
    assert q.hash != p.hash and q.job_inputs == p.job_inputs  # only ConfigMaps feed a job


def test_hashes_do_not_depend_on_key_order(kube: Kube) -> None:
    assert kd.fingerprint(kube.t, {"A": "1", "B": "2"}) == kd.fingerprint(kube.t, {"B": "2", "A": "1"})
    assert kd._dump([{"b": 1, "a": {"d": 2, "c": 3}}]) == kd._dump([{"a": {"c": 3, "d": 2}, "b": 1}])
