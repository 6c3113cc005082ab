"""Rules about monitoring: where each service is scraped (`services.<name>.metrics`) and the
components that render its scrape configuration, alerts and dashboards."""

from __future__ import annotations

from tasks.config import monitor
from tasks.config.merged import Merged
from tasks.config.yamlpos import KeyPath

MONITORING = monitor.MONITORING


def metrics_are_declared_in_the_stack_file(m: Merged) -> None:
    """The monitoring components are rendered once, from environments/stack.yaml, for every
    environment that lists one: a `metrics` an environment file set would reach no component."""
    for doc in m.docs[1:]:
        for key in doc.lines:
            if len(key) >= 3 and key[0] == "services" and key[2] == "metrics":
                raise m.error(
                    key[:3],
                    f"metrics of {key[1]!r} are set in an environment file, but the monitoring "
                    f"components are rendered once from {m.docs[0].file} for every environment",
                    f"move `metrics:` to services.{key[1]} in {m.docs[0].file}",
                )


def only_deployments_declare_metrics(m: Merged) -> None:
    """A job has no Service to scrape and ends before a scrape would find it."""
    for name in m.jobs_declaring("metrics"):
        raise m.error(
            ("services", name, "metrics"),
            f"job {name!r} declares metrics, but a job runs once: it has no Service to scrape and "
            "its `up` would read as a service down when it ends",
            "remove `metrics:` from the job (or make it a deployment, which keeps running)",
        )


def metrics_port_is_one_of_the_services_ports(m: Merged) -> None:
    """The ServiceMonitor scrapes the service's Service by a port name, and the NetworkPolicy
    opens that port: the port must be one it declares under `ports`."""
    for name, raw in m.data["services"].items():
        if "metrics" not in raw:
            continue
        port = raw["metrics"]["port"]
        ports = raw.get("ports", [])
        if any(p["port"] == port for p in ports):
            continue
        at = ("services", name, "metrics", "port")
        listed = ", ".join(f"{p['name']} ({p['port']})" for p in ports)
        add = f"add `{{name: metrics, port: {port}}}` under services.{name}.ports"
        raise m.error(
            at,
            f"metrics port {port} is not one of {name}'s ports"
            + (f" ({listed})" if ports else ": it declares none"),
            (f"scrape one of its ports, or {add}" if ports else add)
            + " (the port its process serves /metrics on)",
        )


def one_monitoring_component(m: Merged) -> None:
    """Both would render every dashboard twice, and scrape every target twice."""
    chosen = [c for c in m.data.get("components", []) if c in MONITORING]
    if len(chosen) > 1:
        at = ("components", m.data["components"].index(chosen[-1]))
        raise m.error(
            at,
            "monitoring and monitoring-annotations are two ways to do the same: one is enough",
            "keep `monitoring` where the cluster runs the Prometheus Operator, else `monitoring-annotations`",
        )


def monitoring_watches_a_service(m: Merged) -> None:
    """A monitoring component with no service declaring metrics would watch nothing: an error,
    not a warning, since its alerts could then never fire (a silent gap in production)."""
    components = m.data.get("components", [])
    chosen = [c for c in components if c in MONITORING]
    if not chosen:
        return
    watched = [n for n in m.enabled() if m.kind(n) == "deployment" and "metrics" in m.data["services"][n]]
    if not watched:
        raise m.error(
            ("components", components.index(chosen[0])),
            f"component {chosen[0]} is on, but no deployment that runs here declares `metrics`: "
            "it would scrape, alert on and chart nothing",
            f"declare where each service serves its metrics in {m.docs[0].file}, e.g. "
            "`services: {api: {metrics: {port: 8080, path: /metrics}}}` (the port one of its "
            f"`ports`), or remove {chosen[0]} from components",
        )


def compose_prometheus_has_its_name(m: Merged) -> None:
    """A Compose environment's monitoring runs a container named prometheus beside the databases
    (tasks/config/monitor.py): a database of that name would be replaced by it."""
    if monitor.wanted(m) and monitor.NAME in m.data["databases"]:
        raise m.error(
            ("databases", monitor.NAME),
            f"database {monitor.NAME!r} has the name of the Prometheus container that a monitoring "
            "component runs in a Compose environment",
            f"rename the database, or remove the monitoring component from components (then run "
            f"your own {monitor.NAME} as this database)",
        )


def compose_prometheus_port_is_free(m: Merged) -> None:
    """A Compose environment's Prometheus publishes its API on the host's 127.0.0.1:9090: a
    service or database publishing 9090 there would make `compose_up_dbs` fail at Docker
    ("port is already allocated") instead of at its key."""
    if not monitor.wanted(m):
        return
    published: list[KeyPath] = [
        ("services", name, "ports", i, "publish")
        for name in m.enabled()
        for i, p in enumerate(m.data["services"][name].get("ports", []))
        if p.get("publish") == monitor.PORT
    ]
    published += [
        ("databases", name, "publish")
        for name, raw in m.data["databases"].items()
        if m.placement(name) == "compose" and raw.get("publish") == monitor.PORT
    ]
    for path in published:
        raise m.error(
            path,
            f"host port {monitor.PORT} is where the Prometheus container of environment "
            f"{m.env!r} (components: monitoring) publishes its API",
            f"publish another host port here, or remove the monitoring component from {m.docs[-1].file}",
        )
