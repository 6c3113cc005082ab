"""The page's buttons: which doit tasks each one runs, and one queue that runs them in order.

Every button runs `doit <tasks> env=<env>` as a child process, exactly what a person would
type, so it goes through the same tasks, up-to-date checks and run lock as the command line
(a run already holding the checkout makes the child wait). One worker runs one action at a
time; a click on an action that is already waiting is not queued twice (docs/ui.md).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tasks.errors import StackError
from tasks.programs import tools
from tasks.ui.board import Board

# doit's tasks per runtime and kind of row: "rebuild" runs the stale tasks that make that row
# (doit skips what is up to date), "stale" everything of the environment that is stale.
REBUILD: dict[str, dict[str, tuple[str, ...]]] = {
    "compose": {
        "service": ("images:{name}", "compose_up_services"),
        "database": ("compose_up_dbs",),
        "job": ("images:{name}", "compose_jobs"),
    },
    "minikube": {"service": ("minikube_up",), "database": ("minikube_up",), "job": ("minikube_up",)},
}
STALE: dict[str, tuple[str, ...]] = {"compose": ("compose_up",), "minikube": ("minikube_up",)}
VERBS = ("rebuild", "restart", "stale")


@dataclass(frozen=True)
class Action:
    verb: str  # rebuild | restart | stale
    name: str = ""  # the row ("" for "stale": the whole environment)
    kind: str = ""  # the row's kind (service | database | job)

    @property
    def key(self) -> str:
        return f"{self.verb} {self.name}".strip()


def tasks_for(runtime: str, action: Action, built: set[str]) -> list[str]:
    """The doit task names one action runs (StackError when the page does not offer it)."""
    if action.verb == "stale" and runtime in STALE:
        return list(STALE[runtime])
    if action.verb == "restart" and runtime == "compose" and action.kind in ("service", "database"):
        return ["restart", f"service={action.name}"]
    by_kind = REBUILD.get(runtime, {})
    if action.verb == "rebuild" and action.kind in by_kind:
        names = [t.format(name=action.name) for t in by_kind[action.kind]]
        # A pulled image (a database from a registry) has no image task: only the rest runs.
        return [t for t in names if not t.startswith("images:") or action.name in built]
    raise StackError(f"no {action.verb!r} for a {action.kind or 'row'} on runtime {runtime}")


Runner = Callable[[list[str], Callable[[str], None]], bool]


def doit_runner(root: Path) -> Runner:
    """Runs `doit args...` in the checkout and streams its lines; True when it succeeded."""

    def run(args: list[str], echo: Callable[[str], None]) -> bool:
        result = tools.run("doit", *args, cwd=root, check=False, prefix="doit", echo=echo)
        return result.code == 0

    return run


class Queue:
    """One worker; actions run in the order clicked; a waiting action is never doubled."""

    def __init__(
        self,
        board: Board,
        env: str,
        runtime: str,
        runner: Runner,
        built: set[str],
        after: Callable[[], None] = lambda: None,
    ) -> None:
        self.board, self.env, self.runtime, self.runner, self.built = board, env, runtime, runner, built
        self.after = after  # what changes once an action ran (the task graph)
        self._waiting: set[str] = set()
        self._running = False
        self._lock = threading.Lock()
        self._todo: queue.Queue[Action | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="ui-actions", daemon=True)
        self._thread.start()

    def submit(self, action: Action) -> str:
        """ "queued", or "already queued" when the same action waits (StackError: not offered)."""
        tasks_for(self.runtime, action, self.built)  # refuse what the page does not offer, now
        with self._lock:
            if action.key in self._waiting:
                return "already queued"
            self._waiting.add(action.key)
        self.board.set_action(action.key, "queued")
        self._todo.put(action)
        return "queued"

    def stop(self, *, wait: float = 5.0) -> None:
        self._todo.put(None)
        self._thread.join(timeout=wait)

    def idle(self) -> bool:
        with self._lock:
            return not self._waiting and not self._running

    def _work(self) -> None:
        while (action := self._todo.get()) is not None:
            with self._lock:
                self._waiting.discard(action.key)
                self._running = True
            try:
                self.run(action)
            finally:
                with self._lock:
                    self._running = False

    def run(self, action: Action) -> None:
        """One action now, in this thread: its output goes to its row's log pane."""
        self.board.set_action(action.key, "running")
        pane = action.name or "(actions)"
        args = [*tasks_for(self.runtime, action, self.built), f"env={self.env}"]
        self.board.add_lines(pane, [f"$ doit {' '.join(args)}"])
        try:
            ok = self.runner(args, lambda line: self.board.add_lines(pane, [line]))
        except StackError as exc:
            self.board.add_lines(pane, [exc.message])
            ok = False
        self.board.set_action(action.key, "ok" if ok else "failed")
        self.after()
