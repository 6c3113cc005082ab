"""The page's state in memory: the rows, each row's bounded log tail, and the actions.

Everything the page shows passes through here, and every log line is masked on the way in
(tasks/ops/compose.py `redact`, the mask `compose_config` uses), so no secret value is held,
sent or shown. Each log tail is a `deque(maxlen=lines)`: memory stays flat however long a
service talks. `version` grows on every change; the event stream sends what changed since
the version a client last saw.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from tasks.ops.compose import redact

LINES = 200  # log lines kept per row
# Terminal control sequences (a collapsed progress line's "erase to end of line"): a page is no
# terminal.
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Item:
    """One row of the page: the deploy target's status row and the inner loop's record."""

    name: str
    kind: str  # service | job | database
    image: str
    synced: bool
    desired: str
    ready: str
    verdict: str  # ok | stale | failed (the target's status verdict)
    reason: str  # why, when not ok
    result: str = ""  # the last inner-loop cycle: "", ok, failed
    seconds: float = 0.0
    changed_at: float = 0.0


@dataclass(frozen=True)
class Header:
    env: str
    runtime: str
    commit: str
    read_only: bool


@dataclass
class Board:
    header: Header
    secrets: list[str] = field(default_factory=list)
    lines: int = LINES
    version: int = 0
    rows: list[Item] = field(default_factory=list)
    error: str = ""  # why the live state could not be read (shown above the table)
    # "rebuild engine" -> queued | running | ok | failed
    actions: dict[str, str] = field(default_factory=dict)
    graph: str = ""  # the task graph (SVG) when `doit graph` is available
    graph_version: int = 0  # grows with each new picture (the page then fetches it again)
    viewers: int = 0  # open event streams: with none, the watcher looks rarely (tasks/ui/feed.py)
    busy: str = ""  # who holds the checkout's run lock now (the rows are read again when it ends)
    _logs: dict[str, deque[tuple[int, str]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _bump(self) -> None:
        self.version += 1

    def viewer(self, joined: bool) -> None:
        """A page opened (True) or closed (False) its event stream."""
        with self._lock:
            self.viewers = max(0, self.viewers + (1 if joined else -1))

    def set_busy(self, holder: str) -> None:
        with self._lock:
            if holder != self.busy:
                self.busy = holder
                self._bump()

    def set_rows(self, rows: list[Item], error: str = "") -> None:
        with self._lock:
            if rows != self.rows or error != self.error:
                self.rows, self.error = rows, error
                self._bump()

    def set_action(self, key: str, state: str) -> None:
        with self._lock:
            self.actions[key] = state
            self._bump()

    def set_graph(self, svg: str) -> None:
        with self._lock:
            if svg != self.graph:
                self.graph = svg
                self.graph_version += 1
                self._bump()

    def add_lines(self, name: str, lines: list[str]) -> None:
        """Append masked lines to one row's tail (the oldest fall off)."""
        if not lines:
            return
        with self._lock:
            tail = self._logs.setdefault(name, deque(maxlen=self.lines))
            for line in lines:
                self._bump()
                tail.append((self.version, redact(_CONTROL.sub("", line), self.secrets)))

    def log(self, name: str) -> list[str]:
        with self._lock:
            return [line for _, line in self._logs.get(name, ())]

    def snapshot(self, since: int = 0) -> dict[str, Any]:
        """Everything a client needs after `since`: the rows, actions and header always (they
        are small), the log lines newer than `since` only."""
        with self._lock:
            logs = {
                name: [line for seq, line in tail if seq > since]
                for name, tail in self._logs.items()
                if tail and tail[-1][0] > since
            }
            return {
                "version": self.version,
                "header": asdict(self.header),
                "rows": [asdict(r) for r in self.rows],
                "error": redact(self.error, self.secrets),
                "busy": redact(self.busy, self.secrets),
                "actions": dict(self.actions),
                "graph": self.graph_version if self.graph else 0,
                "logs": logs,
            }
