"""How an overlay splits into slices that kustomize can build apart: pure, no program runs.

`kubectl kustomize` is quadratic in what it builds (its resource id matching, and each
`images:` entry walking every document), so validation builds an overlay in slices of about
SLICE_SIZE services, each a scratch kustomization holding its share of the base, the
overlay's own keys, the patches that name its resources and the `images:` entries its files
mention. A plan is only made when the slices must build the same documents as the whole: an
overlay that uses anything not understood here (generators, name prefixes, replacements, any
transformer but an unset-only NamespaceTransformer, patches whose target is not one named
resource, remote or nested bases, components that do more than add files) gets no plan, and
is built whole. Without a generator, prefix or replacement no name changes, so kustomize
rewrites no reference from one resource to another; the references it still touches (a
binding's subjects, a webhook's service, which take the namespace of what they name) and two
resources with one id stay in one slice.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tasks.ops import kyaml

# Groups a slice, on average: a group is mostly one service's resources (they share its
# name), so about 40 of a generated stack's base files (docs/benchmarks.md).
SLICE_SIZE = 40
KUSTOMIZATION = "kustomization.yaml"
OVERLAY_KEYS = {
    "apiVersion",
    "kind",
    "namespace",
    "transformers",
    "resources",
    "components",
    "patches",
    "images",
}
# The one transformer a slice may carry: the namespace, set on each object that names none
# (`unsetOnly`), binding subjects untouched. It changes each object alone, so every slice
# carries it as the whole overlay does (an overlay with the logging component uses it).
NAMESPACE_TRANSFORMER = {"apiVersion", "kind", "metadata", "unsetOnly", "setRoleBindingSubjects"}
BASE_KEYS = {"apiVersion", "kind", "namespace", "resources"}
COMPONENT_KEYS = {"apiVersion", "kind", "resources"}
PATCH_KEYS = {"path", "patch", "target"}
TARGET_KEYS = {"group", "version", "kind", "name"}
# Kinds holding the namespace of an object they name, which kustomize sets from that object.
NAMESPACE_REFERRERS = {
    "RoleBinding",
    "ClusterRoleBinding",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "APIService",
}
# libyaml when PyYAML has it: the plan reads every resource file of the overlay.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # a name that is no regular expression
_SEPARATOR = re.compile(rb"^---[ \t]*$", re.MULTILINE)
_UNSAFE = re.compile(r"[^a-z0-9._-]")
_FILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*")


class Whole(Exception):
    """The overlay cannot be sliced safely: build it whole (the reason says why)."""


@dataclass
class Unit:
    """One resource (a document of a resource file): where its file goes in a slice (`place`:
    "" the overlay, "base<i>" or "component<i>"), its bytes, its id, and the names a
    NAMESPACE_REFERRERS document names."""

    place: str
    data: bytes
    kind: str
    name: str
    names: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Plan:
    """Each slice as the files of its scratch folder (relative path -> bytes)."""

    slices: list[dict[str, bytes]]


def _yaml(data: bytes, what: str) -> list[Any]:
    try:
        return [d for d in yaml.load_all(data, Loader=_LOADER) if d is not None]
    except yaml.YAMLError as exc:
        raise Whole(f"{what} is not YAML: {exc}") from None


def _kustomization(folder: Path, keys: set[str]) -> dict[str, Any]:
    path = folder / KUSTOMIZATION
    try:
        docs = _yaml(path.read_bytes(), str(path))
    except OSError:
        raise Whole(f"{path} cannot be read") from None
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise Whole(f"{path} is not one mapping")
    extra = set(docs[0]) - keys
    if extra:
        raise Whole(f"{path} uses {', '.join(sorted(extra))}")
    return docs[0]


def _files(entries: Any, what: str) -> list[str]:
    if not isinstance(entries, list) or not all(isinstance(e, str) and _FILE.fullmatch(e) for e in entries):
        raise Whole(f"{what}: an entry is not a file in its folder")
    return list(entries)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        raise Whole(f"{path} cannot be read") from None


def _units_of(place: str, path: Path) -> list[Unit]:
    """The resources of one file, one unit a document: kustomize reads a file as its
    documents, so the documents of one file may go to different slices."""
    units = []
    for chunk in _SEPARATOR.split(_read(path)):
        docs = _yaml(chunk, str(path))
        if not docs:
            continue
        doc = docs[0]
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        if len(docs) > 1 or not isinstance(meta, dict) or not isinstance(doc.get("kind"), str):
            raise Whole(f"{path}: a document has no kind or metadata")
        if doc["kind"].endswith("List"):  # kustomize builds its items: their ids are inside
            raise Whole(f"{path}: a {doc['kind']} of resources")
        unit = Unit(place, _body(chunk), doc["kind"], str(meta.get("name")))
        if unit.kind in NAMESPACE_REFERRERS:
            unit.names = _strings(doc)
        units.append(unit)
    return units


def _body(chunk: bytes) -> bytes:
    """A document without the comment lines before it: a file's header belongs to whichever
    document comes first, and a new first document must not change the bytes (and the
    slice) of the one it pushed down. Comments do not reach kustomize's output."""
    lines = chunk.strip(b"\n").split(b"\n")
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith(b"#")):
        lines.pop(0)
    return b"\n".join(lines) + b"\n"


