"""Configuration loading: every bad input names the file, the key path and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.errors import ConfigError, StackError


@pytest.fixture
def envs(project: Path) -> Path:
    return project


def edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / "environments" / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1))


def error(root: Path, env: str | None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        config.load(env, root)
    return info.value


def line_of(root: Path, name: str, needle: str) -> int:
    lines = (root / "environments" / name).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_every_shipped_environment_loads(envs: Path) -> None:
    names = config.environments(envs)
    assert names == ["dev", "local", "minikube", "offline", "prod", "staging", "test"]
    for name in names:
        assert config.load(name, envs).env == name


def test_environment_files_only_hold_differences(envs: Path) -> None:
    prod = config.load("prod", envs)
    assert prod.services["engine"].replicas == 3
    assert prod.services["engine"].command == config.load(None, envs).services["engine"].command


def test_minikube_points_databases_at_the_host(envs: Path) -> None:
    cfg = config.load("minikube", envs)
    assert cfg.databases["mongodb"].endpoint == "host.minikube.internal:27017"
    assert cfg.databases["redis"].endpoint == "host.minikube.internal:6379"
    assert cfg.databases["rabbitmq"].endpoint == "rabbitmq:5672"


def test_wrong_type(envs: Path) -> None:
    edit(envs, "prod.yaml", "engine: {replicas: 3}", 'engine: {replicas: "three"}')
    err = error(envs, "prod")
    assert str(err) == (
        f"==> File environments/prod.yaml, line {line_of(envs, 'prod.yaml', 'three')}\n"
        "==> At services.engine.replicas\n"
        "=====> expected int, got str ('three')\n"
        "Fix: write a whole number (e.g. 3)"
    )


def test_unknown_key_suggests_the_right_one(envs: Path) -> None:
    edit(envs, "stack.yaml", "    replicas: 1\n", "    replcas: 1\n")
    err = error(envs, None)
    assert err.keypath == "services.engine.replcas"
    assert err.line == line_of(envs, "stack.yaml", "replcas")
    assert "unknown key 'replcas'" in str(err)
    assert "did you mean 'replicas'?" in str(err)


def test_malformed_yaml(envs: Path) -> None:
    (envs / "environments" / "dev.yaml").write_text("runtime: kubernetes\nplacement: [unclosed\n")
    err = error(envs, "dev")
    assert err.file == "environments/dev.yaml"
    assert "malformed YAML" in str(err)
    assert err.line == 3


def test_bad_service_name(envs: Path) -> None:
    edit(envs, "stack.yaml", "  session-agent:\n", "  Session_Agent:\n")
    err = error(envs, None)
    assert err.keypath == "services.Session_Agent"
    assert "'Session_Agent' is not a valid DNS-1123 label" in str(err)


def test_port_out_of_range(envs: Path) -> None:
    edit(
        envs,
        "stack.yaml",
        "{name: http, port: 3000, publish: 3000}",
        "{name: http, port: 70000, publish: 3000}",
    )
    err = error(envs, None)
    assert err.keypath == "services.session-agent.ports[0].port"
    assert "port 70000 is out of range" in str(err) and "between 1 and 65535" in str(err)


def test_bad_resource_quantity(envs: Path) -> None:
    edit(envs, "stack.yaml", "limits: {cpu: 500m, memory: 256Mi}", "limits: {cpu: 500m, memory: 256MB}")
    err = error(envs, None)
    assert err.keypath == "services.engine.resources.limits.memory"
    assert "'256MB' is not a valid resource quantity" in str(err)


def test_unknown_environment_name(envs: Path) -> None:
    with pytest.raises(StackError) as info:
        config.load("prd", envs)
    assert "unknown environment 'prd'" in str(info.value)
    assert "did you mean 'prod'?" in str(info.value)


def test_mongodb_can_never_be_placed_in_a_cluster(envs: Path) -> None:
    edit(envs, "minikube.yaml", "mongodb: compose", "mongodb: cluster")
    err = error(envs, "minikube")
    assert err.keypath == "placement.mongodb"
    assert "mongodb cannot be placed in the cluster" in str(err)


def test_service_needing_a_disabled_database(envs: Path) -> None:
    edit(envs, "offline.yaml", "disabled_services: [persistence-agent]", "disabled_services: []")
    err = error(envs, "offline")
    assert "service 'persistence-agent' needs mongodb, which is disabled here" in str(err)
    assert "add persistence-agent to disabled_services" in str(err)


def test_external_database_needs_an_endpoint(envs: Path) -> None:
    edit(envs, "dev.yaml", "  redis: redis-dev.example.redis-cloud.com:6379\n", "")
    err = error(envs, "dev")
    assert "redis is external but has no endpoint" in str(err)


def test_secret_env_must_name_a_declared_secret(envs: Path) -> None:
    edit(envs, "stack.yaml", "RABBITMQ_DEFAULT_PASS: RABBITMQ_PASSWORD", "RABBITMQ_DEFAULT_PASS: RABBIT_PW")
    err = error(envs, None)
    assert "undeclared secret 'RABBIT_PW'" in str(err)
