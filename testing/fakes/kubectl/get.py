"""Fake kubectl: `get` (tables, -o json|yaml|jsonpath|name, selectors)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from testing.fakes import k8sstate as fs
from testing.fakes.cli import Opts, last
from testing.fakes.kubectl.common import KExit, Obj, Result, lines
from testing.fakes.kubectl.select import field_match, jsonpath, labels_match, parse_label_selector
from testing.fakes.kubectl.workloads import age, derive_events, derive_pods, pod_status_text, render

# --------------------------------------------------------------------------- commands


def resolve_target(pos: list[str], cmd: str) -> tuple[fs.KindInfo, str]:
    """`TYPE/NAME` or `TYPE NAME` -> (kind info, name)."""
    if len(pos) == 1 and "/" in pos[0]:
        type_, name = pos[0].split("/", 1)
    elif len(pos) == 2:
        type_, name = pos
    else:
        raise KExit(
            1,
            lines("error: required resource not specified", f"See 'kubectl {cmd} -h' for help and examples"),
        )
    info = fs.kind_for_cli(type_)
    if info is None:
        raise KExit(1, lines(f'error: the server doesn\'t have a resource type "{type_}"'))
    return info, name


def cmd_get(state: fs.State, cluster: fs.State, ns: str, opts: Opts, pos: list[str]) -> Result:
    if not pos:
        raise KExit(
            1,
            lines(
                "You must specify the type of resource to get. "
                'Use "kubectl api-resources" for a complete list of supported resources.',
                "",
                "error: Required resource not specified.",
            ),
        )
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
        raise KExit(
            1,
            lines(
                "error: unable to match a printer suitable for the output format "
                f'"{output}", allowed formats are: '
                "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,"
                "jsonpath-file,name,template,templatefile,wide,yaml"
            ),
        )
    # Collect candidates.
    if info.kind in ("Pod", "Event"):
        pods = derive_pods(state, cluster, ns)
        items = pods if info.kind == "Pod" else derive_events(pods)
    else:
        items = [
            render(state, cluster, rec)
            for key, rec in sorted(cluster["objects"].items())
            if key.split("/", 2)[0] == info.kind and (not info.namespaced or key.split("/", 2)[1] == ns)
        ]
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
        doc: Any = (
            items[0]
            if single
            else {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}
        )
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
            rows.append(
                [
                    o["metadata"]["name"],
                    f"{st.get('readyReplicas', 0)}/{n}",
                    str(st.get("updatedReplicas", 0)),
                    str(st.get("availableReplicas", 0)),
                    age(o["metadata"]["creationTimestamp"]),
                ]
            )
    elif kind == "Pod":
        rows = [["NAME", "READY", "STATUS", "RESTARTS", "AGE"]]
        for o in items:
            ready, status, restarts = pod_status_text(o)
            rows.append(
                [o["metadata"]["name"], ready, status, str(restarts), age(o["metadata"]["creationTimestamp"])]
            )
    elif kind == "Event":
        rows = [["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]]
        for o in items:
            rows.append(
                [
                    age(o["lastTimestamp"]),
                    o["type"],
                    o["reason"],
                    f"pod/{o['involvedObject']['name']}",
                    o["message"],
                ]
            )
    elif kind == "Namespace":
        rows = [["NAME", "STATUS", "AGE"]] + [
            [o["metadata"]["name"], "Active", age(o["metadata"]["creationTimestamp"])] for o in items
        ]
    elif kind == "Job":
        rows = [["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]]
        for o in items:
            done = "succeeded" in o["status"]
            rows.append(
                [
                    o["metadata"]["name"],
                    "Complete" if done else "Failed",
                    "1/1" if done else "0/1",
                    "5s",
                    age(o["metadata"]["creationTimestamp"]),
                ]
            )
    else:
        rows = [["NAME", "AGE"]] + [
            [o["metadata"]["name"], age(o["metadata"]["creationTimestamp"])] for o in items
        ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join(
        "   ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() + "\n" for r in rows
    )
