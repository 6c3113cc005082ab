"""State model shared by the fake minikube, the fake kubectl and cluster.FakeCluster.

Everything lives in one JSON document (``$FAKE_K8S_STATE/state.json``) guarded by an
exclusive ``fcntl.flock`` on ``state.lock``: the product may run tool calls from parallel
doit threads, and a read-modify-write without the lock would lose updates.
Every call is appended to ``calls.jsonl`` by testing.harness.log_call, under a *separate*
lock (``calls.lock``) so logging never deadlocks against a held state lock (flock locks are
per open-file-description).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from testing import harness

STATE_ENV = "FAKE_K8S_STATE"
DEFAULT_PROFILE = "minikube"
DEFAULT_K8S_VERSION = "v1.34.0"
MINIKUBE_VERSION = "v1.37.0"
CLUSTER_IP = "192.168.49.2"
API_SERVER = "127.0.0.1:8443"

# Known addons and whether a fresh cluster has them enabled (mirrors a fresh minikube).
KNOWN_ADDONS: dict[str, bool] = {
    "dashboard": False,
    "default-storageclass": True,
    "ingress": False,
    "ingress-dns": False,
    "metrics-server": False,
    "registry": False,
    "storage-provisioner": True,
    "volumesnapshots": False,
    "csi-hostpath-driver": False,
    "gcp-auth": False,
}
# Namespaces that the addon creates when enabled (so `get namespace ingress-nginx` works).
ADDON_NAMESPACES: dict[str, str] = {"ingress": "ingress-nginx", "dashboard": "kubernetes-dashboard"}

SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
# The API server refuses to delete these (real message: "this namespace may not be deleted").
UNDELETABLE_NAMESPACES = frozenset({"default", "kube-public", "kube-system"})

Obj = dict[str, Any]
State = dict[str, Any]


class KindInfo:
    """Discovery info for one kind: what `kubectl` needs to map CLI names and print refs."""

    def __init__(
        self,
        kind: str,
        api_version: str,
        plural: str,
        namespaced: bool,
        short: tuple[str, ...] = (),
        derived: bool = False,
    ) -> None:
        self.kind = kind
        self.api_version = api_version
        self.group = api_version.split("/")[0] if "/" in api_version else ""
        self.plural = plural
        self.singular = kind.lower()
        self.namespaced = namespaced
        self.short = short
        # Derived kinds (pods, events) are computed from deployments/jobs, never applied.
        self.derived = derived

    @property
    def ref(self) -> str:
        """Prefix used in apply/rollout output, e.g. ``deployment.apps``."""
        return f"{self.singular}.{self.group}" if self.group else self.singular

    @property
    def resource(self) -> str:
        """Name used in NotFound errors, e.g. ``deployments.apps``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def names(self) -> set[str]:
        out = {self.plural, self.singular, *self.short}
        if self.group:
            out |= {f"{self.plural}.{self.group}", f"{self.singular}.{self.group}"}
        return out


