"""tasks/render/promql.py: the metric naming convention, and how one service's series are selected."""

from __future__ import annotations

from tasks.render import promql
from testing import configs


def test_a_service_is_selected_by_namespace_and_its_name_label() -> None:
    cfg = configs.config("stack", [configs.service("api")], [])
    assert promql.selector(cfg, cfg.services["api"]) == '{namespace="shop", app_kubernetes_io_name="api"}'
    assert promql.selector(cfg, cfg.services["api"], 'code=~"5.."').endswith(', code=~"5.."}')


def test_the_error_ratio_is_5xx_requests_over_all_requests() -> None:
    cfg = configs.config("stack", [configs.service("api")], [])
    sel = 'namespace="shop", app_kubernetes_io_name="api"'
    assert promql.error_ratio(cfg, cfg.services["api"]) == (
        f'sum(rate(http_requests_total{{{sel}, code=~"5.."}}[5m]))'
        f" / sum(rate(http_requests_total{{{sel}}}[5m]))"
    )


def test_latency_is_a_quantile_of_the_duration_histogram() -> None:
    cfg = configs.config("stack", [configs.service("api")], [])
    assert promql.latency(cfg, cfg.services["api"], 0.95) == (
        "histogram_quantile(0.95, sum by (le)(rate(http_request_duration_seconds_bucket"
        '{namespace="shop", app_kubernetes_io_name="api"}[5m])))'
    )
