"""The restricted Pod Security Standard, plus our own container hygiene, as a check.

kubernetes-validate proves manifests are well-formed; it does not judge security.
The API server enforces the profile only at admission (too late for CI), so every
rendered overlay is checked here, offline, rule by rule as the standard words them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tasks.config.fields import MIN_POD_UID, SECRET_LIKE
from tasks.model import LOG_SHIPPER, LOG_VOLUME

POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Pod", "CronJob"}
LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}
ALLOWED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
SECRETISH = SECRET_LIKE  # the configuration refuses such a setting at its key first


HIGH_UID = MIN_POD_UID  # one floor: the configuration refuses a lower one at its key


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    kind = obj.get("kind")
    spec: dict[str, Any] | None = None
    if kind == "Pod":
        spec = obj.get("spec", {})
    elif kind == "CronJob":
        spec = obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    elif kind in POD_KINDS:
        spec = obj["spec"]["template"]["spec"]
    return spec


@dataclass(frozen=True)
class Exemption:
    """A written exception: the rules (problems, word for word) one workload, named by kind,
    name and namespace, may break. Any other problem of it, or of any other workload, stands."""

    kind: str
    name: str
    namespace: str
    problems: frozenset[str]

    def covers(self, obj: dict[str, Any]) -> bool:
        meta = obj.get("metadata", {})
        return (obj.get("kind"), meta.get("name"), meta.get("namespace")) == (
            self.kind,
            self.name,
            self.namespace,
        )


def log_shipper(namespace: str) -> Exemption:
    """The logging component's exception (docs/operations.md "Logging"): its DaemonSet, in its
    own namespace, reads the node's /var/log through one hostPath volume, as uid 0."""
    return Exemption(
        "DaemonSet",
        LOG_SHIPPER,
        namespace,
        frozenset(
            {
                f"volume {LOG_VOLUME} uses hostPath",
                "pod runAsUser must not be 0",
                f"container {LOG_SHIPPER}: runAsNonRoot must be true",
                f"container {LOG_SHIPPER}: runAsUser must be a non-zero UID",
            }
        ),
    )


def violations(objects: Iterable[dict[str, Any]], exemptions: Iterable[Exemption] = ()) -> list[str]:
    """Every problem of every object, but those a written exception covers for that object."""
    out: list[str] = []
    granted = list(exemptions)
    for obj in objects:
        if not obj:
            continue
        allowed = frozenset().union(*(e.problems for e in granted if e.covers(obj)))
        out += [problem for problem in _object(obj) if problem.split(": ", 1)[1] not in allowed]
    return out


def _object(obj: dict[str, Any]) -> list[str]:
    """One object's problems, each as `<kind>/<name>: <problem>`."""
    name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    out: list[str] = []
    if obj.get("kind") == "ConfigMap":
        out += [
            f"{name}: key {key} looks like a secret; put it in a Secret"
            for key in obj.get("data", {})
            if SECRETISH.search(key)
        ]
    spec = pod_spec(obj)
    if spec is not None:
        out += [f"{name}: {problem}" for problem in _pod(spec, long_running=obj["kind"] in LONG_RUNNING)]
    return out


def _pod(spec: dict[str, Any], *, long_running: bool) -> list[str]:
    """Every problem of one pod spec, pod-level rules first, then each container's in order."""
    bad = _pod_level(spec)
    psc = spec.get("securityContext", {})
    app = spec.get("containers", [])
    for c in app + spec.get("initContainers", []):
        problems = [*_identity(c, psc), *_privileges(c), *_resources(c)]
        # Init containers run to completion: only long-running app containers need probes.
        if long_running and c in app:
            problems += [
                f"{probe} is missing" for probe in ("livenessProbe", "readinessProbe") if probe not in c
            ]
        bad += [f"container {c['name']}: {problem}" for problem in problems]
    return bad


def _pod_level(spec: dict[str, Any]) -> list[str]:
    bad = [f"{field} must not be true" for field in ("hostNetwork", "hostPID", "hostIPC") if spec.get(field)]
    if spec.get("automountServiceAccountToken") is not False:
        bad.append("automountServiceAccountToken must be false")
    if spec.get("securityContext", {}).get("runAsUser") == 0:
        bad.append("pod runAsUser must not be 0")
    for volume in spec.get("volumes", []):
        foreign = set(volume) - {"name"} - ALLOWED_VOLUMES
        if foreign:
            bad.append(f"volume {volume['name']} uses {', '.join(sorted(foreign))}")
    return bad


def _identity(c: dict[str, Any], psc: dict[str, Any]) -> list[str]:
    """Who the container runs as; a container's own securityContext overrides the pod's."""
    bad = []
    csc = c.get("securityContext", {})
    if csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is not True:
        bad.append("runAsNonRoot must be true")
    uid = csc.get("runAsUser", psc.get("runAsUser", 0))
    if uid == 0:
        bad.append("runAsUser must be a non-zero UID")
    elif uid < HIGH_UID:
        # Below 10000 a UID may belong to a host account (checkov CKV_K8S_40).
        bad.append(f"runAsUser {uid} is below {HIGH_UID}; use a UID of at least {HIGH_UID}")
    seccomp = csc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        bad.append("seccompProfile.type must be RuntimeDefault or Localhost")
    return bad


def _privileges(c: dict[str, Any]) -> list[str]:
    bad = []
    csc = c.get("securityContext", {})
    if csc.get("privileged"):
        bad.append("privileged must not be true")
    if csc.get("allowPrivilegeEscalation") is not False:
        bad.append("allowPrivilegeEscalation must be false")
    caps = csc.get("capabilities", {})
    if "ALL" not in caps.get("drop", []):
        bad.append("capabilities.drop must include ALL")
    if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
        bad.append("only NET_BIND_SERVICE may be added to capabilities")
    if csc.get("readOnlyRootFilesystem") is not True:
        bad.append("readOnlyRootFilesystem must be true")
    if any(p.get("hostPort") for p in c.get("ports", [])):
        bad.append("hostPort is not allowed")
    return bad


def _resources(c: dict[str, Any]) -> list[str]:
    res = c.get("resources", {})
    return [
        f"resources.{part}.{key} is missing"
        for part in ("requests", "limits")
        for key in ("cpu", "memory")
        if key not in res.get(part, {})
    ]
