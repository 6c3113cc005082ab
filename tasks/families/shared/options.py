"""A task's `key=value` options: what one is, how its word is parsed, and its doit `params`.

An option is declared once, with the task that takes it (tasks/families/shared/registry.py);
the command line checks `key=value` words against it and doit gets it as a `param`, so
`doit help <task>` lists it and both `--wipe` and the older `wipe=1` work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    name: str
    kind: type  # bool, int or str
    default: bool | int | str
    help: str


TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


def parse(opt: Option, text: str) -> bool | int | str:
    """Parse a `key=value` word; raise ValueError with the accepted forms."""
    if opt.kind is bool:
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise ValueError(f"use one of {', '.join(TRUE[:2])} or {', '.join(FALSE[1:3])}")
    if opt.kind is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError("use a whole number") from None
    return text


def value(opt: Option, given: Mapping[str, str]) -> bool | int | str:
    """The option's value in this run: the `key=value` word if given, else its default."""
    return parse(opt, given[opt.name]) if opt.name in given else opt.default


def params(options: Iterable[Option], given: Mapping[str, str]) -> list[dict[str, object]]:
    """doit `params` for a task's options: `--wipe` works, and so does the older `wipe=1`."""
    return [
        {
            "name": opt.name,
            "long": opt.name,
            "type": opt.kind,
            "default": value(opt, given),
            "help": f"{opt.help} (default: {opt.default!r}; also `{opt.name}=...`)",
        }
        for opt in options
    ]


# `compose_logs` and `minikube_logs` filter alike (tasks/ops/logfilter.py says how).
LOG_FILTERS = (
    Option("service", str, "", "only this service's (or database's) logs"),
    Option("level", str, "", "only lines of this level and above: debug, info, warn or error"),
    Option("id", str, "", "only lines of this correlation id"),
)
