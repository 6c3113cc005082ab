#!/usr/bin/env python3
"""Stateful fake `kubectl` (see README.md). Supports only the calls stackbuild makes.

`kubectl kustomize` and `kubectl version --client` are delegated to the real kubectl found
later on PATH, because rendering kustomizations is pure and the real tool is available.
Everything else talks to the fake "cluster" in $FAKE_K8S_STATE.
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

if TYPE_CHECKING:  # type checkers see the package; at runtime this script's own dir is on sys.path
    from tests.fakes import fakestate as fs
    from tests.fakes.fakecli import (
        Opts,
        Spec,
        UsageError,
        check_duration,
        last,
        parse_flags,
    )
else:
    import fakestate as fs
    from fakecli import Opts, Spec, UsageError, check_duration, last, parse_flags

Obj = dict[str, Any]
WRAPPER_MARKER = "FAKE_K8S_WRAPPER"
CLIENT_VERSION = "v1.37.1"

GLOBAL: Spec = {"--context": ("context", True), "-n": ("namespace", True), "--namespace": ("namespace", True)}
SELECTOR: Spec = {"-l": ("selector", True), "--selector": ("selector", True)}
COMMANDS: dict[str, Spec] = {
    "get": {"-o": ("output", True), "--output": ("output", True), "--field-selector": ("field", True), **SELECTOR},
    "apply": {"-f": ("filename", True), "--filename": ("filename", True)},
    "rollout": {"--timeout": ("timeout", True)},
    "logs": {"--tail": ("tail", True), "--prefix": ("prefix", False), **SELECTOR},
    "delete": {"--ignore-not-found": ("ignore", False)},
    "wait": {"--for": ("for", True), "--timeout": ("timeout", True)},
    "port-forward": {},
    "version": {"--client": ("client", False)},
    "kustomize": {},  # delegated verbatim; the real kubectl validates its flags
}
CONNECTION_REFUSED = f"The connection to the server {fs.API_SERVER} was refused - did you specify the right host or port?"


class KExit(Exception):
    """Terminates the command with an exit code; nothing in the state is saved."""

    def __init__(self, code: int, stderr: str = "", stdout: str = "") -> None:
        super().__init__(code)
        self.code, self.stderr, self.stdout = code, stderr, stdout


@dataclass
class Result:
    code: int = 0
    out: str = ""
    err: str = ""
    mutating: bool = False


def lines(*items: str) -> str:
    return "".join(i + "\n" for i in items)


def not_found(info: fs.KindInfo, name: str) -> KExit:
    return KExit(1, lines(f'Error from server (NotFound): {info.resource} "{name}" not found'))


# --------------------------------------------------------------------------- real kubectl


def find_real_kubectl() -> str | None:
    """First `kubectl` on PATH that is not this fake (its script, a symlink to it, or a wrapper)."""
    me = os.path.realpath(__file__)
    skip_dir = os.environ.get("FAKE_K8S_BIN_DIR")
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if not d or (skip_dir and os.path.realpath(d) == os.path.realpath(skip_dir)):
            continue
        cand = os.path.join(d, "kubectl")
        if not (os.path.isfile(cand) and os.access(cand, os.X_OK)):
            continue
        if os.path.realpath(cand) == me:
            continue
        try:
            with open(cand, "rb") as fh:
                head = fh.read(4096)
        except OSError:
            continue
        if WRAPPER_MARKER.encode() in head or b"fake_kubectl.py" in head:
            continue
        return cand
    return None


def delegate(argv: list[str]) -> int:
    real = find_real_kubectl()
    if real is None:
        sys.stderr.write("error: fake kubectl: no real kubectl found on PATH to delegate to\n")
        return 1
    return subprocess.run([real, *argv], check=False).returncode


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
                {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
                 "message": "Deployment does not have minimum availability."},
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                 "message": f'ReplicaSet "{name}-{fs.short_hash(spec.get("template", {}))}" has timed out progressing.'},
            ]
        else:
            status.update(replicas=n, updatedReplicas=n, readyReplicas=n, availableReplicas=n)
            status["conditions"] = [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                 "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                 "message": f'ReplicaSet "{name}-{fs.short_hash(spec.get("template", {}))}" has successfully progressed.'},
            ]
        obj["status"] = {k: v for k, v in status.items() if v != 0}
    elif kind == "StatefulSet":
        # Ready unless a rollout failure is injected for it (same switch as Deployments).
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        n = replicas_of(obj)
        revision = f"{meta['name']}-{fs.short_hash(spec.get('template', {}))}"
        sts: Obj = {"observedGeneration": record["generation"], "replicas": n, "currentReplicas": n,
                    "updatedReplicas": n, "currentRevision": revision, "updateRevision": revision}
        if not fs.deployment_failing(state, obj):
            sts.update(readyReplicas=n, availableReplicas=n)
        obj["status"] = {k: v for k, v in sts.items() if v != 0}
    elif kind == "Job":
        name = meta["name"]
        if job_failed(state, name):
            limit = int(obj.get("spec", {}).get("backoffLimit", 6))
            obj["status"] = {"failed": limit + 1, "startTime": record["created"], "conditions": [
                {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                 "message": "Job has reached the specified backoff limit"}]}
        else:
            obj["status"] = {"succeeded": 1, "startTime": record["created"], "completionTime": record["created"],
                             "conditions": [{"type": "Complete", "status": "True"}]}
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
                pods.append(make_pod(pod_name, ns, {**labels, "pod-template-hash": rs_hash}, pod_spec, containers,
                                     "crash" if failing else "running", record["created"], ("ReplicaSet", f"{name}-{rs_hash}")))
        elif kind == "StatefulSet":
            failing = fs.deployment_failing(state, manifest)
            for i in range(replicas_of(manifest)):
                pods.append(make_pod(f"{name}-{i}", ns, dict(labels), pod_spec, containers,
                                     "crash" if failing else "running", record["created"], ("StatefulSet", name)))
        else:
            pod_name = f"{name}-{fs.short_hash([name, record['uid']], 5)}"
            job_labels = {**labels, "job-name": name, "batch.kubernetes.io/job-name": name,
                          "controller-uid": record["uid"], "batch.kubernetes.io/controller-uid": record["uid"]}
            pods.append(make_pod(pod_name, ns, job_labels, pod_spec, containers,
                                 "failed" if job_failed(state, name) else "succeeded", record["created"], ("Job", name)))
    return pods


def make_pod(name: str, ns: str, labels: dict[str, str], spec: Obj, containers: list[Obj], mode: str, created: str,
             owner: tuple[str, str]) -> Obj:
    statuses: list[Obj] = []
    for c in containers:
        st: Obj = {"name": c.get("name", ""), "image": c.get("image", ""), "imageID": "", "restartCount": 0,
                   "ready": mode == "running", "started": mode == "running"}
        if mode == "running":
            st["state"] = {"running": {"startedAt": created}}
        elif mode == "crash":
            st["restartCount"] = 5
            st["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                       "message": f"back-off 2m40s restarting failed container={c.get('name')} pod={name}"}}
            st["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": created, "finishedAt": created}}
        else:
            code = 0 if mode == "succeeded" else 1
            st["state"] = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                          "startedAt": created, "finishedAt": created}}
        statuses.append(st)
    phase = {"running": "Running", "crash": "Running", "succeeded": "Succeeded", "failed": "Failed"}[mode]
    ready = "True" if mode == "running" else "False"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels, "uid": fs.short_hash(name, 32),
                     "creationTimestamp": created,
                     "ownerReferences": [{"kind": owner[0], "name": owner[1], "controller": True}]},
        "spec": {**spec, "nodeName": "minikube"},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}, {"type": "ContainersReady", "status": ready}],
                   "containerStatuses": statuses, "hostIP": fs.CLUSTER_IP, "podIP": "10.244.0.5", "startTime": created},
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
            items += [("Normal", "Pulled", f'Container image "{c["image"]}" already present on machine'),
                      ("Normal", "Created", f"Created container: {c['name']}"),
                      ("Normal", "Started", f"Started container {c['name']}")]
            if "waiting" in c["state"]:
                items.append(("Warning", "BackOff", f"Back-off restarting failed container {c['name']} in pod {name}_{ns}({pod['metadata']['uid']})"))
        for i, (etype, reason, msg) in enumerate(items):
            events.append({"apiVersion": "v1", "kind": "Event",
                           "metadata": {"name": f"{name}.{fs.short_hash([name, i], 16)}", "namespace": ns},
                           "involvedObject": {"kind": "Pod", "name": name, "namespace": ns},
                           "type": etype, "reason": reason, "message": msg, "count": 1,
                           "lastTimestamp": pod["metadata"]["creationTimestamp"]})
    return events


def pod_logs(pod: Obj, container: str) -> list[str]:
    ts = pod["metadata"]["creationTimestamp"]
    for c in pod["status"]["containerStatuses"]:
        if c["name"] != container:
            continue
        state = c["state"]
        if "waiting" in state:
            return [f"{ts} INFO  starting {container}", f"{ts} INFO  connecting to rabbitmq:5672",
                    "Error: cannot connect to rabbitmq:5672", "    at Connection.connect (/app/dist/bus.js:42:11)"]
        if "terminated" in state and state["terminated"]["exitCode"] != 0:
            return [f"{ts} INFO  running {container}", "Error: job failed: exit status 1"]
        if "terminated" in state:
            return [f"{ts} INFO  running {container}", f"{ts} INFO  done"]
    return [f"{ts} INFO  starting {container}", f"{ts} INFO  connected to rabbitmq:5672",
            f"{ts} INFO  {container} listening on 0.0.0.0:3000"]


# --------------------------------------------------------------------------- selectors / jsonpath


def parse_label_selector(sel: str) -> list[tuple[str, str, str | None]]:
    reqs: list[tuple[str, str, str | None]] = []
    for part in filter(None, (p.strip() for p in sel.split(","))):
        m = re.fullmatch(r"([A-Za-z0-9_./-]+)\s*(==|!=|=)\s*([A-Za-z0-9_.-]*)", part)
        if m:
            reqs.append((m.group(1), "!=" if m.group(2) == "!=" else "=", m.group(3)))
        elif re.fullmatch(r"!?[A-Za-z0-9_./-]+", part):
            reqs.append((part.lstrip("!"), "!exists" if part.startswith("!") else "exists", None))
        else:
            raise KExit(1, lines(f'error: unable to parse requirement: found \'{part}\', expected: \'=\', \'!=\', \'==\', \'in\', notin\''))
    return reqs


def labels_match(labels: dict[str, str], reqs: list[tuple[str, str, str | None]]) -> bool:
    for key, op, value in reqs:
        if op == "=" and labels.get(key) != value:
            return False
        if op == "!=" and labels.get(key) == value:
            return False
        if op == "exists" and key not in labels:
            return False
        if op == "!exists" and key in labels:
            return False
    return True


def field_value(obj: Obj, path: str) -> Any:
    cur: Any = obj
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


def field_match(obj: Obj, sel: str, kind: str) -> bool:
    allowed = {"metadata.name", "metadata.namespace"}
    if kind == "Event":
        allowed |= {"involvedObject.name", "involvedObject.kind", "involvedObject.namespace", "type", "reason"}
    for part in filter(None, sel.split(",")):
        m = re.fullmatch(r"([A-Za-z.]+)\s*(==|!=|=)\s*(.*)", part)
        if not m:
            raise KExit(1, lines(f'Error from server (BadRequest): invalid selector: \'{sel}\'; can\'t understand \'{part}\''))
        key, op, value = m.groups()
        if key not in allowed:
            raise KExit(1, lines(f'Error from server (BadRequest): Unable to find "/v1, Resource={kind.lower()}s" that match label selector "", field selector "{sel}": field label not supported: {key}'))
        equal = str(field_value(obj, key)) == value
        if equal != (op != "!="):
            return False
    return True


def split_path(expr: str) -> list[str]:
    """`.metadata.annotations.deployment\\.kubernetes\\.io/revision` -> segments (escaped dots kept)."""
    parts, buf, i = [], "", 0
    while i < len(expr):
        ch = expr[i]
        if ch == "\\" and i + 1 < len(expr):
            buf += expr[i + 1]
            i += 2
            continue
        if ch == ".":
            if buf:
                parts.append(buf)
            buf = ""
        elif ch == "[":
            if buf:
                parts.append(buf)
            end = expr.index("]", i)
            parts.append(expr[i : end + 1])
            buf = ""
            i = end
        else:
            buf += ch
        i += 1
    if buf:
        parts.append(buf)
    return parts


def jsonpath(template: str, data: Any) -> str:
    out: list[str] = []
    pos = 0
    for m in re.finditer(r"\{([^{}]*)\}", template):
        out.append(template[pos : m.start()])
        pos = m.end()
        expr = m.group(1).strip()
        if expr.startswith('"') and expr.endswith('"'):
            out.append(expr[1:-1].encode().decode("unicode_escape"))
            continue
        if not expr.startswith((".", "$")):
            raise KExit(1, lines(f'error: error parsing jsonpath {template}, unrecognized identifier {expr}'))
        values: list[Any] = [data]
        for seg in split_path(expr.lstrip("$")):
            nxt: list[Any] = []
            for v in values:
                if seg == "[*]":
                    nxt.extend(v if isinstance(v, list) else list(v.values()) if isinstance(v, dict) else [])
                elif seg.startswith("["):
                    idx = int(seg[1:-1])
                    if isinstance(v, list) and -len(v) <= idx < len(v):
                        nxt.append(v[idx])
                elif isinstance(v, dict) and seg in v:
                    nxt.append(v[seg])
            values = nxt
        out.append(" ".join(fmt_value(v) for v in values))
    out.append(template[pos:])
    return "".join(out)


def fmt_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


# --------------------------------------------------------------------------- commands


def resolve_target(pos: list[str], cmd: str) -> tuple[fs.KindInfo, str]:
    """`TYPE/NAME` or `TYPE NAME` -> (kind info, name)."""
    if len(pos) == 1 and "/" in pos[0]:
        type_, name = pos[0].split("/", 1)
    elif len(pos) == 2:
        type_, name = pos
    else:
        raise KExit(1, lines("error: required resource not specified", f"See 'kubectl {cmd} -h' for help and examples"))
    info = fs.kind_for_cli(type_)
    if info is None:
        raise KExit(1, lines(f'error: the server doesn\'t have a resource type "{type_}"'))
    return info, name


def cmd_get(state: fs.State, cluster: fs.State, ns: str, opts: Opts, pos: list[str]) -> Result:
    if not pos:
        raise KExit(1, lines('You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.',
                             "", "error: Required resource not specified."))
    if "/" in pos[0]:
        info, name = resolve_target(pos[:1], "get")
        names = [name] + pos[1:]
    else:
        found = fs.kind_for_cli(pos[0])
        if found is None:
            raise KExit(1, lines(f'error: the server doesn\'t have a resource type "{pos[0]}"'))
        info, names = found, pos[1:]
    output = last(opts, "output")
    valid = output is None or output in ("json", "yaml", "name", "wide") or output.startswith("jsonpath=")
    if not valid:
        raise KExit(1, lines(f'error: unable to match a printer suitable for the output format "{output}", allowed formats are: '
                             "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,"
                             "jsonpath-file,name,template,templatefile,wide,yaml"))
    # Collect candidates.
    if info.kind in ("Pod", "Event"):
        pods = derive_pods(state, cluster, ns)
        items = pods if info.kind == "Pod" else derive_events(pods)
    else:
        items = [render(state, cluster, rec) for key, rec in sorted(cluster["objects"].items())
                 if key.split("/", 2)[0] == info.kind and (not info.namespaced or key.split("/", 2)[1] == ns)]
    selector = last(opts, "selector")
    if selector is not None:
        reqs = parse_label_selector(selector)
        items = [o for o in items if labels_match(o["metadata"].get("labels") or {}, reqs)]
    field = last(opts, "field")
    if field is not None:
        items = [o for o in items if field_match(o, field, info.kind)]
    err = ""
    code = 0
    if names:
        by_name = {o["metadata"]["name"]: o for o in items}
        picked = []
        for n in names:
            if n in by_name:
                picked.append(by_name[n])
            else:
                err += f'Error from server (NotFound): {info.resource} "{n}" not found\n'
                code = 1
        items = picked
    single = len(names) == 1
    if output == "json" or output == "yaml" or (output or "").startswith("jsonpath="):
        if single and not items:
            return Result(code, "", err)
        doc: Any = items[0] if single else {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}
        if output == "json":
            text = json.dumps(doc, indent=4) + "\n"
        elif output == "yaml":
            text = yaml.safe_dump(doc, sort_keys=True)
        else:
            text = jsonpath(output.split("=", 1)[1], doc)  # type: ignore[union-attr]
        return Result(code, text, err)
    if not items:
        if not names:
            err += f"No resources found in {ns} namespace.\n" if info.namespaced else "No resources found\n"
        return Result(code, "", err)
    if output == "name":
        return Result(code, "".join(f"{info.ref}/{o['metadata']['name']}\n" for o in items), err)
    return Result(code, table(info.kind, items), err)


def table(kind: str, items: list[Obj]) -> str:
    rows: list[list[str]]
    if kind == "Deployment":
        rows = [["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]]
        for o in items:
            st, n = o["status"], o["spec"]["replicas"]
            rows.append([o["metadata"]["name"], f"{st.get('readyReplicas', 0)}/{n}", str(st.get("updatedReplicas", 0)),
                         str(st.get("availableReplicas", 0)), age(o["metadata"]["creationTimestamp"])])
    elif kind == "Pod":
        rows = [["NAME", "READY", "STATUS", "RESTARTS", "AGE"]]
        for o in items:
            ready, status, restarts = pod_status_text(o)
            rows.append([o["metadata"]["name"], ready, status, str(restarts), age(o["metadata"]["creationTimestamp"])])
    elif kind == "Event":
        rows = [["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]]
        for o in items:
            rows.append([age(o["lastTimestamp"]), o["type"], o["reason"],
                         f"pod/{o['involvedObject']['name']}", o["message"]])
    elif kind == "Namespace":
        rows = [["NAME", "STATUS", "AGE"]] + [[o["metadata"]["name"], "Active", age(o["metadata"]["creationTimestamp"])] for o in items]
    elif kind == "Job":
        rows = [["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]]
        for o in items:
            done = "succeeded" in o["status"]
            rows.append([o["metadata"]["name"], "Complete" if done else "Failed", "1/1" if done else "0/1", "5s",
                         age(o["metadata"]["creationTimestamp"])])
    else:
        rows = [["NAME", "AGE"]] + [[o["metadata"]["name"], age(o["metadata"]["creationTimestamp"])] for o in items]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n" for r in rows)


def load_documents(files: list[str]) -> list[tuple[str, Any]]:
    docs: list[tuple[str, Any]] = []
    for f in files:
        if f == "-":
            sources = [("STDIN", sys.stdin.read())]
        else:
            p = Path(f)
            if not p.exists():
                raise KExit(1, lines(f'error: the path "{f}" does not exist'))
            if p.is_dir():
                sources = [(str(c), c.read_text()) for c in sorted(p.iterdir())
                           if c.is_file() and c.suffix in (".yaml", ".yml", ".json")]
            else:
                sources = [(f, p.read_text())]
        for src, text in sources:
            try:
                loaded = [d for d in yaml.safe_load_all(text) if d is not None]
            except yaml.YAMLError as exc:
                problem = getattr(exc, "problem", str(exc))
                mark = getattr(exc, "problem_mark", None)
                where = f"line {mark.line + 1}: " if mark is not None else ""
                raise KExit(1, lines(f"error: error parsing {src}: error converting YAML to JSON: yaml: {where}{problem}"))
            for d in loaded:
                if isinstance(d, dict) and d.get("kind") == "List" and isinstance(d.get("items"), list):
                    docs.extend((src, item) for item in d["items"])
                else:
                    docs.append((src, d))
    return docs


def validate(cluster: fs.State, doc: Obj, existing: Obj | None, ns: str | None) -> str | None:
    """Server-side validation the product could trip over. Returns an error line or None."""
    kind, name = doc["kind"], doc["metadata"]["name"]
    spec = doc.get("spec") or {}
    if kind == "Deployment":
        match = (spec.get("selector") or {}).get("matchLabels")
        if not match:
            return f'The Deployment "{name}" is invalid: spec.selector: Required value'
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if any(labels.get(k) != v for k, v in match.items()):
            return (f'The Deployment "{name}" is invalid: spec.template.metadata.labels: Invalid value: '
                    f'map[string]string{{{", ".join(f"{k!r}:{v!r}" for k, v in labels.items())}}}: '
                    "`selector` does not match template `labels`").replace("'", '"')
        if not ((spec.get("template") or {}).get("spec") or {}).get("containers"):
            return f'The Deployment "{name}" is invalid: spec.template.spec.containers: Required value'
        if existing is not None:
            old = (existing["manifest"].get("spec") or {}).get("selector")
            if fs.canonical(old) != fs.canonical(spec.get("selector")):
                return f'The Deployment "{name}" is invalid: spec.selector: Invalid value: v1.LabelSelector{{...}}: field is immutable'
    if kind == "Job" and existing is not None:
        old_t = (existing["manifest"].get("spec") or {}).get("template")
        if fs.canonical(old_t) != fs.canonical(spec.get("template")):
            return f'The Job "{name}" is invalid: spec.template: Invalid value: core.PodTemplateSpec{{...}}: field is immutable'
    return None


def cmd_apply(state: fs.State, cluster: fs.State, ns_flag: str | None, opts: Opts, pos: list[str]) -> Result:
    if pos:
        raise KExit(1, lines(f"error: Unexpected args: {pos}", "See 'kubectl apply -h' for help and examples"))
    files = opts.get("filename")
    if not files:
        raise KExit(1, lines("error: must specify one of -f and -k"))
    docs = load_documents(files)
    if not docs:
        raise KExit(1, lines("error: no objects passed to apply"))
    out: list[str] = []
    errs: list[str] = []
    mutated = False
    for src, raw in docs:
        if not isinstance(raw, dict):
            raise KExit(1, lines(f"error: error parsing {src}: json: cannot unmarshal into Go value of type map[string]interface {{}}"))
        doc: Obj = copy.deepcopy(raw)
        missing = [f for f in ("apiVersion", "kind") if not doc.get(f)]
        if missing:
            raise KExit(1, lines(f'error: error validating "{src}": error validating data: [{", ".join(f + " not set" for f in missing)}]; '
                                 "if you choose to ignore these errors, turn validation off with --validate=false"))
        meta = doc.setdefault("metadata", {}) or {}
        doc["metadata"] = meta
        name = meta.get("name")
        kind, api_version = doc["kind"], doc["apiVersion"]
        info = fs.KINDS.get(kind)
        obj_ns = meta.get("namespace")
        if info is None or info.api_version != api_version or info.derived:
            errs.append(f'error: resource mapping not found for name: "{name}" namespace: "{obj_ns or ""}" from "{src}": '
                        f'no matches for kind "{kind}" in version "{api_version}"\nensure CRDs are installed first')
            continue
        if not name:
            errs.append(f'error: error when retrieving current configuration of:\nResource: "{info.resource}", GroupVersionKind: '
                        f'"{api_version}, Kind={kind}"\nName: "", Namespace: "{obj_ns or ""}"\nfrom server for: "{src}": '
                        "resource name may not be empty")
            continue
        ns: str | None = None
        if info.namespaced:
            if ns_flag and obj_ns and obj_ns != ns_flag:
                raise KExit(1, lines(f'error: the namespace from the provided object "{obj_ns}" does not match the namespace '
                                     f'"{ns_flag}". You must pass \'--namespace={obj_ns}\' to perform this operation.'))
            ns = obj_ns or ns_flag or "default"
            meta["namespace"] = ns
            if fs.obj_key("Namespace", None, ns) not in cluster["objects"]:
                errs.append(f'Error from server (NotFound): error when creating "{src}": namespaces "{ns}" not found')
                continue
        else:
            meta.pop("namespace", None)
        key = fs.obj_key(kind, ns, name)
        existing = cluster["objects"].get(key)
        problem = validate(cluster, doc, existing, ns)
        if problem:
            errs.append(problem)
            continue
        if existing is None:
            fs.store_object(cluster, doc, ns)
            out.append(f"{info.ref}/{name} created")
            mutated = True
        elif fs.canonical(existing["manifest"]) == fs.canonical(doc):
            out.append(f"{info.ref}/{name} unchanged")
        else:
            old = existing["manifest"]
            if fs.canonical(old.get("spec")) != fs.canonical(doc.get("spec")):
                existing["generation"] += 1
            if kind == "Deployment":
                old_t = (old.get("spec") or {}).get("template")
                new_t = (doc.get("spec") or {}).get("template")
                if fs.canonical(old_t) != fs.canonical(new_t):
                    fs.record_revision(cluster, ns or "default", name, new_t or {})
            existing["manifest"] = doc
            existing["last_applied"] = fs.canonical(doc)
            existing["resource_version"] = fs._next_rv(cluster)
            out.append(f"{info.ref}/{name} configured")
            mutated = True
    return Result(1 if errs else 0, lines(*out), lines(*errs), mutated)


def deployment_record(cluster: fs.State, ns: str, pos: list[str], cmd: str) -> tuple[Obj, str]:
    info, name = resolve_target(pos, cmd)
    if info.kind != "Deployment":
        raise KExit(1, lines(f"error: fake kubectl supports `{cmd}` only for deployments, got {info.kind}"))
    record = cluster["objects"].get(fs.obj_key("Deployment", ns, name))
    if record is None:
        raise not_found(info, name)
    return record, name


def cmd_rollout(state: fs.State, cluster: fs.State, ns: str, opts: Opts, pos: list[str]) -> Result:
    if not pos or pos[0] not in ("status", "undo"):
        raise UsageError(f'unknown command "{pos[0] if pos else ""}" for "kubectl rollout"')
    sub, rest = pos[0], pos[1:]
    if sub == "undo" and "timeout" in opts:
        raise UsageError("unknown flag: --timeout")
    if "timeout" in opts:
        check_duration("--timeout", last(opts, "timeout") or "")
    record, name = deployment_record(cluster, ns, rest, f"rollout {sub}")
    if sub == "status":
        if fs.deployment_failing(state, record["manifest"]):
            n = replicas_of(record["manifest"])
            return Result(1, f'Waiting for deployment "{name}" rollout to finish: 0 of {n} updated replicas are available...\n',
                          f'error: deployment "{name}" exceeded its progress deadline\n')
        return Result(0, f'deployment "{name}" successfully rolled out\n')
    hist = sorted(cluster["history"].get(f"{ns}/{name}", []), key=lambda h: h["revision"])
    if len(hist) < 2:
        raise KExit(1, lines(f'error: no rollout history found for deployment "{name}"'))
    previous = hist[-2]
    record["manifest"].setdefault("spec", {})["template"] = copy.deepcopy(previous["template"])
    record["generation"] += 1
    record["resource_version"] = fs._next_rv(cluster)
    fs.record_revision(cluster, ns, name, previous["template"])
    return Result(0, f"deployment.apps/{name} rolled back\n", mutating=True)


def cmd_logs(state: fs.State, cluster: fs.State, ns: str, opts: Opts, pos: list[str]) -> Result:
    tail_raw = last(opts, "tail")
    selector = last(opts, "selector")
    if tail_raw is not None and not re.fullmatch(r"-?\d+", tail_raw):
        raise UsageError(f'invalid argument "{tail_raw}" for "--tail" flag: strconv.ParseInt: parsing "{tail_raw}": invalid syntax')
    pods = derive_pods(state, cluster, ns)
    if selector is not None:
        if pos:
            raise KExit(1, lines("error: only one of a selector or a resource name may be specified"))
        reqs = parse_label_selector(selector)
        chosen = [p for p in pods if labels_match(p["metadata"]["labels"], reqs)]
        tail = int(tail_raw) if tail_raw is not None else 10  # kubectl defaults --tail to 10 with -l
        if not chosen:
            return Result(0, "", f"No resources found in {ns} namespace.\n")
    else:
        if len(pos) != 1:
            raise KExit(1, lines("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.",
                                 "POD or TYPE/NAME is a required argument for the logs command",
                                 "See 'kubectl logs -h' for help and examples"))
        target = pos[0].split("/", 1)[1] if pos[0].startswith(("pod/", "pods/", "po/")) else pos[0]
        chosen = [p for p in pods if p["metadata"]["name"] == target]
        if not chosen:
            raise KExit(1, lines(f'Error from server (NotFound): pods "{target}" not found'))
        tail = int(tail_raw) if tail_raw is not None else -1
    prefix = last(opts, "prefix") == "true"
    out: list[str] = []
    err = ""
    for pod in chosen:
        containers = [c["name"] for c in pod["status"]["containerStatuses"]]
        if not containers:
            continue
        if len(containers) > 1 and selector is None:
            err += f'Defaulted container "{containers[0]}" out of: {", ".join(containers)}\n'
        for c in containers if selector is not None else containers[:1]:
            logs = pod_logs(pod, c)
            if tail >= 0:
                logs = logs[-tail:] if tail else []
            out += [f"[pod/{pod['metadata']['name']}/{c}] {line}" if prefix else line for line in logs]
    return Result(0, lines(*out), err)


def cmd_delete(state: fs.State, cluster: fs.State, ns: str, opts: Opts, pos: list[str]) -> Result:
    info, name = resolve_target(pos, "delete")
    ignore = last(opts, "ignore") == "true"
    if info.derived:
        raise KExit(1, lines(f"error: fake kubectl does not support deleting {info.plural}"))
    if info.kind == "Namespace":
        if name in fs.UNDELETABLE_NAMESPACES:
            raise KExit(1, lines(f'Error from server (Forbidden): namespaces "{name}" is forbidden: this namespace may not be deleted'))
        if not fs.delete_namespace(cluster, name):
            if ignore:
                return Result(0)
            raise not_found(info, name)
        return Result(0, f'namespace "{name}" deleted\n', mutating=True)
    key = fs.obj_key(info.kind, ns if info.namespaced else None, name)
    if key not in cluster["objects"]:
        if ignore:
            return Result(0)
        raise not_found(info, name)
    del cluster["objects"][key]
    if info.kind == "Deployment":
        cluster["history"].pop(f"{ns}/{name}", None)
    suffix = f" from {ns} namespace" if info.namespaced else ""
    return Result(0, f'{info.ref} "{name}" deleted{suffix}\n', mutating=True)


def cmd_wait(state: fs.State, cluster: fs.State, ns: str, opts: Opts, pos: list[str]) -> Result:
    cond = last(opts, "for")
    if cond is None:
        raise KExit(1, lines("error: --for must be specified"))
    if "timeout" in opts:
        check_duration("--timeout", last(opts, "timeout") or "")
    m = re.fullmatch(r"condition=(\w+)(=(\w+))?", cond)
    if not m:
        raise KExit(1, lines(f'error: unrecognized condition: "{cond}"'))
    wanted = m.group(1).lower()
    info, name = resolve_target(pos, "wait")
    record = cluster["objects"].get(fs.obj_key(info.kind, ns if info.namespaced else None, name))
    if record is None:
        raise not_found(info, name)
    if info.kind == "Job" and wanted in ("complete", "failed"):
        met = job_failed(state, name) == (wanted == "failed")
    elif info.kind == "Deployment" and wanted in ("available", "progressing"):
        met = not fs.deployment_failing(state, record["manifest"])
    else:
        raise KExit(1, lines(f"error: fake kubectl does not model condition {wanted!r} on {info.plural}"))
    if met:
        return Result(0, f"{info.ref}/{name} condition met\n")
    return Result(1, "", f"error: timed out waiting for the condition on {info.plural}/{name}\n")


def cmd_port_forward(state: fs.State, cluster: fs.State, ns: str, opts: Opts, pos: list[str]) -> Result:
    if len(pos) < 2:
        raise KExit(1, lines("error: TYPE/NAME and list of ports are required for port-forward",
                             "See 'kubectl port-forward -h' for help and examples"))
    info, name = resolve_target(pos[:1], "port-forward")
    if info.kind not in ("Service", "Deployment", "Pod"):
        raise KExit(1, lines(f"error: cannot attach to {info.kind}: selector for {info.kind} not implemented"))
    if info.kind == "Pod":
        if not any(p["metadata"]["name"] == name for p in derive_pods(state, cluster, ns)):
            raise not_found(info, name)
    elif fs.obj_key(info.kind, ns, name) not in cluster["objects"]:
        raise not_found(info, name)
    out = []
    for spec in pos[1:]:
        m = re.fullmatch(r"(\d*):?(\d+)?", spec)
        if not m or not (m.group(1) or m.group(2)):
            raise KExit(1, lines(f'error: Error parsing local port \'{spec}\': strconv.ParseUint: parsing "{spec}": invalid syntax'))
        local = m.group(1) or m.group(2)
        remote = m.group(2) or m.group(1)
        out += [f"Forwarding from 127.0.0.1:{local} -> {remote}", f"Forwarding from [::1]:{local} -> {remote}"]
    return Result(0, lines(*out))


HANDLERS = {"get": cmd_get, "rollout": cmd_rollout, "logs": cmd_logs, "delete": cmd_delete, "wait": cmd_wait,
            "port-forward": cmd_port_forward}


def connect(state: fs.State, opts: Opts) -> fs.State:
    """Resolve the kube context like kubectl does, failing like it when the API server is down."""
    ctx = last(opts, "context")
    if ctx is not None and ctx not in state["clusters"]:
        raise KExit(1, lines(f'error: context "{ctx}" does not exist'))
    ctx = ctx or state.get("current_context")
    cluster: fs.State | None = state["clusters"].get(ctx) if ctx else None
    if cluster is None:
        raise KExit(1, lines("The connection to the server localhost:8080 was refused - did you specify the right host or port?"))
    if cluster["status"] != "Running":
        raise KExit(1, lines(CONNECTION_REFUSED))
    return cluster


def split_command(argv: list[str]) -> tuple[str | None, list[str]]:
    """Find the subcommand; only global flags may precede it (as with kubectl)."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-") and a != "-":
            name = a.partition("=")[0] if a.startswith("--") else a[:2]
            if name not in GLOBAL:
                raise UsageError(f"unknown flag: {name}" if a.startswith("--") else f"unknown shorthand flag: '{a[1]}' in {a}")
            i += 1 if ("=" in a or (not a.startswith("--") and len(a) > 2)) else 2
            continue
        return a, argv[:i] + argv[i + 1 :]
    return None, argv


