"""A small declarative schema: types, unknown keys with "did you mean", value checks.

Kept in-house (not pydantic) because the error text is the interface: every problem
must name the file, the key path and the line, in one consistent trail.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tasks.errors import ConfigError
from tasks.yamlpos import KeyPath, Located, dotted

# A check returns None when the value is fine, else (problem, fix).
Check = Callable[[Any], "tuple[str, str] | None"]

DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
CPU = re.compile(r"^([0-9]+m|[0-9]+(\.[0-9]+)?)$")
MEMORY = re.compile(r"^[0-9]+(Ki|Mi|Gi|Ti|K|M|G|T)?$")


def dns_label(value: Any) -> tuple[str, str] | None:
    if isinstance(value, str) and len(value) <= 63 and DNS1123.match(value):
        return None
    return (f"{value!r} is not a valid DNS-1123 label",
            "use at most 63 lowercase letters, digits and '-', starting and ending alphanumeric")


def port(value: Any) -> tuple[str, str] | None:
    if 1 <= value <= 65535:
        return None
    return f"port {value} is out of range", "use a port between 1 and 65535"


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
        return f"{value!r} is not one of {', '.join(choices)}", _did_you_mean(str(value), choices)
    return check


def _did_you_mean(word: str, choices: Any) -> str:
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


Spec = Scalar | ListOf | MapOf | Fields

STR = Scalar((str,))
INT = Scalar((int,))
BOOL = Scalar((bool,))
NAME = Scalar((str,), dns_label)
PORT = Scalar((int,), port)
STRS = ListOf(STR)


def validate(doc: Located, spec: Spec, *, enforce_required: bool) -> None:
    """Raise ConfigError at the first problem in `doc` (document order)."""
    _walk(doc, doc.data, spec, (), enforce_required)


def _fail(doc: Located, path: KeyPath, problem: str, fix: str | None = None) -> ConfigError:
    return ConfigError(doc.file, dotted(path), doc.line(path), problem, fix=fix)


def _type_name(value: Any) -> str:
    return {dict: "mapping", list: "list", type(None): "nothing"}.get(type(value), type(value).__name__)


def _walk(doc: Located, value: Any, spec: Spec, path: KeyPath, req: bool) -> None:
    if isinstance(spec, Scalar):
        # bool is an int in Python; YAML `yes` must not pass as a replica count.
        ok = isinstance(value, spec.types) and not (isinstance(value, bool) and bool not in spec.types)
        if not ok:
            raise _fail(doc, path, f"expected {spec.name()}, got {_type_name(value)} ({value!r})")
        if spec.check and (bad := spec.check(value)):
            raise _fail(doc, path, *bad)
        return
    if isinstance(spec, ListOf):
        if not isinstance(value, list):
            raise _fail(doc, path, f"expected a list, got {_type_name(value)}")
        for i, item in enumerate(value):
            _walk(doc, item, spec.item, path + (i,), req)
        return
    if not isinstance(value, dict):
        raise _fail(doc, path, f"expected a mapping, got {_type_name(value)} ({value!r})")
    if isinstance(spec, MapOf):
        for key, item in value.items():
            if spec.key_check and (bad := spec.key_check(key)):
                raise _fail(doc, path + (key,), *bad)
            _walk(doc, item, spec.value, path + (key,), req)
        return
    for key, item in value.items():
        if key not in spec.fields:
            raise _fail(doc, path + (key,), f"unknown key {key!r}", _did_you_mean(key, spec.fields))
        _walk(doc, item, spec.fields[key], path + (key,), req)
    if req:
        for key in sorted(spec.required - value.keys()):
            raise _fail(doc, path, f"missing required key {key!r}", f"add `{key}:` under {dotted(path) or 'the top level'}")
