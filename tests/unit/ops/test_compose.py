"""tasks/ops/compose.py called directly, against the fake `docker` and `docker-compose` first on
PATH (testing/fakes), in a folder holding only compose/<env>/ (testing/composebox.py).

When a missing image is an error, what counts as running, the .env creation and additions,
the steps (up, down, hooks, logs) and their deadlines, and the masking of secrets."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
from pathlib import Path

import pytest

from tasks.errors import StackError, ToolError
from tasks.ops import compose as cops
from tasks.ops.compose_jobs import run_job
from tasks.ops.compose_stack import Stack
from tasks.programs import docker
from testing.composebox import ENV, PROJECT, Box, add, box, record_ref, write_env

__all__ = ["box"]  # the fixture


def test_compose_requires_images_only_when_told_what_starts(box: Box) -> None:
    cops.show_logs(box.stack)  # nothing built: fine for a query
    assert box.compose_argvs() == [["logs", "--no-color", "--timestamps"]]
    write_env("RABBITMQ_PASSWORD=x\n")
    with pytest.raises(StackError, match="no image built for engine"):
        cops.up(box.stack, cops.Live(PROJECT), ["engine"], "services")
    assert box.compose_argvs() == []  # refused before Compose ran
    assert not [argv for argv in box.fakes.argvs("docker") if argv[:2] == ["volume", "create"]]
    record_ref("engine", "srvthreds/engine:0123456789ab")
    cops.up(box.stack, cops.Live(PROJECT), ["engine"], "services")
    call = box.fakes.calls("docker-compose")[-1]
    assert call["images"] == {"ENGINE_IMAGE": "srvthreds/engine:0123456789ab"}


def test_live_states_are_asked_once_until_forgotten(box: Box) -> None:
    add(box, "redis")
    add(box, "rabbitmq", health="unhealthy")
    add(box, "engine", state="exited", health="")
    other = {"com.docker.compose.project": "other", "com.docker.compose.service": "engine"}
    box.daemon.add_container("other-engine-1", "img", state="running", labels=other, health="healthy")
    live = cops.Live(PROJECT)
    assert live.states() == {"redis": "running", "rabbitmq": "unhealthy", "engine": "exited"}
    assert live.running(["redis"])
    assert not live.running(["redis", "rabbitmq"])
    assert not live.running(["redis", "session-agent"])  # never started
    assert len(box.fakes.argvs("docker")) == 1
    live.forget()
    assert live.running(["redis"])
    assert len(box.fakes.argvs("docker")) == 2


def test_live_identity_changes_when_a_container_does_and_is_asked_once(box: Box) -> None:
    add(box, "redis")
    live = cops.Live(PROJECT)
    first = live.identity()
    assert first is not None and len(first) == 1 and first == live.identity()
    assert len(box.fakes.argvs("docker")) == 1
    add(box, "engine", health="unhealthy")
    assert cops.Live(PROJECT).identity() != first  # a new container: a new sign
    assert any(line.endswith(" engine unhealthy") for line in cops.Live(PROJECT).identity() or ())


def test_a_daemon_that_cannot_be_asked_means_not_running(box: Box) -> None:
    box.fakes.script("docker", "echo 'Cannot connect to the Docker daemon' >&2; exit 1\n")
    live = cops.Live(PROJECT)
    assert live.states() is None
    assert not live.running([])


def test_env_file_is_created_private_with_every_secret(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    cops.ensure_env_file(box.stack)
    path = Path(box.stack.env_file)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = {k: v for k, v in (line.split("=", 1) for line in path.read_text().splitlines()[1:])}
    assert list(values) == list(box.stack.cfg.secrets) and all(len(v) >= 32 for v in values.values())
    secrets = ", ".join(box.stack.cfg.secrets)
    assert f"created {path} (mode 600) with random values for: {secrets}\n" in capsys.readouterr().out
    before = path.read_text()
    cops.ensure_env_file(box.stack)  # complete: nothing added
    assert path.read_text() == before
    assert capsys.readouterr().out == ""


def test_a_new_secret_is_added_to_an_existing_env_file(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = dataclasses.replace(box.stack.cfg, secrets=("RABBITMQ_PASSWORD", "NEW_TOKEN"))
    path = write_env("# mine\nRABBITMQ_PASSWORD=kept\n")
    cops.ensure_env_file(Stack(cfg))
    lines = path.read_text().splitlines()
    assert lines[:2] == ["# mine", "RABBITMQ_PASSWORD=kept"]
    assert len(lines) == 3 and lines[2].startswith("NEW_TOKEN=") and len(lines[2]) > len("NEW_TOKEN=") + 30
    assert "added random values for NEW_TOKEN" in capsys.readouterr().out
    path.chmod(0o644)
    with pytest.raises(StackError, match="readable by others"):
        cops.ensure_env_file(Stack(cfg))


def test_no_new_env_file_next_to_volumes_that_keep_the_old_passwords(box: Box) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("redis", "r:1")
    cops.up(box.stack, cops.Live(PROJECT), ["redis"], "databases")  # creates the volumes
    Path(box.stack.env_file).unlink()
    with pytest.raises(StackError) as info:
        cops.ensure_env_file(box.stack)
    assert info.value.message.startswith(f"compose/{ENV}/.env is missing, but the data volumes")
    assert info.value.fix is not None and "wipe=1" in info.value.fix
    assert not Path(box.stack.env_file).exists()


def test_a_daemon_that_cannot_list_volumes_does_not_block_the_env_file(box: Box) -> None:
    box.fakes.script("docker", "exit 1\n")
    cops.ensure_env_file(box.stack)
    assert Path(box.stack.env_file).exists()


def test_the_env_file_folder_is_made_when_missing(box: Box) -> None:
    shutil.rmtree("compose")
    cops.ensure_env_file(box.stack)
    assert Path(box.stack.env_file).is_file()


def test_config_is_printed_with_every_secret_value_masked(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env("RABBITMQ_PASSWORD=s3cret-s3cret\nOTHER=s3cret\n")
    cops.show_config(box.stack)
    out = capsys.readouterr().out
    assert "RABBITMQ_PASSWORD: ********\n" in out and "s3cret" not in out


def test_redact_masks_the_longest_value_first() -> None:
    assert cops.redact("a=abcdef b=abc", ["abc", "abcdef"]) == "a=******** b=********"


def test_config_masks_a_short_secret_value_only_where_it_stands_whole(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env("RABBITMQ_PASSWORD=a\n")
    box.script_compose('echo "image: alpine:3"; echo "url: amqp://app:a@queue"\n')
    cops.show_config(box.stack)
    assert capsys.readouterr().out == "image: alpine:3\nurl: amqp://app:********@queue\n"


def test_a_restart_keeps_no_secret_value_in_its_step_log(box: Box) -> None:
    write_env("RABBITMQ_PASSWORD=pw-4f9c\n")
    add(box, "engine", state="exited")
    box.script_compose('echo "engine restarted with password pw-4f9c"\n')
    cops.restart(box.stack, "engine")
    assert Path(".build/logs/restart-engine.log").read_text() == "engine restarted with password ********\n"


def test_env_values_are_the_named_non_empty_ones(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("A=1\nB=\nC=3\n")
    assert cops.env_values(path, ("A", "B")) == ["1"]


def test_secrets_are_urlsafe_and_new_each_time() -> None:
    first, second = cops.new_secret(), cops.new_secret()
    assert first != second and len(first) == 32 and os.sep not in first


def test_up_with_nothing_to_start_calls_nothing_but_forgets_the_live_state(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    live = cops.Live(PROJECT)
    live.states()
    cops.up(box.stack, live, [], "services")
    assert f"no services run in Compose for environment {ENV}" in capsys.readouterr().out
    live.states()
    assert len(box.fakes.argvs("docker")) == 2  # asked again after the step
    assert box.compose_argvs() == []


def test_up_refuses_a_readable_env_file_before_starting_anything(box: Box) -> None:
    write_env("RABBITMQ_PASSWORD=x\n", mode=0o644)
    with pytest.raises(StackError, match="readable by others"):
        cops.up(box.stack, cops.Live(PROJECT), ["redis"], "databases")
    assert box.compose_argvs() == []


def test_up_failure_is_explained(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("redis", "r:1")
    monkeypatch.setenv("FAKE_COMPOSE_UNHEALTHY", "redis")
    with pytest.raises(StackError) as info:
        cops.up(box.stack, cops.Live(PROJECT), ["redis"], "databases")
    assert not isinstance(info.value, ToolError)
    assert info.value.message.startswith("redis failed to start or become healthy")


def test_a_failing_hook_is_named_by_its_place_in_the_file(box: Box) -> None:
    cfg = dataclasses.replace(
        box.stack.cfg, hooks={"pre_build": ("true", "exit 3", "never"), "post_build": ()}
    )
    with pytest.raises(StackError) as info:
        cops.run_hooks(Stack(cfg), "pre_build")
    assert info.value.message == f"hooks.pre_build[1] of environment {ENV} failed (exit 3): exit 3"
    assert info.value.fix is not None and f"environments/{ENV}.yaml" in info.value.fix


def test_down_keeps_or_wipes_the_volumes(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    live = cops.Live(PROJECT)
    cops.down(box.stack, live)
    cops.down(box.stack, live, wipe=True)
    assert box.compose_argvs() == [["down", "--remove-orphans"], ["down", "--remove-orphans", "--volumes"]]
    out = capsys.readouterr().out
    assert (
        f"{PROJECT} stopped; data volumes kept" in out and f"{PROJECT} stopped; data volumes deleted" in out
    )


def test_show_prints_both_streams(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    box.script_compose("echo out; echo warn >&2\n")
    cops.show_logs(box.stack)
    assert capsys.readouterr().out == "out\nwarn\n"
    box.script_compose("echo out\n")
    cops.show_logs(box.stack)
    assert capsys.readouterr().out == "out\n"


def test_logs_of_one_service_are_asked_of_compose_and_filtered(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        'engine-1  | 2026-12-07T11:00:00Z {"level": "info", "message": "a", "correlation_id": "c-1"}',
        'engine-1  | 2026-12-07T11:00:01Z {"level": "error", "message": "b", "correlation_id": "c-2"}',
        "engine-1  | 2026-12-07T11:00:02Z WARNING c-1 retried",
    ]
    box.script_compose("".join(f"echo '{line}'\n" for line in lines))
    cops.show_logs(box.stack, service="engine", id="c-1")
    assert box.compose_argvs()[-1] == ["logs", "--no-color", "--timestamps", "engine"]
    assert capsys.readouterr().out == f"{lines[0]}\n{lines[2]}\n"
    cops.show_logs(box.stack, level="warn")
    assert box.compose_argvs()[-1] == ["logs", "--no-color", "--timestamps"]
    assert capsys.readouterr().out == f"{lines[1]}\n{lines[2]}\n"
    cops.show_logs(box.stack, id="c-9")
    captured = capsys.readouterr()
    assert captured.out == "" and "no log line matched" in captured.err


def test_bad_log_filters_are_refused_before_compose_runs(box: Box) -> None:
    with pytest.raises(StackError, match=r"service=nope names nothing that logs in environment \S+: use one"):
        cops.show_logs(box.stack, service="nope")
    with pytest.raises(StackError, match="level=loud is not a log level: use one of debug, info, warn, err"):
        cops.show_logs(box.stack, level="loud")
    assert box.compose_argvs() == []


def test_steps_say_what_they_did_and_forget_the_live_state(
    box: Box, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("redis", "r:1")
    record_ref("rabbitmq", "q:1")
    live = cops.Live(PROJECT)
    cops.up(box.stack, live, ["redis", "rabbitmq"], "databases")
    assert "databases healthy: redis, rabbitmq" in capsys.readouterr().out
    assert live.running(["redis", "rabbitmq"])
    cops.down(box.stack, live)
    assert not live.running(["redis"])  # asked again: the containers are gone
    cfg = dataclasses.replace(box.stack.cfg, hooks={"pre_build": ("true",), "post_build": ()})
    cops.run_hooks(Stack(cfg), "pre_build")
    assert "pre_build: true" in capsys.readouterr().out


def test_the_steps_deadline_is_the_healthy_timeout_plus_two_minutes(box: Box) -> None:
    # A short `timeouts.healthy`: Compose's own --wait-timeout, and our deadline 120 s later.
    stack = Stack(dataclasses.replace(box.stack.cfg, timeouts={**box.stack.cfg.timeouts, "healthy": 5}))
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("redis", "r:1")
    record_ref("bootstrap", "b:1")
    live = cops.Live(PROJECT)
    cops.up(stack, live, ["redis"], "databases")
    run_job(stack, live, "bootstrap")
    assert box.compose_argvs() == [
        ["up", "-d", "--wait", "--wait-timeout", "5", "redis"],
        ["run", "--rm", "-T", "bootstrap"],
    ]


def test_service_states_let_any_bad_container_of_a_service_win() -> None:
    s = docker.ServiceState
    states = [
        s("redis", "starting"),
        s("engine", "running"),
        s("engine", "exited"),
        s("engine", "running"),
        s("agent", "exited"),
        s("agent", "running"),
    ]
    assert cops.service_states(states) == {"redis": "starting", "engine": "exited", "agent": "exited"}


def test_log_text_asks_for_a_tail_with_timestamps_and_keeps_compose_prefixes(box: Box) -> None:
    text = cops.log_text(box.stack, tail=100)
    assert "engine-1  | engine: something went wrong" in text
    assert box.compose_argvs() == [["logs", "--no-color", "--timestamps", "--tail", "100"]]


def test_secret_values_are_the_env_files_values_and_none_before_it_exists(box: Box) -> None:
    assert cops.secret_values(box.stack) == []
    names = list(box.stack.cfg.secrets)
    write_env("".join(f"{name}=value-of-{name}\n" for name in names))
    assert sorted(cops.secret_values(box.stack)) == sorted(f"value-of-{name}" for name in names)


def test_restart_restarts_one_known_service_and_refuses_another_name(box: Box) -> None:
    box.script_compose("exit 0\n")
    with pytest.raises(StackError, match="engine has no container in environment offline"):
        cops.restart(box.stack, "engine")  # nothing runs: no "restarted" for a restart that did nothing
    assert box.compose_argvs() == []
    add(box, "engine", state="exited")  # a stopped container is restarted (Compose starts it)
    cops.restart(box.stack, "engine")
    assert box.compose_argvs() == [["restart", "engine"]]
    with pytest.raises(StackError, match="'nope' is not a service or database of environment offline"):
        cops.restart(box.stack, "nope")
    assert box.compose_argvs() == []
