"""tasks/ops/targets/argocd.py against the stateful fake kubectl: the repository's dev environment
switched to argocd mode, its release record pinned through the fake skopeo, a scratch git
checkout for the commit to wait for. The fake cluster holds the rendered Application and
reports for it what the test sets (Synced/Healthy, Degraded with a message), as Argo CD would.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.config import load as config
from tasks.errors import StackError
from tasks.model import ArgoCD, Config
from tasks.ops import release_record
from tasks.ops.targets import argocd, registry, rollout
from tasks.render import files
from testing import releases
from testing.fakes import skopeo as fake_skopeo
from testing.fakes.cluster import FakeCluster
from testing.project import REPO
from testing.project import git as _git

ARGO_NS = "argocd"


def argocd_env(cfg: Config) -> Config:
    assert cfg.cloud is not None
    cloud = replace(cfg.cloud, deploy_mode="argocd", argocd=ArgoCD("https://github.com/example-org/app.git"))
    return replace(cfg, cloud=cloud, timeouts={**cfg.timeouts, "rollout": 1})


def application(cfg: Config) -> dict[str, Any]:
    """The Application as `doit render` writes it beside the overlay."""
    (text,) = [make() for make in files.beside(cfg).values()]
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    return doc


@pytest.fixture
def dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_cluster: FakeCluster) -> Config:
    monkeypatch.chdir(tmp_path)
    assert fake_cluster.bin_dir is not None
    fake_skopeo.install(fake_cluster.bin_dir, tmp_path / "ecr")
    return argocd_env(config.load("dev", REPO))


@pytest.fixture
def cluster(dev: Config, fake_cluster: FakeCluster) -> FakeCluster:
    assert dev.cloud is not None
    handle = FakeCluster(fake_cluster.state_dir, profile=dev.cloud.cluster_name)
    handle.create_cluster()
    handle.add_object(application(dev))
    return handle


@pytest.fixture
def head(dev: Config, tmp_path: Path) -> str:
    """The release record committed in a scratch checkout; returns the commit."""
    releases.pin(dev, "t1")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "deploy")
    _git(tmp_path, "commit", "-qm", "release")
    return _git(tmp_path, "rev-parse", "HEAD")


def _target(cfg: Config) -> argocd.ArgoTarget:
    got = registry.for_config(cfg)
    assert isinstance(got, argocd.ArgoTarget)
    got.poll = 0.05
    return got


def test_converge_applies_nothing_and_succeeds_when_synced_and_healthy_at_head(
    dev: Config, cluster: FakeCluster, head: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.set_application("srvthreds-dev", ARGO_NS, sync="Synced", health="Healthy", revision=head)
    cluster.clear_calls()
    tgt = _target(dev)
    rollout.converge(tgt)
    out = capsys.readouterr().out
    assert f"argocd mode: nothing applied here; {tgt.label} syncs {head[:12]}" in out
    assert f"Synced and Healthy at {head[:12]}" in out
    calls = cluster.calls("kubectl")
    assert calls, "it read the Application"
    assert cluster.mutating_calls() == []
    assert not [c for c in calls if {"apply", "delete", "rollout"} & set(c["argv"])]
    outcome = json.loads((tgt.t.state / "outcome.json").read_text())
    assert outcome == {"ok": True, "restored": False, "failed": []}
    healthy = tgt.t.record.release()
    assert dev.cloud is not None
    assert healthy is not None and healthy.refs == release_record.recorded("dev", dev.cloud.registry)


def test_a_degraded_application_fails_with_its_message_and_the_workloads_diagnosis(
    dev: Config, cluster: FakeCluster, head: str
) -> None:
    engine = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "engine",
            "namespace": dev.namespace,
            "labels": {"app.kubernetes.io/name": "engine"},
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "engine"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "engine"}},
                "spec": {"containers": [{"name": "engine", "image": "x@sha256:" + "1" * 64}]},
            },
        },
    }
    cluster.add_object(engine)
    cluster.inject_rollout_failure("engine")
    cluster.set_application(
        "srvthreds-dev",
        ARGO_NS,
        sync="Synced",
        health="Degraded",
        revision=head,
        message="Deployment engine has timed out progressing",
        resources=(
            {"kind": "Deployment", "name": "engine", "health": {"status": "Degraded", "message": "crashing"}},
        ),
    )
    cluster.clear_calls()
    with pytest.raises(StackError) as info:
        rollout.converge(_target(dev))
    text = str(info.value)
    assert "2 workload(s) not healthy in Argo CD Application argocd/srvthreds-dev" in text
    assert "nothing was recorded as applied" in text
    assert "application/srvthreds-dev: Degraded; not rolled back: Argo CD deploys from Git" in text
    assert "message: Deployment engine has timed out progressing" in text
    assert "Deployment/engine: Degraded crashing" in text
    assert "deployment/engine: CrashLoopBackOff" in text  # the kubectl path's diagnosis
    assert "last events:" in text and "Error: cannot connect to rabbitmq:5672" in text
    assert "commit and push it" in str(info.value.fix)
    assert cluster.mutating_calls() == []
    outcome = json.loads((_target(dev).t.state / "outcome.json").read_text())
    assert outcome["ok"] is False and "application/srvthreds-dev" in outcome["failed"]


def test_an_application_synced_at_another_commit_times_out_honestly(
    dev: Config, cluster: FakeCluster, head: str
) -> None:
    cluster.set_application("srvthreds-dev", ARGO_NS, sync="Synced", health="Healthy", revision="f" * 40)
    with pytest.raises(StackError) as info:
        rollout.converge(_target(dev))
    text = str(info.value)
    assert f"application/srvthreds-dev: not Synced and Healthy at {head[:12]} after 1s" in text
    assert "sync Synced, health Healthy, revision ffffffffffff" in text


def test_a_missing_application_fails_at_once_and_says_how_to_apply_it(
    dev: Config, cluster: FakeCluster, head: str
) -> None:
    assert cluster.delete_object("Application", "srvthreds-dev", ARGO_NS)
    with pytest.raises(StackError) as info:
        rollout.converge(_target(dev))
    assert "application/srvthreds-dev: missing" in str(info.value)
    assert 'see docs/cloud.md, "Argo CD"' in str(info.value)


def test_a_kustomization_that_disagrees_with_the_record_is_refused_before_any_wait(
    dev: Config, cluster: FakeCluster, head: str
) -> None:
    pins = release_record.kustomization_path("dev")
    pins.write_text(pins.read_text().replace("sha256:", "sha256:0", 1))
    cluster.clear_calls()
    with pytest.raises(StackError, match="deploy/dev/kustomization.yaml does not pin what") as info:
        _target(dev).apply()
    assert "git checkout -- deploy/dev/" in str(info.value.fix)
    assert cluster.calls("kubectl") == []


def test_a_record_not_committed_is_refused_before_any_wait(
    dev: Config, cluster: FakeCluster, head: str
) -> None:
    """Argo CD syncs the commit: a record written by push but not committed would be reported
    deployed while the cluster runs the record before it."""
    releases.pin(dev, "t2")  # a new record, as `doit push:dev` writes it
    cluster.clear_calls()
    with pytest.raises(StackError) as info:
        _target(dev).apply()
    assert str(info.value).startswith(
        "deploy/dev/kustomization.yaml, deploy/dev/release.yaml not committed: Argo CD syncs commit "
        f"{head[:12]}, which does not hold this record; nothing was deployed"
    )
    assert info.value.fix == "commit and push deploy/dev/, then run `doit deploy:dev` again"
    assert cluster.calls("kubectl") == []


def test_without_a_release_record_nothing_is_asked_of_the_cluster(dev: Config, cluster: FakeCluster) -> None:
    cluster.clear_calls()
    with pytest.raises(StackError, match=r"dev has no release record \(deploy/dev/release.yaml is missing\)"):
        _target(dev).apply()
    assert cluster.calls("kubectl") == []


def test_status_shows_the_application_then_each_workload(
    dev: Config, cluster: FakeCluster, head: str
) -> None:
    cluster.set_application("srvthreds-dev", ARGO_NS, sync="OutOfSync", health="Healthy", revision="a" * 40)
    rows = _target(dev).status()
    assert rows[0].workload == "application/srvthreds-dev"
    assert (rows[0].verdict, rows[0].note) == ("stale", "OutOfSync, Healthy at aaaaaaaaaaaa")
    assert {r.workload for r in rows[1:]} == {f"deployment/{d.name}" for d in dev.deployments()} | {
        f"statefulset/{d.name}" for d in dev.placed("cluster")
    }
    assert all(r.verdict == "stale" for r in rows[1:])  # nothing synced into the fake yet
    cluster.set_application("srvthreds-dev", ARGO_NS, sync="Synced", health="Healthy", revision=head)
    first = _target(dev).status()[0]
    assert (first.verdict, first.applied, first.image) == ("ok", "yes", head[:12])


def test_status_of_reads_sync_health_revision_and_every_message() -> None:
    got = argocd.status_of(
        {
            "status": {
                "sync": {"status": "Synced", "revision": "abc"},
                "health": {"status": "Degraded", "message": "m1"},
                "operationState": {"message": "m2"},
                "conditions": [{"type": "SyncError", "message": "m3"}],
                "resources": [
                    {"kind": "Deployment", "name": "a", "health": {"status": "Healthy"}},
                    {"kind": "Deployment", "name": "b", "health": {"status": "Progressing"}},
                ],
            }
        }
    )
    assert got == argocd.Status(
        "Synced", "Degraded", "abc", ("m1", "m2", "m3"), ("Deployment/b: Progressing",)
    )
    assert not got.at("abc")
    assert argocd.status_of({}) == argocd.Status("Unknown", "Unknown", "", (), ())
    assert argocd.Status("Synced", "Healthy", "abc", (), ()).at("abc")
