"""The project's own doit, asked for its task graph: `doit taskgraph env=<env>`
(tasks/cli/graph_cmd.py) in the project folder, parsed into `Node`s.

A child process, because only doit knows the tasks and whether each would run, and nothing
below the task families imports doit; the child only reads (no run lock), so `doit graph`
can ask it from inside a run and the status page from anywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tasks.errors import StackError, ToolError
from tasks.programs import tools

COMMAND = "taskgraph"
STATUSES = ("up-to-date", "run", "always", "error", "ignore")
# Loading a stack of hundreds of services takes seconds; an uptodate check may ask the daemon.
TIMEOUT = 600.0


@dataclass(frozen=True)
class Node:
    """One task: its dependencies (task names) and doit's answer to "would it run now?"."""

    name: str
    doc: str
    deps: tuple[str, ...]
    status: str  # one of STATUSES ("always": `uptodate: [False]` or nothing to compare)
    why: str
    group: bool  # no actions of its own: it runs its dependencies
    env: str | None  # the environment a one-subtask-per-environment task is for (`deploy:prod`)


def parse(text: str) -> list[Node]:
    """The command's JSON, as nodes; anything else raises StackError."""
    try:
        found = json.loads(text)["tasks"]
        nodes = [
            Node(
                name=str(t["name"]),
                doc=str(t["doc"]),
                deps=tuple(str(d) for d in t["deps"]),
                status=str(t["status"]),
                why=str(t["why"]),
                group=bool(t["group"]),
                env=None if t["env"] is None else str(t["env"]),
            )
            for t in found
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise StackError(
            f"`doit {COMMAND}` did not print a task graph ({exc}): reinstall the tool (`pip install -e .`)."
        ) from None
    unknown = sorted({n.status for n in nodes} - set(STATUSES))
    if unknown:
        raise StackError(f"`doit {COMMAND}` printed an unknown task status {unknown[0]!r}.")
    return nodes


def read(env: str, *, root: Path) -> list[Node]:
    """Every task doit loads in `root` for `env=<env>`, with its status against that
    environment's dependency database."""
    try:
        out = tools.run("doit", COMMAND, f"env={env}", cwd=root, timeout=TIMEOUT).stdout
    except ToolError as exc:
        raise StackError(f"doit could not list the tasks of environment {env}: {reason(exc)}") from None
    return parse(out)


def reason(exc: ToolError) -> str:
    """The child's own first line of complaint (a configuration error names its file and key)."""
    lines = [line.strip() for line in (exc.stderr or exc.stdout).splitlines() if line.strip()]
    return " ".join(lines[:4]).removeprefix("ERROR: ") if lines else f"exit {exc.code}"
