"""One definition of CI: every pull request runs `.ci/run` (.github/workflows/ci.yml), and
`.ci/run` runs every gate docs/ci.md lists."""

from __future__ import annotations

from typing import Any

import yaml

from testing.project import REPO

GATES = [
    "ruff check .",
    "ruff format --check .",
    "mypy",
    "lint-imports",
    "python bench/shape.py",
    "doit render",
    'if [ -n "$(git status --porcelain',
    "doit validate",
    "pytest",
]


def test_every_pull_request_runs_the_ci_script() -> None:
    doc: dict[Any, Any] = yaml.safe_load((REPO / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    trigger = doc.get("on", doc.get(True))  # PyYAML reads the key `on` as True (YAML 1.1)
    assert trigger is not None and "pull_request" in trigger
    runs = [step.get("run", "") for job in doc["jobs"].values() for step in job["steps"]]
    assert ".ci/run" in runs


def test_the_ci_script_runs_every_gate_in_order() -> None:
    lines = [line.strip() for line in (REPO / ".ci/run").read_text(encoding="utf-8").splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    found = [next(i for i, line in enumerate(commands) if line.startswith(gate)) for gate in GATES]
    assert found == sorted(found), "the gates run in the order docs/ci.md lists them"
    assert "set -euo pipefail" in commands  # a failing gate stops the run
