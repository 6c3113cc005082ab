"""Small pieces every task creator shares (layer 5): named actions, failing placeholders."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from doit.exceptions import TaskFailed

from tasks.errors import StackError
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.output import console

TaskDict = dict[str, Any]
# The task value that says a check was skipped, and why (tasks/cli/reporter.py reads it).
SKIPPED_VALUE = "skipped"
F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """Turn a StackError raised by a doit python-action into a clean task failure, and a check
    it skipped (`console.skipped`) into the task's value `skipped`.

    doit prints a traceback for exceptions; for expected failures the message is the
    interface, so it is returned as TaskFailed (which doit shows without a traceback
    and never records as done). A python-action's dict is doit's own channel from the action
    to the reporters (tasks/cli/reporter.py), whether the task ran in this thread, another
    one (`-P 2 --parallel-type thread`) or another process (`-P 2`).
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        console.taken()  # what an earlier action of this thread left
        try:
            result = func(*args, **kwargs)
        except StackError as exc:
            return TaskFailed(exc.render())
        reasons = console.taken()
        if reasons and result is None:
            return {SKIPPED_VALUE: "; ".join(reasons)}
        return result

    return wrapper  # type: ignore[return-value]


def failing(
    exc: StackError, *, basename: str | None = None, name: str | None = None, doc: str | None = None
) -> TaskDict:
    """A task whose configuration is broken: it exists (never vanishes from `doit list` or a
    dependency) and fails with the configuration's own message when run."""

    def configuration_error() -> None:
        raise exc

    task: TaskDict = {
        "actions": [user_errors(configuration_error)],
        "doc": doc or "Configuration error: run it to see the file, line and fix.",
        "uptodate": [False],
    }
    if basename is not None:
        task["basename"] = basename
    if name is not None:
        task["name"] = name
    return task


def each_cloud_env(
    run: Run, make: Callable[[Config], TaskDict], *, kubernetes_only: bool = False
) -> Iterator[TaskDict]:
    """One subtask per cloud environment (`Run.cloud_envs()`), named after it: `make(config)`'s
    task, or for a broken environment a failing subtask, so that it never vanishes.
    `kubernetes_only`: leave out the cloud environments that run no cluster."""
    for env, got in run.cloud_envs():
        if isinstance(got, StackError):
            yield failing(got, name=env)
        elif not kubernetes_only or got.runtime == "kubernetes":
            yield {"name": env, **make(got)}


def failing_family(basenames: Iterable[str], exc: StackError) -> Iterator[TaskDict]:
    for basename in basenames:
        yield failing(exc, basename=basename)
