"""tasks/render/monitoring.py: the two monitoring components, from the stack's `metrics`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

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
    assert down["expr"] == 'max(up{namespace="shop", app_kubernetes_io_name="api"}) == 0'
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
    rules_file = yaml.safe_load(configmap["data"]["shop-alerts.yaml"])
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
        assert monitoring.deleted_with(env, web) == []  # no metrics: nothing rendered for it
    assert monitoring.deleted_with(replace(stack, components=("ingress",)), api) == []
