"""A small declarative schema: types, unknown keys with "did you mean", value checks.

Kept in-house (not pydantic) because the error text is the interface: every problem
must name the file, the key path and the line, in one consistent trail.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tasks.config.yamlpos import KeyPath, Located, dotted
from tasks.errors import ConfigError

# A check returns None when the value is fine, else (problem, fix).
Check = Callable[[Any], "tuple[str, str] | None"]

DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# Kubernetes accepts at most millicore precision; '0.5m' or '0.0001' would be rejected late.
CPU = re.compile(r"^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$")
MEMORY = re.compile(r"^[0-9]+(Ki|Mi|Gi|Ti|K|M|G|T)?$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Every string that ends up in YAML, a shell line or a path is one line of printable text.
_UNSAFE_TEXT = re.compile(r"[\x00-\x1f\x7f]")
MAX_TEXT = 4096


def dns_label(value: Any) -> tuple[str, str] | None:
    if isinstance(value, str) and len(value) <= 63 and DNS1123.match(value):
        return None
    return (
        f"{value!r} is not a valid DNS-1123 label",
        "use at most 63 lowercase letters, digits and '-', starting and ending alphanumeric",
    )


def port(value: Any) -> tuple[str, str] | None:
    if 1 <= value <= 65535:
        return None
    return f"port {value} is out of range", "use a port between 1 and 65535"


def safe_text(value: Any) -> tuple[str, str] | None:
    """One line of text: a newline would inject keys into rendered YAML."""
    if _UNSAFE_TEXT.search(value):
        return f"{value!r} contains a line break or control character", "write it on one line"
    if len(value) > MAX_TEXT:
        return f"the text is {len(value)} characters long", f"keep it under {MAX_TEXT}"
    return None


def pattern(regex: str, what: str, example: str) -> Check:
    """A typed string: `what` names the type in the message, `example` shows a valid one."""
    compiled = re.compile(regex)

    def check(value: Any) -> tuple[str, str] | None:
        if compiled.fullmatch(str(value)):
            return None
        return f"{value!r} is not a valid {what}", f"write it like {example}"

    return check


def env_var(value: Any) -> tuple[str, str] | None:
    if isinstance(value, str) and ENV_NAME.match(value):
        return None
    return f"{value!r} is not a valid environment variable name", "use letters, digits and '_'"


def cidr(value: Any) -> tuple[str, str] | None:
    try:
        net = ipaddress.ip_network(str(value), strict=True)
    except ValueError as exc:
        return f"{value!r} is not a valid IPv4 CIDR block ({exc})", "write it like 10.20.0.0/16"
    if net.version != 4:
        return f"{value!r} is not an IPv4 CIDR block", "write it like 10.20.0.0/16"
    return None


def at_least(n: int) -> Check:
    return lambda v: None if v >= n else (f"{v} is less than {n}", f"use {n} or more")


def between(low: int, high: int) -> Check:
    return lambda v: (
        None
        if low <= v <= high
        else (f"{v} is not between {low} and {high}", f"use a value from {low} to {high}")
    )


def quantity(pattern: re.Pattern[str], example: str) -> Check:
    def check(value: Any) -> tuple[str, str] | None:
        if pattern.match(str(value)):
            return None
        return f"{value!r} is not a valid resource quantity", f"write it like {example}"

    return check


def one_of(*choices: str) -> Check:
    def check(value: Any) -> tuple[str, str] | None:
        if value in choices:
            return None
        return f"{value!r} is not one of {', '.join(choices)}", did_you_mean(str(value), choices)

    return check


def did_you_mean(word: str, choices: Any) -> str:
    """The fix for a name that is not one of `choices`: the closest, and all of them."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    allowed = ", ".join(sorted(choices))
    return f"did you mean {close[0]!r}? (allowed: {allowed})" if close else f"allowed: {allowed}"


@dataclass(frozen=True)
class Scalar:
    types: tuple[type, ...]
    check: Check | None = None

    def name(self) -> str:
        return " or ".join("number" if t is float else t.__name__ for t in self.types)


@dataclass(frozen=True)
class ListOf:
    item: Spec


@dataclass(frozen=True)
class MapOf:
    """A mapping with user-chosen keys (service names, env vars ...)."""

    value: Spec
    key_check: Check | None = None


@dataclass(frozen=True)
class Fields:
    """A mapping with a fixed set of keys."""

    fields: dict[str, Spec]
    required: frozenset[str] = field(default_factory=frozenset)
    # Keys that used to be valid here -> where they live now (the fix of the "unknown key" error).
    moved: dict[str, str] = field(default_factory=dict)


Spec = Scalar | ListOf | MapOf | Fields

STR = Scalar((str,))
BOOL = Scalar((bool,))
NAME = Scalar((str,), dns_label)
PORT = Scalar((int,), port)
STRS = ListOf(STR)


def typed(regex: str, what: str, example: str) -> Scalar:
    return Scalar((str,), pattern(regex, what, example))


