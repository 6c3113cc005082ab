"""Fake kubectl: label and field selectors, and the JSONPath subset stackbuild uses."""

from __future__ import annotations

import json
import re
from typing import Any

from testing.fakes.kubectl.common import KExit, Obj, lines

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
            raise KExit(
                1,
                lines(
                    f"error: unable to parse requirement: found '{part}', "
                    "expected: '=', '!=', '==', 'in', notin'"
                ),
            )
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
        allowed |= {
            "involvedObject.name",
            "involvedObject.kind",
            "involvedObject.namespace",
            "type",
            "reason",
        }
    for part in filter(None, sel.split(",")):
        m = re.fullmatch(r"([A-Za-z.]+)\s*(==|!=|=)\s*(.*)", part)
        if not m:
            raise KExit(
                1,
                lines(
                    f"Error from server (BadRequest): invalid selector: '{sel}'; can't understand '{part}'"
                ),
            )
        key, op, value = m.groups()
        if key not in allowed:
            raise KExit(
                1,
                lines(
                    "Error from server (BadRequest): "
                    f'Unable to find "/v1, Resource={kind.lower()}s" that match label selector "", '
                    f'field selector "{sel}": field label not supported: {key}'
                ),
            )
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
            raise KExit(1, lines(f"error: error parsing jsonpath {template}, unrecognized identifier {expr}"))
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
