"""Fake kubectl: `rollout`, `logs`, `delete`, `wait`, `port-forward`."""

from __future__ import annotations

import copy
import re

from testing.fakes import k8sstate as fs
from testing.fakes.cli import Opts, UsageError, check_duration, last
from testing.fakes.kubectl.common import KExit, Obj, Result, lines, not_found
from testing.fakes.kubectl.get import resolve_target
from testing.fakes.kubectl.select import labels_match, parse_label_selector
from testing.fakes.kubectl.workloads import derive_pods, job_failed, pod_logs, replicas_of


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
            return Result(
                1,
                f'Waiting for deployment "{name}" rollout to finish: '
                f"0 of {n} updated replicas are available...\n",
                f'error: deployment "{name}" exceeded its progress deadline\n',
            )
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
        raise UsageError(
            f'invalid argument "{tail_raw}" for "--tail" flag: '
            f'strconv.ParseInt: parsing "{tail_raw}": invalid syntax'
        )
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
            raise KExit(
                1,
                lines(
                    "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.",
                    "POD or TYPE/NAME is a required argument for the logs command",
                    "See 'kubectl logs -h' for help and examples",
                ),
            )
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
            raise KExit(
                1,
                lines(
                    f'Error from server (Forbidden): namespaces "{name}" is forbidden: '
                    "this namespace may not be deleted"
                ),
            )
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
        raise KExit(
            1,
            lines(
                "error: TYPE/NAME and list of ports are required for port-forward",
                "See 'kubectl port-forward -h' for help and examples",
            ),
        )
    info, name = resolve_target(pos[:1], "port-forward")
    if info.kind not in ("Service", "Deployment", "Pod"):
        raise KExit(
            1, lines(f"error: cannot attach to {info.kind}: selector for {info.kind} not implemented")
        )
    if info.kind == "Pod":
        if not any(p["metadata"]["name"] == name for p in derive_pods(state, cluster, ns)):
            raise not_found(info, name)
    elif fs.obj_key(info.kind, ns, name) not in cluster["objects"]:
        raise not_found(info, name)
    out = []
    for spec in pos[1:]:
        m = re.fullmatch(r"(\d*):?(\d+)?", spec)
        if not m or not (m.group(1) or m.group(2)):
            raise KExit(
                1,
                lines(
                    f"error: Error parsing local port '{spec}': "
                    f'strconv.ParseUint: parsing "{spec}": invalid syntax'
                ),
            )
        local = m.group(1) or m.group(2)
        remote = m.group(2) or m.group(1)
        out += [
            f"Forwarding from 127.0.0.1:{local} -> {remote}",
            f"Forwarding from [::1]:{local} -> {remote}",
        ]
    return Result(0, lines(*out))
