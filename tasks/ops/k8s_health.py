"""Live health of a namespace's workloads (Deployments, StatefulSets, Jobs).

One `kubectl get <kind> -o json` per kind and one `get pods` per look give a verdict per
workload: ready, progressing or failed (with the pod's reason). `wait` looks again until
every workload asked about is ready or failed, under ONE deadline for all of them, so
two broken Deployments are both found in the time of one, and the report names each.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tasks.errors import StackError, ToolError
from tasks.programs import kubectl
from tasks.programs.kubectl import Scope

Doc = dict[str, Any]
PLURAL = {"Deployment": "deployments", "StatefulSet": "statefulsets", "Job": "jobs"}
OWNER = {"Deployment": "ReplicaSet", "StatefulSet": "StatefulSet", "Job": "Job"}
# Waiting reasons that never heal by waiting: the image or the pod's config is wrong.
FATAL = frozenset(
    {
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)
# A crash loop is fatal once the container restarted this often: a service that starts
# before its broker crashes once or twice and then recovers, and must not be blamed.
CRASH_RESTARTS = 3
POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Health:
    kind: str
    name: str
    desired: int
    ready: int
    images: tuple[str, ...]
    state: str  # ready | progressing | failed | missing
    reason: str = ""
    revision: int = 0  # Deployments: deployment.kubernetes.io/revision (0 unknown)
    pods: tuple[str, ...] = field(default=(), compare=False)  # pods that are not ready, worst first
    finished: str = field(default="", compare=False)  # Jobs: when it completed or failed (RFC 3339)

    @property
    def ref(self) -> str:
        return f"{self.kind.lower()}/{self.name}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


def _items(scope: Scope, plural: str) -> list[Doc]:
    try:
        return kubectl.items(scope, plural)
    except ToolError as exc:
        raise StackError(
            f"cannot read {plural}: {(exc.stderr or exc.stdout).strip()}",
            fix="check that the cluster is reachable (`kubectl cluster-info`)",
        ) from None


def _containers(doc: Doc) -> list[Doc]:
    spec = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
    return list(spec.get("containers") or [])


def _condition(doc: Doc, kind: str) -> Doc:
    return next((c for c in (doc.get("status") or {}).get("conditions", []) if c.get("type") == kind), {})


def _pod_ready(pod: Doc) -> bool:
    return _condition(pod, "Ready").get("status") == "True"


def pod_reason(pod: Doc) -> tuple[str, bool]:
    """(reason, fatal) of a not-ready pod: the first waiting/terminated container reason."""
    for cs in (pod.get("status") or {}).get("containerStatuses", []) or []:
        state = cs.get("state") or {}
        waiting = state.get("waiting")
        if waiting:
            reason = str(waiting.get("reason", "Waiting"))
            fatal = reason in FATAL or (
                reason == "CrashLoopBackOff" and int(cs.get("restartCount", 0)) >= CRASH_RESTARTS
            )
            return reason, fatal
        term = state.get("terminated")
        if term and term.get("exitCode", 0) != 0:
            return str(term.get("reason", "Error")), False
    return str((pod.get("status") or {}).get("phase", "Pending")), False


def pods_of(pods: list[Doc], kind: str, name: str) -> list[Doc]:
    def owned(pod: Doc) -> bool:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        owners = {o.get("kind") for o in meta.get("ownerReferences") or []}
        if kind == "Job":
            return labels.get("job-name") == name
        return OWNER[kind] in owners and labels.get("app.kubernetes.io/name") == name

    return [p for p in pods if owned(p)]


def _job_verdict(doc: Doc, name: str, images: tuple[str, ...], fatal: str, pods: tuple[str, ...]) -> Health:
    spec = doc.get("spec") or {}
    status = doc.get("status") or {}
    desired = int(spec.get("completions") or 1)
    done = int(status.get("succeeded", 0))
    failed = _condition(doc, "Failed")
    # When it last ran, for status: completed, else failed, else started.
    at = str(
        status.get("completionTime") or failed.get("lastTransitionTime") or status.get("startTime") or ""
    )
    if _condition(doc, "Complete").get("status") == "True":
        return Health("Job", name, desired, done, images, "ready", finished=at)
    if failed.get("status") == "True" or fatal:
        reason = fatal or str(failed.get("reason", "Failed"))
        return Health("Job", name, desired, done, images, "failed", reason, pods=pods, finished=at)
    return Health("Job", name, desired, done, images, "progressing", pods=pods)


def verdict(doc: Doc, pods: list[Doc]) -> Health:
    kind = str(doc.get("kind"))
    meta = doc.get("metadata") or {}
    spec = doc.get("spec") or {}
    status = doc.get("status") or {}
    name = str(meta.get("name"))
    images = tuple(str(c.get("image", "")) for c in _containers(doc))
    current = meta.get("generation") is None or int(status.get("observedGeneration", 0)) >= int(
        meta["generation"]
    )
    mine = pods_of(pods, kind, name)
    bad = [p for p in mine if not _pod_ready(p)]
    reasons = [pod_reason(p) for p in bad]
    fatal = next((r for r, f in reasons if f), "")
    names = tuple(str((p.get("metadata") or {}).get("name")) for p in bad)
    if kind == "Job":
        return _job_verdict(doc, name, images, fatal, names)
    desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    ready = int(status.get("readyReplicas", 0))  # zero counters are omitted by the API
    revision = int((meta.get("annotations") or {}).get("deployment.kubernetes.io/revision", 0) or 0)
    if kind == "Deployment":
        done = (
            current
            and int(status.get("updatedReplicas", 0)) >= desired
            and ready >= desired
            and int(status.get("availableReplicas", 0)) >= desired
            and int(status.get("replicas", 0)) <= desired
        )  # no old pods left
        stuck = _condition(doc, "Progressing").get("reason") == "ProgressDeadlineExceeded"
    else:
        done = (
            current
            and ready >= desired
            and status.get("updateRevision", "") == status.get("currentRevision", "")
        )
        stuck = False
    if done:
        return Health(kind, name, desired, ready, images, "ready", revision=revision)
    if fatal or stuck:
        return Health(
            kind, name, desired, ready, images, "failed", fatal or "ProgressDeadlineExceeded", revision, names
        )
    why = reasons[0][0] if reasons else ""
    return Health(kind, name, desired, ready, images, "progressing", why, revision, names)


def look(scope: Scope, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Health]:
    """One look at the given workloads; a missing one is `missing`."""
    wanted = list(keys)
    kinds = sorted({k for k, _ in wanted})
    docs = {k: _items(scope, PLURAL[k]) for k in kinds}
    pods = _items(scope, "pods") if wanted else []
    found: dict[tuple[str, str], Health] = {}
    for kind, items in docs.items():
        for doc in items:
            doc.setdefault("kind", kind)
            key = (kind, str((doc.get("metadata") or {}).get("name")))
            if key in wanted:
                found[key] = verdict(doc, pods)
    for kind, name in wanted:
        found.setdefault((kind, name), Health(kind, name, 0, 0, (), "missing", "not found"))
    return found


def wait(
    scope: Scope, keys: Iterable[tuple[str, str]], deadline: float, poll: float = POLL_SECONDS
) -> dict[tuple[str, str], Health]:
    """Look until each workload is ready or failed, or the deadline passes: then what is
    still progressing (or missing) is failed, with how long it was given."""
    wanted = list(keys)
    start = time.monotonic()
    while True:
        seen = look(scope, wanted)
        if all(h.state in ("ready", "failed") for h in seen.values()):
            return seen
        if time.monotonic() >= deadline:
            took = int(time.monotonic() - start)
            return {
                k: h
                if h.state in ("ready", "failed")
                else Health(
                    h.kind,
                    h.name,
                    h.desired,
                    h.ready,
                    h.images,
                    "failed",
                    f"not ready after {took}s" + (f" ({h.reason})" if h.reason else ""),
                    h.revision,
                    h.pods,
                )
                for k, h in seen.items()
            }
        time.sleep(min(poll, max(0.0, deadline - time.monotonic())))


def diagnose(scope: Scope, health: Health, tail: int = 20) -> list[str]:
    """Why: the worst pod's container reason, its last events and its last log lines."""
    if not health.pods:
        return [f"    no failing pod found ({health.reason or health.state})"]
    pod = health.pods[0]
    lines = [f"    pod {pod}:"]
    doc = kubectl.get_json(scope, "pod", pod) or {}
    for cs in (doc.get("status") or {}).get("containerStatuses", []) or []:
        state = cs.get("state") or {}
        detail = state.get("waiting") or state.get("terminated") or {}
        if detail:
            lines.append(
                f"      {cs.get('name')}: {detail.get('reason', '?')} {detail.get('message', '')}".rstrip()
            )
    events = kubectl.events(scope, pod)
    lines += ["    last events:", *(f"      {line}" for line in events[-5:])]
    logs = kubectl.pod_logs(scope, pod, tail=tail)
    lines += [f"    logs (last {tail} lines):", *(f"      {line}" for line in logs[-tail:])]
    return lines
