"""tasks/families/ui.py: the `ui` and `restart` task dicts (options as doit params), a broken
environment as failing placeholders, and what `restart` refuses."""

from __future__ import annotations

import pytest
from doit.exceptions import TaskFailed

from tasks.config import load as config
from tasks.errors import StackError
from tasks.families import ui as ui_tasks
from tasks.families.shared.registry import tasks
from tasks.families.shared.run import Run
from testing.project import REPO


def _run(env: str) -> Run:
    return Run(root=REPO, command="run", words=["ui"], vars={"env": env}, env=env, envs=[env])


def test_ui_and_restart_are_public_tasks_with_their_options() -> None:
    made = {t["basename"]: t for t in ui_tasks.task_ui(_run("offline"))}
    assert set(made) == {"ui", "restart"} and {"ui", "restart"} <= set(tasks())
    assert [p["name"] for p in made["ui"]["params"]] == ["port", "host", "token"]
    assert next(p for p in made["ui"]["params"] if p["name"] == "port")["default"] == 10360
    assert [p["name"] for p in made["restart"]["params"]] == ["service"]
    assert made["ui"]["uptodate"] == [False] and made["restart"]["uptodate"] == [False]


def test_a_broken_environment_makes_failing_placeholders() -> None:
    made = list(ui_tasks.task_ui(_run("no-such-env")))
    assert [t["basename"] for t in made] == ["ui", "restart"]
    for task in made:
        failed = task["actions"][0]()
        assert isinstance(failed, TaskFailed) and "no-such-env" in str(failed)


def test_restart_refuses_a_kubernetes_environment_and_needs_a_service() -> None:
    with pytest.raises(
        StackError, match="restarts Compose services; environment minikube runs on kubernetes"
    ):
        ui_tasks.restart_one(config.load("minikube", REPO), "engine")
    with pytest.raises(StackError, match="needs service=<name>"):
        ui_tasks.restart_one(config.load("offline", REPO), "")
