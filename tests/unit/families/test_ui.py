"""tasks/families/ui.py: the `ui` and `restart` task dicts (options as doit params), a broken
environment as failing placeholders, and what `restart` refuses."""

from __future__ import annotations

import sys

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


def test_ui_serves_the_page_of_its_environment_with_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from tasks.ui import server

    served: list[tuple[str, str, int, str]] = []
    monkeypatch.setattr(
        server, "serve", lambda env, *, host, port, token: served.append((env, host, port, token))
    )
    made = {t["basename"]: t for t in ui_tasks.task_ui(_run("offline"))}
    assert made["ui"]["verbosity"] == 2 and "offline" not in made["ui"]["doc"]
    ui_tasks.serve("offline", 10999, "127.0.0.1", "t0ken")
    assert served == [("offline", "127.0.0.1", 10999, "t0ken")]


def test_ui_without_its_web_packages_says_which_one_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import tasks.ui

    # The import fails as if starlette or uvicorn were not installed.
    monkeypatch.delattr(tasks.ui, "server", raising=False)
    monkeypatch.setitem(sys.modules, "tasks.ui.server", None)
    with pytest.raises(StackError, match="is not installed in this virtualenv") as failed:
        ui_tasks.serve("offline", 10360, "127.0.0.1", "")
    assert failed.value.fix is not None and "pip install -e '.[dev]'" in failed.value.fix


def test_restart_restarts_the_named_service_of_its_compose_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    restarted: list[tuple[str, str]] = []
    monkeypatch.setattr(ui_tasks, "restart", lambda stack, name: restarted.append((stack.env, name)))
    ui_tasks.restart_one(config.load("offline", REPO), "engine")
    assert restarted == [("offline", "engine")]
