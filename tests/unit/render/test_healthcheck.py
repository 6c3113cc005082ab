"""Compose healthchecks from the health kinds (tasks/render/healthcheck.py)."""

from __future__ import annotations

import json

from tasks.model import Health
from tasks.render import healthcheck


def test_exec_health_check_runs_the_command_with_literal_dollars() -> None:
    health = Health(kind="exec", command=("check", "$HOME", "--x"))
    assert healthcheck.compose_test(health) == ["CMD", "check", "$$HOME", "--x"]


def test_tcp_health_check_connects_to_the_port() -> None:
    assert healthcheck.compose_test(Health(kind="tcp", port=5672)) == [
        "CMD",
        "bash",
        "-c",
        "exec 3<>/dev/tcp/127.0.0.1/5672",
    ]


def test_http_health_check_asks_for_the_path_and_wants_2xx_or_3xx() -> None:
    test = healthcheck.compose_test(Health(kind="http", port=8080, path="/healthz"))
    assert test[:3] == ["CMD", "bash", "-c"]
    assert test[3] == (
        "exec 3<>/dev/tcp/127.0.0.1/8080 && "
        "printf 'GET /healthz HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3 && "
        "read -r status <&3 && [[ $$status == 'HTTP/1.'?' '[23]* ]]"
    )
    assert json.loads(healthcheck.compose_test_yaml(Health(kind="http", port=8080, path="/healthz"))) == test
