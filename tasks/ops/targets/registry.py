"""The registry: which deploy target runs each environment's workloads, in one place.

A `runtime: compose` environment deploys with Docker Compose; a Kubernetes one with a
`cloud:` block to its cloud cluster (through Argo CD with `deploy_mode: argocd`: the target
then applies nothing and waits for the Application); any other Kubernetes one to Minikube.
"""

from __future__ import annotations

from collections.abc import Callable

from tasks.model import Config
from tasks.ops.targets import argocd, kubernetes
from tasks.ops.targets.base import DeployTarget
from tasks.ops.targets.compose import ComposeTarget

TARGETS: dict[str, Callable[[Config], DeployTarget]] = {
    "compose": ComposeTarget,
    "minikube": kubernetes.minikube,
    "cloud": kubernetes.cloud,
    "argocd": argocd.cloud,
}


def name_of(cfg: Config) -> str:
    """The registry key of the target that deploys this environment."""
    if cfg.runtime == "compose":
        return "compose"
    if cfg.cloud is None:
        return "minikube"
    return "argocd" if cfg.cloud.deploy_mode == "argocd" else "cloud"


def for_config(cfg: Config) -> DeployTarget:
    """The target that deploys this environment."""
    return TARGETS[name_of(cfg)](cfg)
