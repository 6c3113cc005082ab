"""What every task creator shares (tasks/families/shared/creators.py), called directly."""

from __future__ import annotations

from pathlib import Path

from doit.exceptions import TaskFailed

from tasks.config import load as config
from tasks.errors import StackError
from tasks.families.shared import creators
from testing.project import REPO

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


def test_cloud_names_and_configs_keep_broken_environments_as_failing_subtasks(tmp_path: Path) -> None:
    dev = config.load("dev", REPO)
    minikube = config.load("minikube", REPO)
    local = config.load("local", REPO)
    names = list(creators.cloud_names([("dev", dev), ("qa", BROKEN)]))
    assert names[0] == "dev" and isinstance(names[1], dict) and names[1]["name"] == "qa"
    configs = list(creators.cloud_configs([("dev", dev), ("qa", BROKEN), ("local", local), ("mk", minikube)]))
    assert configs[0] is dev and isinstance(configs[1], dict) and configs[1]["name"] == "qa"
    assert configs[2] is minikube and len(configs) == 3  # local runs on Compose: no cluster
    family = list(creators.failing_family(["push", "deploy"], BROKEN))
    assert [t["basename"] for t in family] == ["push", "deploy"]
