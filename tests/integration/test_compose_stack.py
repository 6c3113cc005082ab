"""The offline stack for real: `doit compose_up env=offline` on a scratch copy, a round
trip through session-agent -> RabbitMQ -> engine -> Redis, that event's lines found by its
correlation id with `compose_logs id=<id>` in every service that handled it, testinfra checks, a no-op
second `compose_up` (also after Redis wrote its data, and after `compose_down` kept it), a
service whose health check fails reported with the check's own output as soon as Docker
marks it unhealthy, then `compose_down` leaving nothing behind.

Needs host ports 3000, 6379, 5672 and 9090 free. The stack comes up once per module.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import testinfra

from tasks.programs import tools
from testing.compose_stack import ENV, PROJECT, containers, doit, networks, scratch_stack, volumes

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
    with scratch_stack(tmp_path_factory.mktemp("compose") / "project") as dest:
        yield dest


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


# The services that handle an event in this environment: session-agent accepts it, the engine
# consumes it (persistence-agent, its next consumer, is disabled: Debian packages no MongoDB).
HANDLERS = {"session-agent", "engine"}
COMPOSE_LINE = re.compile(r"^(\S+)-\d+\s+\| \S+ (\{.*\})$")  # service-1  | <timestamp> <JSON>


def logged(project: Path, *options: str) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """`doit compose_logs <options>`: its (service, JSON record) log lines, and its other lines."""
    result = doit(project, "compose_logs", *options, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    records, other = [], []
    for line in result.stdout.splitlines():
        found = COMPOSE_LINE.match(line)
        if found:
            records.append((found.group(1), json.loads(found.group(2))))
        else:
            other.append(line)
    return records, other


def test_one_events_correlation_id_shows_its_lines_from_every_service_that_handled_it(
    project: Path, before: dict[str, str]
) -> None:
    thread = f"it-{uuid.uuid4().hex[:8]}"
    status, body = http("POST", "/events", {"thread_id": thread, "type": "traced"})
    assert status == 202, body
    correlation_id = body["correlation_id"]
    deadline = time.monotonic() + 20
    while http("GET", f"/threads/{thread}")[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.5)  # the engine consumes the event asynchronously
    records, other = logged(project, f"id={correlation_id}")
    print("\n" + "\n".join(f"{name}: {record}" for name, record in records))
    assert {name for name, _ in records} == HANDLERS, records
    assert len(records) == len(HANDLERS), records  # one line each: nothing else matched
    for name, record in records:
        assert (record["service"], record["correlation_id"]) == (name, correlation_id), record
        assert thread in record["message"] and record["level"] == "info", record
    assert [line for line in other if line.strip() and not line.startswith(".  ")] == [], other
    engine_only, _ = logged(project, "service=engine", f"id={correlation_id}")
    assert [name for name, _ in engine_only] == ["engine"], engine_only
    assert logged(project, "level=error", f"id={correlation_id}")[0] == []


@pytest.mark.parametrize("service", ["engine", "session-agent", "redis", "rabbitmq", "prometheus"])
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


def _redis(*args: str) -> str:
    return tools.run("docker", "exec", containers()["redis"], "redis-cli", *args).stdout.strip()


def _created(volume: str) -> str:
    return tools.run("docker", "volume", "inspect", "--format", "{{.CreatedAt}}", volume).stdout.strip()


def test_a_database_writing_its_data_keeps_the_next_up_a_no_op(project: Path, before: dict[str, str]) -> None:
    volume = f"{PROJECT}_redis-data"
    created = _created(volume)
    time.sleep(1.1)  # CreatedAt has whole seconds
    assert _redis("SET", "kept", "yes") == "OK"
    assert _redis("SAVE") == "OK"  # Redis writes its dump into the data volume
    # On Docker 20.10 the volume's CreatedAt is its _data folder's time: it moves now.
    print(f"\nCreatedAt of {volume}: {created} before the write, {_created(volume)} after")
    again = doit(project, "compose_up")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "-- compose_jobs" in again.stdout, again.stdout  # the job did not run again
    assert "bootstrap done" not in again.stdout
    assert containers() == before


def test_down_then_up_keeps_the_data_and_runs_no_job(project: Path) -> None:
    kept = sorted(volumes())
    down = doit(project, "compose_down", timeout=300)
    assert down.returncode == 0, down.stdout[-3000:] + down.stderr[-3000:]
    assert containers() == {} and sorted(volumes()) == kept
    up = doit(project, "compose_up")
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    assert ".  compose_up_dbs" in up.stdout  # the containers were gone: started again
    assert "-- compose_jobs" in up.stdout, up.stdout  # same volumes: the job's work is still there
    assert _redis("GET", "kept") == "yes"


FAILING_CHECK = "echo 'upstream refused: the check fails on purpose'; exit 1"


def test_an_unhealthy_service_is_reported_with_its_checks_output_when_docker_marks_it(project: Path) -> None:
    stack_file = project / "environments" / "stack.yaml"
    env_file = project / "environments" / f"{ENV}.yaml"
    saved = stack_file.read_text(), env_file.read_text()
    health = "health: {port: 3000, path: /healthz}"
    assert saved[0].count(health) == 1
    stack_file.write_text(
        saved[0].replace(health, f'health: {{kind: exec, command: [sh, -c, "{FAILING_CHECK}"]}}')
    )
    # A long wait: the failure must come when Docker marks the container unhealthy, not at its end.
    env_file.write_text(saved[1] + "timeouts: {healthy: 600}\n")
    try:
        assert doit(project, "render").returncode == 0
        started = time.monotonic()
        failed = doit(project, "compose_up")
        took = time.monotonic() - started
        status = doit(project, "compose_ps")
    finally:
        stack_file.write_text(saved[0])
        env_file.write_text(saved[1])
        doit(project, "render")
    out = failed.stdout + failed.stderr
    print(f"\nfailing health check reported after {took:.1f} s")
    assert failed.returncode != 0
    assert "session-agent failed to start or become healthy" in out, out[-3000:]
    assert "--- last health check of session-agent (exit 1" in out, out[-3000:]
    assert "upstream refused: the check fails on purpose" in out
    # Docker marks it unhealthy after the 30 s start period and 6 failed checks 5 s apart.
    assert took < 150, f"reported after {took:.1f} s"
    assert status.returncode != 0
    assert "last health check: exit 1: upstream refused: the check fails on purpose" in status.stdout
    back = doit(project, "compose_up")
    assert back.returncode == 0, back.stdout[-3000:] + back.stderr[-3000:]


def test_zz_down_leaves_nothing(project: Path, before: dict[str, str]) -> None:
    # Named zz_: runs last in the module (pytest keeps file order; this one is last anyway).
    down = doit(project, "compose_down", timeout=300)
    assert down.returncode == 0, down.stdout[-3000:] + down.stderr[-3000:]
    assert containers() == {}
    assert networks() == []
