"""tasks/programs/doit_graph.py: the project's own doit asked for its task graph (a real child
`doit taskgraph` in a project copy, docker a fake), and what it prints parsed or refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tasks.errors import StackError, ToolError
from tasks.programs import doit_graph
from tasks.programs.doit_graph import Node
from testing.fakes.docker import FakeDocker

ONE = {
    "name": "deploy:dev",
    "doc": "d",
    "deps": ["push:dev"],
    "status": "run",
    "why": "w",
    "group": False,
    "env": "dev",
}


def test_the_json_becomes_typed_nodes() -> None:
    text = json.dumps({"tasks": [ONE, {**ONE, "name": "graph", "deps": [], "status": "always", "env": None}]})
    assert doit_graph.parse(text) == [
        Node("deploy:dev", "d", ("push:dev",), "run", "w", False, "dev"),
        Node("graph", "d", (), "always", "w", False, None),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Usage: doit ...",
        json.dumps({"tasks": [{"name": "x"}]}),
        json.dumps({"tasks": [{**ONE, "status": "odd"}]}),
    ],
)
def test_anything_else_is_refused_in_one_sentence(text: str) -> None:
    with pytest.raises(StackError) as info:
        doit_graph.parse(text)
    assert "\n" not in info.value.render() and "taskgraph" in info.value.render()


def test_a_failing_child_is_told_by_its_own_first_lines() -> None:
    failed = ToolError(
        ["doit"], 78, "ERROR: ==> File environments/dev.yaml, line 3\n==> At x\n\n=====> bad\nFix: y\nmore"
    )
    assert doit_graph.reason(failed) == "==> File environments/dev.yaml, line 3 ==> At x =====> bad Fix: y"
    assert doit_graph.reason(ToolError(["doit"], 2, "")) == "exit 2"


def test_the_child_lists_every_task_with_dependencies_and_status(
    project: Path, fake_docker_daemon: FakeDocker
) -> None:
    nodes = {n.name: n for n in doit_graph.read("local", root=project)}
    assert nodes["graph"].status == "always" and not nodes["graph"].group
    assert nodes["render:config"].status == "run"  # a fresh copy: nothing ran yet
    assert nodes["render"].group and "render:config" in nodes["render"].deps
    assert {n.env for n in nodes.values() if n.name.startswith("deploy:")} == {"dev", "staging", "prod"}


def test_a_broken_configuration_fails_with_its_file_and_key(
    project: Path, fake_docker_daemon: FakeDocker
) -> None:
    with (project / "environments" / "local.yaml").open("a") as handle:
        handle.write("bogus_key: 1\n")
    with pytest.raises(StackError) as info:
        doit_graph.read("local", root=project)
    assert "environments/local.yaml" in info.value.render() and "bogus_key" in info.value.render()
