"""Fake kubectl: live objects as the API server shows them (status, derived pods, events, logs)."""

from __future__ import annotations

import copy
import datetime as _dt

from testing.fakes import k8sstate as fs
from testing.fakes.kubectl.common import Obj

# --------------------------------------------------------------------------- object rendering


def age(ts: str) -> str:
    created = _dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.UTC)
    secs = max(0, int((_dt.datetime.now(_dt.UTC) - created).total_seconds()))
    if secs < 120:
        return f"{secs}s"
    if secs < 7200:
        return f"{secs // 60}m"
    return f"{secs // 3600}h"


def replicas_of(manifest: Obj) -> int:
    value = manifest.get("spec", {}).get("replicas", 1)
    return int(value if value is not None else 1)


def job_failed(state: fs.State, name: str) -> bool:
    return name in state.get("job_failures", [])


def render(state: fs.State, cluster: fs.State, record: Obj) -> Obj:
    """The object as the API server returns it: manifest + server metadata + status."""
    obj: Obj = copy.deepcopy(record["manifest"])
    meta = obj.setdefault("metadata", {})
    meta["uid"] = record["uid"]
    meta["creationTimestamp"] = record["created"]
    meta["resourceVersion"] = record["resource_version"]
    meta["generation"] = record["generation"]
    annotations = meta.setdefault("annotations", {})
    annotations["kubectl.kubernetes.io/last-applied-configuration"] = record["last_applied"] + "\n"
    kind = obj["kind"]
    if kind == "Namespace":
        del meta["generation"]
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}
    elif kind == "Deployment":
        ns, name = meta["namespace"], meta["name"]
        annotations["deployment.kubernetes.io/revision"] = str(fs.current_revision(cluster, ns, name))
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        n = replicas_of(obj)
        status: Obj = {"observedGeneration": record["generation"]}
        # Like the real API (omitempty), zero counters are absent, not 0.
        if fs.deployment_failing(state, obj):
            status.update(replicas=n, updatedReplicas=n, unavailableReplicas=n)
            status["conditions"] = [
                {
                    "type": "Available",
                    "status": "False",
                    "reason": "MinimumReplicasUnavailable",
                    "message": "Deployment does not have minimum availability.",
                },
                {
                    "type": "Progressing",
                    "status": "False",
                    "reason": "ProgressDeadlineExceeded",
                    "message": f'ReplicaSet "{name}-{fs.short_hash(spec.get("template", {}))}" '
                    "has timed out progressing.",
                },
            ]
        else:
            status.update(replicas=n, updatedReplicas=n, readyReplicas=n, availableReplicas=n)
            status["conditions"] = [
                {
                    "type": "Available",
                    "status": "True",
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable",
                    "message": f'ReplicaSet "{name}-{fs.short_hash(spec.get("template", {}))}" '
                    "has successfully progressed.",
                },
            ]
        obj["status"] = {k: v for k, v in status.items() if v != 0}
    elif kind == "StatefulSet":
        # Ready unless a rollout failure is injected for it (same switch as Deployments).
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        n = replicas_of(obj)
        revision = f"{meta['name']}-{fs.short_hash(spec.get('template', {}))}"
        sts: Obj = {
            "observedGeneration": record["generation"],
            "replicas": n,
            "currentReplicas": n,
            "updatedReplicas": n,
            "currentRevision": revision,
            "updateRevision": revision,
        }
        if not fs.deployment_failing(state, obj):
            sts.update(readyReplicas=n, availableReplicas=n)
        obj["status"] = {k: v for k, v in sts.items() if v != 0}
    elif kind == "Job":
        name = meta["name"]
        if job_failed(state, name):
            limit = int(obj.get("spec", {}).get("backoffLimit", 6))
            obj["status"] = {
                "failed": limit + 1,
                "startTime": record["created"],
                "conditions": [
                    {
                        "type": "Failed",
                        "status": "True",
                        "reason": "BackoffLimitExceeded",
                        "message": "Job has reached the specified backoff limit",
                    }
                ],
            }
        else:
            obj["status"] = {
                "succeeded": 1,
                "startTime": record["created"],
                "completionTime": record["created"],
                "conditions": [{"type": "Complete", "status": "True"}],
            }
    elif kind == "Application":
        # What Argo CD would report; set by the test (FakeCluster.set_application).
        obj["status"] = copy.deepcopy(
            state.get("applications", {}).get(f"{meta.get('namespace')}/{meta['name']}", {})
        )
    elif kind == "Service":
        spec = obj.setdefault("spec", {})
        h = int(fs.short_hash(meta["name"], 6).encode().hex(), 16)
        spec.setdefault("clusterIP", f"10.{96 + h % 16}.{h // 16 % 256}.{h // 4096 % 254 + 1}")
        spec.setdefault("type", "ClusterIP")
    return obj


