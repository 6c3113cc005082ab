"""tasks/ops/graph.py: which tasks belong to one environment, a group's status, the DOT text
(laid out by the real Graphviz), and the one-sentence failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.ops import graph
from tasks.programs import graphviz
from tasks.programs.doit_graph import Node

SVG = "{http://www.w3.org/2000/svg}"


def node(name: str, *deps: str, status: str = "run", group: bool = False, env: str | None = None) -> Node:
    return Node(name, f"does {name}", deps, status, "why not", group, env)


def drawn(svg_text: str) -> dict[str, str]:
    """Each node of an SVG drawn by Graphviz: its title (the task) -> its class (the status)."""
    root = ET.fromstring(svg_text)
    out = {}
    for g in root.iter(f"{SVG}g"):
        classes = (g.get("class") or "").split()
        if classes[:1] == ["node"]:
            title = g.find(f"{SVG}title")
            assert title is not None and title.text is not None
            out[title.text] = " ".join(classes[1:])
    return out


def test_subtasks_made_for_another_environment_are_left_out_with_their_edges() -> None:
    nodes = [
        node("deploy:dev", env="dev"),
        node("deploy:prod", env="prod"),
        node("deploy", "deploy:dev", "deploy:prod", group=True),
        node("push:prod", env="prod"),
        node("push", "push:prod", group=True),  # only another environment's: left out too
        node("smoke", "deploy:prod"),
        node("render"),
    ]
    kept = graph.of_env(nodes, "dev")
    assert [n.name for n in kept] == ["deploy:dev", "deploy", "smoke", "render"]
    assert {n.name: n.deps for n in kept}["deploy"] == ("deploy:dev",)
    assert {n.name: n.deps for n in kept}["smoke"] == ()
    assert [n.name for n in graph.of_env(nodes, "local")] == ["smoke", "render"]


def test_a_group_is_as_stale_as_its_most_urgent_dependency() -> None:
    nodes = [
        node("a", status="up-to-date"),
        node("b", status="always"),
        node("c", status="run"),
        node("d", status="error"),
        node("fresh", "a", status="always", group=True),
        node("commands", "a", "b", status="always", group=True),
        node("stale", "a", "b", "c", status="always", group=True),
        node("broken", "c", "d", status="always", group=True),
        node("outer", "fresh", "stale", status="always", group=True),  # through a group
        node("empty", status="always", group=True),
        node("acts", "c", status="up-to-date"),  # a task with actions keeps doit's own answer
    ]
    got = graph.statuses(nodes)
    assert got == {
        "a": "up-to-date",
        "b": "always",
        "c": "run",
        "d": "error",
        "fresh": "up-to-date",
        "commands": "always",
        "stale": "run",
        "broken": "error",
        "outer": "run",
        "empty": "always",
        "acts": "up-to-date",
    }


def test_a_dependency_cycle_of_groups_ends() -> None:
    nodes = [node("x", "y", group=True), node("y", "x", "z", group=True), node("z", status="up-to-date")]
    assert graph.statuses(nodes) == {"x": "up-to-date", "y": "up-to-date", "z": "up-to-date"}


def test_the_drawing_names_every_task_once_with_its_status_as_class() -> None:
    nodes = [
        node("images:builder", status="up-to-date"),
        node("images:api", "images:builder", status="run"),
        node("images", "images:builder", "images:api", group=True, status="always"),
        Node('odd "name"', 'says "hi" \\ and\nmore', ("images",), "always", "", False, None),
    ]
    source = graph.dot_source(nodes, "local")
    assert "rankdir=LR" in source
    assert source.count("subgraph cluster_") == 1  # images:* share a box; the rest stand alone
    assert drawn(graphviz.svg(source)) == {
        "images:builder": "up-to-date",
        "images:api": "run",
        "images": "run",  # its dependency is stale
        'odd "name"': "always",
    }


def test_a_stale_task_is_filled_and_an_always_running_one_is_not() -> None:
    source = graph.dot_source(
        [node("built", status="up-to-date"), node("stale"), node("ps", status="always")], "x"
    )
    lines = {line.split(" [")[0].strip(): line for line in source.splitlines() if " [label=" in line}
    assert graph.STYLES["run"] in lines['"stale"'] and "filled" in graph.STYLES["run"]
    assert graph.STYLES["always"] in lines['"ps"'] and "filled" not in graph.STYLES["always"]
    assert graph.STYLES["run"] != graph.STYLES["up-to-date"]


def test_a_subtask_is_labelled_short_inside_its_box_and_its_tooltip_says_why() -> None:
    source = graph.dot_source([node("render:k8s-dev"), node("render", "render:k8s-dev", group=True)], "dev")
    assert '"render:k8s-dev" [label="k8s-dev" tooltip="does render:k8s-dev\\nrun: why not"' in source
    assert '"render:k8s-dev" -> "render"' + graph.OWN_EDGE in source


def test_svg_without_graphviz_is_one_sentence_naming_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot here (the venv's bin folder has none either)
    with pytest.raises(StackError) as info:
        graph.svg("local", root=tmp_path)
    assert info.value.render() == graphviz.MISSING
    assert "apt-get install graphviz" in info.value.render() and "\n" not in info.value.render()


def test_an_out_path_under_a_file_is_one_sentence_naming_it_before_anything_is_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot, no doit project: the path is checked first
    (tmp_path / "notes.txt").write_text("mine\n")
    out = tmp_path / "notes.txt" / "graphs" / "g.svg"
    with pytest.raises(StackError) as info:
        graph.write("local", str(out))
    assert info.value.render() == (
        f"cannot write the task graph to {out}: {tmp_path / 'notes.txt'} is a file, not a folder; "
        f"choose an out= path outside it, or move {tmp_path / 'notes.txt'} away."
    )
    assert (tmp_path / "notes.txt").read_text() == "mine\n"
    with pytest.raises(StackError, match=r"it is a folder; name a file, e\.g\. out=.*graph\.svg\.$"):
        graph.write("local", str(tmp_path))
