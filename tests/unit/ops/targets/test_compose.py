"""tasks/ops/targets/compose.py: the Compose deploy target on the fake docker-compose (each up
step applies only its part, nothing is rolled back, a status row per service), and the
engine's converge and status driving it."""

from __future__ import annotations

import dataclasses

import pytest

from tasks.errors import StackError
from tasks.ops import compose as cops
from tasks.ops.compose_jobs import JobRun
from tasks.ops.targets import compose as target_ops
from tasks.ops.targets.base import Failure
from tasks.ops.targets.compose import ComposeTarget, job_row
from tasks.store import devstate
from testing.composebox import ENV, PROJECT, PS_AND_LOGS, Box, box, ps_rows, record_ref, write_env

__all__ = ["box"]  # the fixture
# The offline environment's databases, and the Prometheus its monitoring component runs beside them.
DBS = ["redis", "rabbitmq", "prometheus"]


def test_target_applies_only_its_step(box: Box) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    for name in (*DBS, "engine", "session-agent"):
        record_ref(name, f"{name}:1")
    live = cops.Live(PROJECT)
    ComposeTarget(box.stack.cfg, live, "services").apply()
    assert [argv[-2:] for argv in box.compose_argvs()] == [["engine", "session-agent"]]
    ComposeTarget(box.stack.cfg, live, "databases").apply()
    assert [argv[-3:] for argv in box.compose_argvs()] == [DBS]
    ComposeTarget(box.stack.cfg).apply()
    dbs, services = box.compose_argvs()
    assert (dbs[-3:], services[-2:]) == (DBS, ["engine", "session-agent"])


def test_target_rolls_nothing_back_and_runs_the_stacks_jobs(box: Box) -> None:
    target = ComposeTarget(box.stack.cfg)
    assert target.wait() == []
    failure = Failure("service/engine", "unhealthy", [])
    assert target.roll_back([failure]) == {
        "service/engine": "not rolled back (Compose keeps no previous revision)"
    }
    assert target.jobs() == ["bootstrap"]
    assert target.label == f"Compose project {PROJECT}"
    assert f"doit compose_up env={ENV}" in target.fix()