KINDS: dict[str, KindInfo] = {
    k.kind: k
    for k in [
        KindInfo("Namespace", "v1", "namespaces", False, ("ns",)),
        KindInfo("ConfigMap", "v1", "configmaps", True, ("cm",)),
        KindInfo("Secret", "v1", "secrets", True),
        KindInfo("Service", "v1", "services", True, ("svc",)),
        KindInfo("ServiceAccount", "v1", "serviceaccounts", True, ("sa",)),
        KindInfo("PersistentVolumeClaim", "v1", "persistentvolumeclaims", True, ("pvc",)),
        KindInfo("PersistentVolume", "v1", "persistentvolumes", False, ("pv",)),
        KindInfo("Pod", "v1", "pods", True, ("po",), derived=True),
        KindInfo("Event", "v1", "events", True, ("ev",), derived=True),
        KindInfo("Deployment", "apps/v1", "deployments", True, ("deploy",)),
        KindInfo("StatefulSet", "apps/v1", "statefulsets", True, ("sts",)),
        KindInfo("DaemonSet", "apps/v1", "daemonsets", True, ("ds",)),
        KindInfo("Job", "batch/v1", "jobs", True),
        KindInfo("CronJob", "batch/v1", "cronjobs", True, ("cj",)),
        KindInfo("Ingress", "networking.k8s.io/v1", "ingresses", True, ("ing",)),
        KindInfo("IngressClass", "networking.k8s.io/v1", "ingressclasses", False),
        KindInfo("NetworkPolicy", "networking.k8s.io/v1", "networkpolicies", True, ("netpol",)),
        KindInfo("HorizontalPodAutoscaler", "autoscaling/v2", "horizontalpodautoscalers", True, ("hpa",)),
        KindInfo("PodDisruptionBudget", "policy/v1", "poddisruptionbudgets", True, ("pdb",)),
        # A cloud cluster runs the External Secrets Operator (docs/operations.md).
        KindInfo("ExternalSecret", "external-secrets.io/v1", "externalsecrets", True, ("es",)),
        KindInfo("SecretStore", "external-secrets.io/v1", "secretstores", True, ("ss",)),
        # A cloud cluster in argocd mode runs Argo CD; FakeCluster.set_application sets its status.
        KindInfo("Application", "argoproj.io/v1alpha1", "applications", True, ("app", "apps")),
        # A cluster with the monitoring component runs the Prometheus Operator (docs/operations.md).
        KindInfo("ServiceMonitor", "monitoring.coreos.com/v1", "servicemonitors", True, ("smon",)),
        KindInfo("PrometheusRule", "monitoring.coreos.com/v1", "prometheusrules", True, ("promrule",)),
        KindInfo("Role", "rbac.authorization.k8s.io/v1", "roles", True),
        KindInfo("RoleBinding", "rbac.authorization.k8s.io/v1", "rolebindings", True),
        KindInfo("ClusterRole", "rbac.authorization.k8s.io/v1", "clusterroles", False),
        KindInfo("ClusterRoleBinding", "rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
        KindInfo("StorageClass", "storage.k8s.io/v1", "storageclasses", False, ("sc",)),
    ]
}


def kind_for_cli(name: str) -> KindInfo | None:
    """Map a CLI resource type (``deploy``, ``deployments.apps``, ``ns``...) to its kind."""
    low = name.lower()
    for info in KINDS.values():
        if low in info.names():
            return info
    return None


def now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical(value: Any) -> str:
    """Stable JSON text used for equality checks and hashing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def short_hash(value: Any, length: int = 10) -> str:
    """Deterministic lowercase alnum hash (stands in for pod-template-hash / pod suffixes)."""
    alphabet = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for name suffixes
    digest = int(hashlib.sha256(canonical(value).encode()).hexdigest(), 16)
    out = []
    for _ in range(length):
        digest, idx = divmod(digest, len(alphabet))
        out.append(alphabet[idx])
    return "".join(out)


# --------------------------------------------------------------------------- storage / locking


def state_dir() -> Path:
    raw = os.environ.get(STATE_ENV)
    if not raw:
        raise RuntimeError(f"{STATE_ENV} is not set; the fake tools need a state folder")
    path = Path(raw)
    path.mkdir(parents=True, exist_ok=True)
    return path


def empty_state() -> State:
    return {"clusters": {}, "current_context": None, "rollout_failures": {}, "job_failures": []}


def _load(sd: Path) -> State:
    path = sd / "state.json"
    if not path.exists():
        return empty_state()
    data: State = json.loads(path.read_text())
    return data


def _save(sd: Path, state: State) -> None:
    tmp = sd / f"state.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    tmp.replace(sd / "state.json")  # atomic: readers never see a half-written file


@contextlib.contextmanager
def transaction(sd: Path) -> Iterator[State]:
    """Yield the state under the lock; write it back if the block finishes without raising."""
    with harness.flock(sd / "state.lock"):
        state = _load(sd)
        before = canonical(state)
        yield state
        if canonical(state) != before:
            _save(sd, state)


def read_state(sd: Path) -> State:
    with harness.flock(sd / "state.lock"):
        return _load(sd)


def log_call(sd: Path, tool: str, argv: list[str], mutating: bool, exit_code: int) -> None:
    harness.log_call(sd / "calls.jsonl", tool, argv, mutating, exit_code)


def read_calls(sd: Path) -> list[dict[str, Any]]:
    return harness.read_calls(sd / "calls.jsonl")


def clear_calls(sd: Path) -> None:
    harness.clear_calls(sd / "calls.jsonl")


# --------------------------------------------------------------------------- cluster model


def obj_key(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind}/{namespace or ''}/{name}"


def new_cluster(profile: str, driver: str, cpus: int, memory_mb: int, disk: str, version: str) -> State:
    """A freshly created cluster: new UID (== kube-system namespace uid), system namespaces."""
    cluster: State = {
        "profile": profile,
        "status": "Running",
        "uid": str(uuid.uuid4()),
        "driver": driver,
        "cpus": cpus,
        "memory": memory_mb,
        "disk_size": disk,
        "kubernetes_version": version,
        "addons": dict(KNOWN_ADDONS),
        "images": [],
        "objects": {},
        "history": {},
        "resource_version": 1,
    }
    for ns in SYSTEM_NAMESPACES:
        ensure_namespace(cluster, ns, uid=cluster["uid"] if ns == "kube-system" else None)
    return cluster


def _next_rv(cluster: State) -> str:
    cluster["resource_version"] = int(cluster.get("resource_version", 1)) + 1
    return str(cluster["resource_version"])


def ensure_namespace(cluster: State, name: str, uid: str | None = None) -> None:
    key = obj_key("Namespace", None, name)
    if key in cluster["objects"]:
        return
    manifest: Obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    store_object(cluster, manifest, None, uid=uid)


def store_object(cluster: State, manifest: Obj, namespace: str | None, uid: str | None = None) -> Obj:
    """Create a new stored record; returns it. Record = live manifest + server-side metadata."""
    name = manifest["metadata"]["name"]
    record: Obj = {
        "manifest": copy.deepcopy(manifest),
        "uid": uid or str(uuid.uuid4()),
        "generation": 1,
        "created": now(),
        "resource_version": _next_rv(cluster),
        "last_applied": canonical(manifest),
    }
    cluster["objects"][obj_key(manifest["kind"], namespace, name)] = record
    if manifest["kind"] == "Deployment":
        record_revision(cluster, namespace or "default", name, manifest.get("spec", {}).get("template", {}))
    return record


def record_revision(cluster: State, namespace: str, name: str, template: Obj) -> int:
    """Deployment controller semantics: a template seen before is *re-used* and bumped to
    max+1 (its old revision number disappears); an unseen template gets max+1. Returns the
    deployment's current revision. Only called when the template actually changed."""
    hist: list[Obj] = cluster["history"].setdefault(f"{namespace}/{name}", [])
    top = max((h["revision"] for h in hist), default=0)
    if hist and canonical(max(hist, key=lambda h: h["revision"])["template"]) == canonical(template):
        return int(top)
    hist[:] = [h for h in hist if canonical(h["template"]) != canonical(template)]
    hist.append({"revision": top + 1, "template": copy.deepcopy(template)})
    return int(top + 1)


def current_revision(cluster: State, namespace: str, name: str) -> int:
    hist = cluster["history"].get(f"{namespace}/{name}", [])
    return int(max((h["revision"] for h in hist), default=0))


def delete_namespace(cluster: State, name: str) -> bool:
    """Remove a namespace and everything in it (finalization is instant in the fake)."""
    key = obj_key("Namespace", None, name)
    if key not in cluster["objects"]:
        return False
    del cluster["objects"][key]
    for k in [k for k in cluster["objects"] if k.split("/")[1] == name]:
        del cluster["objects"][k]
    for k in [k for k in cluster["history"] if k.split("/")[0] == name]:
        del cluster["history"][k]
    return True


def deployment_failing(state: State, manifest: Obj) -> bool:
    """Injected rollout failure: by name, optionally only while a given image is in the template."""
    name = manifest["metadata"]["name"]
    failures: dict[str, str | None] = state.get("rollout_failures", {})
    if name not in failures:
        return False
    image = failures[name]
    if image is None:
        return True
    containers = manifest.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []) or []
    return any(c.get("image") == image for c in containers)


def normalize_image(ref: str) -> str:
    """How the container runtime reports a ref: docker.io/library/x:latest for plain `x`."""
    name, tag = ref, "latest"
    if "@" in ref:
        return ref
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = ref.rsplit(":", 1)
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    return f"{name}:{tag}"


def system_images(version: str) -> list[str]:
    return [
        f"registry.k8s.io/kube-apiserver:{version}",
        f"registry.k8s.io/kube-controller-manager:{version}",
        f"registry.k8s.io/kube-scheduler:{version}",
        f"registry.k8s.io/kube-proxy:{version}",
        "registry.k8s.io/etcd:3.6.4-0",
        "registry.k8s.io/coredns/coredns:v1.12.1",
        "registry.k8s.io/pause:3.10.1",
        "gcr.io/k8s-minikube/storage-provisioner:v5",
    ]
