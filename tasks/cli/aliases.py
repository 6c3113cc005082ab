"""Other names for tasks, declared by the project: `aliases: {bootstrap: compose_jobs}` in
environments/stack.yaml (an old CLI's words, a team's habits). The tool names none itself.

An alias is a task of its own in doit (`doit list` shows it, with the task it runs); for the
command line's checks (the environment, the cloud guards) a word that is an alias counts as
the task it names. An alias never hides a task or a doit command: that is refused at its key.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from pathlib import Path

from tasks.config import load as config
from tasks.errors import StackError
from tasks.model import Config


def checked(
    stack: Config | StackError, root: Path, *, tasks: Collection[str], commands: Collection[str]
) -> dict[str, str]:
    """The stack's aliases, once each is known to name a task and to hide nothing; {} when
    the stack file is broken (its own error is reported instead)."""
    if isinstance(stack, StackError):
        return {}
    for alias, task in stack.aliases.items():
        if alias in tasks or alias in commands:
            what = "task" if alias in tasks else "doit command"
            raise _error(
                root,
                alias,
                f"alias {alias} would hide the {what} {alias}",
                f"rename the alias: `{alias}` always means the {what}",
            )
        if task not in tasks:
            close = difflib.get_close_matches(task, list(tasks), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise _error(
                root, alias, f"alias {alias} names no task ({task!r})", f"{hint}`doit list` shows every task"
            )
    return dict(stack.aliases)


def _error(root: Path, alias: str, problem: str, fix: str) -> StackError:
    return config.read_stack(root).error(("aliases", alias), problem, fix)


def target(word: str, aliases: Mapping[str, str]) -> str:
    """The task a word names: an alias's task (`bootstrap` -> `compose_jobs`), else the word."""
    base, sep, sub = word.partition(":")
    return aliases.get(base, base) + sep + sub