def test_target_status_per_service(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    box.script_compose(PS_AND_LOGS)
    record_ref("redis", "redis:new")
    record_ref("rabbitmq", "rabbitmq:new")
    record_ref("engine", "engine:new")
    ps_rows(
        monkeypatch,
        {"Service": "redis", "State": "running", "Health": "healthy", "Image": "redis:new"},
        {"Service": "redis", "State": "running", "Health": "starting", "Image": "redis:new"},
        {"Service": "rabbitmq", "State": "running", "Health": "", "Image": "rabbitmq:new"},
        {"Service": "engine", "State": "running", "Health": "healthy", "Image": "engine:old"},
    )
    rows = {row.workload: row for row in ComposeTarget(box.stack.cfg).status()}
    assert list(rows) == [
        "service/redis",
        "service/rabbitmq",
        "service/prometheus",
        "service/engine",
        "service/session-agent",
        "job/bootstrap",
    ]
    as_tuples = {name: dataclasses.astuple(row)[1:] for name, row in rows.items()}
    assert as_tuples == {
        "service/redis": ("2", "1", "redis:new", "yes", "failed", "starting"),
        "service/rabbitmq": ("1", "1", "rabbitmq:new", "yes", "ok", ""),
        "service/prometheus": ("1", "0", "-", "no", "stale", "not started"),
        "service/engine": ("1", "1", "engine:old", "no", "stale", "recorded image is engine:new"),
        "service/session-agent": ("1", "0", "-", "no", "stale", "not started"),
        "job/bootstrap": ("1", "0", "-", "no", "stale", "never ran here"),
    }
    ps_rows(
        monkeypatch,
        {"Service": "redis", "State": "exited", "Health": "", "Image": "b"},
        {"Service": "redis", "State": "running", "Health": "", "Image": "a"},
        {"Service": "session-agent", "State": "running", "Health": "healthy", "Image": "agent:any"},
    )
    rows = {row.workload: row for row in ComposeTarget(box.stack.cfg).status()}
    assert dataclasses.astuple(rows["service/redis"])[1:] == ("2", "1", "a b", "no", "failed", "exited")
    assert dataclasses.astuple(rows["service/rabbitmq"])[1:] == (
        "1",
        "0",
        "rabbitmq:new",
        "no",
        "stale",
        "not started",
    )
    # Not built here (no recorded image): any image counts as applied.
    assert dataclasses.astuple(rows["service/session-agent"])[1:] == ("1", "1", "agent:any", "yes", "ok", "")


def test_a_step_converges_and_the_status_table_fails_unless_all_are_ok(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    for name in DBS:
        record_ref(name, f"{name}:1")
    target_ops.converge_step(box.stack, cops.Live(PROJECT), "databases")
    assert "databases healthy: redis, rabbitmq, prometheus" in capsys.readouterr().out
    with pytest.raises(StackError) as info:
        target_ops.show_status(box.stack)  # the services never started
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["workload", "desired", "ready", "image", "applied", "verdict"]
    assert "service/redis" in out and "service/engine" in out
    assert info.value.message.startswith(f"3 of 6 workload(s) in Compose project {PROJECT} are not ok")


def test_status_names_the_cause_of_an_unhealthy_service_from_its_health_log(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    for name in ("redis", "rabbitmq"):
        record_ref(name, f"{name}:1")
    monkeypatch.setenv("FAKE_COMPOSE_UNHEALTHY", "redis")
    monkeypatch.setenv("FAKE_COMPOSE_HEALTH_OUTPUT", "Could not connect to Redis at 127.0.0.1:6379\n")
    with pytest.raises(StackError):
        cops.up(box.stack, cops.Live(PROJECT), ["redis", "rabbitmq"], "databases")
    rows = {row.workload: row for row in ComposeTarget(box.stack.cfg).status()}
    assert rows["service/redis"].verdict == "failed"
    assert rows["service/redis"].note == (
        "unhealthy; last health check: exit 1: Could not connect to Redis at 127.0.0.1:6379"
    )
    assert rows["service/rabbitmq"].note == ""


def test_a_job_row_is_stale_when_its_image_or_volumes_changed_since_it_ran() -> None:
    run = JobRun(True, 0, 0.0, "b:1", "p_data 0123456789abcdef0123456789abcdef")
    assert job_row("seed", None, "b:1", "").verdict == "stale"
    assert job_row("seed", None, "b:1", "").note == "never ran here"
    assert job_row("seed", run, "b:1", run.volumes).verdict == "ok"
    assert job_row("seed", run, "b:1", run.volumes).note == "succeeded at 1970-01-01 00:00:00 UTC"
    moved = job_row("seed", run, "b:2", run.volumes)
    assert (moved.image, moved.verdict) == ("b:1", "stale")
    assert moved.note == "ran 1970-01-01 00:00:00 UTC with another image; recorded image is b:2"
    wiped = job_row("seed", run, "b:1", "p_data ffffffffffffffffffffffffffffffff")
    assert (wiped.verdict, wiped.note) == (
        "stale",
        "ran 1970-01-01 00:00:00 UTC; the data volumes were recreated since",
    )
    # An image not built here (pulled) has no recorded reference: whatever ran counts.
    assert job_row("seed", run, None, run.volumes).verdict == "ok"


def test_applying_the_services_forgets_a_sync_into_another_image(box: Box) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    for name in (*DBS, "engine", "session-agent"):
        record_ref(name, f"{name}:2")
    devstate.update(ENV, "engine", synced_at=5.0, image="engine:1")  # synced, then rebuilt
    devstate.update(ENV, "session-agent", synced_at=5.0, image="session-agent:2")  # kept as it is
    ComposeTarget(box.stack.cfg, cops.Live(PROJECT), "databases").apply()
    assert devstate.read(ENV)["engine"].synced  # the databases step starts no service
    ComposeTarget(box.stack.cfg, cops.Live(PROJECT), "services").apply()
    records = devstate.read(ENV)
    assert not records["engine"].synced and records["engine"].image == "engine:2"
    assert records["session-agent"].synced
