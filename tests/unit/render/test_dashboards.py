"""tasks/render/dashboards.py: one Grafana dashboard per watched service, and no secret in it."""

from __future__ import annotations

import json
from dataclasses import replace

from tasks.model import Config, Metrics, Port, Service
from tasks.render import dashboards
from testing import configs


def _api(queue: str | None = None, name: str = "api") -> Service:
    return configs.service(
        name,
        ports=(Port("http", 8080, None),),
        metrics=Metrics(port=8080, path="/metrics", port_name="http", queue=queue),
        env={"LOG_LEVEL": "debug-marker-env"},
    )


def _cfg(svc: Service) -> Config:
    cfg = configs.config("stack", [svc], [], runtime="kubernetes")
    return replace(cfg, config={"SHARED_SETTING": "shared-marker-config"}, secrets=("API_TOKEN",))


def test_a_dashboard_charts_requests_errors_latency_and_pods_up() -> None:
    svc = _api()
    board = json.loads("\n".join(dashboards.lines(_cfg(svc), svc)))
    assert board["uid"] == "shop-api" and board["title"] == "shop / api"
    assert [p["title"] for p in board["panels"]] == [
        "Request rate",
        "Error ratio (5xx)",
        "Latency",
        "Pods up",
    ]
    [rate] = board["panels"][0]["targets"]
    assert rate["expr"] == (
        'sum by (code)(rate(http_requests_total{namespace="shop", app_kubernetes_io_name="api"}[5m]))'
    )
    assert [t["legendFormat"] for t in board["panels"][2]["targets"]] == ["p50", "p95", "p99"]
    assert all(p["datasource"]["uid"] == "${datasource}" for p in board["panels"])


def test_a_queue_metric_adds_queue_panels() -> None:
    svc = _api(queue="jobs_waiting")
    titles = [p["title"] for p in dashboards.panels(_cfg(svc), svc)]
    assert titles[-2:] == ["Queue depth", "Queue growth (per second)"]
    assert dashboards.panels(_cfg(svc), svc)[-2]["targets"][0]["expr"] == (
        'sum(jobs_waiting{namespace="shop", app_kubernetes_io_name="api"})'
    )


def test_panels_do_not_overlap() -> None:
    svc = _api(queue="jobs_waiting")
    places = [(p["gridPos"]["x"], p["gridPos"]["y"]) for p in dashboards.panels(_cfg(svc), svc)]
    assert len(set(places)) == len(places) == 6


def test_a_dashboard_holds_no_setting_environment_value_or_secret_name() -> None:
    svc = _api(queue="jobs_waiting")
    text = "\n".join(dashboards.lines(_cfg(svc), svc))
    for value in ("debug-marker-env", "shared-marker-config", "SHARED_SETTING", "API_TOKEN", "LOG_LEVEL"):
        assert value not in text


def test_a_long_uid_is_a_stable_hash_of_the_longest_length_allowed() -> None:
    svc = _api(name="a-very-long-service-name-that-goes-on-and-on")
    uid = dashboards.uid(_cfg(svc), svc)
    assert len(uid) == dashboards.MAX_UID and uid == dashboards.uid(_cfg(svc), svc)
    other = _api(name="another-very-long-service-name-that-goes-on")
    assert dashboards.uid(_cfg(other), other) != uid
