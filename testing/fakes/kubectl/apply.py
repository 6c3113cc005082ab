"""Fake kubectl: `apply -f` with the server-side checks stackbuild relies on."""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

from testing.fakes import k8sstate as fs
from testing.fakes.cli import Opts
from testing.fakes.kubectl.common import KExit, Obj, Result, lines


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
                sources = [
                    (str(c), c.read_text())
                    for c in sorted(p.iterdir())
                    if c.is_file() and c.suffix in (".yaml", ".yml", ".json")
                ]
            else:
                sources = [(f, p.read_text())]
        for src, text in sources:
            try:
                loaded = [d for d in yaml.safe_load_all(text) if d is not None]
            except yaml.YAMLError as exc:
                problem = getattr(exc, "problem", str(exc))
                mark = getattr(exc, "problem_mark", None)
                where = f"line {mark.line + 1}: " if mark is not None else ""
                raise KExit(
                    1,
                    lines(
                        f"error: error parsing {src}: error converting YAML to JSON: yaml: {where}{problem}"
                    ),
                ) from exc
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
            return (
                f'The Deployment "{name}" is invalid: spec.template.metadata.labels: Invalid value: '
                f"map[string]string{{{', '.join(f'{k!r}:{v!r}' for k, v in labels.items())}}}: "
                "`selector` does not match template `labels`"
            ).replace("'", '"')
        if not ((spec.get("template") or {}).get("spec") or {}).get("containers"):
            return f'The Deployment "{name}" is invalid: spec.template.spec.containers: Required value'
        if existing is not None:
            old = (existing["manifest"].get("spec") or {}).get("selector")
            if fs.canonical(old) != fs.canonical(spec.get("selector")):
                return (
                    f'The Deployment "{name}" is invalid: spec.selector: '
                    "Invalid value: v1.LabelSelector{...}: field is immutable"
                )
    if kind == "Job" and existing is not None:
        old_t = (existing["manifest"].get("spec") or {}).get("template")
        if fs.canonical(old_t) != fs.canonical(spec.get("template")):
            return (
                f'The Job "{name}" is invalid: spec.template: '
                "Invalid value: core.PodTemplateSpec{...}: field is immutable"
            )
    return None


def cmd_apply(state: fs.State, cluster: fs.State, ns_flag: str | None, opts: Opts, pos: list[str]) -> Result:
    if pos:
        raise KExit(
            1, lines(f"error: Unexpected args: {pos}", "See 'kubectl apply -h' for help and examples")
        )
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
            raise KExit(
                1,
                lines(
                    f"error: error parsing {src}: json: cannot unmarshal into Go value of type "
                    "map[string]interface {}"
                ),
            )
        doc: Obj = copy.deepcopy(raw)
        missing = [f for f in ("apiVersion", "kind") if not doc.get(f)]
        if missing:
            raise KExit(
                1,
                lines(
                    f'error: error validating "{src}": error validating data: '
                    f"[{', '.join(f + ' not set' for f in missing)}]; "
                    "if you choose to ignore these errors, turn validation off with --validate=false"
                ),
            )
        meta = doc.setdefault("metadata", {}) or {}
        doc["metadata"] = meta
        name = meta.get("name")
        kind, api_version = doc["kind"], doc["apiVersion"]
        info = fs.KINDS.get(kind)
        obj_ns = meta.get("namespace")
        if info is None or info.api_version != api_version or info.derived:
            errs.append(
                f'error: resource mapping not found for name: "{name}" '
                f'namespace: "{obj_ns or ""}" from "{src}": '
                f'no matches for kind "{kind}" in version "{api_version}"\nensure CRDs are installed first'
            )
            continue
        if not name:
            errs.append(
                "error: error when retrieving current configuration of:\n"
                f'Resource: "{info.resource}", GroupVersionKind: "{api_version}, Kind={kind}"\n'
                f'Name: "", Namespace: "{obj_ns or ""}"\nfrom server for: "{src}": '
                "resource name may not be empty"
            )
            continue
        ns: str | None = None
        if info.namespaced:
            if ns_flag and obj_ns and obj_ns != ns_flag:
                raise KExit(
                    1,
                    lines(
                        f'error: the namespace from the provided object "{obj_ns}" '
                        f'does not match the namespace "{ns_flag}". '
                        f"You must pass '--namespace={obj_ns}' to perform this operation."
                    ),
                )
            ns = obj_ns or ns_flag or "default"
            meta["namespace"] = ns
            if fs.obj_key("Namespace", None, ns) not in cluster["objects"]:
                errs.append(
                    f'Error from server (NotFound): error when creating "{src}": namespaces "{ns}" not found'
                )
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
