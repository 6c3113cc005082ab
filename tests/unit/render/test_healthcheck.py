"""tasks/render/healthcheck.py: Compose health checks of kind http, tcp and exec need bash in the image,
never a language runtime; each is run here as the container would run it."""

from __future__ import annotations

import http.server
import socket
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tasks.model import Health
from tasks.render import healthcheck


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
