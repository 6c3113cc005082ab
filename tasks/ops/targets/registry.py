"""The registry: which deploy target runs each environment's workloads, in one place.

A `runtime: compose` environment deploys with Docker Compose; a Kubernetes one with a
`cloud:` block to its cloud cluster; any other Kubernetes one to Minikube.
"""

from __future__ import annotations

from collections.abc import Callable

from tasks.model import Config
from tasks.ops.targets import kubernetes
from tasks.ops.targets.base import DeployTarget
from tasks.ops.targets.compose import ComposeTarget

TARGETS: dict[str, Callable[[Config], DeployTarget]] = {
    "compose": ComposeTarget,
    "minikube": kubernetes.minikube,
    "cloud": kubernetes.cloud,
}


def name_of(cfg: Config) -> str:
    """The registry key of the target that deploys this environment."""
    if cfg.runtime == "compose":
        return "compose"
    return "cloud" if cfg.cloud is not None else "minikube"


def for_config(cfg: Config) -> DeployTarget:
    """The target that deploys this environment."""
    return TARGETS[name_of(cfg)](cfg)
