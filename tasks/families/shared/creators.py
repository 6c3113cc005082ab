"""Small pieces every task creator shares (layer 5): named actions, failing placeholders."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from doit.exceptions import TaskFailed

from tasks.errors import StackError
from tasks.model import Config

TaskDict = dict[str, Any]
F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """Turn a StackError raised by a doit python-action into a clean task failure.

    doit prints a traceback for exceptions; for expected failures the message is the
    interface, so it is returned as TaskFailed (which doit shows without a traceback
    and never records as done).
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except StackError as exc:
            return TaskFailed(exc.render())

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


def cloud_names(pairs: Iterable[tuple[str, Config | StackError]]) -> Iterator[str | TaskDict]:
    """Each cloud environment's name (from `Run.cloud_envs()`); a broken one as a failing
    subtask named after it, so it never vanishes."""
    for env, got in pairs:
        yield failing(got, name=env) if isinstance(got, StackError) else env


def cloud_configs(pairs: Iterable[tuple[str, Config | StackError]]) -> Iterator[Config | TaskDict]:
    """Each cloud Kubernetes environment's config (from `Run.cloud_envs()`); a broken one as
    a failing subtask named after it."""
    for env, got in pairs:
        if isinstance(got, StackError):
            yield failing(got, name=env)
        elif got.runtime == "kubernetes":
            yield got


def failing_family(basenames: Iterable[str], exc: StackError) -> Iterator[TaskDict]:
    for basename in basenames:
        yield failing(exc, basename=basename)
