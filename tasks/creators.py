"""Small pieces every task creator shares (layer 5): named actions, failing placeholders."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tasks.errors import StackError, user_errors
from tasks.model import Config

TaskDict = dict[str, Any]


def failing(exc: StackError, *, basename: str | None = None, name: str | None = None,
            doc: str | None = None) -> TaskDict:
    """A task whose configuration is broken: it exists (never vanishes from `doit list` or a
    dependency) and fails with the configuration's own message when run."""
    def configuration_error() -> None:
        raise exc

    task: TaskDict = {"actions": [user_errors(configuration_error)],
                      "doc": doc or "Configuration error: run it to see the file, line and fix.",
                      "uptodate": [False]}
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


def failing_family(basenames: Iterable[str], exc: StackError) -> Iterator[TaskDict]:
    for basename in basenames:
        yield failing(exc, basename=basename)
