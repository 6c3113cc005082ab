"""Health checks of kind http, tcp and exec (issue 12): Kubernetes probes, and Compose checks
that need bash in the image, never a language runtime. Compose replicas."""

from __future__ import annotations

import http.server
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.config import load as config
from tasks.model import Health
from tasks.render import files as render
from tasks.render import healthcheck
from testing.project import run_doit


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


def _kinds(data: dict[str, Any]) -> None:
    services = data["services"]
    services["engine"]["health"] = {"kind": "exec", "command": ["/bin/check", "--quick"]}
    services["persistence-agent"]["health"] = {"kind": "tcp", "port": 8080}
    services["persistence-agent"]["replicas"] = 3


@pytest.fixture
def kinds(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = project / "environments" / "stack.yaml"
    data = yaml.safe_load(path.read_text())
    _kinds(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.chdir(project)
    return project


def _container(text: str) -> dict[str, Any]:
    doc = yaml.safe_load(text.split("\n---\n")[0])
    return doc["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


def test_kubernetes_probes_follow_the_kind(kinds: Path) -> None:
    base = render.texts(render.k8s_base(config.load_stack(kinds)))
    engine = _container(base["k8s/base/engine.yaml"])
    for probe in ("livenessProbe", "readinessProbe"):
        assert engine[probe]["exec"] == {"command": ["/bin/check", "--quick"]}
    agent = _container(base["k8s/base/persistence-agent.yaml"])
    for probe in ("livenessProbe", "readinessProbe"):
        assert agent[probe]["tcpSocket"] == {"port": 8080} and "httpGet" not in agent[probe]
    http = _container(base["k8s/base/session-agent.yaml"])
    assert http["livenessProbe"]["tcpSocket"] == {"port": 3000}
    assert http["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 3000}


def test_compose_renders_the_kind_and_the_replicas(kinds: Path) -> None:
    out = render.texts(render.compose(config.load("local", kinds)))
    services = yaml.safe_load(out["compose/local/docker-compose-services.yml"])["services"]
    assert services["engine"]["healthcheck"]["test"] == ["CMD", "/bin/check", "--quick"]
    assert services["persistence-agent"]["healthcheck"]["test"][:3] == ["CMD", "bash", "-c"]
    assert services["persistence-agent"]["deploy"]["replicas"] == 3
    assert "replicas" not in services["engine"]["deploy"]  # 1: Compose's own default, nothing written
    assert "bootstrap" in services and "healthcheck" not in services["bootstrap"]
    assert "python3" not in str([s.get("healthcheck") for s in services.values()])


def test_a_published_service_keeps_one_container_where_compose_is_not_the_runtime(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    text = render.texts(render.compose(config.load("prod", project)))[
        "compose/prod/docker-compose-services.yml"
    ]
    services = yaml.safe_load(text)["services"]
    assert "replicas" not in services["session-agent"]["deploy"]  # publishes 3000, prod says 2
    assert "replicas is 2 here, but host port 3000 can be bound by one container only" in text
    assert services["engine"]["deploy"]["replicas"] == 3


def test_render_says_removed_for_a_file_it_deleted(project: Path) -> None:
    dev = project / "environments" / "dev.yaml"
    original = dev.read_text()
    dev.write_text(original + "services: {engine: {replicas: 7}}\n")
    first = run_doit(project, "render")
    assert first.code == 0 and "wrote k8s/overlays/dev/scale-engine.patch.yaml" in first.out, first.out
    dev.write_text(original)
    second = run_doit(project, "render")
    assert second.code == 0 and "removed k8s/overlays/dev/scale-engine.patch.yaml" in second.out, second.out
    assert "wrote k8s/overlays/dev/scale-engine.patch.yaml" not in second.out
    assert not (project / "k8s/overlays/dev/scale-engine.patch.yaml").exists()
