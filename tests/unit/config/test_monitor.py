"""Prometheus in a Compose stack (tasks/config/monitor.py): a Compose environment listing a
monitoring component runs one beside its databases; no other environment does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.config import monitor
from testing.configs import KUBE, LOCAL, load, read, small_project, stack


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


def _watched() -> dict[str, Any]:
    data = stack()
    data["services"]["web"]["metrics"] = {"port": 8080, "path": "/metrics"}
    return data


def test_a_compose_environment_with_monitoring_runs_prometheus_as_one_more_database(root: Path) -> None:
    cfg = load(root, _watched(), {**LOCAL, "components": ["monitoring"]})
    db = cfg.databases["prometheus"]
    assert (db.image, db.build, db.placement, db.port) == (
        "acme/prometheus",
        "docker/prometheus",
        "compose",
        9090,
    )
    assert (db.publish_host, db.publish) == ("127.0.0.1", 9090)  # loopback only: its API has no login
    assert db.mounts == ("./prometheus.yml:/etc/prometheus/prometheus.yml:ro",)
    assert db.healthcheck == ("prometheus-healthy", "9090") and db.data_dir == "/prometheus"
    assert [d.name for d in cfg.placed("compose")] == ["pg", "prometheus"]
    assert "prometheus" in cfg.built_images()
    assert cfg.addresses(cfg.services["web"]) == {"PG_HOST": "pg:5432"}  # no service is told of it


def test_the_annotations_component_switches_it_on_too(root: Path) -> None:
    assert monitor.wanted(read(root, _watched(), {**LOCAL, "components": ["monitoring-annotations"]}))


@pytest.mark.parametrize(
    "env",
    [LOCAL, {**LOCAL, "components": ["ingress"]}, {**KUBE, "components": ["monitoring"]}],
    ids=["compose-without-components", "compose-without-monitoring", "kubernetes-with-monitoring"],
)
def test_no_prometheus_elsewhere(root: Path, env: dict[str, Any]) -> None:
    """A Kubernetes environment's monitoring is the cluster's Prometheus (the components)."""
    assert "prometheus" not in load(root, _watched(), env).databases