_REPO = r"(?:[a-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
IMAGE_REPO = typed(_REPO, "image repository", "'myorg' or 'registry.example.com/team'")
IMAGE_REF = typed(
    _REPO + r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?",
    "image reference",
    "'redis:7.2' or 'debian:bookworm-slim'",
)
REL_PATH = typed(
    r"(?!/)(?!(?:.*/)?\.\.(?:/|$))[A-Za-z0-9._/-]+",
    "relative path",
    "'app/Dockerfile' (inside the project, no '..')",
)
ABS_PATH = typed(r"(?:/[A-Za-z0-9._-]+)+/?", "absolute path below /", "'/data/db'")
URL_PATH = typed(r"/[A-Za-z0-9._~/-]*(?:\?[A-Za-z0-9._~=&-]*)?", "URL path", "'/healthz'")
HOSTNAME = typed(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", "host name", "'host.docker.internal'")
ENDPOINT = typed(r"[A-Za-z0-9._~:/?#@!&()*+,;=%\[\]-]+", "endpoint", "'db.example.com:5432' or a URL")
DOCKER_NAME = typed(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}", "Docker network name", "'myapp-net'")
# kubernetes-validate ships schemas for 1.25 to 1.37.
K8S_VERSION = typed(r"1\.(?:2[5-9]|3[0-7])\.[0-9]+", "Kubernetes version (1.25.0 to 1.37.x)", "'1.33.0'")
CIDR = Scalar((str,), cidr)


def validate(doc: Located, spec: Spec, *, enforce_required: bool) -> None:
    """Raise ConfigError at the first problem in `doc` (document order)."""
    _walk(doc, doc.data, spec, (), enforce_required)


def _fail(doc: Located, path: KeyPath, problem: str, fix: str | None = None) -> ConfigError:
    return ConfigError(doc.file, dotted(path), doc.line(path), problem, fix=fix)


def _type_name(value: Any) -> str:
    return {dict: "mapping", list: "list", type(None): "nothing"}.get(type(value), type(value).__name__)


_EXAMPLES = {
    int: "a whole number (e.g. 3)",
    str: 'text (quote it if it looks like a number: "1.0")',
    bool: "true or false",
    float: "a number",
}


def _walk(doc: Located, value: Any, spec: Spec, path: KeyPath, req: bool) -> None:
    if isinstance(spec, Scalar):
        _scalar(doc, value, spec, path)
    elif isinstance(spec, ListOf):
        if not isinstance(value, list):
            raise _fail(doc, path, f"expected a list, got {_type_name(value)}", "write a list: [a, b]")
        for i, item in enumerate(value):
            _walk(doc, item, spec.item, path + (i,), req)
    elif not isinstance(value, dict):
        raise _fail(
            doc,
            path,
            f"expected a mapping, got {_type_name(value)} ({value!r})",
            "write a mapping: `key: value` lines, or {key: value}",
        )
    elif isinstance(spec, MapOf):
        for key, item in value.items():
            if spec.key_check and (bad := spec.key_check(key)):
                raise _fail(doc, path + (key,), *bad)
            _walk(doc, item, spec.value, path + (key,), req)
    else:
        _fields(doc, value, spec, path, req)


def _scalar(doc: Located, value: Any, spec: Scalar, path: KeyPath) -> None:
    # bool is an int in Python; YAML `yes` must not pass as a replica count.
    ok = isinstance(value, spec.types) and not (isinstance(value, bool) and bool not in spec.types)
    if not ok:
        raise _fail(
            doc,
            path,
            f"expected {spec.name()}, got {_type_name(value)} ({value!r})",
            "write " + " or ".join(_EXAMPLES.get(t, t.__name__) for t in spec.types),
        )
    if isinstance(value, str) and (bad := safe_text(value)):
        raise _fail(doc, path, *bad)
    if spec.check and (bad := spec.check(value)):
        raise _fail(doc, path, *bad)


def _fields(doc: Located, value: dict[str, Any], spec: Fields, path: KeyPath, req: bool) -> None:
    for key, item in value.items():
        if key in spec.moved:
            raise _fail(
                doc, path + (key,), f"{key!r} is no longer a key here", f"it moved: write {spec.moved[key]}"
            )
        if key not in spec.fields:
            raise _fail(doc, path + (key,), f"unknown key {key!r}", did_you_mean(key, spec.fields))
        _walk(doc, item, spec.fields[key], path + (key,), req)
    if req and (missing := sorted(spec.required - value.keys())):
        raise _fail(doc, path, *missing_keys(missing, path))


def missing_keys(keys: list[str], path: KeyPath) -> tuple[str, str]:
    """(problem, fix) for the required keys a mapping lacks: all of them at once, so a block
    written from memory is completed in one edit, not one run per key."""
    problem = f"missing required key {keys[0]!r}"
    if len(keys) > 1:
        problem += f" (also {', '.join(repr(k) for k in keys[1:])})"
    under = dotted(path) or "the top level"
    return problem, f"add {', '.join(f'`{k}:`' for k in keys)} under {under}"


def first_missing(value: Any, spec: Spec, path: KeyPath = ()) -> tuple[KeyPath, list[str]] | None:
    """Where the first mapping missing required keys is, anywhere in already type-checked data
    (merged files), and every key it misses."""
    if isinstance(spec, ListOf) and isinstance(value, list):
        for i, item in enumerate(value):
            if found := first_missing(item, spec.item, path + (i,)):
                return found
    elif isinstance(spec, MapOf) and isinstance(value, dict):
        for key, item in value.items():
            if found := first_missing(item, spec.value, path + (key,)):
                return found
    elif isinstance(spec, Fields) and isinstance(value, dict):
        if missing := sorted(spec.required - value.keys()):
            return path, missing
        for key, item in value.items():
            if key in spec.fields and (found := first_missing(item, spec.fields[key], path + (key,))):
                return found
    return None
