"""Rules over the whole merged file (tasks/config/rules/stack.py), on a small made-up project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.config.rules import stack as rules
from testing.configs import CLOUD, KUBE, LOCAL, RESOURCES, broken, cloud_env, read, small_project, stack


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


def test_required_keys_are_set(root: Path) -> None:
    # An environment file may add a service: what it requires is checked on the merged result.
    err = broken(
        rules.required_keys_are_set,
        root,
        None,
        {**LOCAL, "services": {"api": {"kind": "job", "resources": RESOURCES}}},
    )
    assert (err.file, err.keypath, err.line) == ("environments/test.yaml", "services.api", 5)
    assert err.problem == "missing required key 'command'" and err.fix == "add `command:` under services.api"
    rules.required_keys_are_set(read(root, None, LOCAL))


@pytest.mark.parametrize(
    "key, value, keypath, twice",
    [
        ("secrets", ["PG_PASSWORD", "PG_PASSWORD"], "secrets[1]", "PG_PASSWORD"),
        ("components", ["ingress", "ingress"], "components[1]", "ingress"),
        ("minikube", {"addons": ["a", "a"]}, "minikube.addons[1]", "a"),
    ],
)
def test_lists_have_no_repeats(root: Path, key: str, value: Any, keypath: str, twice: str) -> None:
    data = stack()
    data[key] = value
    err = broken(rules.lists_have_no_repeats, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        keypath,
        f"{twice!r} is listed twice",
        "remove the duplicate",
    )


def test_disabled_services_and_uses_have_no_repeats(root: Path) -> None:
    err = broken(
        rules.lists_have_no_repeats, root, None, {**LOCAL, "disabled_services": ["migrate", "migrate"]}
    )
    assert (err.keypath, err.problem) == ("disabled_services[1]", "'migrate' is listed twice")
    data = stack()
    data["services"]["web"]["uses"] = ["pg", "pg"]
    assert broken(rules.lists_have_no_repeats, root, data).keypath == "services.web.uses[1]"
    data["services"]["web"]["uses"] = ["pg"]
    data["services"]["web"]["optional_uses"] = ["pg", "pg"]
    assert broken(rules.lists_have_no_repeats, root, data).keypath == "services.web.optional_uses[1]"
    rules.lists_have_no_repeats(read(root, data, {**LOCAL, "disabled_services": ["web"]}))


@pytest.mark.parametrize("where", ["config", "env"])
def test_secrets_are_never_plain_values(root: Path, where: str) -> None:
    data = stack()
    if where == "config":
        data["config"] = {"A": "1", "PG_PASSWORD": "x"}
        keypath = "config.PG_PASSWORD"
    else:
        data["services"]["migrate"]["env"] = {"A": "1", "PG_PASSWORD": "x"}
        keypath = "services.migrate.env.PG_PASSWORD"
    err = broken(rules.secrets_are_never_plain_values, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        keypath,
        "PG_PASSWORD is a secret: this value would be written in plain text",
        "remove it here; set PG_PASSWORD in compose/<env>/.env or the Kubernetes Secret",
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("default_env", "test"),
        ("aliases", {"up": "compose_up"}),
        ("monitoring", {"namespace": "obs"}),
        ("logging", {"namespace": "logs"}),
    ],
)
def test_stack_only_keys_are_set_in_the_stack_file(root: Path, key: str, value: Any) -> None:
    err = broken(rules.stack_only_keys_are_set_in_the_stack_file, root, None, {**LOCAL, key: value})
    assert (err.file, err.keypath, err.problem, err.fix) == (
        "environments/test.yaml",
        key,
        f"{key} is a setting of the project, not of one environment",
        "move it to environments/stack.yaml",
    )
    data = stack()
    data[key] = value
    rules.stack_only_keys_are_set_in_the_stack_file(read(root, data, LOCAL))


def test_default_env_names_an_environment(root: Path) -> None:
    data = stack()
    data["default_env"] = "tset"
    err = broken(rules.default_env_names_an_environment, root, data, LOCAL)
    assert (err.file, err.keypath, err.problem, err.fix) == (
        "environments/stack.yaml",
        "default_env",
        "there is no environment 'tset' (no environments/tset.yaml)",
        "did you mean 'test'? (allowed: test)",
    )
    data["default_env"] = "test"
    rules.default_env_names_an_environment(read(root, data, LOCAL))


def test_aliases_name_tasks_not_aliases(root: Path) -> None:
    data = stack()
    data["aliases"] = {"up": "compose_up", "start": "up"}
    err = broken(rules.aliases_name_tasks_not_aliases, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        "aliases.start",
        "alias start names another alias (up)",
        "name the task itself: `start: compose_up`",
    )


def test_every_key_a_cloud_block_lacks_is_named_at_once(root: Path) -> None:
    """Before, each run named one missing key: four runs for a block written from memory."""
    partial = {k: v for k, v in CLOUD.items() if k not in ("region", "state", "github", "access")}
    err = broken(rules.required_keys_are_set, root, None, {**cloud_env(), "cloud": partial})
    assert (err.file, err.keypath) == ("environments/test.yaml", "cloud")
    assert err.problem == "missing required key 'access' (also 'github', 'region', 'state')"
    assert err.fix == "add `access:`, `github:`, `region:`, `state:` under cloud"


def test_pod_uid_is_not_a_host_account(root: Path) -> None:
    data = stack()
    data["images"]["uid"] = 1000
    err = broken(rules.pod_uid_is_not_a_host_account, root, data, KUBE)
    assert (err.file, err.keypath) == ("environments/stack.yaml", "images.uid")
    assert err.problem == (
        "uid 1000 is below 10000: it may be a host account's, so the restricted Pod Security policy "
        "refuses the services' pods (runtime: kubernetes in environments/test.yaml)"
    )
    assert err.fix == "use a uid of 10000 or more (the images are built for it: build arg UID)"
    # Where nothing runs in Kubernetes, a host-like uid is the user's choice (bind mounts).
    rules.pod_uid_is_not_a_host_account(read(root, data, LOCAL))


@pytest.mark.parametrize(
    ("where", "key"),
    [(("config",), "API_TOKEN"), (("databases", "pg", "env_var"), "PG_SECRET_HOST")],
)
def test_plain_settings_are_not_named_like_secrets(root: Path, where: tuple[str, ...], key: str) -> None:
    data = stack()
    if where == ("config",):
        data["config"] = {"LOG": "x", key: "abc"}
        at = f"config.{key}"
    else:
        data["databases"]["pg"]["env_var"] = key
        at = "databases.pg.env_var"
    err = broken(rules.plain_settings_are_not_named_like_secrets, root, data)
    assert (err.keypath, err.problem) == (
        at,
        f"{key} is named like a secret, but this value is plain text in a ConfigMap",
    )
    assert err.fix == (
        f"list {key} under `secrets:` and set it in compose/<env>/.env or the Kubernetes Secret; or rename it"
    )
