"""Rules about the services (tasks/config/rules/services.py), each on a small made-up project."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tasks.config.rules import services as rules
from tasks.errors import ConfigError
from testing.configs import (
    KUBE,
    LOCAL,
    RESOURCES,
    broken,
    edit,
    error,
    line_of,
    load,
    read,
    small_project,
    stack,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


def test_environment_services_are_the_stacks_or_whole(root: Path) -> None:
    env = {**KUBE, "services": {"wbe": {"autoscale": {"min": 3, "max": 9}}}}
    err = broken(rules.environment_services_are_the_stacks_or_whole, root, None, env)
    assert (err.file, err.keypath) == ("environments/test.yaml", "services.wbe")
    assert err.line == line_of(root, "test.yaml", "wbe:")
    assert err.problem == "unknown service 'wbe': environments/stack.yaml declares no such service"
    assert err.fix == "did you mean 'web'? (allowed: migrate, web)"
    loaded = refused_env(root, env)
    assert (loaded.keypath, loaded.problem) == (err.keypath, err.problem)


def test_a_database_named_under_services_is_said_to_be_a_database(root: Path) -> None:
    err = refused_env(root, {**KUBE, "services": {"pg": {"replicas": 2}}})
    assert (err.file, err.keypath) == ("environments/test.yaml", "services.pg")
    assert err.problem == "'pg' is a database, not a service"
    assert err.fix.startswith("configure it under `databases: {pg: ...}`")


def test_an_environment_may_add_a_whole_service(root: Path) -> None:
    whole = {"command": ["work"], "resources": RESOURCES, "health": {"port": 9, "path": "/"}}
    rules.environment_services_are_the_stacks_or_whole(
        read(root, None, {**KUBE, "services": {"extra": whole}})
    )
    # A name like no service's is a new one, incomplete, or one the user thought the stack had.
    err = refused_env(root, {**KUBE, "services": {"worker": {"kind": "job"}}})
    assert (err.file, err.keypath, err.line) == (
        "environments/test.yaml",
        "services.worker",
        line_of(root, "test.yaml", "worker:"),
    )
    assert err.problem == (
        "'worker' is not a service of environments/stack.yaml, and as a service this file adds it "
        "lacks 'command', 'resources'"
    )
    assert err.fix == (
        "add `command:`, `resources:` under services.worker to add a service here, or name one of "
        "the stack's services (migrate, web)"
    )
    # Whole but for a key inside one: the check of that key names it.
    nested = {**whole, "health": {"path": "/"}}
    err = refused_env(root, {**KUBE, "services": {"extra": nested}})
    assert (err.keypath, err.problem) == ("services.extra.health", "a health check of kind http needs 'port'")


def refused_env(root: Path, env: dict[str, Any]) -> Any:
    """The error loading `env` as environments/test.yaml raises."""
    with pytest.raises(ConfigError) as info:
        load(root, None, env)
    return info.value


def test_disabled_services_are_known(root: Path) -> None:
    err = broken(
        rules.disabled_services_are_known, root, None, {**LOCAL, "disabled_services": ["migrate", "wbe"]}
    )
    assert (err.keypath, err.problem, err.fix) == (
        "disabled_services[1]",
        "unknown service 'wbe'",
        "did you mean 'web'? (allowed: migrate, web)",
    )


@pytest.mark.parametrize("key", ["uses", "optional_uses"])
def test_uses_name_known_databases(root: Path, key: str) -> None:
    data = stack()
    data["services"]["migrate"][key] = ["pg", "pgx"]
    err = broken(rules.uses_name_known_databases, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        f"services.migrate.{key}[1]",
        "'pgx' is neither a database nor a service",
        "did you mean 'pg'? (allowed: migrate, pg, web)",
    )
    # A disabled service is checked too: a typo is a typo wherever it is.
    disabled = {**LOCAL, "disabled_services": ["migrate"]}
    assert (
        broken(rules.uses_name_known_databases, root, data, disabled).keypath == f"services.migrate.{key}[1]"
    )


def test_uses_that_names_a_service_says_to_call_it(root: Path) -> None:
    data = stack()
    data["services"]["migrate"]["uses"] = ["pg", "web"]
    err = broken(rules.uses_name_known_databases, root, data)
    assert (err.keypath, err.problem) == ("services.migrate.uses[1]", "'web' is a service, not a database")
    assert err.fix == (
        "move it to `calls: {web: <port>}` under services.migrate: a service is called on one of its ports"
    )


def _calling(callee: str, port: int | str = "http") -> dict[str, Any]:
    data = stack()
    data["services"]["migrate"]["calls"] = {callee: port}
    return data


def test_calls_name_known_services(root: Path) -> None:
    err = broken(rules.calls_name_known_services, root, _calling("wbe"))
    assert (err.keypath, err.problem, err.fix) == (
        "services.migrate.calls.wbe",
        "'wbe' is neither a service nor a database",
        "did you mean 'web'? (allowed: pg, web)",
    )
    err = broken(rules.calls_name_known_services, root, _calling("pg"))
    assert (err.keypath, err.problem) == ("services.migrate.calls.pg", "'pg' is a database, not a service")
    assert err.fix == "move it to `uses: [pg]`: a database is used (its address and secrets)"
    err = broken(rules.calls_name_known_services, root, _calling("migrate"))
    assert (err.problem, err.fix) == ("migrate calls itself", "remove it: a pod always reaches itself")
    rules.calls_name_known_services(read(root, _calling("web")))


def test_calls_name_a_port_of_the_callee(root: Path) -> None:
    for port in ("http", 8080):
        cfg = load(root, _calling("web", port))
        assert cfg.services["migrate"].calls == {"web": 8080}
    err = broken(rules.calls_name_a_port_of_the_callee, root, _calling("web", "admin"))
    assert (err.keypath, err.problem, err.fix) == (
        "services.migrate.calls.web",
        "web has no port 'admin'",
        "call one of its ports: http (8080)",
    )
    data = _calling("web", 8080)
    data["services"]["web"]["ports"] = []
    err = broken(rules.calls_name_a_port_of_the_callee, root, data)
    assert (err.problem, err.fix) == (
        "web has no ports, so it cannot be called",
        "add the port it listens on under services.web.ports",
    )
    data = stack()
    data["services"]["web"]["calls"] = {"migrate": 1}
    err = broken(rules.calls_name_a_port_of_the_callee, root, data)
    assert (err.keypath, err.problem) == (
        "services.web.calls.migrate",
        "migrate is a job: nothing can call it",
    )


def test_called_services_are_not_disabled(root: Path) -> None:
    data = _calling("web", 8080)
    err = broken(rules.called_services_are_not_disabled, root, data, {**LOCAL, "disabled_services": ["web"]})
    assert (err.file, err.keypath, err.problem, err.fix) == (
        "environments/test.yaml",
        "disabled_services",
        "service 'migrate' calls web, which is disabled here",
        "add migrate to disabled_services too, or enable web",
    )
    off = load(root, data, {**LOCAL, "disabled_services": ["web", "migrate"]})
    assert off.services == {}


def test_service_secrets_are_declared(root: Path) -> None:
    data = stack()
    data["services"]["web"]["secrets"] = ["PG_PASSWROD"]
    err = broken(rules.service_secrets_are_declared, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        "services.web.secrets[0]",
        "undeclared secret 'PG_PASSWROD'",
        "did you mean 'PG_PASSWORD'? (allowed: PG_PASSWORD); or add PG_PASSWROD to the top-level "
        "`secrets:` list",
    )


def test_every_secret_reaches_a_container(root: Path) -> None:
    data = stack()
    data["secrets"] = ["PG_PASSWORD", "API_TOKEN"]
    err = broken(rules.every_secret_reaches_a_container, root, data)
    assert (err.keypath, err.problem) == (
        "secrets[1]",
        "secret API_TOKEN is given to no container: services get only the secrets of the databases "
        "they use and those they name",
    )
    assert err.fix is not None and "services.<name>.secrets: [API_TOKEN]" in err.fix
    data["services"]["web"]["secrets"] = ["API_TOKEN"]
    rules.every_secret_reaches_a_container(read(root, data))


def test_used_databases_are_not_disabled(root: Path) -> None:
    err = broken(
        rules.used_databases_are_not_disabled,
        root,
        None,
        {**LOCAL, "placement": {"pg": "disabled"}, "disabled_services": ["migrate"]},
    )
    assert (err.keypath, err.problem) == (
        "disabled_services",
        "service 'web' needs pg, which is disabled here",
    )
    assert err.fix == "add web to disabled_services, or place pg"
    off = load(
        root, None, {**LOCAL, "placement": {"pg": "disabled"}, "disabled_services": ["migrate", "web"]}
    )
    assert off.services == {}


def test_an_optional_use_may_be_disabled(root: Path) -> None:
    data = stack()
    data["services"]["migrate"]["uses"] = []
    data["services"]["migrate"]["optional_uses"] = ["pg"]
    cfg = load(root, data, {**LOCAL, "placement": {"pg": "disabled"}, "disabled_services": ["web"]})
    assert cfg.services["migrate"].optional_uses == ("pg",)


def test_deployments_have_a_health_check(root: Path) -> None:
    data = stack()
    del data["services"]["web"]["health"]
    err = broken(rules.deployments_have_a_health_check, root, data)
    assert (err.keypath, err.problem) == ("services.web", "deployment 'web' has no health check")
    assert err.fix == (
        "add `health: {kind: http, port: N, path: /healthz}` (or kind tcp or exec; "
        "used for probes and healthchecks)"
    )
    rules.deployments_have_a_health_check(read(root, data, {**LOCAL, "disabled_services": ["web"]}))


def test_jobs_have_no_health_check(root: Path) -> None:
    data = stack()
    data["services"]["migrate"]["health"] = {"kind": "tcp", "port": 1}
    err = broken(rules.jobs_have_no_health_check, root, data)
    assert (err.keypath, err.problem) == ("services.migrate.health", "job 'migrate' has a health check")
    assert err.fix == "remove it: a job runs once, and its exit code says whether it worked"


@pytest.mark.parametrize(
    "health, keypath, problem, fix",
    [
        (
            {"port": 1},
            "services.web.health",
            "a health check of kind http needs 'path'",
            "add `path: /healthz` under health",
        ),
        (
            {"kind": "tcp"},
            "services.web.health",
            "a health check of kind tcp needs 'port'",
            "add `port: 8080` under health",
        ),
        (
            {"kind": "exec"},
            "services.web.health",
            "a health check of kind exec needs 'command'",
            "add `command: [my-check]` under health",
        ),
        (
            {"kind": "tcp", "port": 1, "path": "/x"},
            "services.web.health.path",
            "'path' is not used by a health check of kind tcp",
            "remove it, or set the kind that uses it (http)",
        ),
        (
            {"kind": "exec", "command": ["x"], "port": 1},
            "services.web.health.port",
            "'port' is not used by a health check of kind exec",
            "remove it, or set the kind that uses it (http, tcp)",
        ),
        (
            {"kind": "exec", "command": []},
            "services.web.health.command",
            "the health command is empty",
            "write the program and its arguments, e.g. [my-check, --quiet]",
        ),
    ],
)
def test_health_checks_have_the_keys_of_their_kind(
    root: Path, health: dict[str, Any], keypath: str, problem: str, fix: str
) -> None:
    data = stack()
    data["services"]["web"]["health"] = health
    err = broken(rules.health_checks_have_the_keys_of_their_kind, root, data)
    assert (err.keypath, err.problem, err.fix) == (keypath, problem, fix)


@pytest.mark.parametrize("name", ["base", "builder"])
def test_service_names_are_not_the_tools_images(root: Path, name: str) -> None:
    data = stack()
    data["services"][name] = data["services"].pop("migrate")
    err = broken(rules.service_names_are_not_the_tools_images, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        f"services.{name}",
        f"{name!r} is the name of the tool's own {name} image",
        "rename the service: its image would overwrite that one's record",
    )


def test_a_name_is_a_service_or_a_database(root: Path) -> None:
    data = stack()
    data["services"]["pg"] = data["services"].pop("migrate")
    err = broken(rules.a_name_is_a_service_or_a_database, root, data)
    assert (err.keypath, err.problem) == ("services.pg", "'pg' names both a service and a database")
    assert err.fix == "rename one: each becomes a container, a Kubernetes object and a host name"


def test_uses_and_optional_uses_are_disjoint(root: Path) -> None:
    data = stack()
    data["services"]["web"]["optional_uses"] = ["pg"]
    err = broken(rules.uses_and_optional_uses_are_disjoint, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        "services.web.optional_uses[0]",
        "'pg' is in both uses and optional_uses",
        "keep it in one of the two",
    )


def test_ports_are_unique_per_service(root: Path) -> None:
    data = stack()
    ports = data["services"]["web"]["ports"]
    ports.append({"name": "admin", "port": 8080})
    err = broken(rules.ports_are_unique_per_service, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        "services.web.ports[1].port",
        "port 8080 is listed twice (also ports[0])",
        "remove the duplicate entry",
    )
    ports[1] = {"name": "http", "port": 9090}
    err = broken(rules.ports_are_unique_per_service, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        "services.web.ports[1].name",
        "port name 'http' is used twice (also ports[0])",
        "give each port its own name",
    )
    ports[1] = {"name": "admin", "port": 9090}
    assert len(load(root, data).services["web"].ports) == 2


def test_host_ports_are_published_once(root: Path) -> None:
    data = stack()
    ports = data["services"]["web"]["ports"]
    ports.append({"name": "admin", "port": 9090, "publish": 8080})
    err = broken(rules.host_ports_are_published_once, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        "services.web.ports[1].publish",
        "host port 8080 is already published by services.web.ports[0].publish",
        "give each published port its own number",
    )
    ports[1] = {"name": "admin", "port": 9090, "publish": 15432}
    err = broken(rules.host_ports_are_published_once, root, data)
    assert (err.keypath, err.problem) == (
        "databases.pg.publish",
        "host port 15432 is already published by services.web.ports[1].publish",
    )
    # Not published on the host in this environment: no clash.
    assert load(root, data, {**KUBE, "placement": {"pg": "external"}, "endpoints": {"pg": "db:1"}})
    # A disabled service publishes nothing.
    rules.host_ports_are_published_once(read(root, data, {**LOCAL, "disabled_services": ["web"]}))


def test_cpu_and_memory_quantities_compare_in_one_unit() -> None:
    assert rules.cpu_millis("250m") == Decimal(250) and rules.cpu_millis("1.5") == Decimal(1500)
    assert [rules.memory_bytes(f"1{unit}") for unit in ("Ki", "Mi", "Gi", "Ti", "K", "M", "G", "T")] == [
        1024,
        1024**2,
        1024**3,
        1024**4,
        10**3,
        10**6,
        10**9,
        10**12,
    ]
    assert rules.memory_bytes("3Mi") == 3 * 1024**2 and rules.memory_bytes("512") == 512


@pytest.mark.parametrize(
    "res, request_, limit, ok",
    [
        ("cpu", "500m", "0.5", True),
        ("cpu", "501m", "0.5", False),
        ("cpu", "2", "1500m", False),
        ("memory", "1Gi", "1024Mi", True),
        ("memory", "1G", "1Gi", True),
        ("memory", "1025Mi", "1Gi", False),
    ],
)
def test_requests_are_at_most_limits(root: Path, res: str, request_: str, limit: str, ok: bool) -> None:
    data = stack()
    data["services"]["web"]["resources"] = copy.deepcopy(RESOURCES)
    data["services"]["web"]["resources"]["requests"][res] = request_
    data["services"]["web"]["resources"]["limits"][res] = limit
    if ok:
        assert load(root, data).services["web"].limits[res] == limit
    else:
        err = broken(rules.requests_are_at_most_limits, root, data)
        assert (err.keypath, err.problem, err.fix) == (
            f"services.web.resources.requests.{res}",
            f"the {res} request {request_} is above the limit {limit}",
            f"lower requests.{res} or raise limits.{res}",
        )


def test_an_autoscale_min_above_one_is_refused_on_a_published_port_in_compose(root: Path) -> None:
    """Compose has no autoscaler: `min` is the count it would run, refused like `replicas`."""
    env = {**LOCAL, "services": {"web": {"autoscale": {"min": 2, "max": 4}}}}
    err = broken(rules.compose_runs_one_container_per_published_port, root, None, env)
    assert (err.file, err.keypath) == ("environments/test.yaml", "services.web.autoscale.min")
    assert err.line == line_of(root, "test.yaml", "min: 2")
    assert err.problem == (
        "web publishes host port 8080, so Compose can run only one container of it, not 2, in "
        "environment test (environments/test.yaml runs it with Compose)"
    )
    assert err.fix == (
        "set `services: {web: {autoscale: {min: 1}}}` in environments/test.yaml, or remove `publish` "
        "from its ports (other services still reach it on the Compose network)"
    )
    one = {**LOCAL, "services": {"web": {"autoscale": {"min": 1, "max": 4}}}}
    rules.compose_runs_one_container_per_published_port(read(root, None, one))
    assert load(root, None, {**KUBE, **env, "runtime": "kubernetes"}).services["web"].replicas == 2


def test_compose_runs_one_container_per_published_port(root: Path) -> None:
    err = broken(
        rules.compose_runs_one_container_per_published_port,
        root,
        None,
        {**LOCAL, "services": {"web": {"replicas": 3}}},
    )
    assert (err.keypath, err.problem) == (
        "services.web.replicas",
        "web publishes host port 8080, so Compose can run only one container of it, not 3, in "
        "environment test (environments/test.yaml runs it with Compose)",
    )
    assert err.fix == (
        "set `services: {web: {replicas: 1}}` in environments/test.yaml, or remove `publish` from its "
        "ports (other services still reach it on the Compose network)"
    )
    two = broken(
        rules.compose_runs_one_container_per_published_port,
        root,
        None,
        {**LOCAL, "services": {"web": {"replicas": 2}}},
    )
    assert "not 2, in environment test" in two.problem
    rules.compose_runs_one_container_per_published_port(
        read(root, None, {**LOCAL, "services": {"web": {"replicas": 1}}})
    )
    assert load(root, None, {**KUBE, "services": {"web": {"replicas": 3}}}).services["web"].replicas == 3
    data = stack()
    data["services"]["web"]["replicas"] = 2
    assert load(root, data).services["web"].replicas == 2  # the stack alone runs nowhere
    del data["services"]["web"]["ports"][0]["publish"]
    assert load(root, data, LOCAL).services["web"].replicas == 2


def test_a_shipped_service_needing_a_disabled_database(project: Path) -> None:
    edit(project, "offline.yaml", "disabled_services: [persistence-agent]", "disabled_services: []")
    err = error(project, "offline")
    assert (err.file, err.keypath) == ("environments/offline.yaml", "disabled_services")
    assert "service 'persistence-agent' needs mongodb, which is disabled here" in str(err)
    assert "add persistence-agent to disabled_services" in str(err)