def derive_pods(state: fs.State, cluster: fs.State, namespace: str) -> list[Obj]:
    """Pods are not stored: one per Deployment replica (+ one per Job), computed from the spec."""
    pods: list[Obj] = []
    for key, record in sorted(cluster["objects"].items()):
        kind, ns, name = key.split("/", 2)
        if ns != namespace or kind not in ("Deployment", "StatefulSet", "Job"):
            continue
        manifest = record["manifest"]
        template = manifest.get("spec", {}).get("template", {}) or {}
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        pod_spec = copy.deepcopy(template.get("spec") or {})
        containers = pod_spec.get("containers") or []
        if kind == "Deployment":
            rs_hash = fs.short_hash(template)
            failing = fs.deployment_failing(state, manifest)
            for i in range(replicas_of(manifest)):
                pod_name = f"{name}-{rs_hash}-{fs.short_hash([name, rs_hash, i], 5)}"
                pods.append(
                    make_pod(
                        pod_name,
                        ns,
                        {**labels, "pod-template-hash": rs_hash},
                        pod_spec,
                        containers,
                        "crash" if failing else "running",
                        record["created"],
                        ("ReplicaSet", f"{name}-{rs_hash}"),
                    )
                )
        elif kind == "StatefulSet":
            failing = fs.deployment_failing(state, manifest)
            for i in range(replicas_of(manifest)):
                pods.append(
                    make_pod(
                        f"{name}-{i}",
                        ns,
                        dict(labels),
                        pod_spec,
                        containers,
                        "crash" if failing else "running",
                        record["created"],
                        ("StatefulSet", name),
                    )
                )
        else:
            pod_name = f"{name}-{fs.short_hash([name, record['uid']], 5)}"
            job_labels = {
                **labels,
                "job-name": name,
                "batch.kubernetes.io/job-name": name,
                "controller-uid": record["uid"],
                "batch.kubernetes.io/controller-uid": record["uid"],
            }
            pods.append(
                make_pod(
                    pod_name,
                    ns,
                    job_labels,
                    pod_spec,
                    containers,
                    "failed" if job_failed(state, name) else "succeeded",
                    record["created"],
                    ("Job", name),
                )
            )
    return pods


