"""tasks/ops/compose_failures.py against the fake `docker` and `docker-compose` (testing/fakes):
which service a failed step blames, with Compose's reason (tasks/programs/compose.py), the health
check's last output from Docker's health log, the last log lines, and the secrets' hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.errors import StackError
from tasks.ops import compose as cops
from tasks.ops.compose_failures import LOG_SCAN, LOG_TAIL, explain, failing, health_lines
from tasks.programs import docker
from tasks.programs.compose import Container
from testing.composebox import ENV, PROJECT, PS_AND_LOGS, Box, box, ps_rows, record_ref, tool_error, write_env

__all__ = ["box"]  # the fixture


def test_explain_names_the_broken_service_with_the_reason_and_its_logs(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    box.script_compose(PS_AND_LOGS)
    ps_rows(
        monkeypatch,
        {"Service": "redis", "State": "running", "Health": "healthy"},
        {"Service": "rabbitmq", "State": "exited", "Health": ""},
    )
    monkeypatch.setenv("LOGS", "rabbitmq-1  | boom")
    error = tool_error(" Container x-rabbitmq-1  Started\ndependency rabbitmq failed to start\n")
    explained = explain(box.stack, ["redis", "rabbitmq"], error)
    assert explained is not error
    lines = explained.message.splitlines()
    assert lines[0] == (
        f"rabbitmq failed to start or become healthy (environment {ENV}): dependency rabbitmq failed to start"
    )
    assert lines[1:] == [f"--- last {LOG_TAIL} log lines of rabbitmq ---", "rabbitmq-1  | boom"]
    assert explained.fix is not None and f"doit compose_logs env={ENV}" in explained.fix
    assert box.compose_argvs() == [
        ["ps", "-a", "--format", "json", "redis", "rabbitmq"],
        ["logs", "--no-color", "--tail", str(LOG_SCAN), "rabbitmq"],
    ]
    # The tool's own fix, when it has one, is kept.
    assert explain(box.stack, ["rabbitmq"], tool_error("x", fix="free the port")).fix == "free the port"


def test_explain_keeps_the_error_when_no_service_is_to_blame(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    box.script_compose(PS_AND_LOGS)
    ps_rows(monkeypatch, {"Service": "redis", "State": "running", "Health": "healthy"})
    error = tool_error("port is already allocated")
    assert explain(box.stack, ["redis"], error) is error
    box.script_compose("echo 'Cannot connect to the Docker daemon' >&2; exit 1\n")
    assert explain(box.stack, ["redis"], error) is error
    assert box.compose_argvs() == [["ps", "-a", "--format", "json", "redis"]] * 2


def test_explain_blames_the_secrets_when_a_database_refuses_the_login(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    box.script_compose(PS_AND_LOGS)
    ps_rows(monkeypatch, {"Service": "engine", "State": "restarting", "Health": ""})
    monkeypatch.setenv("LOGS", "engine-1  | amqp: ACCESS_REFUSED - Login was refused")
    explained = explain(box.stack, ["engine"], tool_error("engine exited"))
    assert explained.message.startswith(
        f"engine cannot log in with the passwords in compose/{ENV}/.env, but the data volumes of "
        f"Compose project {PROJECT} exist"
    )
    assert "ACCESS_REFUSED" in explained.message
    assert explained.fix is not None and f"doit compose_down env={ENV} wipe=1" in explained.fix
    # Without data volumes the passwords cannot be stale: the plain report.
    Path(box.stack.files[0]).write_text("name: x\nservices: {}\n")
    plain = explain(box.stack, ["engine"], tool_error("engine exited"))
    assert plain.message.startswith("engine failed to start or become healthy")


def test_a_refused_login_older_than_the_lines_shown_still_blames_the_secrets(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    box.script_compose(PS_AND_LOGS)
    ps_rows(monkeypatch, {"Service": "engine", "State": "running", "Health": "unhealthy"})
    later = [
        f"engine-1  | ConnectionResetError: [Errno 104] Connection reset by peer ({i})" for i in range(40)
    ]
    monkeypatch.setenv("LOGS", "\n".join(["engine-1  | amqp: ACCESS_REFUSED - Login was refused", *later]))
    explained = explain(box.stack, ["engine"], tool_error("engine is unhealthy"))
    assert explained.message.startswith(f"engine cannot log in with the passwords in compose/{ENV}/.env")
    shown = explained.message.split(f"--- last {LOG_TAIL} log lines of engine ---\n", 1)[1].splitlines()
    assert shown == later[-LOG_TAIL:]  # the lines shown are still the last ones


def test_an_empty_log_is_said_so(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    box.script_compose(PS_AND_LOGS)
    ps_rows(monkeypatch, {"Service": "redis", "State": "exited", "Health": ""})
    monkeypatch.setenv("LOGS", "")
    explained = explain(box.stack, ["redis"], tool_error("", code=3))
    assert explained.message.splitlines()[0].endswith(": exit 3")
    assert explained.message.splitlines()[-1] == "(no output)"


def test_explain_shows_what_logs_said_even_when_it_fails(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    box.script_compose(
        'case "$*" in *" ps "*) printf \'%s\\n\' "$PS_JSON";; *) echo "no logs: gone" >&2; exit 1;; esac\n'
    )
    ps_rows(monkeypatch, {"Service": "redis", "State": "exited", "Health": ""})
    explained = explain(box.stack, ["redis"], tool_error("redis exited"))
    assert explained.message.splitlines()[-1] == "no logs: gone"


def test_failing_blames_unhealthy_and_stopped_over_starting_per_container() -> None:
    def row(service: str, state: str = "running", health: str = "") -> Container:
        return Container(service, state, health, "img")

    assert failing([row("a", health="unhealthy"), row("b", health="healthy")], ["a", "b"]) == ["a"]
    assert failing([row("a"), row("a", "exited")], ["a"]) == ["a"]
    assert failing([row("a", "exited"), row("a")], ["a"]) == ["a"]
    assert failing([row("a"), row("b")], ["a", "b"]) == []
    # Two replicas, one still starting: that one is the reason of a timeout.
    assert failing([row("a"), row("a", health="starting"), row("b")], ["a", "b"]) == ["a"]
    assert failing([row("a", health="starting"), row("a")], ["a", "b"]) == ["b"]
    # A container that was never created (e.g. its port was taken) counts as broken.
    assert failing([], ["session-agent"]) == ["session-agent"]


def test_an_unhealthy_service_is_reported_with_its_health_checks_last_output(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("redis", "r:1")
    monkeypatch.setenv("FAKE_COMPOSE_UNHEALTHY", "redis")
    monkeypatch.setenv(
        "FAKE_COMPOSE_HEALTH_OUTPUT", "AUTH failed\nCould not connect to Redis at 127.0.0.1:6379\n"
    )
    with pytest.raises(StackError) as info:
        cops.up(box.stack, cops.Live(PROJECT), ["redis"], "databases")
    lines = info.value.message.splitlines()
    assert lines[0] == (
        f"redis failed to start or become healthy (environment {ENV}): "
        f"container {PROJECT}-redis-1 is unhealthy"
    )
    # The check's own words come before the container's log, which often says nothing.
    assert lines[1:4] == [
        "--- last health check of redis (exit 1, 1 failed in a row) ---",
        "AUTH failed",
        "Could not connect to Redis at 127.0.0.1:6379",
    ]
    assert lines[4] == f"--- last {LOG_TAIL} log lines of redis ---"
    assert info.value.fix is not None and "health check" in info.value.fix


def test_a_passing_or_unknown_health_check_adds_no_lines() -> None:
    assert health_lines("redis", []) == []
    assert health_lines("redis", [docker.HealthCheck("healthy", 0, 0, "PONG")]) == []
    assert health_lines("redis", [docker.HealthCheck("starting", 0, None, "")]) == []
    worst = health_lines(
        "web",
        [docker.HealthCheck("starting", 2, 1, "slow"), docker.HealthCheck("unhealthy", 6, 7, "")],
    )
    assert worst == ["--- last health check of web (exit 7, 6 failed in a row) ---\n(no output)"]
