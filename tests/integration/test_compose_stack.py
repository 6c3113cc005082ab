"""The offline stack for real: `doit compose_up env=offline` on a scratch copy, a round
trip through session-agent -> RabbitMQ -> engine -> Redis, testinfra checks, a no-op
second `compose_up`, then `compose_down` leaving nothing behind.

Needs host ports 3000, 6379 and 5672 free. The stack comes up once per module.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import testinfra

from testing.compose_stack import ENV, PROJECT, containers, doit, networks, volumes
from testing.project import copy_build_state, copy_project

AGENT = "http://127.0.0.1:3000"
pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.usefixtures("docker_daemon")]


def http(method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        AGENT + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, docker_daemon: None) -> Iterator[Path]:
    """A scratch copy with the stack up; torn down (volumes too) whatever happens."""
    if containers() or volumes():
        # Never touch someone's stack; its volumes also hold other credentials than ours.
        pytest.fail(
            f"{PROJECT} already has containers or volumes; run `doit compose_down env={ENV} wipe=1` first"
        )
    dest = copy_project(tmp_path_factory.mktemp("compose") / "project")
    # The debootstrap base is only rebuilt when missing: reuse the repository's.
    copy_build_state(dest, ENV, "base")
    up = doit(dest, "compose_up")
    try:
        assert up.returncode == 0, up.stdout[-4000:] + up.stderr[-4000:]
        yield dest
    finally:
        doit(dest, "compose_down", "wipe=1", timeout=300)


@pytest.fixture(scope="module")
def before(project: Path) -> dict[str, str]:
    return containers()


def test_stack_is_running(project: Path, before: dict[str, str]) -> None:
    assert {"redis", "rabbitmq", "engine", "session-agent"} <= set(before)
    assert "bootstrap" not in before  # `run --rm`: the job's container is gone


def test_event_round_trip(project: Path, before: dict[str, str]) -> None:
    thread = f"it-{uuid.uuid4().hex[:8]}"
    status, body = http("POST", "/events", {"thread_id": thread, "type": "created", "data": {"k": "v"}})
    assert status == 202, body
    deadline = time.monotonic() + 20
    while True:  # the engine consumes the event asynchronously
        status, state = http("GET", f"/threads/{thread}")
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == 200, state
    assert state.get("event_count") == 1, state


@pytest.mark.parametrize("service", ["engine", "session-agent", "redis", "rabbitmq"])
def test_containers_run_as_non_root(project: Path, before: dict[str, str], service: str) -> None:
    host = testinfra.get_host(f"docker://{before[service]}")
    assert host.user().uid != 0


def test_session_agent_listens_on_3000(project: Path, before: dict[str, str]) -> None:
    host = testinfra.get_host(f"docker://{before['session-agent']}")
    # No ss/netstat in a minimal image: ask the kernel through /proc (3000 = 0x0BB8, LISTEN = 0A).
    table = host.file("/proc/net/tcp").content_string + host.file("/proc/net/tcp6").content_string
    assert any(
        f.split()[1].endswith(":0BB8") and f.split()[3] == "0A"
        for f in table.splitlines()[1:]
        if len(f.split()) > 3
    ), table


def test_second_up_changes_no_container(project: Path, before: dict[str, str]) -> None:
    started = time.monotonic()
    again = doit(project, "compose_up")
    elapsed = time.monotonic() - started
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert containers() == before
    for task in ("compose_up_dbs", "compose_up_services", "compose_jobs"):
        assert f"-- {task}" in again.stdout, again.stdout
    assert elapsed < 10, f"no-op compose_up took {elapsed:.1f} s"


def test_zz_down_leaves_nothing(project: Path, before: dict[str, str]) -> None:
    # Named zz_: runs last in the module (pytest keeps file order; this one is last anyway).
    down = doit(project, "compose_down", timeout=300)
    assert down.returncode == 0, down.stdout[-3000:] + down.stderr[-3000:]
    assert containers() == {}
    assert networks() == []
