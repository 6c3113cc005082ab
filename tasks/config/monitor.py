"""Prometheus in a Compose stack: a Compose environment that lists a monitoring component
(`components: [monitoring]`) runs one, beside its databases, scraping every service that runs
there and declares `metrics` (the scrape configuration is rendered: tasks/render/files.py).

It takes the databases' path through every task: its image is built from Debian's prometheus
package (docker/prometheus, on the environment's base, so offline too), `compose_up_dbs`
starts it and waits for its health, `compose_down wipe=1` removes its data. Its port is
published on the host's loopback only: its API and web page have no login.
"""

from __future__ import annotations

from tasks.config.merged import Merged
from tasks.model import Database

NAME = "prometheus"
PORT = 9090
BUILD = "docker/prometheus"
# Beside the compose files in compose/<env>/, mounted read-only where the image reads it.
CONFIG = "prometheus.yml"
MONITORING = ("monitoring", "monitoring-annotations")
# The image's own script (docker/prometheus/healthy.sh): 0 when /-/healthy answers 200.
HEALTHCHECK = ("prometheus-healthy", str(PORT))


def wanted(m: Merged) -> bool:
    """A Compose environment that lists a monitoring component."""
    return m.data["runtime"] == "compose" and any(c in MONITORING for c in m.data.get("components", []))


def prometheus(m: Merged) -> Database:
    """The Prometheus container of a Compose environment, as one more database."""
    return Database(
        name=NAME,
        image=f"{m.data['images']['prefix']}/{NAME}",
        build=BUILD,
        port=PORT,
        env_var="PROMETHEUS_URL",  # no service uses it: nothing is told where it is
        placement="compose",
        endpoint=f"{NAME}:{PORT}",
        cluster=None,
        publish=PORT,
        command=(),
        healthcheck=HEALTHCHECK,
        data_dir="/prometheus",
        env={},
        secret_env={},
        publish_host="127.0.0.1",
        mounts=(f"./{CONFIG}:/etc/prometheus/{CONFIG}:ro",),
    )
