"""A service's health check as Compose runs it, from its kind (http, tcp or exec).

Kubernetes probes need nothing inside the image (the kubelet connects); Compose runs its
check inside the container. So that no check assumes a language runtime, http and tcp
use bash alone (its /dev/tcp redirection): an image needs bash, which every Debian- or
Ubuntu-based image has. An image without bash (alpine, distroless) uses kind exec with
a program it does have. docs/decisions.md, issue 12, says why.
"""

from __future__ import annotations

import json

from tasks.model import Health
from tasks.render.compose_text import literal as _literal


def compose_test(health: Health) -> list[str]:
    """The healthcheck `test:` list. Config guarantees port and path for http, port for tcp."""
    if health.kind == "exec":
        return ["CMD", *(_literal(arg) for arg in health.command)]
    connect = f"exec 3<>/dev/tcp/127.0.0.1/{health.port}"
    if health.kind == "tcp":
        return ["CMD", "bash", "-c", connect]
    # HTTP/1.0: the server closes after one answer. Healthy is a 2xx or 3xx status, as for
    # a Kubernetes httpGet probe. The path is a checked URL path: no quote can end the string.
    request = f"printf 'GET {health.path} HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3"
    status = _literal("read -r status <&3 && [[ $status == 'HTTP/1.'?' '[23]* ]]")
    return ["CMD", "bash", "-c", f"{connect} && {request} && {status}"]


def compose_test_yaml(health: Health) -> str:
    """The list as one flow sequence (JSON is YAML). Not Jinja's tojson: that escapes `<`,
    `>` and `'` for HTML, and the file should read as the command that runs."""
    return json.dumps(compose_test(health))
