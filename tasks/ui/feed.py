"""Where the page's rows and log lines come from: the deploy targets, never a second opinion.

Each row is the target's own status row (tasks/ops/targets/: the table `compose_ps` and
`minikube_status` print, with its verdict and reason) joined with the inner loop's record of
that service (tasks/store/devstate.py: "synced", the last cycle, the time of the last change).
A `Watcher` asks both once a second in a background thread and hands the result to the
`Board`; log lines are the new part of each service's tail since the last look.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tasks.errors import StackError
from tasks.model import Config
from tasks.ops import compose, minikube
from tasks.ops.compose_stack import Stack
from tasks.ops.targets import registry
from tasks.ops.targets.base import DeployTarget, Row
from tasks.programs import version
from tasks.store import devstate, state
from tasks.ui.board import Board, Header, Item

TAIL = 100  # lines asked per look: more than a service writes in one second, in practice
KINDS = {"deployment": "service", "statefulset": "database", "job": "job"}
# Compose: "engine-1  | text"; kubectl --prefix: "[pod/engine-5f7c-x2/engine] text".
_COMPOSE_LINE = re.compile(r"^(?P<name>[A-Za-z0-9._-]+?)(?:-\d+)?\s+\|\s?(?P<text>.*)$")
_KUBE_LINE = re.compile(r"^\[pod/[^/\]]+/(?P<name>[^\]]+)\]\s?(?P<text>.*)$")


@dataclass
class Source:
    """One environment's live state: its deploy target, its log tail and what to mask."""

    env: str
    runtime: str
    target: DeployTarget
    databases: set[str] = field(default_factory=set)
    logs: Callable[[int], str] = lambda tail: ""
    secrets: Callable[[], list[str]] = list
    read_only: bool = False
    built: set[str] = field(default_factory=set)  # the rows whose image this tool builds
    # A cheap sign of what runs (Compose: one `docker ps`), equal between two looks when no
    # container changed; None: no such sign, every look reads the rows in full.
    identity: Callable[[], object] = lambda: None

    def items(self) -> list[Item]:
        """One row per workload of the target's status table, with the inner loop's record."""
        records = devstate.read(self.env)
        return [item(row, self.databases, records) for row in self.target.status()]


def kind_of(workload: str, databases: set[str]) -> tuple[str, str]:
    """("service" | "job" | "database", name) of a status row's workload ("service/engine",
    "deployment/engine", "statefulset/mongo", "job/bootstrap")."""
    prefix, _, name = workload.partition("/")
    if prefix == "service":
        return ("database" if name in databases else "service"), name
    return KINDS.get(prefix, prefix), name


def item(row: Row, databases: set[str], records: dict[str, devstate.Record]) -> Item:
    kind, name = kind_of(row.workload, databases)
    rec = records.get(name)
    return Item(
        name=name,
        kind=kind,
        image=row.image,
        synced=bool(rec and rec.synced),
        desired=row.desired,
        ready=row.ready,
        verdict=row.verdict,
        reason=row.note,
        result=rec.result if rec else "",
        seconds=rec.seconds if rec else 0.0,
        changed_at=rec.changed_at if rec else 0.0,
    )


