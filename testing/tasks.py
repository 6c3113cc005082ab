"""Task dicts as doit runs them, for tests that call a family's task creator: pick a subtask,
run its python-action or its up-to-date check the way doit calls them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Task = dict[str, Any]


def subtask(tasks: Task | Iterable[Task], name: str | None = None) -> Task:
    """The task a creator returned, or the one of its subtasks called `name`."""
    if isinstance(tasks, dict):
        return tasks
    found = [t for t in tasks if t.get("name") == name]
    assert len(found) == 1, f"no single subtask {name!r}"
    return found[0]


def _call(entry: Any, params: dict[str, Any]) -> Any:
    # doit's python-action forms: a callable, (callable, args) or (callable, args, kwargs);
    # params (a task's `params` values, `fix=True`) are passed as keywords.
    if callable(entry):
        func: Callable[..., Any] = entry
        return func(**params)
    func, args, *rest = entry
    return func(*args, **{**(rest[0] if rest else {}), **params})


def run_action(task: Task, index: int = 0, **params: Any) -> Any:
    """Run one python-action of a task: None or True is success, a TaskFailed is a failure."""
    return _call(task["actions"][index], params)


def up_to_date(task: Task, index: int = 0) -> Any:
    """One of the task's uptodate checks (a bool as it is; a callable called without arguments)."""
    check = task["uptodate"][index]
    return check if isinstance(check, bool) else _call(check, {})
