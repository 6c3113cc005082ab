"""Small pieces every task creator shares (layer 5): named actions, failing placeholders."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tasks.errors import StackError, user_errors

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


def failing_family(basenames: Iterable[str], exc: StackError) -> Iterator[TaskDict]:
    for basename in basenames:
        yield failing(exc, basename=basename)
