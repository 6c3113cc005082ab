"""Adding a service to the stack: one entry in environments/stack.yaml (and its secret's name
under `secrets:`) and `doit render`, and the prod overlay scrapes it, charts it, alerts on it,
autoscales it and gives it its secret, with no other file touched.

"No other edit" is honest about where each thing is declared: the new service carries its own
`metrics`, `autoscale` (in the stack, so every environment autoscales it) and `secrets`; prod's
file lists `monitoring` under `components` already and is not opened."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tasks.checks import crds
from tasks.programs import tools
from testing.project import copy_project, run_doit, snapshot

SERVICE = """  ledger:
    kind: deployment
    command: [python3, -m, ledger]
    ports:
      - {name: web, port: 7070}
    health: {port: 7070, path: /healthz}
    metrics: {port: 7070, path: /metrics, queue: ledger_backlog}
    autoscale: {min: 2, max: 4}
    secrets: [LEDGER_API_KEY]
    resources:
      requests: {cpu: 50m, memory: 64Mi}
      limits: {cpu: 250m, memory: 128Mi}

"""


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, Any]]:
    """The prod overlay, built by kustomize after the one edit, by (kind, name)."""
    project = copy_project(tmp_path_factory.mktemp("adding") / "project")
    stack = project / "environments" / "stack.yaml"
    before = snapshot(project, "environments")
    text = stack.read_text()
    text = text.replace("\nsecrets:\n", "\n" + SERVICE + "secrets:\n", 1)
    stack.write_text(
        text.replace("  - RABBITMQ_PASSWORD\n", "  - RABBITMQ_PASSWORD\n  - LEDGER_API_KEY\n", 1)
    )
    after = snapshot(project, "environments")
    assert [name for name in after if after[name] != before.get(name)] == ["environments/stack.yaml"]
    assert run_doit(project, "render").code == 0
    out = tools.run("kubectl", "kustomize", str(project / "k8s/overlays/prod")).stdout
    docs = [d for d in yaml.safe_load_all(out) if isinstance(d, dict)]
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def test_the_new_service_is_scraped(prod: dict[tuple[str, str], dict[str, Any]]) -> None:
    monitor = prod[("ServiceMonitor", "ledger")]
    assert monitor["spec"]["endpoints"] == [{"port": "web", "path": "/metrics", "interval": "30s"}]
    assert crds.problems(monitor) == []


def test_the_new_service_has_a_dashboard(prod: dict[tuple[str, str], dict[str, Any]]) -> None:
    board = prod[("ConfigMap", "srvthreds-dashboard-ledger")]
    assert board["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert "Queue depth" in board["data"]["srvthreds-ledger.json"]


def test_the_new_service_has_its_alerts(prod: dict[tuple[str, str], dict[str, Any]]) -> None:
    rule = prod[("PrometheusRule", "srvthreds-alerts-ledger")]
    [group] = rule["spec"]["groups"]
    assert group["name"] == "ledger"
    assert [r["alert"] for r in group["rules"]] == ["ServiceDown", "HighErrorRate", "QueueGrowing"]
    assert crds.problems(rule) == []


def test_the_new_service_autoscales(prod: dict[tuple[str, str], dict[str, Any]]) -> None:
    hpa = prod[("HorizontalPodAutoscaler", "ledger")]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 4)
    assert ("PodDisruptionBudget", "ledger") in prod


def test_the_new_service_gets_its_secret_from_the_external_secret(
    prod: dict[tuple[str, str], dict[str, Any]],
) -> None:
    [external] = [doc for (kind, _), doc in prod.items() if kind == "ExternalSecret"]
    keys = [entry["secretKey"] for entry in external["spec"]["data"]]
    assert "LEDGER_API_KEY" in keys
    assert (
        external["spec"]["data"][keys.index("LEDGER_API_KEY")]["remoteRef"]["key"]
        == "srvthreds/prod/LEDGER_API_KEY"
    )
