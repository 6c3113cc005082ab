"""tasks/render/templates.py: the Jinja environment (strict, sandboxed, byte-stable) and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.errors import StackError
from tasks.render import templates


def test_a_value_with_a_line_break_never_reaches_a_template(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The config boundary refuses such values; this is the guard behind it, in every template.
    monkeypatch.chdir(project)
    templates.environment.cache_clear()
    template = project / "templates/k8s/base/namespace.yaml.j2"
    template.write_text(template.read_text() + "x: {{ evil }}\n")
    with pytest.raises(StackError, match=r"templates/k8s/base/namespace.yaml.j2, line \d+: .*line break"):
        templates.render_now(
            "k8s/base/namespace.yaml.j2", {"cfg": config.load_stack(project), "evil": "a\nhost: injected"}
        )
    templates.environment.cache_clear()


def test_templates_are_sandboxed(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    templates.environment.cache_clear()
    template = project / "templates/k8s/base/namespace.yaml.j2"
    template.write_text(template.read_text() + "{{ cfg.__class__.__init__.__globals__ }}\n")
    with pytest.raises(StackError, match="unsafe"):
        templates.render_now("k8s/base/namespace.yaml.j2", {"cfg": config.load_stack(project)})
    templates.environment.cache_clear()


def test_a_missing_template_or_bad_syntax_names_the_template(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    templates.environment.cache_clear()
    try:
        with pytest.raises(StackError, match=r"templates/nope.j2: template not found \(needed for nope.j2\)"):
            templates.render_now("nope.j2", {})
        template = project / "templates/k8s/base/namespace.yaml.j2"
        template.write_text("a\nb\n{% if %}\n")
        with pytest.raises(StackError, match=r"templates/k8s/base/namespace.yaml.j2, line 3: "):
            templates.render_now("k8s/base/namespace.yaml.j2", {})
        template.write_text("x: {{ cfg }}\n\n\n")
        assert templates.render_now("k8s/base/namespace.yaml.j2", {"cfg": "v"}) == "x: v\n"  # one newline
    finally:
        templates.environment.cache_clear()


def test_jinja_trims_blocks_and_sorts_json(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    templates.environment.cache_clear()
    try:
        template = project / "templates/k8s/base/namespace.yaml.j2"
        template.write_text("a:\n  {% if true %}\n  b: {{ d | tojson }}\n  {% endif %}\n")
        assert templates.render_now("k8s/base/namespace.yaml.j2", {"d": {"z": 1, "a": 2}}) == (
            'a:\n  b: {"a": 2, "z": 1}\n'
        )
        (project / "templates/k8s/base/inc.j2").write_text("ok\n{% if %}\n")
        template.write_text('{% include "k8s/base/inc.j2" %}\n')
        with pytest.raises(StackError, match=r"^templates/k8s/base/inc.j2, line 2: "):
            templates.render_now("k8s/base/namespace.yaml.j2", {})
    finally:
        templates.environment.cache_clear()


def test_a_missing_tool_folder_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(StackError) as info:
        templates.tool_folder(tmp_path / "gone", "templates are")
    assert (
        info.value.message
        == f"stackbuild's templates are not where the installed tool keeps them ({tmp_path / 'gone'})"
    )
    assert templates.tool_folder(tmp_path, "templates are") == tmp_path
