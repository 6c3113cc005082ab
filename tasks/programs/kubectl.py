"""kubectl: typed reads and writes against one context (and namespace), kustomize, port-forward.

Callers never see argv or parse output (pre-commit's `git.py` is the model): reads return
parsed JSON documents or lines, `apply` returns the objects it touched. Through the tools
door; the pinned kubectl from the `tools` extra wins on PATH.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.errors import StackError
from tasks.programs import tools

Doc = dict[str, Any]

# `deployment.apps/engine configured`: kubectl's one line per object it applied.
_APPLIED = re.compile(r"^(?P<kind>[a-z0-9-]+)(?:\.[a-z0-9.-]+)?/(?P<name>\S+) (?P<action>\S+)")


@dataclass(frozen=True)
class Scope:
    """Where a call goes: a kubectl context and the namespace of namespaced objects."""

    context: str
    namespace: str


@dataclass(frozen=True)
class Applied:
    """One object `kubectl apply` reported: `line` as kubectl printed it."""

    line: str
    kind: str  # lowercase singular, e.g. "deployment"
    name: str
    action: str  # created | configured | unchanged | ...

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def changed(self) -> bool:
        return self.action in ("created", "configured")


def require() -> None:
    tools.require("kubectl")


def _run(context: str, *args: str, namespace: str | None = None, **kw: Any) -> tools.Result:
    head = ["--context", context, *(["-n", namespace] if namespace else [])]
    return tools.run("kubectl", *head, *args, **kw)


def kustomize(folder: str) -> str:
    """The manifests `kubectl kustomize` builds from a folder, as YAML text."""
    return tools.run("kubectl", "kustomize", folder).stdout


def kustomize_identity() -> str:
    """What stands for kustomize's version in a cache key, without starting it: the kubectl
    on PATH (its path, size and modification time), so an upgrade builds everything again."""
    path = Path(tools.require("kubectl")).resolve()
    st = path.stat()
    return f"{path}\0{st.st_size}\0{st.st_mtime_ns}"


def _json(text: str) -> Doc | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def get_json(scope: Scope, kind: str, name: str, *, namespaced: bool = True) -> Doc | None:
    """One object as JSON; None when kubectl cannot get it (missing, or the cluster is
    unreachable) or prints something that is not one JSON object."""
    res = _run(
        scope.context,
        "get",
        kind,
        name,
        "-o",
        "json",
        namespace=scope.namespace if namespaced else None,
        check=False,
    )
    return _json(res.stdout) if res.code == 0 else None


def items(scope: Scope, plural: str) -> list[Doc]:
    """Every object of a kind in the namespace (`get <plural> -o json`); ToolError when
    kubectl fails, [] when it prints no JSON list."""
    res = _run(scope.context, "get", plural, "-o", "json", namespace=scope.namespace)
    return [d for d in (_json(res.stdout) or {}).get("items", []) if isinstance(d, dict)]


def reachable(context: str) -> bool:
    """Whether the context's API server answers (a namespace that is not there answers too:
    `get namespaces` lists whatever exists). A refused connection, a missing context or no
    kubectl is False."""
    try:
        return _run(context, "get", "namespaces", "-o", "name", check=False, timeout=30).code == 0
    except StackError:  # kubectl missing, or no answer in time
        return False


def namespace_uid(context: str, namespace: str) -> str | None:
    """A namespace's UID (kube-system's changes only when the cluster is recreated);
    None when the cluster cannot be asked."""
    res = _run(context, "get", "namespace", namespace, "-o", "jsonpath={.metadata.uid}", check=False)
    if res.code != 0:
        return None
    return res.stdout.strip() or None


def _applied(out: str) -> list[Applied]:
    found = []
    for line in out.splitlines():
        m = _APPLIED.match(line)
        if m:
            found.append(Applied(line, m["kind"], m["name"], m["action"]))
        elif line.strip():
            found.append(Applied(line, "", "", ""))  # still shown as kubectl said it
    return found


def apply(scope: Scope, path: str, *, namespaced: bool = True) -> list[Applied]:
    """`kubectl apply -f path`: every object it reported, in its order."""
    out = _run(scope.context, "apply", "-f", path, namespace=scope.namespace if namespaced else None)
    return _applied(out.stdout)


def apply_text(scope: Scope, text: str) -> list[Applied]:
    """`kubectl apply -f -` with the manifests on stdin (secret values never touch a file)."""
    return _applied(_run(scope.context, "apply", "-f", "-", namespace=scope.namespace, input=text).stdout)


def delete(scope: Scope, kind: str, name: str, *, namespaced: bool = True) -> None:
    """Delete one object if it exists (`--ignore-not-found`)."""
    _run(
        scope.context,
        "delete",
        kind,
        name,
        "--ignore-not-found",
        namespace=scope.namespace if namespaced else None,
    )


def rollout_undo(scope: Scope, deployment: str) -> None:
    """Roll a Deployment back to its previous revision."""
    _run(scope.context, "rollout", "undo", f"deployment/{deployment}", namespace=scope.namespace)


def pod_logs(scope: Scope, pod: str, *, tail: int) -> list[str]:
    """The last `tail` log lines of a pod ([] when kubectl cannot get them)."""
    res = _run(scope.context, "logs", pod, f"--tail={tail}", namespace=scope.namespace, check=False)
    return res.stdout.splitlines()


def logs(scope: Scope, selector: str, *, tail: int) -> str:
    """The last `tail` lines of every pod matching a label selector, each line prefixed
    with its pod and container; ToolError when kubectl fails."""
    return _run(
        scope.context, "logs", "-l", selector, f"--tail={tail}", "--prefix", namespace=scope.namespace
    ).stdout


def events(scope: Scope, name: str) -> list[str]:
    """The event table lines about one object ([] when kubectl cannot get them)."""
    res = _run(
        scope.context,
        "get",
        "events",
        "--field-selector",
        f"involvedObject.name={name}",
        namespace=scope.namespace,
        check=False,
    )
    return res.stdout.splitlines()


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


def pods(scope: Scope, selector: str) -> list[Doc]:
    """The pods a label selector picks (`get pods -l ... -o json`); ToolError when kubectl fails."""
    res = _run(scope.context, "get", "pods", "-l", selector, "-o", "json", namespace=scope.namespace)
    return [d for d in (_json(res.stdout) or {}).get("items", []) if isinstance(d, dict)]


def copy_into(scope: Scope, pod: str, container: str, source: str, target: str, *, timeout: float) -> None:
    """Copy one file into a pod's container (`kubectl cp`: tar in the container, as its user)."""
    target_ref = f"{pod}:{target}"
    _run(scope.context, "cp", source, target_ref, "-c", container, namespace=scope.namespace, timeout=timeout)


def exec_in(scope: Scope, pod: str, container: str, command: str, *, timeout: float) -> None:
    """Run a shell command in a pod's container, as its own user."""
    _run(
        scope.context,
        "exec",
        pod,
        "-c",
        container,
        "--",
        "sh",
        "-c",
        command,
        namespace=scope.namespace,
        timeout=timeout,
    )
