"""doit tasks: `doit images_prune` keeps the newest N content tags per image repository
(the rules: tasks/ops/prune.py)."""

from __future__ import annotations

from typing import Any

from tasks.errors import StackError
from tasks.families.shared.creators import user_errors
from tasks.families.shared.options import Option
from tasks.families.shared.registry import Scope, Task, creator
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.ops import prune as ops

KEEP = Option("keep", int, 3, "content tags to keep per image repository")


@user_errors
def prune(cfg: Config | StackError, keep: int) -> None:
    if isinstance(cfg, StackError):
        raise cfg
    ops.prune(cfg, keep)


@creator(Task("images_prune", Scope.SELECTED, options=(KEEP,)), needs=("_preflight",))
def task_images_prune(run: Run) -> dict[str, Any]:
    """Remove old content tags from the local daemon, keeping the newest --keep per image."""
    cfg = run.try_config(run.env_for("images_prune"))
    return {
        "actions": [(prune, [cfg])],
        "uptodate": [False],
        "verbosity": 2,
        "task_dep": ["_preflight:docker"],
        "params": run.params("images_prune"),
    }
