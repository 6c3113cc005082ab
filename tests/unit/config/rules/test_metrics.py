"""Monitoring refused at its key (tasks/config/rules/metrics.py): metrics only in the stack file,
on a deployment, on one of its ports; one monitoring component, and one with something to watch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.config.rules import metrics as rules
from testing.configs import KUBE, LOCAL, broken, line_of, read, small_project, stack

METRICS = {"port": 8080, "path": "/metrics"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


def _watched(**more: Any) -> dict[str, Any]:
    """The small stack, its web service declaring metrics (`more` overrides web's keys)."""
    data = stack()
    data["services"]["web"].update({"metrics": dict(METRICS), **more})
    return data


def test_metrics_are_declared_in_the_stack_file(root: Path) -> None:
    env = {**KUBE, "services": {"web": {"metrics": METRICS}}}
    err = broken(rules.metrics_are_declared_in_the_stack_file, root, None, env)
    assert (err.file, err.keypath) == ("environments/test.yaml", "services.web.metrics")
    assert err.line == line_of(root, "test.yaml", "metrics:")
    assert err.problem == (
        "metrics of 'web' are set in an environment file, but the monitoring components are "
        "rendered once from environments/stack.yaml for every environment"
    )
    assert err.fix == "move `metrics:` to services.web in environments/stack.yaml"
    rules.metrics_are_declared_in_the_stack_file(read(root, _watched(), KUBE))


def test_only_deployments_declare_metrics(root: Path) -> None:
    data = stack()
    data["services"]["migrate"]["metrics"] = METRICS
    err = broken(rules.only_deployments_declare_metrics, root, data)
    assert (err.keypath, err.line) == ("services.migrate.metrics", line_of(root, "stack.yaml", "metrics:"))
    assert err.problem.startswith("job 'migrate' declares metrics, but a job runs once")
    assert err.fix == "remove `metrics:` from the job (or make it a deployment, which keeps running)"
    rules.only_deployments_declare_metrics(read(root, _watched()))


def test_metrics_port_is_one_of_the_services_ports(root: Path) -> None:
    data = _watched(metrics={"port": 9100, "path": "/metrics"})
    err = broken(rules.metrics_port_is_one_of_the_services_ports, root, data)
    assert (err.keypath, err.line) == ("services.web.metrics.port", line_of(root, "stack.yaml", "port: 9100"))
    assert err.problem == "metrics port 9100 is not one of web's ports (http (8080))"
    assert err.fix == (
        "scrape one of its ports, or add `{name: metrics, port: 9100}` under services.web.ports "
        "(the port its process serves /metrics on)"
    )
    rules.metrics_port_is_one_of_the_services_ports(read(root, _watched()))


def test_metrics_port_of_a_service_without_ports_says_to_add_one(root: Path) -> None:
    data = _watched(ports=[])
    err = broken(rules.metrics_port_is_one_of_the_services_ports, root, data)
    assert err.problem == "metrics port 8080 is not one of web's ports: it declares none"
    assert str(err.fix).startswith("add `{name: metrics, port: 8080}` under services.web.ports")


def test_one_monitoring_component(root: Path) -> None:
    env = {**KUBE, "components": ["monitoring", "ingress", "monitoring-annotations"]}
    err = broken(rules.one_monitoring_component, root, _watched(), env)
    assert (err.file, err.keypath) == ("environments/test.yaml", "components[2]")
    assert err.problem == "monitoring and monitoring-annotations are two ways to do the same: one is enough"
    rules.one_monitoring_component(read(root, _watched(), {**KUBE, "components": ["monitoring-annotations"]}))


def test_monitoring_watches_a_service(root: Path) -> None:
    env = {**KUBE, "components": ["ingress", "monitoring"]}
    err = broken(rules.monitoring_watches_a_service, root, None, env)
    assert (err.file, err.keypath) == ("environments/test.yaml", "components[1]")
    assert err.problem == (
        "component monitoring is on, but no deployment that runs here declares `metrics`: "
        "it would scrape, alert on and chart nothing"
    )
    assert "`services: {api: {metrics: {port: 8080, path: /metrics}}}`" in str(err.fix)
    rules.monitoring_watches_a_service(read(root, _watched(), env))


def test_monitoring_watches_a_service_that_runs_here(root: Path) -> None:
    """The only watched service disabled in this environment: nothing to watch here."""
    env = {**KUBE, "components": ["monitoring"], "disabled_services": ["web"]}
    err = broken(rules.monitoring_watches_a_service, root, _watched(), env)
    assert err.keypath == "components[0]"


def test_compose_prometheus_has_its_name(root: Path) -> None:
    """A database named prometheus is refused where the Compose monitoring runs one."""
    data = _watched()
    data["databases"]["prometheus"] = {"image": "prom/prometheus:v2", "port": 9090, "env_var": "PROM"}
    env = {**LOCAL, "components": ["monitoring"]}
    err = broken(rules.compose_prometheus_has_its_name, root, data, env)
    assert (err.file, err.keypath) == ("environments/stack.yaml", "databases.prometheus")
    assert err.line == line_of(root, "stack.yaml", "prometheus:")
    assert err.problem == (
        "database 'prometheus' has the name of the Prometheus container that a monitoring component "
        "runs in a Compose environment"
    )
    assert str(err.fix).startswith("rename the database, or remove the monitoring component")
    rules.compose_prometheus_has_its_name(read(root, data, {**KUBE, "components": ["monitoring"]}))
    rules.compose_prometheus_has_its_name(read(root, data, LOCAL))


def test_compose_prometheus_port_is_free(root: Path) -> None:
    """A service publishing Prometheus's host port is refused where the Compose monitoring runs."""
    data = _watched()
    data["services"]["web"]["ports"][0]["publish"] = 9090
    env = {**LOCAL, "components": ["monitoring"]}
    err = broken(rules.compose_prometheus_port_is_free, root, data, env)
    assert (err.file, err.keypath) == ("environments/stack.yaml", "services.web.ports[0].publish")
    assert err.line == line_of(root, "stack.yaml", "publish: 9090")
    assert err.problem == (
        "host port 9090 is where the Prometheus container of environment 'test' "
        "(components: monitoring) publishes its API"
    )
    assert err.fix == (
        "publish another host port here, or remove the monitoring component from environments/test.yaml"
    )
    # Without Compose's Prometheus the port is the service's to publish.
    rules.compose_prometheus_port_is_free(read(root, data, LOCAL))
    rules.compose_prometheus_port_is_free(read(root, data, {**KUBE, "components": ["monitoring"]}))


def test_a_database_publishing_prometheus_port_is_refused_where_compose_monitoring_runs(root: Path) -> None:
    data = _watched()
    data["databases"]["pg"]["publish"] = 9090
    err = broken(rules.compose_prometheus_port_is_free, root, data, {**LOCAL, "components": ["monitoring"]})
    assert err.keypath == "databases.pg.publish"
    rules.compose_prometheus_port_is_free(read(root, _watched(), {**LOCAL, "components": ["monitoring"]}))
