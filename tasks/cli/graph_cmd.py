"""`doit taskgraph env=<env>`: every task doit loads, its dependencies and doit's own answer to
"would it run now?", as JSON on stdout (what `doit graph` draws, tasks/ops/graph.py).

A doit command, so the answer is doit's: the same loader, the same dependency database
(`.build/state/<env>.json`) and the same up-to-date check as `doit list --status` and a real
run; dependencies are doit's too (`TaskControl` expands wildcard `task_dep` and adds the
implicit ones, a `file_dep` that is another task's target). It only reads, so it never takes
the run lock (tasks/cli/start.py `READ_ONLY`), and `doit graph` can ask it from inside a run.
Registered as a doit command plugin (pyproject.toml: an entry point for every project, and
`[tool.doit.plugins.command]`).
"""

from __future__ import annotations

import json
from typing import Any

from doit.cmd_base import DoitCmdBase
from doit.control import TaskControl

from tasks.families.shared.registry import Scope
from tasks.families.shared.registry import task as public_task

NAME = "taskgraph"


def always(reasons: dict[str, Any]) -> bool:
    """doit runs it every time, whatever changed: `uptodate: [False]`, or nothing to compare."""
    literal_false = any(check is False for check, _, _ in reasons.get("uptodate_false") or [])
    return literal_false or bool(reasons.get("has_no_dependencies"))


def status(dep_manager: Any, task: Any, tasks: dict[str, Any]) -> tuple[str, str]:
    """(status, why): doit's `up-to-date`, `run`, `error` or `ignore`, with `always` told
    apart from `run` (a command such as `compose_ps` is not stale, it just always runs)."""
    if dep_manager.status_is_ignore(task):
        return "ignore", "ignored (`doit ignore`)"
    try:
        got = dep_manager.get_status(task, tasks, get_log=True)
    except Exception as exc:  # an uptodate check that cannot answer here (a daemon down, ...)
        return "error", f"its up-to-date check failed: {type(exc).__name__}: {exc}"
    if got.status == "error":
        return "error", got.get_error_message()
    if got.status == "up-to-date":
        return "up-to-date", ""
    if always(got.reasons):
        return "always", "runs every time"
    changed = sorted(got.reasons.get("changed_file_dep") or [])  # a set: sorted, so the text is stable
    missing = sorted(got.reasons.get("missing_target") or [])
    if missing:  # first: a target that is gone says more than inputs it never saw
        return "run", "missing: " + ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
    if changed:
        return "run", "changed: " + ", ".join(changed[:3]) + (" ..." if len(changed) > 3 else "")
    return "run", "never ran" if "checker_changed" not in got.reasons else "its checker changed"


def env_of(name: str) -> str | None:
    """The environment a subtask is for, when its family makes one subtask per environment
    (`deploy:prod`); None for everything else."""
    entry = public_task(name)
    base, _, sub = name.partition(":")
    if entry is None or entry.scope is not Scope.NAMED or not sub or base != entry.name:
        return None
    return sub


def nodes(task_list: list[Any], dep_manager: Any) -> list[dict[str, Any]]:
    """One JSON object per task, in doit's order."""
    TaskControl(task_list)  # doit's own dependency rules: wildcards, implicit file_dep -> target
    tasks = {t.name: t for t in task_list}
    out = []
    for task in task_list:
        state, why = status(dep_manager, task, tasks)
        out.append(
            {
                "name": task.name,
                "doc": task.doc or "",
                "deps": sorted({*task.task_dep, *task.setup_tasks}),
                "status": state,
                "why": why,
                "group": not task.actions,
                "env": env_of(task.name),
            }
        )
    return out


class TaskGraph(DoitCmdBase):  # type: ignore[misc]
    doc_purpose = "print every task, its dependencies and whether it would run now, as JSON"
    doc_usage = "[env=<name>]"
    cmd_options = ()

    def _execute(self, pos_args: list[str] | None = None) -> int:
        json.dump({"tasks": nodes(list(self.task_list), self.dep_manager)}, self.outstream, indent=1)
        self.outstream.write("\n")
        return 0
