"""The task registry: every task creator, and the public tasks each one makes (as nox's sessions).

A family declares its creator and the tasks it makes in one place, with the decorator:

    @registry.creator(Task("render", Scope.ALL))
    def task_render(run: Run) -> Iterator[TaskDict]: ...

Everything else is made from what is registered: the `task_<name>` functions a dodo.py
exports (tasks/project.py), and the command line's checks (tasks/cli/): which task names
exist ("did you mean"), which environment each needs, which options it takes and which
ones change a cloud environment. The families register as they are imported
(`tasks.families.load()` imports every one of them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from tasks import defaults
from tasks.families.shared.options import Option

Creator = Callable[..., Any]
C = TypeVar("C", bound=Creator)


class Scope(Enum):
    NONE = "none"  # reads no environment file
    ALL = "all"  # every environment (render, validate, ...)
    SELECTED = "selected"  # the run's environment: env=<name>, else the family's default
    NAMED = "named"  # one environment per subtask, named in the task: deploy:dev


@dataclass(frozen=True)
class Task:
    """A public task as the command line knows it (subtasks share their basename's entry)."""

    name: str
    scope: Scope
    default_env: str = defaults.LOCAL
    # Changes a cloud environment: must name exactly one, and a protected one needs confirm=<env>.
    mutating: bool = False
    options: tuple[Option, ...] = field(default_factory=tuple)
    # Shows a broken configuration itself (`doctor`: the machine's checks are worth seeing
    # anyway), so the command line does not stop the run for it.
    tolerant: bool = False
    # Changes the cloud environment named by this option, not by a subtask (`promote to=staging`):
    # a protected one needs confirm=<env> outside CI, as for a mutating task.
    changes_option: str | None = None


def selected(
    *names: str, default_env: str = defaults.LOCAL, options: Mapping[str, tuple[Option, ...]] | None = None
) -> tuple[Task, ...]:
    """Tasks of one family that work on the run's environment (default: the family's)."""
    extra = options or {}
    return tuple(Task(name, Scope.SELECTED, default_env, options=extra.get(name, ())) for name in names)


_CREATORS: dict[str, Creator] = {}
_TASKS: dict[str, Task] = {}
_OWNERS: dict[str, str] = {}  # public task -> the creator that makes it
_NEEDS: dict[str, tuple[str, ...]] = {}  # creator -> the creators whose tasks its tasks depend on


def creator(*tasks: Task, needs: tuple[str, ...] = ()) -> Callable[[C], C]:
    """Register a task creator (`task_<name>`, doit's name for it) and the public tasks it makes.

    A creator that makes only internal steps (`_preflight`) declares none. `needs`: the other
    creators (doit's names) that make a task its tasks depend on, through `task_dep`, `setup`,
    `getargs` or a `file_dep` another task makes (tests/unit/test_project.py derives them
    from the tasks themselves and fails when one is missing): a run of named tasks creates
    only those (`needed`)."""

    def register(func: C) -> C:
        name = func.__name__.removeprefix("task_")
        if name == func.__name__ or name in _CREATORS:
            raise ValueError(f"{func.__qualname__}: a creator is one new `task_<name>` function")
        for task in tasks:
            if task.name in _TASKS:
                raise ValueError(f"{func.__qualname__}: task {task.name!r} is registered twice")
        _CREATORS[name] = func
        _TASKS.update((task.name, task) for task in tasks)
        _OWNERS.update((task.name, name) for task in tasks)
        _NEEDS[name] = needs
        return func

    return register


def creators() -> dict[str, Creator]:
    """doit's name of each creator (`render` for `task_render`) -> the creator."""
    return dict(_CREATORS)


def tasks() -> dict[str, Task]:
    """Every public task by name."""
    return dict(_TASKS)


def task(name: str) -> Task | None:
    """The public task a task name or subtask name (`deploy:dev`) belongs to, if any."""
    return _TASKS.get(name.partition(":")[0])


def options() -> dict[str, Option]:
    """Every option name any task takes (for `key=value` words and "did you mean")."""
    return {opt.name: opt for entry in _TASKS.values() for opt in entry.options}


def needed(names: list[str]) -> set[str] | None:
    """The creators a run of these tasks needs: those that make them and, at any depth, the
    ones those declare in `needs`. None when a name is not a public task (a target, a
    project's alias): only the whole table can answer for it."""
    todo = []
    for word in names:
        owner = _OWNERS.get(word.partition(":")[0])
        if owner is None:
            return None
        todo.append(owner)
    out: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in out:
            out.add(name)
            todo += _NEEDS.get(name, ())
    return out
