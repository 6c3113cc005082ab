"""Custom resources validated strictly against the CRD schemas shipped in schemas/crds/.

kubernetes-validate knows only Kubernetes' own kinds: it warns about any other and lets it
pass. Here a document of a custom group we ship schemas for (External Secrets Operator,
Prometheus Operator) is judged against its CRD's openAPIV3Schema, with every object closed
(an unknown field is an error, as `kubectl apply --validate=strict` would say), and a kind or
version of such a group with no shipped schema is an error too, never skipped. Where the
schemas come from: schemas/crds/README.md.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from tasks.errors import StackError
from tasks.store import paths

FOLDER = "schemas/crds"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def folder() -> Path:
    return paths.TOOL / FOLDER


def schema_files() -> list[str]:
    """The shipped schema files (what a check of custom resources depends on)."""
    return [str(path) for path in sorted(folder().glob("*.json"))]


@functools.cache
def shipped() -> dict[tuple[str, str], Path]:
    """(apiVersion, kind) -> its schema file, from the file names `<group>_<kind>_<version>.json`."""
    out: dict[tuple[str, str], Path] = {}
    for path in sorted(folder().glob("*.json")):
        group, kind, version = path.stem.split("_")
        out[(f"{group}/{version}", kind)] = path
    return out


@functools.cache
def fingerprint() -> str:
    """A hash of every shipped schema: part of a document's validation key, so a schema update
    checks again the custom resources that passed against the old one."""
    digest = hashlib.sha256()
    for path in sorted(folder().glob("*.json")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def groups() -> set[str]:
    return {api.partition("/")[0] for api, _ in shipped()}


def is_custom(doc: dict[str, Any]) -> bool:
    """A document of a group whose schemas ship here (whatever its kind or version)."""
    return str(doc.get("apiVersion", "")).partition("/")[0] in groups()


def closed(schema: Any) -> Any:
    """The schema with every object that lists its properties closed to others, except where
    the CRD keeps unknown fields on purpose (x-kubernetes-preserve-unknown-fields)."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: closed(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@functools.cache
def _validator(path: Path) -> Any:
    # Imported when a custom resource is checked, not when the tasks load.
    import jsonschema  # type: ignore[import-untyped]

    schema = closed(json.loads(path.read_text(encoding="utf-8")))
    # The top level always has these three, whatever the CRD says of them.
    schema["properties"] = {**schema.get("properties", {}), "metadata": METADATA}
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
    return jsonschema.Draft7Validator(schema)


# ObjectMeta as a manifest may write it; the API server fills in the rest.
METADATA = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 253},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def problems(doc: dict[str, Any]) -> list[str]:
    """What is wrong with one custom resource ([]: it is valid)."""
    api, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
    name = (doc.get("metadata") or {}).get("name", "?") if isinstance(doc.get("metadata"), dict) else "?"
    where = f"{kind} {name} ({api})"
    path = shipped().get((api, kind))
    if path is None:
        known = ", ".join(
            f"{k} {a}" for a, k in sorted(shipped()) if a.partition("/")[0] == api.partition("/")[0]
        )
        return [f"{where}: no schema for this kind and version is shipped in {FOLDER} (shipped: {known})"]
    found = sorted(_validator(path).iter_errors(doc), key=lambda e: list(e.absolute_path))
    return [f"{where}: {'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in found]


def native(docs: list[str], where: str) -> list[str]:
    """The documents that are Kubernetes' own kinds, for kubernetes-validate; every custom
    resource among `docs` is judged here first, and StackError names each problem."""
    out: list[str] = []
    found: list[str] = []
    for text in docs:
        doc = yaml.load(text, Loader=LOADER)
        if isinstance(doc, dict) and is_custom(doc):
            found += problems(doc)
        else:
            out.append(text)
    if found:
        raise StackError(
            f"{where} has custom resources their CRD schemas refuse:\n"
            + "\n".join(f"  - {p}" for p in found),
            fix="run `doit render` (k8s/ is generated: it rewrites a hand edit); if the problem stays, "
            "it is the tool's templates/k8s/: please report it",
        )
    return out
