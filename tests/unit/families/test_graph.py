"""tasks/families/graph.py: the `graph` task (always runs, for the run's environment, with its
`out` option) and its action's one-sentence failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from doit.exceptions import TaskFailed

from tasks.families import graph as graph_tasks
from tasks.families.shared.run import Run
from tasks.programs import graphviz
from testing.project import REPO


def run_for(vars: dict[str, str]) -> Run:
    return Run(root=REPO, command="run", words=["graph"], vars=vars, env="offline", envs=["local", "offline"])


def test_the_task_draws_the_named_environment_every_time() -> None:
    task = graph_tasks.task_graph(run_for({"env": "offline", "out": "/tmp/x.svg"}))
    assert task["actions"] == [(graph_tasks.draw, ["offline"])]
    assert task["uptodate"] == [False]
    assert [(p["name"], p["default"]) for p in task["params"]] == [("out", "/tmp/x.svg")]
    assert graph_tasks.task_graph.__doc__ and "\n" not in graph_tasks.task_graph.__doc__.strip()


def test_without_env_the_task_draws_the_default_environment() -> None:
    task = graph_tasks.task_graph(run_for({}))
    assert task["actions"] == [(graph_tasks.draw, ["local"])]
    assert [(p["name"], p["default"]) for p in task["params"]] == [("out", "")]


def test_missing_graphviz_fails_the_task_with_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    failed = graph_tasks.draw("local", "")
    assert isinstance(failed, TaskFailed) and failed.message == graphviz.MISSING
