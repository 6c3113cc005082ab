"""The test tree mirrors the code (docs/testing.md): tests/unit/<package path>/test_<module>.py for
tasks/<package path>/<module>.py (or for the package <module>/__init__.py), tests/testing/ likewise
for the test-support package testing/, tests/contract/ by workflow, tests/integration/ for the real
daemon. No test module imports another (shared helpers live in testing/), and the mutation
benchmark finds each module's tests from the mirror (bench/mutation.py)."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

from testing.project import REPO

TESTS = REPO / "tests"
TASKS = REPO / "tasks"
TESTING = REPO / "testing"
# unit, contract and integration (docs/testing.md); minikube: the opt-in real cluster; testing: the
# tests of the test-support package, mirroring testing/.
TIERS = {"unit", "contract", "integration", "minikube", "testing"}

sys.path.insert(0, str(REPO / "bench"))
import mutation  # noqa: E402  (bench/ is not a package: the benchmark is a script)


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def imported_test_modules(path: Path) -> list[str]:
    """The test modules a file imports: `tests.<anything>`, or a relative import."""
    found = []
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "tests"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append("." * node.level + (node.module or ""))
            elif node.module and node.module.split(".")[0] == "tests":
                found.append(node.module)
    return found


def test_no_test_module_imports_another() -> None:
    offenders = {
        str(p.relative_to(REPO)): imported
        for p in python_files(TESTS)
        if (imported := imported_test_modules(p))
    }
    assert offenders == {}, "move what they share into testing/"


def test_the_import_check_sees_absolute_and_relative_imports(tmp_path: Path) -> None:
    path = tmp_path / "test_x.py"
    path.write_text("import tests.a\nfrom tests.b import c\nfrom . import d\nfrom testing import e\n")
    assert imported_test_modules(path) == ["tests.a", "tests.b", "."]


def mirrored(test: Path, tests: Path, code: Path) -> Path | None:
    """The module a test file mirrors: tests/<tier>/<package path>/test_<name>.py tests
    <code>/<package path>/<name>.py, or the package <code>/<package path>/<name>/__init__.py
    (tests/unit/config/test_rules.py tests tasks/config/rules/__init__.py); None: neither exists."""
    rel = test.relative_to(tests)
    name = rel.name.removeprefix("test_").removesuffix(".py")
    for module in (code / rel.parent / f"{name}.py", code / rel.parent / name / "__init__.py"):
        if module.is_file():
            return module
    return None


def orphans(tests: Path, code: Path) -> list[str]:
    """The test files under `tests` that mirror no module of `code` (relative to `tests`)."""
    found = (p for p in tests.rglob("test_*.py") if "__pycache__" not in p.parts)
    return sorted(p.relative_to(tests).as_posix() for p in found if mirrored(p, tests, code) is None)


def test_every_unit_test_file_mirrors_a_module_of_tasks() -> None:
    assert orphans(TESTS / "unit", TASKS) == [], "it is tests/unit/<package path>/test_<module>.py"


def test_the_tests_of_the_testing_package_mirror_it() -> None:
    assert orphans(TESTS / "testing", TESTING) == [], "it is tests/testing/<package path>/test_<module>.py"


def test_a_test_file_mirrors_a_module_or_a_package_and_nothing_else(tmp_path: Path) -> None:
    code, tests = tmp_path / "code", tmp_path / "tests"
    for name in ("pkg/mod.py", "pkg/sub/__init__.py", "pkg/sub/inner.py", "pkg/empty/x.py"):
        (code / name).parent.mkdir(parents=True, exist_ok=True)
        (code / name).write_text("")
    for name in ("mod", "sub", "empty", "gone"):
        (tests / "pkg").mkdir(parents=True, exist_ok=True)
        (tests / "pkg" / f"test_{name}.py").write_text("")
    (tests / "pkg/sub").mkdir()
    (tests / "pkg/sub/test_inner.py").write_text("")
    assert mirrored(tests / "pkg/test_mod.py", tests, code) == code / "pkg/mod.py"
    assert mirrored(tests / "pkg/test_sub.py", tests, code) == code / "pkg/sub/__init__.py"
    assert mirrored(tests / "pkg/sub/test_inner.py", tests, code) == code / "pkg/sub/inner.py"
    # A folder without __init__.py is not a package; a module that is gone mirrors nothing.
    assert mirrored(tests / "pkg/test_empty.py", tests, code) is None
    assert mirrored(tests / "pkg/test_gone.py", tests, code) is None
    assert orphans(tests, code) == ["pkg/test_empty.py", "pkg/test_gone.py"]


def test_tests_live_in_their_tier() -> None:
    loose = {p.name for p in TESTS.glob("*.py")} - {"__init__.py", "conftest.py"}
    assert sorted(loose) == [], "put it under tests/unit, tests/contract or tests/integration"
    assert {p.name for p in TESTS.iterdir() if p.is_dir() and p.name != "__pycache__"} == TIERS


def test_every_folder_under_tests_is_a_package() -> None:
    folders = [TESTS, *(p for p in TESTS.rglob("*") if p.is_dir() and p.name != "__pycache__")]
    assert [str(f.relative_to(REPO)) for f in folders if not (f / "__init__.py").is_file()] == []


def test_every_module_of_tasks_has_tests_for_the_mutation_benchmark() -> None:
    modules = mutation.module_paths([])
    groups = mutation.test_map(modules)  # raises (SystemExit) when a module has none
    assert sum(len(members) for members in groups.values()) == len(modules)
    for tests in groups:
        for test in tests:
            # The benchmark runs with -m 'not docker': a docker-only file would measure nothing.
            assert "integration" not in Path(test).parts, test


def test_the_exceptions_list_only_extra_files() -> None:
    listed = tomllib.loads(mutation.TEST_MAP.read_text(encoding="utf-8"))["modules"]
    names = {mutation.module_name(p): p for p in mutation.module_paths([])}
    assert sorted(set(listed) - set(names)) == [], "a module that is gone"
    for name, tests in listed.items():
        mirror = mutation.mirror(names[name]).relative_to(REPO).as_posix()
        assert mirror not in tests, f"{name}: its mirror file is found without being listed"
        assert len(set(tests)) == len(tests), name
        stale = [t for t in tests if not (REPO / t).is_file()]
        assert stale == [], f"{name}: no such test file"
        assert all(t.startswith("tests/") and Path(t).name.startswith("test_") for t in tests), name
