"""Which log lines `compose_logs` and `minikube_logs` show (`level=`, `id=`): a pure function
of the text the runtime printed, for JSON lines and plain ones alike.

A line is `<source> | <message>` (Compose) or `[<pod>/<container>] <message>` (kubectl's
`--prefix`), the message perhaps after a timestamp. A message that is a JSON object is read by
its keys (LEVEL_KEYS, ID_KEYS); any other is plain: its level is its first word after the
timestamps (`ERROR`, `[warn]`, `INFO:`) or a `level=` pair, its correlation id a substring.
The service filter is not here: the runtime is asked for that service's logs only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tasks.errors import StackError

# Ranks of the level names lines use; `level=<name>` shows that rank and above.
RANKS: dict[str, int] = {
    "trace": 5,
    "debug": 10,
    "info": 20,
    "notice": 25,
    "warn": 30,
    "warning": 30,
    "error": 40,
    "err": 40,
    "critical": 50,
    "crit": 50,
    "fatal": 50,
    "panic": 50,
}
CHOICES = ("debug", "info", "warn", "error")  # what `level=` takes (and `warning`)
# A line with no level of its own and none before it from its source counts as this.
DEFAULT_RANK = RANKS["info"]
LEVEL_KEYS = ("level", "severity", "levelname", "lvl")
# A bare `id` is not among them: too many logs use it for the record they talk about.
ID_KEYS = ("correlation_id", "correlationId", "trace_id", "traceId", "request_id", "requestId")

_COMPOSE = re.compile(r"^(\S+)\s+\| ?(.*)$")
_KUBECTL = re.compile(r"^\[([^\]]+)\] (.*)$")
_PAIR = re.compile(r"\b(?:level|severity)=\"?([A-Za-z]+)")
_LEADING_NUMBERS = re.compile(r"^(?:\s*\d\S*)*\s*")  # timestamps, a process number (Redis's `1:M`)
_FIRST_WORD = re.compile(r"^[\[(<]?([A-Za-z]+)")  # `ERROR`, `[warn]`, `INFO:root:...`, `Error:`
# A level in capitals among a line's first words, after a prefix of another form:
# `[2026-12-07 11:00:00] ERROR ...`, Python's `<asctime> - <logger> - ERROR - ...`.
_PREFIX_WORDS = 4
_CAPITALS = re.compile(r"^[\[(<]?([A-Z]+)[\])>:]?$")


@dataclass(frozen=True)
class LogFilter:
    """What to keep: lines of rank `level` and above (None: any), mentioning `id` ("": any)."""

    level: int | None = None
    id: str = ""

    def active(self) -> bool:
        return self.level is not None or bool(self.id)


@dataclass(frozen=True)
class Line:
    source: str  # the container (Compose) or pod/container (kubectl); "" when unprefixed
    rank: int | None  # None: the line names no level
    ids: tuple[str, ...] | None  # a JSON line's correlation ids; None: match by substring
    text: str  # the whole line, as printed


def level_option(value: str) -> int | None:
    """The minimum rank `level=<value>` asks for (None for ""); one sentence when unknown."""
    if not value:
        return None
    name = value.strip().lower()
    if name not in (*CHOICES, "warning"):
        raise StackError(
            f"level={value} is not a log level: use one of {', '.join(CHOICES)} "
            "(each shows its level and the ones above it)"
        )
    return RANKS[name]


def service_option(value: str, names: Sequence[str], where: str) -> str:
    """`service=<value>` checked against the names that have logs in `where`."""
    if value and value not in names:
        choices = ", ".join(sorted(names)) or "(none)"
        raise StackError(f"service={value} names nothing that logs in {where}: use one of {choices}")
    return value


def split(line: str) -> tuple[str, str]:
    """(source, message) of one printed line; ("", line) when it has no known prefix."""
    for prefix in (_COMPOSE, _KUBECTL):
        found = prefix.match(line)
        if found:
            return found.group(1), found.group(2)
    return "", line


def _rank_of(name: Any) -> int | None:
    return RANKS.get(name.strip().lower()) if isinstance(name, str) else None


def _json(body: str) -> dict[str, Any] | None:
    if not body.startswith("{"):
        return None
    try:
        found = json.loads(body)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def parse(line: str) -> Line:
    """One printed line, read: its source, its level's rank and its correlation ids."""
    source, message = split(line)
    body = _LEADING_NUMBERS.sub("", message, count=1)
    record = _json(body)
    if record is not None:
        rank = next((r for r in map(_rank_of, (record.get(k) for k in LEVEL_KEYS)) if r is not None), None)
        ids = tuple(str(record[k]) for k in ID_KEYS if record.get(k) not in (None, ""))
        return Line(source, rank, ids or None, line)
    word = _FIRST_WORD.match(body)
    rank = _rank_of(word.group(1)) if word else None
    if rank is None:
        pair = _PAIR.search(body)
        rank = _rank_of(pair.group(1)) if pair else None
    if rank is None:
        rank = _capitals_rank(body)
    return Line(source, rank, None, line)


def _capitals_rank(body: str) -> int | None:
    """The rank of the first of a line's first words that is a level in capitals (`ERROR`,
    `[WARN]`): lower-case words there are prose ("info about ..."), not a level."""
    for word in body.split(None, _PREFIX_WORDS)[:_PREFIX_WORDS]:
        found = _CAPITALS.match(word)
        if found and found.group(1).lower() in RANKS:
            return RANKS[found.group(1).lower()]
    return None


def _has_id(line: Line, wanted: str) -> bool:
    return wanted in line.ids if line.ids is not None else wanted in line.text


def keep(lines: Sequence[str], wanted: LogFilter) -> list[str]:
    """The lines `wanted` lets through, in order. A line naming no level (a traceback's next
    lines) takes the level of the line before it from the same source."""
    if not wanted.active():
        return list(lines)
    last: dict[str, int] = {}
    kept = []
    for text in lines:
        line = parse(text)
        rank = line.rank if line.rank is not None else last.get(line.source, DEFAULT_RANK)
        last[line.source] = rank
        if wanted.level is not None and rank < wanted.level:
            continue
        if wanted.id and not _has_id(line, wanted.id):
            continue
        kept.append(text)
    return kept


def apply(text: str, wanted: LogFilter) -> str:
    """`keep` over a program's whole output, newline-terminated as it came."""
    if not wanted.active():
        return text
    return "".join(f"{line}\n" for line in keep(text.splitlines(), wanted))
