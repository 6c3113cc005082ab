"""doit task: `doit graph env=<env>` draws the environment's task graph as SVG, stale tasks
highlighted (the drawing: tasks/ops/graph.py)."""

from __future__ import annotations

from typing import Any

from tasks.families.shared.creators import user_errors
from tasks.families.shared.options import Option
from tasks.families.shared.registry import Scope, Task, creator
from tasks.families.shared.run import Run
from tasks.ops import graph as ops

OUT = Option("out", str, "", "where to write the SVG (default: .build/<env>/graph.svg)")


@user_errors
def draw(env: str, out: str) -> None:
    ops.write(env, out)


@creator(Task("graph", Scope.SELECTED, options=(OUT,)))
def task_graph(run: Run) -> dict[str, Any]:
    """Draw env=<name>'s task graph as SVG, stale tasks highlighted (--out: another path)."""
    return {
        "actions": [(draw, [run.env_for("graph")])],
        "uptodate": [False],  # the picture is of the state now: drawing it is always the point
        "verbosity": 2,
        "params": run.params("graph"),
    }
