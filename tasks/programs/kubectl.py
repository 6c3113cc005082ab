"""kubectl: commands against one context (and namespace), kustomize, port-forward.

Through the tools door; the pinned kubectl from the `tools` extra wins on PATH.
"""

from __future__ import annotations

from typing import Any

from tasks.programs import tools


def require() -> None:
    tools.require("kubectl")


def run(context: str, *args: str, namespace: str | None = None, **kw: Any) -> tools.Result:
    """`kubectl --context C [-n NS] args...`; keyword arguments as for `tools.run`."""
    head = ["--context", context, *(["-n", namespace] if namespace else [])]
    return tools.run("kubectl", *head, *args, **kw)


def kustomize(folder: str) -> str:
    """The manifests `kubectl kustomize` builds from a folder, as YAML text."""
    return tools.run("kubectl", "kustomize", folder).stdout


def namespace_uid(context: str, namespace: str) -> str | None:
    """A namespace's UID (kube-system's changes only when the cluster is recreated);
    None when the cluster cannot be asked."""
    res = run(context, "get", "namespace", namespace, "-o", "jsonpath={.metadata.uid}", check=False)
    if res.code != 0:
        return None
    return res.stdout.strip() or None


def port_forward(context: str, namespace: str, service: str, local: int, remote: int) -> int:
    """Forward a local port to a Service in the foreground until stopped; the exit code."""
    return tools.run_foreground(
        "kubectl",
        "--context",
        context,
        "port-forward",
        f"svc/{service}",
        f"{local}:{remote}",
        "-n",
        namespace,
    )
