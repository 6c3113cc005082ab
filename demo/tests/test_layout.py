"""The image layout relies on services depending only on `common`, never on each
other: a service image holds shared code plus its own module only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "srvthreds_demo"
SERVICES = ["engine", "session_agent", "persistence_agent", "bootstrap"]


@pytest.mark.parametrize("module", SERVICES)
def test_service_imports_only_common(module: str) -> None:
    tree = ast.parse((PKG / f"{module}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            names = [node.module or ""] + [a.name for a in node.names]
            assert not set(names) & set(SERVICES), f"{module} imports another service"


def test_common_imports_no_service() -> None:
    for path in (PKG / "common").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level > 1:
                raise AssertionError(f"{path.name} reaches outside common")


def test_client_libraries_are_imported_lazily() -> None:
    # Module-level imports of pika/redis/pymongo would make every test need them.
    for path in PKG.rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import):
                assert not {a.name for a in node.names} & {"pika", "redis", "pymongo"}, path
