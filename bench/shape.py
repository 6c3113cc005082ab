"""The shape of tasks/: the numbers docs/architecture.md quotes, and a gate (.ci/run).

    .venv/bin/python bench/shape.py

Prints, and exits 1 on, any of:
- a module of tasks/ over MAX_MODULE_LINES lines;
- a function of tasks/ over MAX_FUNCTION_LINES lines (its `def` line to its last line);
- a function of tasks/ above mccabe complexity MAX_COMPLEXITY (ruff's C901, the rule
  `ruff check` applies from pyproject.toml; run here without that file's exceptions);
- an import cycle among the modules of tasks/ (a strongly connected component of the import
  graph grimp builds for import-linter, imports under TYPE_CHECKING included);
- an import-linter contract that lists modules where it should name packages.

A contract may name a module of the flat core (a module directly in tasks/, such as
tasks.model), a single module it is about (`tasks.programs.tools` is forbidden to the task
families), or modules of an exhaustive layers contract (import-linter fails on a module left
out, so that list cannot go stale). Two or more other modules in one contract are a hand-kept
list: a new module beside them is silently outside the rule.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "tasks"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_COMPLEXITY = 15


@dataclass(frozen=True)
class Finding:
    rule: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"


def modules(root: Path = REPO) -> list[Path]:
    return sorted(p for p in (root / PACKAGE).rglob("*.py") if "__pycache__" not in p.parts)


def long_modules(paths: Iterable[Path], root: Path = REPO) -> list[Finding]:
    out = []
    for path in paths:
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            where = path.relative_to(root).as_posix()
            out.append(Finding("module", where, f"{lines} lines (limit {MAX_MODULE_LINES})"))
    return out


def _functions(
    tree: ast.AST, prefix: str = ""
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                yield name, node
            yield from _functions(node, name + ".")
        else:
            yield from _functions(node, prefix)


def long_functions(paths: Iterable[Path], root: Path = REPO) -> list[Finding]:
    out = []
    for path in paths:
        tree = ast.parse(path.read_bytes(), str(path))
        for name, node in _functions(tree):
            start, end = node.lineno, node.end_lineno or node.lineno
            lines = end - start + 1
            if lines > MAX_FUNCTION_LINES:
                where = f"{path.relative_to(root).as_posix()}:{start}"
                out.append(
                    Finding("function", where, f"{name} is {lines} lines (limit {MAX_FUNCTION_LINES})")
                )
    return out


def complex_functions(root: Path = REPO) -> list[Finding]:
    """ruff's C901 over tasks/, without pyproject.toml (so without its per-file exceptions)."""
    command = [
        sys.executable,
        "-m",
        "ruff",
        "check",
        "--isolated",
        "--select",
        "C901",
        "--config",
        f"lint.mccabe.max-complexity = {MAX_COMPLEXITY}",
        "--output-format",
        "json",
        PACKAGE,
    ]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    if result.returncode not in (0, 1):
        raise SystemExit(f"bench/shape.py: ruff failed (exit {result.returncode}): {result.stderr.strip()}")
    out = []
    for item in json.loads(result.stdout or "[]"):
        where = f"{Path(item['filename']).resolve().relative_to(root).as_posix()}:{item['location']['row']}"
        out.append(Finding("complexity", where, item["message"].replace("`", "")))
    return sorted(out, key=lambda f: f.where)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def import_graph() -> dict[str, set[str]]:
    import grimp

    graph = grimp.build_graph(PACKAGE, cache_dir=None)
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def cycle_findings(graph: dict[str, set[str]]) -> list[Finding]:
    return [Finding("cycle", " <-> ".join(c), f"{len(c)} modules import each other") for c in cycles(graph)]


def _names(contract: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for field in ("source_modules", "forbidden_modules", "modules"):
        names += contract.get(field, [])
    containers = contract.get("containers", [])
    for layer in contract.get("layers", []):
        for part in layer.replace(":", "|").split("|"):
            part = part.strip().removeprefix("(").removesuffix(")").strip()
            if part:
                names += [f"{c}.{part}" for c in containers] if containers else [part]
    return names


def module_lists(
    contracts: list[dict[str, Any]], packages: set[str], root_modules: set[str]
) -> list[Finding]:
    """Contracts that name two or more modules that are neither packages nor the flat core."""
    out = []
    for contract in contracts:
        if contract.get("type") == "layers" and contract.get("exhaustive"):
            continue
        listed = sorted({n for n in _names(contract) if n not in packages and n not in root_modules})
        if len(listed) > 1:
            out.append(
                Finding(
                    "contract", contract.get("name", "?"), f"lists modules, not packages: {', '.join(listed)}"
                )
            )
    return out


def contract_findings(root: Path = REPO) -> list[Finding]:
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    base = root / PACKAGE
    packages = {
        ".".join(p.relative_to(root).parts) for p in [base, *base.rglob("*")] if (p / "__init__.py").is_file()
    }
    flat = {f"{PACKAGE}.{p.stem}" for p in base.glob("*.py") if p.name != "__init__.py"}
    return module_lists(contracts, packages, flat)


def report(findings: list[Finding], paths: list[Path], graph: dict[str, set[str]]) -> str:
    real = [p for p in paths if p.name != "__init__.py"]  # a package's one-line docstring is no module
    functions = sum(1 for p in real for _ in _functions(ast.parse(p.read_bytes())))
    lines = sorted(len(p.read_text(encoding="utf-8").splitlines()) for p in real)
    rows = [
        f"tasks/: {len(real)} modules, {functions} functions, median module {lines[len(lines) // 2]} lines, "
        f"largest {lines[-1]}",
    ]
    titles = {
        "module": f"modules over {MAX_MODULE_LINES} lines",
        "function": f"functions over {MAX_FUNCTION_LINES} lines",
        "complexity": f"functions above complexity {MAX_COMPLEXITY}",
        "cycle": f"import cycles (among {len(graph)} modules and packages)",
        "contract": "contracts that list modules",
    }
    for rule, title in titles.items():
        mine = [f for f in findings if f.rule == rule]
        rows.append(f"{len(mine)} {title}")
        rows += [f"  {f}" for f in mine]
    return "\n".join(rows)


def main() -> int:
    paths = modules()
    graph = import_graph()
    findings = [
        *long_modules(paths),
        *long_functions(paths),
        *complex_functions(),
        *cycle_findings(graph),
        *contract_findings(),
    ]
    print(report(findings, paths, graph))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
