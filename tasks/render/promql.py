"""The metric naming convention the monitoring components read, and how a query selects one
service's series (docs/operations.md, "Metrics a service serves").

A service counts its HTTP requests in REQUESTS, with the status code in label CODE (5xx counts
as an error), and times them in the histogram DURATION (seconds); a service with a queue names
its depth gauge as `metrics.queue`. Both kinds of scrape (a ServiceMonitor with
`podTargetLabels`, and the usual `prometheus.io` pod scrape job with its `labelmap`) put the
pod label `app.kubernetes.io/name` on every series as `app_kubernetes_io_name`, and the
namespace as `namespace`: a query selects one service by those two.
"""

from __future__ import annotations

from tasks.model import Config, Service

REQUESTS = "http_requests_total"
DURATION = "http_request_duration_seconds"
CODE = "code"
ERRORS = f'{CODE}=~"5.."'
NAME_LABEL = "app_kubernetes_io_name"


def selector(cfg: Config, svc: Service, *more: str) -> str:
    """The label matchers of one service's series, in `{...}`."""
    return "{" + ", ".join([f'namespace="{cfg.namespace}"', f'{NAME_LABEL}="{svc.name}"', *more]) + "}"


def request_rate(cfg: Config, svc: Service, by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping}(rate({REQUESTS}{selector(cfg, svc)}[5m]))"


def error_ratio(cfg: Config, svc: Service) -> str:
    errors = f"sum(rate({REQUESTS}{selector(cfg, svc, ERRORS)}[5m]))"
    return f"{errors} / {request_rate(cfg, svc)}"


def latency(cfg: Config, svc: Service, quantile: float) -> str:
    buckets = f"rate({DURATION}_bucket{selector(cfg, svc)}[5m])"
    return f"histogram_quantile({quantile}, sum by (le)({buckets}))"
