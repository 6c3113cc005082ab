"""tasks/render/healthcheck.py: Compose health checks of kind http, tcp and exec need bash in the image,
never a language runtime; each is run here as the container would run it."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

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


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code = {"/healthz": 200, "/moved": 302, "/sick": 503}.get(self.path, 404)
        self.send_response(code)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_like_compose(test: list[str]) -> int:
    """What the container runs: Compose turns `$$` into `$`, then execs the list after CMD."""
    assert test[0] == "CMD"
    argv = [arg.replace("$$", "$") for arg in test[1:]]
    return subprocess.run(
        argv, capture_output=True, timeout=10, check=False, env={"PATH": "/usr/bin:/bin"}
    ).returncode


def test_compose_http_check_is_bash_only_and_wants_2xx_or_3xx(server: int) -> None:
    for path, healthy in (("/healthz", True), ("/moved", True), ("/sick", False), ("/nope", False)):
        test = healthcheck.compose_test(Health("http", port=server, path=path))
        assert test[:3] == ["CMD", "bash", "-c"]
        assert (_run_like_compose(test) == 0) is healthy, path
    assert (
        _run_like_compose(healthcheck.compose_test(Health("http", port=_free_port(), path="/healthz"))) != 0
    )


def test_compose_tcp_check_only_connects(server: int) -> None:
    assert _run_like_compose(healthcheck.compose_test(Health("tcp", port=server))) == 0
    assert _run_like_compose(healthcheck.compose_test(Health("tcp", port=_free_port()))) != 0


def test_compose_exec_check_is_the_command_with_dollars_kept() -> None:
    assert healthcheck.compose_test(Health("exec", command=("sh", "-c", "test -n $HOME"))) == [
        "CMD",
        "sh",
        "-c",
        "test -n $$HOME",
    ]