def make_pod(
    name: str,
    ns: str,
    labels: dict[str, str],
    spec: Obj,
    containers: list[Obj],
    mode: str,
    created: str,
    owner: tuple[str, str],
) -> Obj:
    statuses: list[Obj] = []
    for c in containers:
        st: Obj = {
            "name": c.get("name", ""),
            "image": c.get("image", ""),
            "imageID": "",
            "restartCount": 0,
            "ready": mode == "running",
            "started": mode == "running",
        }
        if mode == "running":
            st["state"] = {"running": {"startedAt": created}}
        elif mode == "crash":
            st["restartCount"] = 5
            st["state"] = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off 2m40s restarting failed container={c.get('name')} pod={name}",
                }
            }
            st["lastState"] = {
                "terminated": {"exitCode": 1, "reason": "Error", "startedAt": created, "finishedAt": created}
            }
        else:
            code = 0 if mode == "succeeded" else 1
            st["state"] = {
                "terminated": {
                    "exitCode": code,
                    "reason": "Completed" if code == 0 else "Error",
                    "startedAt": created,
                    "finishedAt": created,
                }
            }
        statuses.append(st)
    phase = {"running": "Running", "crash": "Running", "succeeded": "Succeeded", "failed": "Failed"}[mode]
    ready = "True" if mode == "running" else "False"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": labels,
            "uid": fs.short_hash(name, 32),
            "creationTimestamp": created,
            "ownerReferences": [{"kind": owner[0], "name": owner[1], "controller": True}],
        },
        "spec": {**spec, "nodeName": "minikube"},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": ready}, {"type": "ContainersReady", "status": ready}],
            "containerStatuses": statuses,
            "hostIP": fs.CLUSTER_IP,
            "podIP": "10.244.0.5",
            "startTime": created,
        },
    }


def pod_status_text(pod: Obj) -> tuple[str, str, int]:
    sts = pod["status"]["containerStatuses"]
    ready = sum(1 for s in sts if s["ready"])
    restarts = sum(int(s["restartCount"]) for s in sts)
    reason = pod["status"]["phase"]
    for s in sts:
        if "waiting" in s["state"]:
            reason = s["state"]["waiting"]["reason"]
        elif "terminated" in s["state"]:
            reason = s["state"]["terminated"]["reason"]
    return f"{ready}/{len(sts)}", reason, restarts


def derive_events(pods: list[Obj]) -> list[Obj]:
    events: list[Obj] = []
    for pod in pods:
        name, ns = pod["metadata"]["name"], pod["metadata"]["namespace"]
        items = [("Normal", "Scheduled", f"Successfully assigned {ns}/{name} to minikube")]
        for c in pod["status"]["containerStatuses"]:
            items += [
                ("Normal", "Pulled", f'Container image "{c["image"]}" already present on machine'),
                ("Normal", "Created", f"Created container: {c['name']}"),
                ("Normal", "Started", f"Started container {c['name']}"),
            ]
            if "waiting" in c["state"]:
                items.append(
                    (
                        "Warning",
                        "BackOff",
                        f"Back-off restarting failed container {c['name']} "
                        f"in pod {name}_{ns}({pod['metadata']['uid']})",
                    )
                )
        for i, (etype, reason, msg) in enumerate(items):
            events.append(
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": f"{name}.{fs.short_hash([name, i], 16)}", "namespace": ns},
                    "involvedObject": {"kind": "Pod", "name": name, "namespace": ns},
                    "type": etype,
                    "reason": reason,
                    "message": msg,
                    "count": 1,
                    "lastTimestamp": pod["metadata"]["creationTimestamp"],
                }
            )
    return events


def pod_logs(pod: Obj, container: str) -> list[str]:
    ts = pod["metadata"]["creationTimestamp"]
    for c in pod["status"]["containerStatuses"]:
        if c["name"] != container:
            continue
        state = c["state"]
        if "waiting" in state:
            return [
                f"{ts} INFO  starting {container}",
                f"{ts} INFO  connecting to rabbitmq:5672",
                "Error: cannot connect to rabbitmq:5672",
                "    at Connection.connect (/app/dist/bus.js:42:11)",
            ]
        if "terminated" in state and state["terminated"]["exitCode"] != 0:
            return [f"{ts} INFO  running {container}", "Error: job failed: exit status 1"]
        if "terminated" in state:
            return [f"{ts} INFO  running {container}", f"{ts} INFO  done"]
    return [
        f"{ts} INFO  starting {container}",
        f"{ts} INFO  connected to rabbitmq:5672",
        f"{ts} INFO  {container} listening on 0.0.0.0:3000",
    ]
