"""The monitoring components, rendered from the stack for every deployment that declares
`metrics`: how Prometheus finds it, the alerts on it and its Grafana dashboard.

Two components, one per kind of Prometheus (an environment lists one, rules/metrics.py):
`monitoring` for a cluster that runs the Prometheus Operator (a ServiceMonitor and a
PrometheusRule per service) and `monitoring-annotations` for a Prometheus that discovers pods by
their `prometheus.io/*` annotations (the annotations, and the same alerts as a rules file per
service). Both carry
the dashboards (ConfigMaps for Grafana's sidecar) and the NetworkPolicy that lets Prometheus's
namespace reach each metrics port.

The metric names and labels every query reads: tasks/render/promql.py.
"""

from __future__ import annotations

from typing import Any

import yaml

from tasks.config import monitor
from tasks.model import Config, Service
from tasks.render import dashboards, promql
from tasks.render.promql import CODE, DURATION, REQUESTS, selector
from tasks.render.templates import Outputs, render_later

# Alert thresholds (docs/operations.md, the runbooks): how long, and how much, before a page.
DOWN_FOR = "5m"
ERROR_RATIO = 0.05
ERRORS_FOR = "10m"
QUEUE_WINDOW = "15m"
# The runbooks are the tool's documentation, not the user's project's.
RUNBOOKS = "stackbuild docs/operations.md"


def down(sel: str) -> str:
    """No target of the service is up: every one answers `up == 0`, or there is none at all
    (no pod, or none discovered), when `up` has no series and `max` no value: `absent`."""
    return f"max(up{sel}) == 0 or absent(up{sel})"


def rule_name(cfg: Config, svc: Service) -> str:
    """The PrometheusRule of one service: an object of its own, so an environment that disables
    the service deletes its alerts with it (ServiceDown would fire on its absent `up`)."""
    return f"{cfg.project}-alerts-{svc.name}"


def rules_configmap(cfg: Config, svc: Service) -> str:
    """The ConfigMap of one service's rules file (`<rule_name>.yaml`), for the same reason."""
    return f"{cfg.project}-prometheus-rules-{svc.name}"


def _alert(
    name: str, svc: Service, expr: str, wait: str, severity: str, summary: str, anchor: str
) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": wait,
        "labels": {"severity": severity, "service": svc.name},
        "annotations": {
            "summary": summary,
            "runbook": f"{RUNBOOKS}#{anchor}",
        },
    }


def rules(cfg: Config, svc: Service) -> list[dict[str, Any]]:
    """One service's alerts: down, a high error rate, and (with a queue metric) a growing queue."""
    metrics = svc.metrics
    assert metrics is not None  # Config.monitored: only services that declare metrics
    sel = selector(cfg, svc)
    out = [
        _alert(
            "ServiceDown",
            svc,
            down(sel),
            DOWN_FOR,
            "critical",
            f"{svc.name}: no pod answers on its metrics port ({metrics.port})",
            "service-down",
        ),
        _alert(
            "HighErrorRate",
            svc,
            f"({promql.error_ratio(cfg, svc)}) > {ERROR_RATIO}",
            ERRORS_FOR,
            "warning",
            f"{svc.name}: more than {ERROR_RATIO:.0%} of requests fail with a 5xx status",
            "high-error-rate",
        ),
    ]
    if metrics.queue:
        queue = f"{metrics.queue}{sel}"
        out.append(
            _alert(
                "QueueGrowing",
                svc,
                f"sum(delta({queue}[{QUEUE_WINDOW}])) > 0",
                QUEUE_WINDOW,
                "warning",
                f"{svc.name}: {metrics.queue} has grown for {QUEUE_WINDOW} without draining",
                "queue-growing",
            )
        )
    return out


def group(cfg: Config, svc: Service) -> list[str]:
    """A watched service's rule group (one, named after it) as YAML lines: the body of `groups:`
    in its own PrometheusRule and rules file. Called by the templates as they are written, so
    knowing which files a render makes never dumps the rules (at 300 services that took most
    of `doit list`)."""
    data = [{"name": svc.name, "rules": rules(cfg, svc)}]
    return yaml.safe_dump(data, sort_keys=False, width=10_000, default_flow_style=False).splitlines()


def deleted_with(cfg: Config, svc: Service) -> list[tuple[str, str, str]]:
    """What a monitoring component renders for one service (it is rendered once, from the stack,
    for every environment): a disabled service's are deleted with it, its alerts too:
    its ServiceDown would fire, since it has no target."""
    listed = [c for c in cfg.components if c in monitor.MONITORING]
    if not svc.metrics or not listed:
        return []
    objects = [
        ("ConfigMap", "v1", f"{cfg.project}-dashboard-{svc.name}"),
        ("NetworkPolicy", "networking.k8s.io/v1", f"allow-metrics-{svc.name}"),
    ]
    if "monitoring" in listed:
        objects.append(("ServiceMonitor", "monitoring.coreos.com/v1", svc.name))
        objects.append(("PrometheusRule", "monitoring.coreos.com/v1", rule_name(cfg, svc)))
    if "monitoring-annotations" in listed:
        objects.append(("ConfigMap", "v1", rules_configmap(cfg, svc)))
    return objects


def components(stack: Config) -> Outputs:
    """Both monitoring components, when a service of the stack declares metrics (else none:
    an environment that lists one is refused, rules/metrics.py)."""
    if not stack.monitored():
        return {}
    shared: Outputs = {"dashboards.yaml": _later("dashboards.yaml.j2", stack)}
    shared["networkpolicy.yaml"] = _later("networkpolicy.yaml.j2", stack)
    operator: Outputs = {
        **shared,
        "servicemonitors.yaml": _later("servicemonitors.yaml.j2", stack),
        "prometheusrule.yaml": _later("prometheusrule.yaml.j2", stack, group=group),
    }
    annotations: Outputs = {
        **shared,
        "rules-configmap.yaml": _later("rules-configmap.yaml.j2", stack, group=group),
    }
    patches = {f"scrape-{svc.name}.patch.yaml": svc for svc in stack.monitored()}
    out: Outputs = {}
    for name, files, patched in (
        ("monitoring", operator, {}),
        ("monitoring-annotations", annotations, patches),
    ):
        folder = f"k8s/components/{name}"
        for target, produce in files.items():
            out[f"{folder}/{target}"] = produce
        for target, svc in patched.items():
            out[f"{folder}/{target}"] = _later("scrape.patch.yaml.j2", stack, svc=svc)
        out[f"{folder}/kustomization.yaml"] = render_later(
            "k8s/components/kustomization.yaml.j2",
            cfg=stack,
            resources=sorted(files),
            patches=sorted(patched),
        )
        out[f"{folder}/README.md"] = render_later(
            f"k8s/components/{name}/README.md.j2", cfg=stack, **_facts(stack)
        )
    return out


def _later(template: str, stack: Config, **context: Any) -> Any:
    return render_later(
        f"k8s/components/monitoring/{template}",
        cfg=stack,
        services=stack.monitored(),
        dashboard=dashboards.lines,
        rule_name=rule_name,
        rules_configmap=rules_configmap,
        **context,
    )


def _facts(stack: Config) -> dict[str, Any]:
    """What the READMEs say of the convention and the thresholds."""
    return {
        "services": stack.monitored(),
        "requests": REQUESTS,
        "duration": DURATION,
        "code": CODE,
        "down_for": DOWN_FOR,
        "error_ratio": f"{ERROR_RATIO:.0%}",
        "errors_for": ERRORS_FOR,
        "queue_window": QUEUE_WINDOW,
    }
