"""Variables two places would set, refused naming both (tasks/config/rules/collisions.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.config.rules import collisions as rules
from testing.configs import LOCAL, broken, read, small_project, stack


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


def two_databases(second_var: str = "CACHE_HOST") -> dict[str, Any]:
    data = stack()
    data["databases"]["cache"] = {"image": "redis:7", "port": 6379, "env_var": second_var}
    return data


def test_database_env_vars_are_distinct(root: Path) -> None:
    err = broken(
        rules.database_env_vars_are_distinct,
        root,
        two_databases("PG_HOST"),
        LOCAL | {"placement": {"pg": "compose", "cache": "compose"}},
    )
    assert (err.file, err.keypath) == ("environments/stack.yaml", "databases.cache.env_var")
    assert err.problem == "PG_HOST is also databases.pg.env_var: services would get one address for both"
    assert err.fix == "give cache its own env_var (e.g. CACHE_HOST)"
    rules.database_env_vars_are_distinct(read(root, two_databases()))


def test_config_keys_are_not_database_addresses(root: Path) -> None:
    err = broken(
        rules.config_keys_are_not_database_addresses, root, None, {**LOCAL, "config": {"PG_HOST": "x"}}
    )
    assert (err.file, err.keypath) == ("environments/test.yaml", "config.PG_HOST")
    assert (
        err.problem
        == "PG_HOST is databases.pg.env_var: the database's address would silently replace this value"
    )
    assert err.fix == "rename the config key (the address comes from pg's placement)"
    rules.config_keys_are_not_database_addresses(read(root, None, {**LOCAL, "config": {"PG_PORT": "1"}}))


def test_service_env_is_not_a_database_address(root: Path) -> None:
    env = {**LOCAL, "services": {"migrate": {"env": {"PG_HOST": "elsewhere:5432"}}}}
    err = broken(rules.service_env_is_not_a_database_address, root, None, env)
    assert (err.file, err.keypath) == ("environments/test.yaml", "services.migrate.env.PG_HOST")
    assert err.problem == "PG_HOST is databases.pg.env_var: this would replace the address migrate gets"


def test_database_addresses_are_not_secrets(root: Path) -> None:
    data = stack()
    data["secrets"].append("PG_HOST")
    err = broken(rules.database_addresses_are_not_secrets, root, data)
    assert (err.keypath, err.fix) == ("databases.pg.env_var", "give pg another env_var, or rename the secret")
    assert err.problem.startswith("PG_HOST is also a secret (secrets:)")


def test_a_database_variable_is_plain_or_secret(root: Path) -> None:
    data = stack()
    data["databases"]["pg"]["env"] = {"POSTGRES_PASSWORD": "plain"}
    err = broken(rules.a_database_variable_is_plain_or_secret, root, data)
    assert err.keypath == "databases.pg.secret_env.POSTGRES_PASSWORD"
    assert err.problem == "POSTGRES_PASSWORD is also in databases.pg.env: the container would get it twice"
    data["databases"]["pg"]["env"] = {"POSTGRES_USER": "app"}
    rules.a_database_variable_is_plain_or_secret(read(root, data))
