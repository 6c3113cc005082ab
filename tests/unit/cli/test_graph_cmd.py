"""tasks/cli/graph_cmd.py on real doit tasks and a real dependency database: doit's own
status (with "always" told apart from stale), its dependencies (implicit and wildcard ones
included) and the environment of a one-subtask-per-environment task."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from doit.dependency import Dependency, JsonDB
from doit.task import Task

from tasks import families
from tasks.cli import graph_cmd


def _never(*args: object) -> None:
    """An action that is never run here."""


def _boom() -> bool:
    raise RuntimeError("daemon gone")


@pytest.fixture
def deps(tmp_path: Path) -> Dependency:
    return Dependency(JsonDB, str(tmp_path / "db.json"))


def tasks(tmp_path: Path) -> list[Any]:
    source, made = tmp_path / "in.txt", tmp_path / "out.txt"
    if not source.exists():
        source.write_text("v1")
    return [
        Task("make", [(_never,)], file_dep=[str(source)], targets=[str(made)]),
        Task("use", [(_never,)], file_dep=[str(made)]),
        Task("ps", [(_never,)], uptodate=[False]),
        Task("shell", [(_never,)]),
        Task("broken", [(_never,)], uptodate=[_boom]),
        Task("all", None, task_dep=["ma*"], doc="every make"),
    ]


def by_name(found: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in found}


def test_each_task_has_doits_status_and_dependencies(tmp_path: Path, deps: Dependency) -> None:
    found = by_name(graph_cmd.nodes(tasks(tmp_path), deps))
    assert found["make"]["status"] == "run" and found["make"]["why"].startswith("missing: ")
    assert found["use"]["status"] == "error" and "does not exist" in found["use"]["why"]
    assert found["use"]["deps"] == ["make"]  # implicit: it reads what `make` writes
    assert found["all"]["deps"] == ["make"] and found["all"]["group"] and found["all"]["doc"] == "every make"
    assert (found["ps"]["status"], found["shell"]["status"]) == ("always", "always")
    assert found["broken"]["status"] == "error" and "RuntimeError: daemon gone" in found["broken"]["why"]
    assert {n["env"] for n in found.values()} == {None}


def test_a_task_that_ran_is_up_to_date_until_its_input_changes(tmp_path: Path, deps: Dependency) -> None:
    task_list = tasks(tmp_path)
    (tmp_path / "out.txt").write_text("made")
    deps.save_success(task_list[0])
    assert by_name(graph_cmd.nodes(task_list, deps))["make"]["status"] == "up-to-date"
    (tmp_path / "in.txt").write_text("version 2")
    after = by_name(graph_cmd.nodes(tasks(tmp_path), deps))["make"]
    assert after["status"] == "run" and after["why"] == f"changed: {tmp_path / 'in.txt'}"


def test_an_ignored_task_says_so(tmp_path: Path, deps: Dependency) -> None:
    task_list = tasks(tmp_path)
    deps.ignore(task_list[2])
    assert by_name(graph_cmd.nodes(task_list, deps))["ps"]["status"] == "ignore"


def test_only_a_per_environment_subtask_has_an_environment() -> None:
    families.load()
    assert graph_cmd.env_of("deploy:prod") == "prod"
    assert graph_cmd.env_of("deploy") is None
    assert graph_cmd.env_of("render:k8s-prod") is None  # render makes every environment's files
    assert graph_cmd.env_of("images:engine") is None
    assert graph_cmd.env_of("no_such_task:prod") is None


def test_the_command_prints_the_nodes_as_json(tmp_path: Path, deps: Dependency) -> None:
    command = graph_cmd.TaskGraph.__new__(graph_cmd.TaskGraph)  # doit builds it with its loader
    command.task_list = tasks(tmp_path)
    command.dep_manager = deps
    command.outstream = io.StringIO()
    assert command._execute() == 0
    printed = json.loads(command.outstream.getvalue())
    assert [n["name"] for n in printed["tasks"]] == ["make", "use", "ps", "shell", "broken", "all"]
