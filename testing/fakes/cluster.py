"""Test-side handle on the fake cluster state (reads/writes the same JSON the fakes use)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from testing.fakes import k8sstate as fs


class FakeCluster:
    """Inspect and perturb the state behind the fake `minikube`/`kubectl`.

    ``profile`` selects the minikube profile; when None, the kubectl current context (the
    last profile started) is used, falling back to the only/first existing cluster.
    """

    def __init__(self, state_dir: Path | str, profile: str | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._profile = profile
        # Set by the fixture: where the `minikube`/`kubectl` wrappers live.
        self.bin_dir: Path | None = None

    # ------------------------------------------------------------------ helpers

    def _pick(self, state: fs.State) -> str:
        if self._profile:
            return self._profile
        if state.get("current_context"):
            return str(state["current_context"])
        if state["clusters"]:
            return str(min(state["clusters"]))
        return fs.DEFAULT_PROFILE

    def _cluster(self, state: fs.State) -> fs.State:
        profile = self._pick(state)
        cluster: fs.State | None = state["clusters"].get(profile)
        if cluster is None:
            raise LookupError(f"fake cluster for profile {profile!r} does not exist")
        return cluster

    @property
    def profile(self) -> str:
        return self._pick(fs.read_state(self.state_dir))

    # ------------------------------------------------------------------ calls

    def calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        """Every recorded invocation, oldest first: {"tool", "argv", "mutating", "exit"}."""
        return [c for c in fs.read_calls(self.state_dir) if tool is None or c["tool"] == tool]

    def mutating_calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        return [c for c in self.calls(tool) if c["mutating"]]

    def clear_calls(self) -> None:
        fs.clear_calls(self.state_dir)

    # ------------------------------------------------------------------ cluster facts

    @property
    def exists(self) -> bool:
        state = fs.read_state(self.state_dir)
        return self._pick(state) in state["clusters"]

    @property
    def running(self) -> bool:
        state = fs.read_state(self.state_dir)
        cluster = state["clusters"].get(self._pick(state))
        return bool(cluster and cluster["status"] == "Running")

    @property
    def uid(self) -> str:
        """kube-system namespace uid; changes only when the cluster is (re)created."""
        return str(self._cluster(fs.read_state(self.state_dir))["uid"])

    def settings(self) -> dict[str, Any]:
        c = self._cluster(fs.read_state(self.state_dir))
        keys = ("driver", "cpus", "memory", "disk_size", "kubernetes_version", "status")
        return {k: c[k] for k in keys}

    def addons(self) -> dict[str, bool]:
        return dict(self._cluster(fs.read_state(self.state_dir))["addons"])

    def images(self) -> list[str]:
        """Images recorded in the cluster via `minikube image load` / add_image (normalized refs)."""
        return list(self._cluster(fs.read_state(self.state_dir))["images"])

    def objects(self, kind: str | None = None, namespace: str | None = None) -> list[dict[str, Any]]:
        """Live manifests (as applied, plus undo effects). Namespaces are objects of kind Namespace."""
        out = []
        for key, rec in sorted(self._cluster(fs.read_state(self.state_dir))["objects"].items()):
            k, ns, _ = key.split("/", 2)
            if (kind is None or k == kind) and (namespace is None or ns == namespace):
                out.append(copy.deepcopy(rec["manifest"]))
        return out

    def get(self, kind: str, name: str, namespace: str | None = "default") -> dict[str, Any] | None:
        info = fs.KINDS.get(kind)
        ns = namespace if info is None or info.namespaced else None
        rec = self._cluster(fs.read_state(self.state_dir))["objects"].get(fs.obj_key(kind, ns, name))
        return copy.deepcopy(rec["manifest"]) if rec else None

    def namespaces(self) -> list[str]:
        return [o["metadata"]["name"] for o in self.objects("Namespace")]

    def revision(self, deployment: str, namespace: str = "default") -> int:
        """Current `deployment.kubernetes.io/revision` (0 if the deployment never existed)."""
        return fs.current_revision(self._cluster(fs.read_state(self.state_dir)), namespace, deployment)

    # ------------------------------------------------------------------ perturbations

    def inject_rollout_failure(self, name: str, image: str | None = None) -> None:
        """Deployment `name` (any namespace) never becomes ready: pods CrashLoopBackOff, rollout
        status fails. With ``image``, only while the pod template uses that image — so a
        `rollout undo` back to a good image heals it, like a real bad release."""
        with fs.transaction(self.state_dir) as state:
            state.setdefault("rollout_failures", {})[name] = image

    def clear_rollout_failure(self, name: str) -> None:
        with fs.transaction(self.state_dir) as state:
            state.setdefault("rollout_failures", {}).pop(name, None)

    def inject_job_failure(self, name: str) -> None:
        """Job `name` fails: `kubectl wait --for=condition=complete` times out."""
        with fs.transaction(self.state_dir) as state:
            if name not in state.setdefault("job_failures", []):
                state["job_failures"].append(name)

    def clear_job_failure(self, name: str) -> None:
        with fs.transaction(self.state_dir) as state:
            state["job_failures"] = [j for j in state.get("job_failures", []) if j != name]

    def inject_exec_failure(self, command: str) -> None:
        """`kubectl exec ... -- <command>` (argv joined by spaces) exits 1 in every pod."""
        with fs.transaction(self.state_dir) as state:
            state.setdefault("exec_failures", []).append(command)

    def pod_files(self, namespace: str = "default") -> dict[str, dict[str, dict[str, str]]]:
        """What `kubectl cp` put in each pod: pod -> path -> {"text", "mode"}."""
        found = self._cluster(fs.read_state(self.state_dir)).get("pod_files", {})
        return {
            key.split("/", 1)[1]: files for key, files in found.items() if key.startswith(namespace + "/")
        }

    def pod_execs(self, namespace: str = "default") -> dict[str, list[list[str]]]:
        """The commands `kubectl exec` ran in each pod, in order."""
        found = self._cluster(fs.read_state(self.state_dir)).get("pod_execs", {})
        return {key.split("/", 1)[1]: runs for key, runs in found.items() if key.startswith(namespace + "/")}

    def delete_namespace(self, ns: str) -> bool:
        """Out-of-band drift: someone deleted the namespace (and everything in it)."""
        with fs.transaction(self.state_dir) as state:
            return fs.delete_namespace(self._cluster(state), ns)

    def delete_object(self, kind: str, name: str, namespace: str | None = "default") -> bool:
        """Out-of-band drift for a single object."""
        info = fs.KINDS.get(kind)
        ns = namespace if info is None or info.namespaced else None
        with fs.transaction(self.state_dir) as state:
            return self._cluster(state)["objects"].pop(fs.obj_key(kind, ns, name), None) is not None

    def create_cluster(
        self,
        driver: str = "docker",
        cpus: int = 2,
        memory: int = 4096,
        disk: str = "20g",
        kubernetes_version: str = fs.DEFAULT_K8S_VERSION,
    ) -> str:
        """Start state without going through the fake CLI. Returns the new UID."""
        with fs.transaction(self.state_dir) as state:
            profile = self._pick(state)
            cluster = fs.new_cluster(profile, driver, cpus, memory, disk, kubernetes_version)
            state["clusters"][profile] = cluster
            state["current_context"] = profile
            return str(cluster["uid"])

    def recreate_cluster(self) -> str:
        """The cluster was deleted and re-created behind the product's back: new UID, empty,
        same profile settings. Returns the new UID."""
        with fs.transaction(self.state_dir) as state:
            old = self._cluster(state)
            cluster = fs.new_cluster(
                old["profile"],
                old["driver"],
                old["cpus"],
                old["memory"],
                old["disk_size"],
                old["kubernetes_version"],
            )
            state["clusters"][old["profile"]] = cluster
            return str(cluster["uid"])

    def stop_cluster(self) -> None:
        """Like `minikube stop`: state is kept, the API server refuses connections."""
        with fs.transaction(self.state_dir) as state:
            self._cluster(state)["status"] = "Stopped"

    def add_object(self, manifest: dict[str, Any]) -> None:
        """An object made behind the product's back (e.g. an Argo CD Application applied once
        by hand), in its metadata.namespace; the namespace is created if missing."""
        ns = manifest["metadata"].get("namespace")
        with fs.transaction(self.state_dir) as state:
            cluster = self._cluster(state)
            if ns:
                fs.ensure_namespace(cluster, ns)
            fs.store_object(cluster, copy.deepcopy(manifest), ns)

    def set_application(
        self,
        name: str,
        namespace: str,
        *,
        sync: str,
        health: str,
        revision: str,
        message: str = "",
        resources: tuple[dict[str, Any], ...] = (),
    ) -> None:
        """What Argo CD reports for an Application: its sync and health status, the revision it
        synced, a health message and the status of each resource it manages."""
        status: dict[str, Any] = {
            "sync": {"status": sync, "revision": revision},
            "health": {"status": health, **({"message": message} if message else {})},
            "resources": list(resources),
        }
        with fs.transaction(self.state_dir) as state:
            state.setdefault("applications", {})[f"{namespace}/{name}"] = status

    def add_image(self, ref: str) -> None:
        """Record an image as present in the cluster (e.g. simulating a docker-env build)."""
        with fs.transaction(self.state_dir) as state:
            cluster = self._cluster(state)
            norm = fs.normalize_image(ref)
            if norm not in cluster["images"]:
                cluster["images"].append(norm)