def split(text: str) -> dict[str, list[str]]:
    """A log tail's lines by service (Compose's and kubectl's prefixes), in order."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = _COMPOSE_LINE.match(line) or _KUBE_LINE.match(line)
        if match:
            out.setdefault(match["name"], []).append(match["text"])
    return out


def new_lines(seen: list[str], tail: list[str]) -> list[str]:
    """The lines of `tail` after the longest end of `seen` it starts with: what was written
    since the last look (all of it when nothing overlaps, e.g. more than a tail was written)."""
    for k in range(min(len(seen), len(tail)), 0, -1):
        if seen[-k:] == tail[:k]:
            return tail[k:]
    return tail


def for_config(cfg: Config) -> Source:
    """The source of an environment, by the target the registry picks for it."""
    target = registry.for_config(cfg)
    which = registry.name_of(cfg)
    if which == "compose":
        stack = Stack(cfg)
        return Source(
            cfg.env,
            "compose",
            target,
            set(stack.dbs()),
            lambda tail: compose.log_text(stack, tail=tail),
            lambda: compose.secret_values(stack),
            built=set(stack.all_built()),
            identity=lambda: compose.Live(stack.project).identity(),
        )
    databases = {d.name for d in cfg.placed("cluster")}
    if which == "minikube":
        return Source(
            cfg.env,
            "minikube",
            target,
            databases,
            lambda tail: minikube.log_text(cfg, tail=tail),
            lambda: minikube.secret_values(cfg),
            built=set(cfg.cluster_images()),
        )
    return Source(cfg.env, "kubernetes (cloud)", target, databases, read_only=True)


def commit(root: Path) -> str:
    """The checkout's commit for the header ("-" outside git)."""
    line, _ = version.probe("git", "-C", str(root), "rev-parse", "--short", "HEAD", timeout=5)
    return line or "-"


# Seconds between full reads of the rows when the cheap sign says nothing changed: what no
# container shows changes too (an image recorded by a build, a job's last run, the .env).
FULL = 10.0
# With no page open, one look per IDLE seconds: each look asks the runtime (docker ps, logs), which
# is CPU the inner loop's cycles would otherwise share with a page nobody reads.
IDLE = 10.0


class Watcher:
    """Asks the source once per `interval` while a page is open (once per `idle` when none is)
    and updates the board, until stopped."""

    def __init__(self, board: Board, source: Source, *, interval: float = 1.0, idle: float = IDLE) -> None:
        self.board, self.source, self.interval, self.idle = board, source, interval, idle
        self.stopped = threading.Event()
        self._seen: dict[str, list[str]] = {}
        self._mark: object = None  # the sign of the rows last read in full
        self._full_at = 0.0  # when (monotonic)
        self._thread = threading.Thread(target=self._loop, name="ui-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, *, wait: float = 10.0) -> None:
        self.stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=wait)

    def forget(self) -> None:
        """Read the rows in full at the next look (a run ended: it may have changed anything)."""
        self._mark = None

    def look(self) -> None:
        """One look: rows (or why they cannot be read) and the new log lines of each service.
        The rows are read in full (the target's status: `docker compose ps`, the volumes,
        health logs) only when the source's sign or the inner loop's records changed since
        the last full read, or FULL seconds passed; else one `docker ps` was the look's cost."""
        try:
            sign = self.source.identity()
            mark = None if sign is None else (sign, devstate.read(self.source.env))
            due = time.monotonic() - self._full_at >= FULL
            if mark is None or mark != self._mark or due:
                self.board.secrets = self.source.secrets()
                self.board.set_rows(self.source.items())
                self._mark, self._full_at = mark, time.monotonic()
        except StackError as exc:  # a daemon down, a cluster absent: said on the page, retried
            self._mark = None
            said = f"{exc.message}: {exc.fix}" if exc.fix else exc.message
            self.board.set_rows(self.board.rows, said)
        try:
            tails = split(self.source.logs(TAIL))
        except StackError:
            tails = {}
        for name, tail in tails.items():
            self.board.add_lines(name, new_lines(self._seen.get(name, []), tail))
            self._seen[name] = tail

    def _loop(self) -> None:
        since = self.idle  # the first look is at once
        while not self.stopped.is_set():
            holder = state.lock_holder()
            if holder:
                self.forget()
            self.board.set_busy(holder or "")
            # A run holds the checkout (a `doit dev` cycle, a button's run, a command): it changes
            # what a look would read, and a look's docker calls would slow it. Look when it ends.
            if holder is None and (self.board.viewers or since >= self.idle):
                self.look()
                since = 0.0
            self.stopped.wait(self.interval)
            since += self.interval


def header(source: Source, root: Path) -> Header:
    return Header(source.env, source.runtime, commit(root), source.read_only)
