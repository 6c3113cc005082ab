"""The list of rules (tasks/config/rules/__init__.py): every rule in it, in order, each with its test."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from tasks.config import rules
from tasks.config.rules import (
    autoscale,
    builds,
    cloud,
    cloud_values,
    collisions,
    databases,
    limits,
    metrics,
    names,
    secrets,
    services,
    stack,
    sync,
)
from tasks.errors import ConfigError
from testing import configs
from testing.configs import LOCAL, read, small_project

MODULES = (
    autoscale,
    builds,
    cloud,
    cloud_values,
    collisions,
    databases,
    limits,
    metrics,
    names,
    secrets,
    services,
    stack,
    sync,
)
TESTS = Path(__file__).parent / "rules"


def _takes_merged(func: object) -> bool:
    params = list(inspect.signature(func).parameters.values())  # type: ignore[arg-type]
    return len(params) == 1 and params[0].annotation == "Merged"


def test_every_rule_function_is_listed_once() -> None:
    defined = [
        func
        for module in MODULES
        for name, func in vars(module).items()
        if inspect.isfunction(func) and not name.startswith("_") and func.__module__ == module.__name__
        if _takes_merged(func)
    ]
    assert sorted(f.__name__ for f in defined) == sorted(f.__name__ for f in rules.RULES)
    assert len(set(rules.RULES)) == len(rules.RULES)


@pytest.mark.parametrize("rule", rules.RULES, ids=lambda rule: rule.__name__)
def test_every_rule_has_its_own_test(rule: rules.Rule) -> None:
    module = rule.__module__.rsplit(".", 1)[-1]
    tree = ast.parse((TESTS / f"test_{module}.py").read_text())
    tests = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert f"test_{rule.__name__}" in tests


def test_a_valid_configuration_passes_every_rule(tmp_path: Path) -> None:
    rules.check(read(small_project(tmp_path), None, LOCAL))


def test_the_first_rule_in_the_list_reports_first(tmp_path: Path) -> None:
    root = small_project(tmp_path)
    # Two mistakes: a deployment without a health check, and an unknown database it uses.
    data = configs.stack()
    del data["services"]["web"]["health"]
    merged = read(root, data, {**LOCAL, "services": {"web": {"uses": ["pg", "pgx"]}}})
    with pytest.raises(ConfigError) as info:
        rules.check(merged)
    assert (info.value.keypath, info.value.problem) == (
        "services.web.uses[1]",
        "'pgx' is neither a database nor a service",
    )
    with pytest.raises(ConfigError) as info:
        services.deployments_have_a_health_check(merged)
    assert info.value.keypath == "services.web"
