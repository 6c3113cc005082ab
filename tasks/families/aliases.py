"""doit tasks: the project's other names for tasks (`aliases:` in environments/stack.yaml).

Each alias is a task that runs nothing itself and depends on the task it names, so `doit
list` shows it with that task and `doit <alias>` runs it. The command line has checked them
(tasks/cli/aliases.py): each names a task, and none hides a task or a doit command.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.families.shared.registry import creator
from tasks.families.shared.run import Run
from tasks.model import Config


@creator(needs=("compose", "minikube"))
def task__aliases(run: Run) -> Iterator[dict[str, Any]]:
    """Other names for tasks (hidden group; each alias is listed by its own name)."""
    stack = run.try_config(None)
    if not isinstance(stack, Config):
        return  # the broken stack file is reported, once, by the command line
    for alias, task in sorted(stack.aliases.items()):
        yield {
            "basename": alias,
            "doc": f"alias of {task} (aliases in stack.yaml).",
            "actions": None,
            "task_dep": [task],
        }