def run(argv: list[str]) -> Result:
    command, rest = split_command(argv)
    if command is None:
        return Result(0, "kubectl controls the Kubernetes cluster manager.\n")
    if command not in COMMANDS:
        raise KExit(1, lines(f'error: unknown command "{command}" for "kubectl"'))
    try:
        opts, pos = parse_flags(rest, {**GLOBAL, **COMMANDS[command]})
    except UsageError as exc:
        raise KExit(1, lines(f"error: {exc}", f"See 'kubectl {command} --help' for usage."))
    ns_flag = last(opts, "namespace")
    ns = ns_flag or "default"
    sd = fs.state_dir()
    if command == "version":
        if pos:
            raise KExit(1, lines(f"error: unknown command {pos[0]!r} for \"kubectl version\""))
        client = f"Client Version: {CLIENT_VERSION}\nKustomize Version: v5.8.1\n"
        if last(opts, "client") == "true":
            return Result(0, client)
        with fs.transaction(sd) as state:
            cluster = connect(state, opts)
            return Result(0, client + f"Server Version: {cluster['kubernetes_version']}\n")
    try:
        with fs.transaction(sd) as state:
            cluster = connect(state, opts)
            if command == "apply":
                return cmd_apply(state, cluster, ns_flag, opts, pos)
            return HANDLERS[command](state, cluster, ns, opts, pos)
    except UsageError as exc:
        raise KExit(1, lines(f"error: {exc}", f"See 'kubectl {command} --help' for usage."))


def main() -> int:
    argv = sys.argv[1:]
    sd = fs.state_dir()
    try:
        command, _ = split_command(argv)
    except UsageError:
        command = None
    if command == "kustomize" or (command == "version" and "--client" in argv and find_real_kubectl()):
        code = delegate(argv)
        fs.log_call(sd, "kubectl", argv, False, code)
        return code
    try:
        res = run(argv)
    except UsageError as exc:
        res = Result(1, "", lines(f"error: {exc}", "See 'kubectl --help' for usage."))
    except KExit as exc:
        res = Result(exc.code, exc.stdout, exc.stderr)
    sys.stdout.write(res.out)
    sys.stdout.flush()
    sys.stderr.write(res.err)
    fs.log_call(sd, "kubectl", argv, res.mutating, res.code)
    return res.code


if __name__ == "__main__":
    sys.exit(main())