def _strings(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {s for v in value.values() for s in _strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    return {value} if isinstance(value, str) else set()


Kusts = dict[str, dict[str, Any]]  # the kustomization of each base and component, by its place


def _units(overlay: Path, kust: dict[str, Any]) -> tuple[list[Unit], list[list[int]], Kusts]:
    """The resource files, the groups that must stay together (components), and the
    kustomization of each base and component by its place."""
    units: list[Unit] = []
    groups: list[list[int]] = []
    kusts: Kusts = {}
    for entry in kust.get("resources") or []:
        if not isinstance(entry, str) or not _FILE.fullmatch(entry.replace("../", "")):
            raise Whole(f"{overlay}: resource {entry!r} is not a file or a local folder")
        if (overlay / entry).is_dir():
            place = f"base{len(kusts)}"
            kusts[place] = base = _kustomization(overlay / entry, BASE_KEYS)
            files = _files(base.get("resources") or [], str(overlay / entry))
            units += [u for f in files for u in _units_of(place, overlay / entry / f)]
        elif "/" in entry:
            raise Whole(f"{overlay}: resource {entry} is outside the overlay's folder")
        else:
            units += _units_of("", overlay / entry)
    for i, entry in enumerate(kust.get("components") or []):
        folder = overlay / str(entry)
        place = f"component{i}"
        kusts[place] = comp = _kustomization(folder, COMPONENT_KEYS)
        files = _files(comp.get("resources") or [], str(folder))
        added = [u for f in files for u in _units_of(place, folder / f)]
        groups.append(list(range(len(units), len(units) + len(added))))
        units += added
    return units, groups, kusts


def _only_namespace_transformers(overlay: Path, entries: Any) -> None:
    """Each transformer is an inline NamespaceTransformer for unset namespaces only."""
    for entry in entries or []:
        docs = _yaml(entry.encode(), f"{overlay}: a transformer") if isinstance(entry, str) else []
        spec = docs[0] if len(docs) == 1 and isinstance(docs[0], dict) else {}
        if not (
            set(spec) <= NAMESPACE_TRANSFORMER
            and (spec.get("apiVersion"), spec.get("kind")) == ("builtin", "NamespaceTransformer")
            and spec.get("unsetOnly") is True
            and spec.get("setRoleBindingSubjects") == "none"
        ):
            raise Whole(f"{overlay}/{KUSTOMIZATION} uses transformers")


def _matches(units: list[Unit], kind: str, name: str) -> list[int]:
    return [i for i, u in enumerate(units) if (u.kind, u.name) == (kind, name)]


def _patch_targets(overlay: Path, entry: Any, units: list[Unit]) -> tuple[list[int], bytes]:
    """The units a patch entry applies to, and the patch's bytes (for the images it names)."""
    if not isinstance(entry, dict) or set(entry) - PATCH_KEYS or ("path" in entry) == ("patch" in entry):
        raise Whole(f"{overlay}: a patch is not one `path:` or `patch:` (with an optional target)")
    if "path" in entry:
        path = str(entry["path"])
        if "/" in path or not _FILE.fullmatch(path):
            raise Whole(f"{overlay}: patch {path} is outside the overlay's folder")
        data = _read(overlay / path)
    else:
        data = str(entry["patch"]).encode()
    docs = _yaml(data, f"{overlay}: a patch")
    if not docs:
        raise Whole(f"{overlay}: a patch is empty")
    if "target" in entry:
        return _targeted(overlay, entry["target"], docs, units), data
    hits: list[int] = []
    for doc in docs:
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        if not isinstance(meta, dict) or not isinstance(doc.get("kind"), str):
            raise Whole(f"{overlay}: a patch names no kind and name")
        found = _matches(units, doc["kind"], str(meta.get("name")))
        if not found:
            raise Whole(f"{overlay}: a patch matches no resource ({doc['kind']} {meta.get('name')})")
        hits += found
    return hits, data


def _targeted(overlay: Path, target: Any, docs: list[Any], units: list[Unit]) -> list[int]:
    plain = isinstance(target, dict) and not set(target) - TARGET_KEYS
    named = plain and all(_PLAIN.fullmatch(str(target.get(k, ""))) for k in ("kind", "name"))
    if not named:
        raise Whole(f"{overlay}: a patch's target is not one kind and one plain name")
    ops = docs[0] if len(docs) == 1 else None
    # A name changed by a patch would make kustomize rewrite references in other slices.
    paths = [str(op.get("path")) if isinstance(op, dict) else "/metadata" for op in ops or [None]]
    renames = not isinstance(ops, list) or any(p.startswith("/metadata") for p in paths)
    if renames:
        raise Whole(f"{overlay}: a targeted patch is not a JSON patch leaving metadata alone")
    found = _matches(units, target["kind"], target["name"])
    if not found:
        raise Whole(f"{overlay}: a patch's target matches no resource")
    return found


def plan(overlay: Path, *, size: int = SLICE_SIZE) -> Plan:
    """The slices of the overlay in `overlay`, of about `size` groups of resources each (one
    name's resources, or what must stay together); raises Whole when it must be built whole."""
    kust = _kustomization(overlay, OVERLAY_KEYS)
    _only_namespace_transformers(overlay, kust.get("transformers"))
    units, groups, kusts = _units(overlay, kust)
    entries = list(kust.get("patches") or [])
    patches = [_patch_targets(overlay, e, units) for e in entries]
    parent = list(range(len(units)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(members: list[int]) -> None:
        for m in members[1:]:
            parent[root(m)] = root(members[0])

    for members in [*groups, *(hits for hits, _ in patches), *_shared(units)]:
        if members:
            join(members)
    result = Plan([])
    for members in _pack([root(i) for i in range(len(units))], units, size):
        mine = {root(i) for i in members}
        routed = [(e, d) for e, (hits, d) in zip(entries, patches, strict=True) if root(hits[0]) in mine]
        result.slices.append(_slice(kust, kusts, [units[i] for i in members], routed))
    return result


def _shared(units: list[Unit]) -> list[list[int]]:
    """Units that must share a slice: those of one name (one id twice is an error kustomize
    must see; the others are what one service is made of, so a change to it rebuilds one
    slice), and a namespace referrer with what it names."""
    by_name: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        by_name.setdefault(unit.name, []).append(i)
    referrers = [[i, *(j for n in unit.names for j in by_name.get(n, []))] for i, unit in enumerate(units)]
    return [*by_name.values(), *referrers]


def _pack(roots: list[int], units: list[Unit], size: int) -> list[list[int]]:
    """Groups in file order, a slice ending after each group whose name's hash is 0 modulo
    `size`: about `size` groups a slice, and the cuts depend on names alone, so a group that
    gains or loses a resource (a disruption budget with its replicas) moves no other one."""
    groups: dict[int, list[int]] = {}
    for i, r in enumerate(roots):
        groups.setdefault(r, []).append(i)
    slices: list[list[int]] = [[]]
    for members in groups.values():
        slices[-1] += members
        digest = hashlib.sha256(units[members[0]].name.encode()).digest()
        if int.from_bytes(digest[:4], "big") % size == 0:
            slices.append([])
    return [s for s in slices if s]


def _slice(
    kust: dict[str, Any], kusts: Kusts, chosen: list[Unit], routed: list[tuple[Any, bytes]]
) -> dict[str, bytes]:
    """The files of one slice's folder: its resources, one file each, under the place they
    came from, each base's and component's kustomization, the overlay's, its patches."""
    files: dict[str, bytes] = {}
    listed: dict[str, list[str]] = {}
    for unit in chosen:
        stem = _UNSAFE.sub("_", f"{unit.kind}-{unit.name}".lower())
        folder = f"{unit.place}/" if unit.place else ""
        taken = listed.setdefault(unit.place, [])
        path = f"{stem}.yaml"
        if path in taken:  # one kind and name twice: kustomize's error must reach the user
            path = f"{stem}.{len(taken)}.yaml"
        taken.append(path)
        files[folder + path] = unit.data
    places = sorted(p for p in listed if p)
    for place in places:
        files[f"{place}/{KUSTOMIZATION}"] = _dump(dict(kusts[place], resources=listed[place]))
    text = b"\n".join([*files.values(), *(data for _, data in routed)])
    top = dict(kust)
    top["resources"] = [p for p in places if p.startswith("base")] + listed.get("", [])
    top["components"] = [p for p in places if p.startswith("component")]
    top["patches"] = [entry for entry, _ in routed]
    top["images"] = [e for e in kust.get("images") or [] if named_in(e, text)]
    for entry, data in routed:
        if "path" in entry:
            files[str(entry["path"])] = data
    files[KUSTOMIZATION] = _dump({k: v for k, v in top.items() if v or k not in OVERLAY_KEYS - BASE_KEYS})
    return files


def named_in(entry: Any, text: bytes) -> bool:
    # A superset: an entry for a name no container uses changes nothing, one missing would.
    name = entry.get("name") if isinstance(entry, dict) else None
    return not isinstance(name, str) or name.encode() in text


def _dump(data: dict[str, Any]) -> bytes:
    return kyaml.dump(data).encode()
