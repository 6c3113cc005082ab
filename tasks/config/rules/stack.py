"""Rules over the whole merged file: what must be set, and lists that repeat nothing."""

from __future__ import annotations

from typing import Any

from tasks.config import schema as s
from tasks.config.fields import TOP
from tasks.config.merged import Merged
from tasks.config.yamlpos import KeyPath, dotted


def required_keys_are_set(m: Merged) -> None:
    """What is required is checked once the files are merged: an environment file may add a
    service, a database or a cloud block of its own."""
    if missing := s.first_missing(m.data, TOP):
        path, key = missing
        raise m.error(
            path, f"missing required key {key!r}", f"add `{key}:` under {dotted(path) or 'the top level'}"
        )


def lists_have_no_repeats(m: Merged) -> None:
    lists: list[tuple[KeyPath, list[Any]]] = [
        ((key,), m.data.get(key, [])) for key in ("secrets", "disabled_services", "components")
    ]
    lists.append((("minikube", "addons"), m.data["minikube"]["addons"]))
    for name in m.enabled():
        raw = m.data["services"][name]
        lists += [(("services", name, key), raw.get(key, [])) for key in ("uses", "optional_uses", "secrets")]
    for path, items in lists:
        seen: set[Any] = set()
        for i, item in enumerate(items):
            if item in seen:
                raise m.error(path + (i,), f"{item!r} is listed twice", "remove the duplicate")
            seen.add(item)


def secrets_are_never_plain_values(m: Merged) -> None:
    """Plain values land in ConfigMaps and committed Compose files: never under a secret's name."""
    secrets = set(m.data.get("secrets", []))
    plain = [(("config", k), k) for k in m.data.get("config", {})] + [
        (("services", n, "env", k), k) for n, raw in m.data["services"].items() for k in raw.get("env", {})
    ]
    for path, key in plain:
        if key in secrets:
            raise m.error(
                path,
                f"{key} is a secret: this value would be written in plain text",
                f"remove it here; set {key} in compose/<env>/.env or the Kubernetes Secret",
            )
