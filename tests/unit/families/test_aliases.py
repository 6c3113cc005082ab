"""The aliases family (tasks/families/aliases.py): one task per alias, running the task it names."""

from __future__ import annotations

from pathlib import Path

from tasks.errors import StackError
from tasks.families import aliases
from tasks.families.shared.run import Run
from testing.configs import small_project, stack, write


def _run(root: Path) -> Run:
    return Run(root=root, command="list", words=[], vars={}, env="test", envs=["test"])


def test_each_alias_is_a_listed_task_that_runs_its_task(tmp_path: Path) -> None:
    root = small_project(tmp_path)
    data = stack()
    data["aliases"] = {"up": "compose_up", "bootstrap": "compose_jobs"}
    write(root, "stack.yaml", data)
    assert list(aliases.task__aliases(_run(root))) == [
        {
            "basename": "bootstrap",
            "doc": "alias of compose_jobs (aliases in stack.yaml).",
            "actions": None,
            "task_dep": ["compose_jobs"],
        },
        {
            "basename": "up",
            "doc": "alias of compose_up (aliases in stack.yaml).",
            "actions": None,
            "task_dep": ["compose_up"],
        },
    ]


def test_a_stack_without_aliases_or_with_a_broken_file_makes_no_task(tmp_path: Path) -> None:
    root = small_project(tmp_path)
    assert list(aliases.task__aliases(_run(root))) == []
    (root / "environments" / "stack.yaml").write_text("project: [\n")
    run = _run(root)
    assert isinstance(run.try_config(None), StackError)
    assert list(aliases.task__aliases(run)) == []
