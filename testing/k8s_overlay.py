"""A tiny overlay of its own and a deploy Target on the stateful fake cluster, for the tests
that call the kubectl adapter and tasks/ops (k8s_deploy, k8s_health, targets/kubernetes) and
the status page's feed directly: a few kubectl calls per test instead of a whole `doit` run on
a project copy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest
import yaml

from tasks.model import Config
from tasks.ops import k8s_deploy as kd
from tasks.ops.targets.kubernetes import KubeTarget
from testing.fakes.cluster import FakeCluster

NS = "mutns"
ENV = "test"
PROFILE = "mut"
REFS = {"init": "acme/init:t1", "web": "acme/web:t1"}


def _labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "acme"}


def _pod(name: str, image: str) -> dict[str, object]:
    return {
        "metadata": {"labels": _labels(name)},
        "spec": {"containers": [{"name": name, "image": image}], "restartPolicy": "Never"},
    }


def manifests(config: str = "v1") -> list[dict[str, object]]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"v": config}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": _labels("web")},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": _labels("web")},
                "template": _pod("web", "acme/web"),
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "init", "labels": _labels("init")},
            "spec": {"backoffLimit": 0, "template": _pod("init", "acme/init")},
        },
    ]


@dataclass
class Kube:
    root: Path
    cluster: FakeCluster
    t: kd.Target
    refs: dict[str, str]

    def overlay(self, docs: list[dict[str, object]]) -> None:
        folder = self.root / self.t.overlay
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "all.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
        (folder / "kustomization.yaml").write_text(
            yaml.safe_dump({"namespace": NS, "resources": ["all.yaml"]})
        )

    def set_config(self, value: str) -> None:
        self.overlay(manifests(value))

    def env_file(self, text: str) -> None:
        path = self.root / "compose" / self.t.env / ".env"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o600)

    def applied(self) -> kd.Plan:
        """Plan and apply, then record it as the rollout step would once healthy."""
        p = kd.plan(self.t, self.refs, None)
        kd.apply(self.t, p, kd.live_namespace(self.t), self.refs)
        uid = kd.namespace_uid(self.t)
        for job in p.jobs:
            self.t.record.set_job_done(job, uid)
        self.t.record.set_applied(p.hash)
        self.t.record.clear_pending()
        return p


def make_kube(fake_cluster: FakeCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kube:
    """A running fake cluster (profile `mut`) and the overlay in a scratch working folder
    (each test module's `kube` fixture)."""
    root = tmp_path / "work"
    root.mkdir()
    monkeypatch.chdir(root)
    cluster = FakeCluster(fake_cluster.state_dir, profile=PROFILE)
    cluster.bin_dir = fake_cluster.bin_dir
    cluster.create_cluster()
    k = Kube(root, cluster, kd.Target(ENV, PROFILE, NS, "acme", 30), dict(REFS))
    k.set_config("v1")
    return k


@dataclass
class Named:
    name: str


class OverlayConfig:
    """The fields KubeTarget reads, for the overlay above (a Deployment `web` of 2 replicas and
    a Job `init`), with `databases` placed in the cluster."""

    env = ENV
    secrets: tuple[str, ...] = ()

    def __init__(self, databases: tuple[str, ...] = ()) -> None:
        self.databases = databases

    def jobs(self) -> list[Named]:
        return [Named("init")]

    def deployments(self) -> list[Named]:
        return [Named("web")]

    def placed(self, where: str) -> list[Named]:
        return [Named(d) for d in self.databases] if where == "cluster" else []


def kube_target(
    kube: Kube, refs: dict[str, str] | None = None, databases: tuple[str, ...] = ()
) -> KubeTarget:
    """The Minikube runtime's KubeTarget on the overlay, deploying `refs` (the overlay's own by
    default)."""
    chosen = dict(refs or kube.refs)
    return KubeTarget(
        cast(Config, OverlayConfig(databases)),
        kube.t,
        lambda: dict(chosen),
        lambda: dict(chosen),
        True,
        "doit again",
        "the test cluster",
    )
