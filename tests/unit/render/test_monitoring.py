"""tasks/render/monitoring.py: the two monitoring components, from the stack's `metrics`."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.checks import crds
from tasks.model import Config, Metrics, Port
from tasks.render import monitoring
from tasks.render.templates import texts
from testing import configs


def _stack(queue: str | None = None) -> Config:
    """api (metrics on its http port, optionally a queue gauge), web (no metrics), a job."""
    api = configs.service(
        "api",
        ports=(Port("http", 8080, None),),
        metrics=Metrics(port=8080, path="/metrics", port_name="http", queue=queue),
    )
    web = configs.service("web", ports=(Port("http", 3000, None),))
    cfg = configs.config(
        "stack", [api, web, configs.service("migrate", kind="job")], [], runtime="kubernetes"
    )
    return replace(cfg, monitoring_namespace="observability")


def _docs(files: dict[str, str], path: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(files[path]) if doc]


def test_a_stack_without_metrics_gets_no_monitoring_component() -> None:
    assert monitoring.components(configs.config("stack", [configs.service("web")], [])) == {}


def test_the_default_component_scrapes_each_service_with_metrics_by_its_port_name() -> None:
    files = texts(monitoring.components(_stack()))
    [monitor] = _docs(files, "k8s/components/monitoring/servicemonitors.yaml")
    assert monitor["kind"] == "ServiceMonitor" and monitor["metadata"]["name"] == "api"
    assert monitor["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "api"}}
    assert monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s"}]
    assert monitor["spec"]["podTargetLabels"] == ["app.kubernetes.io/name"]
    kustomization = yaml.safe_load(files["k8s/components/monitoring/kustomization.yaml"])
    assert kustomization["kind"] == "Component"
    assert kustomization["resources"] == [
        "dashboards.yaml",
        "networkpolicy.yaml",
        "prometheusrule.yaml",
        "servicemonitors.yaml",
    ]
    assert "patches" not in kustomization


def test_every_custom_resource_passes_its_crd_schema_strictly() -> None:
    files = texts(monitoring.components(_stack(queue="jobs_waiting")))
    custom = [
        doc for path in files if path.endswith(".yaml") for doc in _docs(files, path) if crds.is_custom(doc)
    ]
    assert sorted(doc["kind"] for doc in custom) == ["PrometheusRule", "ServiceMonitor"]
    assert [crds.problems(doc) for doc in custom] == [[], []]


def test_a_misspelt_field_in_a_rendered_monitor_would_be_refused() -> None:
    """The check above can fail: the same document with a field its CRD lacks is refused."""
    files = texts(monitoring.components(_stack()))
    [monitor] = _docs(files, "k8s/components/monitoring/servicemonitors.yaml")
    monitor["spec"]["endpoints"][0]["intervall"] = "30s"
    assert crds.problems(monitor) != []


def test_each_service_with_metrics_gets_a_down_and_an_error_rate_alert() -> None:
    [group] = yaml.safe_load(
        texts(monitoring.components(_stack()))["k8s/components/monitoring/prometheusrule.yaml"]
    )["spec"]["groups"]
    assert group["name"] == "api"
    down, errors = group["rules"]
    assert (down["alert"], down["for"], down["labels"]) == (
        "ServiceDown",
        "5m",
        {"severity": "critical", "service": "api"},
    )
    assert down["expr"] == (
        'max(up{namespace="shop", app_kubernetes_io_name="api"}) == 0'
        ' or absent(up{namespace="shop", app_kubernetes_io_name="api"})'
    )
    assert errors["alert"] == "HighErrorRate"
    assert (
        'http_requests_total{namespace="shop", app_kubernetes_io_name="api", code=~"5.."}' in errors["expr"]
    )
    assert errors["expr"].endswith("> 0.05")
    assert down["annotations"]["runbook"] == "stackbuild docs/operations.md#service-down"


def test_a_queue_metric_adds_a_growing_queue_alert() -> None:
    rules = monitoring.rules(_stack(queue="jobs_waiting"), _stack().services["api"])
    assert [r["alert"] for r in rules] == ["ServiceDown", "HighErrorRate"]
    queued = _stack(queue="jobs_waiting")
    rules = monitoring.rules(queued, queued.services["api"])
    assert rules[-1]["alert"] == "QueueGrowing"
    assert (
        rules[-1]["expr"]
        == 'sum(delta(jobs_waiting{namespace="shop", app_kubernetes_io_name="api"}[15m])) > 0'
    )


def test_prometheus_may_reach_only_the_metrics_port_from_its_namespace() -> None:
    files = texts(monitoring.components(_stack()))
    [policy] = _docs(files, "k8s/components/monitoring/networkpolicy.yaml")
    assert policy["metadata"]["name"] == "allow-metrics-api"
    assert policy["spec"]["ingress"] == [
        {
            "ports": [{"protocol": "TCP", "port": 8080}],
            "from": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}}}
            ],
        }
    ]


def test_the_annotations_component_annotates_pods_and_ships_the_rules_as_a_file() -> None:
    files = texts(monitoring.components(_stack()))
    folder = "k8s/components/monitoring-annotations"
    assert not any(
        "servicemonitor" in path or "prometheusrule" in path for path in files if path.startswith(folder)
    )
    [patch] = _docs(files, f"{folder}/scrape-api.patch.yaml")
    assert (patch["kind"], patch["metadata"]["name"]) == ("Deployment", "api")
    assert patch["spec"]["template"]["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8080",
        "prometheus.io/path": "/metrics",
    }
    kustomization = yaml.safe_load(files[f"{folder}/kustomization.yaml"])
    assert kustomization["patches"] == [{"path": "scrape-api.patch.yaml"}]
    [configmap] = _docs(files, f"{folder}/rules-configmap.yaml")
    assert configmap["metadata"]["name"] == "shop-prometheus-rules-api"
    rules_file = yaml.safe_load(configmap["data"]["shop-alerts-api.yaml"])
    operator = yaml.safe_load(files["k8s/components/monitoring/prometheusrule.yaml"])
    assert rules_file["groups"] == operator["spec"]["groups"]


def test_dashboards_are_configmaps_labelled_for_the_dashboard_sidecar() -> None:
    files = texts(monitoring.components(_stack()))
    for folder in ("monitoring", "monitoring-annotations"):
        [board] = _docs(files, f"k8s/components/{folder}/dashboards.yaml")
        assert board["metadata"]["name"] == "shop-dashboard-api"
        assert board["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert list(board["data"]) == ["shop-api.json"]


def test_services_without_metrics_and_jobs_are_not_watched() -> None:
    text = "".join(texts(monitoring.components(_stack())).values())
    assert "name: web" not in text and "migrate" not in text


def test_a_disabled_service_loses_exactly_the_objects_its_component_renders_for_it() -> None:
    """The components are rendered once for every environment: an environment that disables a
    watched service deletes its monitor, dashboard and policy, named as the component names them."""
    stack = _stack()
    api, web = stack.services["api"], stack.services["web"]
    rendered = {
        (doc["kind"], doc["metadata"]["name"])
        for path, text in texts(monitoring.components(stack)).items()
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc and "metadata" in doc and "$patch" not in doc
    }
    for component, monitor in (("monitoring", True), ("monitoring-annotations", False)):
        env = replace(stack, components=(component,))
        deleted = {(kind, name) for kind, _api, name in monitoring.deleted_with(env, api)}
        assert deleted <= rendered
        assert ("ConfigMap", f"{stack.project}-dashboard-api") in deleted
        assert ("NetworkPolicy", "allow-metrics-api") in deleted
        assert (("ServiceMonitor", "api") in deleted) is monitor
        assert (("PrometheusRule", "shop-alerts-api") in deleted) is monitor
        assert (("ConfigMap", "shop-prometheus-rules-api") in deleted) is not monitor
        assert monitoring.deleted_with(env, web) == []  # no metrics: nothing rendered for it
    assert monitoring.deleted_with(replace(stack, components=("ingress",)), api) == []


def test_each_watched_service_has_alert_objects_of_its_own() -> None:
    """A PrometheusRule and a rules ConfigMap per service, each with that service's group only:
    what lets an environment that disables one delete its alerts and keep the others'."""
    stack = _stack()
    worker = configs.service(
        "worker",
        ports=(Port("metrics", 9464, None),),
        metrics=Metrics(port=9464, path="/metrics", port_name="metrics", queue=None),
    )
    stack = replace(stack, services={**stack.services, "worker": worker})
    files = texts(monitoring.components(stack))
    operator = _docs(files, "k8s/components/monitoring/prometheusrule.yaml")
    assert [(d["metadata"]["name"], [g["name"] for g in d["spec"]["groups"]]) for d in operator] == [
        ("shop-alerts-api", ["api"]),
        ("shop-alerts-worker", ["worker"]),
    ]
    maps = _docs(files, "k8s/components/monitoring-annotations/rules-configmap.yaml")
    assert [(d["metadata"]["name"], list(d["data"])) for d in maps] == [
        ("shop-prometheus-rules-api", ["shop-alerts-api.yaml"]),
        ("shop-prometheus-rules-worker", ["shop-alerts-worker.yaml"]),
    ]
    assert [crds.problems(doc) for doc in operator] == [[], []]


PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian's prometheus package)"
)
API = 'namespace="shop", app_kubernetes_io_name="api"'
DOWN_ANNOTATIONS = {
    "summary": "api: no pod answers on its metrics port (8080)",
    "runbook": "stackbuild docs/operations.md#service-down",
}


def _rules_file(tmp_path: Path) -> Path:
    """The annotations component's rules file of `api`, as Prometheus would load it."""
    files = texts(monitoring.components(_stack(queue="jobs_waiting")))
    [configmap] = _docs(files, "k8s/components/monitoring-annotations/rules-configmap.yaml")
    path = tmp_path / "shop-alerts-api.yaml"
    path.write_text(configmap["data"]["shop-alerts-api.yaml"])
    return path


def _promtool(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )


def _down_case(series: dict[str, str], expected: list[dict[str, Any]]) -> dict[str, Any]:
    """A promtool unit test: these `up` series, ServiceDown as expected 6 minutes in."""
    return {
        "interval": "1m",
        "input_series": [{"series": f"up{{{labels}}}", "values": v} for labels, v in series.items()],
        "alert_rule_test": [{"eval_time": "6m", "alertname": "ServiceDown", "exp_alerts": expected}],
    }


@needs_promtool
def test_the_rendered_rules_file_passes_promtool(tmp_path: Path) -> None:
    result = _promtool(tmp_path, "check", "rules", str(_rules_file(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 rules found" in result.stdout


@needs_promtool
def test_a_broken_rules_file_fails_promtool(tmp_path: Path) -> None:
    """The check above can fail: the same file with its down expression cut short is refused."""
    path = _rules_file(tmp_path)
    path.write_text(path.read_text().replace(" or absent(", " or absent((", 1))
    assert _promtool(tmp_path, "check", "rules", str(path)).returncode != 0


@needs_promtool
def test_service_down_fires_with_every_target_down_or_none_at_all_and_not_while_one_is_up(
    tmp_path: Path,
) -> None:
    rules = _rules_file(tmp_path)
    down = {"severity": "critical", "service": "api"}
    absent = {**down, "namespace": "shop", "app_kubernetes_io_name": "api"}
    other = 'namespace="shop", app_kubernetes_io_name="web", instance="w:80"'
    cases = [
        # No target at all (no pod, or none discovered): `up` has no series.
        _down_case({other: "1x10"}, [{"exp_labels": absent, "exp_annotations": DOWN_ANNOTATIONS}]),
        # Every target answers up == 0.
        _down_case(
            {f'{API}, instance="a:8080"': "0x10", f'{API}, instance="b:8080"': "0x10"},
            [{"exp_labels": down, "exp_annotations": DOWN_ANNOTATIONS}],
        ),
        # One of two is up: the service is not down.
        _down_case({f'{API}, instance="a:8080"': "0x10", f'{API}, instance="b:8080"': "1x10"}, []),
    ]
    spec = tmp_path / "down.test.yaml"
    spec.write_text(yaml.safe_dump({"rule_files": [rules.name], "evaluation_interval": "1m", "tests": cases}))
    result = _promtool(tmp_path, "test", "rules", spec.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
