"""The `logging` component, rendered from the stack: a Fluent Bit DaemonSet in its own namespace
that tails the stack's container logs on every node and pushes them to Loki.

It reads the node's /var/log, so it cannot meet the restricted Pod Security Standard: its
namespace enforces `privileged` (even `baseline` forbids hostPath volumes) and the DaemonSet
breaks exactly the rules of the written exception (docs/operations.md "Logging"), which the
repository's own check knows (tasks/checks/policy.py `log_shipper`). Everything else is as tight
as a service's pod.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tasks.model import LOG_SHIPPER, LOG_VOLUME, Config
from tasks.render.templates import Outputs, render_later

FOLDER = "k8s/components/logging"
FILES = ("namespace.yaml", "rbac.yaml", "configmap.yaml", "daemonset.yaml")
# Fluent Bit's image, by version tag (no registry here to read a digest: the DaemonSet's skip says so).
IMAGE = "cr.fluentbit.io/fluent/fluent-bit:3.2.10"
HEALTH_PORT = 2020


def loki(url: str) -> dict[str, Any]:
    """The Loki push URL as Fluent Bit's `loki` output takes it: host, port, path, TLS."""
    parts = urlsplit(url)
    tls = parts.scheme == "https"
    return {
        "host": parts.hostname or "",
        "port": parts.port or (443 if tls else 80),
        "uri": parts.path or "/loki/api/v1/push",
        "tls": "on" if tls else "off",
    }


def log_glob(cfg: Config) -> str:
    """Only the stack's containers: the kubelet names each file <pod>_<namespace>_<container>-<id>.log."""
    return f"/var/log/containers/*_{cfg.namespace}_*.log"


def components(stack: Config) -> Outputs:
    """The component's manifests, its kustomization and its README."""
    context = {
        "cfg": stack,
        "namespace": stack.log_namespace(),
        "name": LOG_SHIPPER,
        "volume": LOG_VOLUME,
        "image": IMAGE,
        "health_port": HEALTH_PORT,
        "loki": loki(stack.loki_url),
        "glob": log_glob(stack),
    }
    out: Outputs = {
        f"{FOLDER}/{target}": render_later(f"{FOLDER}/{target}.j2", **context) for target in FILES
    }
    out[f"{FOLDER}/kustomization.yaml"] = render_later(
        "k8s/components/kustomization.yaml.j2", cfg=stack, resources=sorted(FILES)
    )
    out[f"{FOLDER}/README.md"] = render_later(f"{FOLDER}/README.md.j2", **context)
    return out
