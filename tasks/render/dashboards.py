"""One Grafana dashboard per watched service, as JSON lines for a ConfigMap Grafana's sidecar
provisions (label `grafana_dashboard: "1"`): request rate, errors, latency and targets up, and
the queue's depth and growth where the service declares `metrics.queue`.

Only metric names and the stack's names go in: a dashboard holds no secret and no value of
`config` or `env`. The data source is a dashboard variable (any Prometheus), so nothing here
names one of the cluster's.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tasks.model import Config, Service
from tasks.render import promql

# Grafana refuses a dashboard uid longer than this.
MAX_UID = 40
WIDTH = 12
HEIGHT = 8


def uid(cfg: Config, svc: Service) -> str:
    """Stable per project and service, readable where it fits."""
    name = f"{cfg.project}-{svc.name}"
    return name if len(name) <= MAX_UID else hashlib.sha256(name.encode()).hexdigest()[:MAX_UID]


def _panel(index: int, title: str, unit: str, targets: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"x": (index % 2) * WIDTH, "y": (index // 2) * HEIGHT, "w": WIDTH, "h": HEIGHT},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def panels(cfg: Config, svc: Service) -> list[dict[str, Any]]:
    sel = promql.selector(cfg, svc)
    specs: list[tuple[str, str, list[tuple[str, str]]]] = [
        (
            "Request rate",
            "reqps",
            [(promql.request_rate(cfg, svc, by=promql.CODE), f"{{{{{promql.CODE}}}}}")],
        ),
        ("Error ratio (5xx)", "percentunit", [(promql.error_ratio(cfg, svc), "errors")]),
        ("Latency", "s", [(promql.latency(cfg, svc, q), f"p{round(q * 100)}") for q in (0.5, 0.95, 0.99)]),
        ("Pods up", "short", [(f"sum(up{sel})", "up")]),
    ]
    if svc.metrics and svc.metrics.queue:
        queue = f"sum({svc.metrics.queue}{sel})"
        specs += [
            ("Queue depth", "short", [(queue, svc.metrics.queue)]),
            ("Queue growth (per second)", "short", [(f"deriv({queue}[10m:1m])", "growth")]),
        ]
    return [_panel(i, title, unit, targets) for i, (title, unit, targets) in enumerate(specs)]


def dashboard(cfg: Config, svc: Service) -> dict[str, Any]:
    return {
        "uid": uid(cfg, svc),
        "title": f"{cfg.project} / {svc.name}",
        "tags": [cfg.project],
        "timezone": "browser",
        "schemaVersion": 39,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"}
            ]
        },
        "panels": panels(cfg, svc),
    }


def lines(cfg: Config, svc: Service) -> list[str]:
    """The dashboard's JSON, one line each (a template indents them under the ConfigMap key)."""
    return json.dumps(dashboard(cfg, svc), indent=2, sort_keys=True).splitlines()
