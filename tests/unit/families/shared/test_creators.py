"""What every task creator shares (tasks/families/shared/creators.py), called directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from doit.exceptions import TaskFailed

from tasks.cli.resolve import resolve
from tasks.errors import StackError
from tasks.families.shared import creators
from tasks.model import Config
from tasks.output import console
from testing.environments import break_environment, copy_environments

BROKEN = StackError("environments/dev.yaml is broken", fix="fix it")


def test_a_user_error_becomes_a_clean_task_failure() -> None:
    def step(a: int, *, b: int) -> int:
        """Adds."""
        if a < 0:
            raise BROKEN
        return a + b

    wrapped = creators.user_errors(step)
    assert wrapped(1, b=2) == 3 and wrapped.__name__ == "step" and wrapped.__doc__ == "Adds."
    failed = wrapped(-1, b=2)
    assert isinstance(failed, TaskFailed)
    assert failed.get_msg().strip() == "environments/dev.yaml is broken\nFix: fix it"


def test_a_skipped_check_becomes_the_tasks_skipped_value() -> None:
    def check(skip: bool) -> None:
        if skip:
            console.skipped("no provider mirror")
            console.skipped("and no checkov")

    wrapped = creators.user_errors(check)
    assert wrapped(True) == {"skipped": "no provider mirror; and no checkov"}
    assert wrapped(False) is None  # nothing left over from the call before
    console.skipped("left by something that is not an action")
    assert wrapped(False) is None


def test_a_failing_task_exists_and_fails_with_the_error() -> None:
    task = creators.failing(BROKEN, basename="deploy", name="dev", doc="Deploy dev.")
    assert (task["basename"], task["name"], task["doc"], task["uptodate"]) == (
        "deploy",
        "dev",
        "Deploy dev.",
        [False],
    )
    failed = task["actions"][0]()
    assert isinstance(failed, TaskFailed) and "environments/dev.yaml is broken" in failed.get_msg()
    plain = creators.failing(BROKEN)
    assert "basename" not in plain and "name" not in plain
    assert plain["doc"] == "Configuration error: run it to see the file, line and fix."
    family = list(creators.failing_family(["push", "deploy"], BROKEN))
    assert [t["basename"] for t in family] == ["push", "deploy"]


def test_each_cloud_environment_gets_a_subtask_and_a_broken_one_a_failing_one(tmp_path: Path) -> None:
    root = copy_environments(tmp_path)
    (root / "environments" / "qa.yaml").write_text(
        (root / "environments" / "dev.yaml").read_text().replace("srvthreds-dev", "srvthreds-qa")
    )
    break_environment(root, "test")
    run = resolve(["compose_up"], root)

    def make(cfg: Config) -> dict[str, Any]:
        return {"doc": f"for {cfg.env}", "actions": None}

    tasks = list(creators.each_cloud_env(run, make))
    assert [t["name"] for t in tasks] == ["dev", "prod", "qa", "staging", "test"]
    assert tasks[0] == {"name": "dev", "doc": "for dev", "actions": None}
    failed = tasks[-1]["actions"][0]()
    assert isinstance(failed, TaskFailed) and "environments/test.yaml" in failed.get_msg()
    # Only those that run a cluster, when asked: the broken one still fails in its place.
    (root / "environments" / "qa.yaml").write_text(
        (root / "environments" / "qa.yaml").read_text().replace("runtime: kubernetes", "runtime: compose")
    )
    run = resolve(["compose_up"], root)
    clusters = [t["name"] for t in creators.each_cloud_env(run, make, kubernetes_only=True)]
    assert clusters == ["dev", "prod", "staging", "test"]
