"""tasks/ops/targets/registry.py: which target deploys each environment of the repository."""

from __future__ import annotations

from dataclasses import replace

from tasks.config import load as config
from tasks.model import ArgoCD
from tasks.ops.targets import kubernetes, registry
from tasks.ops.targets.argocd import ArgoTarget
from tasks.ops.targets.compose import ComposeTarget
from tasks.ops.targets.kubernetes import KubeTarget
from testing.project import REPO


def test_the_registry_picks_the_target_of_each_environment() -> None:
    mini = registry.for_config(config.load("minikube", REPO))
    assert isinstance(mini, KubeTarget) and mini.generate_secrets and mini.remember
    assert mini.command == "doit minikube_up" and mini.t.registry is None
    assert mini.label == f"Minikube profile {mini.t.context}, namespace {mini.t.namespace}"
    test = kubernetes.minikube(config.load("test", REPO))
    assert test.command == "doit minikube_up env=test"
    dev = registry.for_config(config.load("dev", REPO))
    assert isinstance(dev, KubeTarget) and not dev.generate_secrets
    cfg = config.load("dev", REPO)
    assert cfg.cloud is not None
    assert dev.command == "doit deploy:dev env=dev" and dev.t.registry == cfg.cloud.registry
    assert dev.label == f"cluster {cfg.cloud.cluster_name}, namespace {dev.t.namespace}"
    assert isinstance(registry.for_config(config.load("local", REPO)), ComposeTarget)
    assert [registry.name_of(config.load(env, REPO)) for env in ("local", "offline", "minikube", "dev")] == [
        "compose",
        "compose",
        "minikube",
        "cloud",
    ]


def test_a_cloud_environment_in_argocd_mode_gets_the_argocd_target() -> None:
    cfg = config.load("dev", REPO)
    assert cfg.cloud is not None
    argo = replace(
        cfg, cloud=replace(cfg.cloud, deploy_mode="argocd", argocd=ArgoCD("https://x.example/r.git"))
    )
    assert registry.name_of(argo) == "argocd"
    got = registry.for_config(argo)
    assert isinstance(got, ArgoTarget)
    assert got.label == f"Argo CD Application argocd/srvthreds-dev (cluster {cfg.cloud.cluster_name})"
    assert got.t.registry == cfg.cloud.registry
