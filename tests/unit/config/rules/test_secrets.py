"""Rules about secrets (tasks/config/rules/secrets.py), on a small made-up project."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config.rules import secrets as rules
from testing.configs import LOCAL, broken, cloud_env, read, refused, small_project, stack


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


@pytest.mark.parametrize(
    "secret, what, where",
    [
        ("WEB_IMAGE", "the image of service 'web'", "services.web"),
        ("MIGRATE_IMAGE", "the image of service 'migrate'", "services.migrate"),
        ("PG_HOST", "the address of database 'pg'", "databases.pg.env_var"),
    ],
)
def test_secrets_are_not_the_tools_variables(root: Path, secret: str, what: str, where: str) -> None:
    data = stack()
    data["secrets"] = ["PG_PASSWORD", secret]
    err = broken(rules.secrets_are_not_the_tools_variables, root, data)
    assert (err.file, err.keypath, err.line) == ("environments/stack.yaml", "secrets[1]", 37)
    assert err.problem == (
        f"{secret} is the variable through which the tool passes {what} ({where}): "
        "the tool's value would replace the secret"
    )
    assert (
        err.fix == f"rename the secret (here, in compose/<env>/.env and where it is read), or rename {where}"
    )
    rules.secrets_are_not_the_tools_variables(read(root, stack()))


def test_a_built_databases_image_variable_is_the_tools(root: Path) -> None:
    data = stack()
    data["secrets"] = ["PG_IMAGE"]
    data["databases"]["pg"]["secret_env"] = {}
    rules.secrets_are_not_the_tools_variables(read(root, data))  # pg is pulled: no PG_IMAGE is set
    data["databases"]["pg"]["build"] = "app"
    err = broken(rules.secrets_are_not_the_tools_variables, root, data)
    assert "passes the image of database 'pg' (databases.pg.build)" in err.problem


@pytest.mark.parametrize("secret", ["COMPOSE_PROJECT_NAME", "DOCKER_HOST"])
def test_a_secret_is_not_one_of_composes_own_settings(root: Path, secret: str) -> None:
    data = stack()
    data["secrets"] = [secret, "PG_PASSWORD"]
    err = broken(rules.secrets_are_not_the_tools_variables, root, data)
    assert (err.keypath, err.problem) == (
        "secrets[0]",
        f"{secret} is a variable Docker Compose reads as its own setting (COMPOSE_*, DOCKER_*)",
    )


FIX = (
    "keep only the address here (no `user:password@`); list the password's name under `secrets:` and "
    "set its value in compose/<env>/.env (Kubernetes: the <project>-secrets Secret): every service reads "
    "it by that name, and `databases.<db>.secret_env` passes it to a database"
)


@pytest.mark.parametrize(
    "endpoint, user",
    [
        ("mongodb+srv://app:S3cretPw@cluster0.example.net/db", "app"),
        ("postgres://:S3cretPw@db.example.net:5432", ""),
        ("app:S3cretPw@db.example.net:5432", "app"),
    ],
)
def test_passwords_are_never_plain_values(root: Path, endpoint: str, user: str) -> None:
    err = broken(
        rules.passwords_are_never_plain_values,
        root,
        None,
        cloud_env() | {"endpoints": {"pg": endpoint}},
    )
    assert (err.file, err.keypath, err.line) == ("environments/test.yaml", "endpoints.pg", 5)
    assert err.problem == (
        f"this value holds a password (user info `{user}:...@`): it would be written in plain text "
        "into committed Compose files and ConfigMaps"
    )
    assert err.fix == FIX and "S3cretPw" not in err.render()


@pytest.mark.parametrize(
    "fine", ["db.example.net:5432", "mongodb+srv://app@cluster0.example.net/db", "https://h/p?a=b:c@d"]
)
def test_an_address_without_a_password_is_fine(root: Path, fine: str) -> None:
    rules.passwords_are_never_plain_values(read(root, None, cloud_env() | {"endpoints": {"pg": fine}}))


@pytest.mark.parametrize(
    "where, keypath, file",
    [
        ("config", "config.MQ_URL", "environments/test.yaml"),
        ("services", "services.web.env.MQ_URL", "environments/stack.yaml"),
        ("databases", "databases.pg.env.MQ_URL", "environments/stack.yaml"),
    ],
)
def test_passwords_are_never_plain_values_in_config_or_env(
    root: Path, where: str, keypath: str, file: str
) -> None:
    data, env = stack(), {**LOCAL}
    url = "amqp://app:S3cretPw@mq:5672"
    if where == "config":
        env["config"] = {"A": "1", "MQ_URL": url}
    else:
        data[where][keypath.split(".")[1]]["env"] = {"MQ_URL": url}
    err = broken(rules.passwords_are_never_plain_values, root, data, env)
    assert (err.file, err.keypath) == (file, keypath) and "S3cretPw" not in err.render()


def test_outside_endpoints_a_value_without_a_scheme_is_left_alone(root: Path) -> None:
    # `user:password@host` without a scheme is an endpoint's form only: elsewhere it may be an address.
    rules.passwords_are_never_plain_values(
        read(root, None, {**LOCAL, "config": {"NOTE": "ops:oncall@x.com"}})
    )


def test_load_refuses_the_password_before_anything_is_built(root: Path) -> None:
    env = cloud_env() | {"endpoints": {"pg": "postgres://app:S3cretPw@db.example.net:5432"}}
    err = refused(root, None, env)
    assert err.keypath == "endpoints.pg" and "S3cretPw" not in err.render()


@pytest.mark.parametrize(
    ("kind", "name", "fix_key"), [("services", "web", "secrets"), ("databases", "pg", "secret_env")]
)
def test_env_settings_are_not_named_like_secrets(root: Path, kind: str, name: str, fix_key: str) -> None:
    data = stack()
    data[kind][name]["env"] = {"LOG_LEVEL": "info", "DB_PASSWORD": "plainpw"}
    err = broken(rules.env_settings_are_not_named_like_secrets, root, data)
    assert (err.file, err.keypath) == ("environments/stack.yaml", f"{kind}.{name}.env.DB_PASSWORD")
    assert err.problem.startswith("DB_PASSWORD is named like a secret, but an env value is written in plain")
    assert err.fix is not None and f"give it to {name} ({kind}.{name}.{fix_key})" in err.fix
    assert "plainpw" not in err.render()
    data[kind][name]["env"] = {"LOG_LEVEL": "info", "PASSES": "3"}  # not a secret's name
    rules.env_settings_are_not_named_like_secrets(read(root, data))
