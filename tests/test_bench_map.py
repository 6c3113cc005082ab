"""bench/mutation_tests.toml names the tests of every module of tasks/ (issue 15).

The mutation benchmark measures each module with the tests listed there; a module without a
line would make the benchmark stop, and a stale line would measure a module that is gone.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TASKS = REPO / "tasks"


def _modules() -> set[str]:
    return {
        ".".join(p.relative_to(TASKS).with_suffix("").parts)
        for p in TASKS.rglob("*.py")
        if p.name != "__init__.py" and "__pycache__" not in p.parts
    }


def _listed() -> dict[str, list[str]]:
    text = (REPO / "bench" / "mutation_tests.toml").read_text(encoding="utf-8")
    modules: dict[str, list[str]] = tomllib.loads(text)["modules"]
    return modules


def test_every_module_of_tasks_has_its_tests_listed() -> None:
    listed = _listed()
    assert set(listed) == _modules(), (
        f"missing: {sorted(_modules() - set(listed))}; stale: {sorted(set(listed) - _modules())}"
    )


def test_listed_tests_exist_and_run_without_docker() -> None:
    for module, tests in _listed().items():
        assert tests, module
        for test in tests:
            path = REPO / test
            assert path.is_file(), f"{module}: {test} does not exist"
            # The benchmark runs with -m 'not docker'; a docker-only file would measure nothing.
            assert "integration" not in path.parts, f"{module}: {test} needs Docker"
