"""tasks/programs/graphviz.py with the real `dot`: DOT in, SVG out; a missing Graphviz is one
sentence naming its install command; a broken graph is a ToolError."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tasks.errors import StackError, ToolError
from tasks.programs import graphviz


def test_a_graph_becomes_an_svg_document_naming_its_nodes() -> None:
    text = graphviz.svg('digraph { "a:b" -> c; }')
    root = ET.fromstring(text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    titles = {t.text for t in root.iter("{http://www.w3.org/2000/svg}title")}
    assert {"a:b", "c"} <= titles


def test_missing_graphviz_is_one_sentence_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StackError) as info:
        graphviz.svg("digraph { a; }")
    assert info.value.render() == graphviz.MISSING
    assert f"`{graphviz.INSTALL}`" in graphviz.MISSING and graphviz.MISSING.count(". ") == 0


def test_a_broken_graph_fails_with_dots_complaint() -> None:
    with pytest.raises(ToolError) as info:
        graphviz.svg("digraph { a -> ; }")
    assert "syntax error" in info.value.render()


def test_a_dot_that_prints_nothing_is_one_sentence_not_an_empty_picture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dot = tmp_path / "dot"
    dot.write_text("#!/bin/sh\ncat >/dev/null\nexit 0\n")
    dot.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    with pytest.raises(StackError) as info:
        graphviz.svg("digraph { a; }")
    assert info.value.render() == (
        f"Graphviz's `dot` ({dot}) printed no SVG, so there is no picture to write: "
        f"check that `dot -Tsvg` works there (reinstall it with `{graphviz.INSTALL}`) and run again."
    )
