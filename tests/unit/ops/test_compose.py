"""tasks/ops/compose.py called directly, against the fake `docker` and `docker-compose` first on
PATH (testing/fakes), in a folder holding only compose/<env>/ (testing/composebox.py).

Which .env file and image references Compose gets, when a missing image is an error, what
counts as running, the failure report (which service, why, its logs, the volume hint), the
.env creation and additions, the hooks' error, and the masking of secrets."""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
from pathlib import Path

import pytest

from tasks.errors import StackError, ToolError
from tasks.ops import compose as cops
from tasks.programs import docker
from tasks.programs.compose import Container
from testing.composebox import (
    ENV,
    PROJECT,
    PS_AND_LOGS,
    Box,
    add,
    box,
    ps_rows,
    record_ref,
    tool_error,
    write_env,
)

__all__ = ["box"]  # the fixture


def test_compose_args_use_the_example_env_file_until_the_real_one_exists(box: Box) -> None:
    folder = f"compose/{ENV}"
    head = ["--project-directory", folder, "-f", f"{folder}/docker-compose-db.yml"]
    head += ["-f", f"{folder}/docker-compose-services.yml", "--env-file"]
    assert box.stack.compose_project().args() == [*head, f"{folder}/.env.example"]
    write_env("RABBITMQ_PASSWORD=x\n")
    assert box.stack.compose_project().args() == [*head, f"{folder}/.env"]


def test_names_of_what_each_step_starts(box: Box) -> None:
    stack = box.stack
    assert stack.dbs() == ["redis", "rabbitmq"]
    assert stack.services() == ["engine", "session-agent"]
    assert stack.jobs() == ["bootstrap"]
    assert stack.built(["rabbitmq", "nginx", "engine"]) == ["rabbitmq", "engine"]
    # Under runtime kubernetes Compose hosts only the databases.
    kube = cops.Stack(dataclasses.replace(stack.cfg, runtime="kubernetes"))
    assert kube.services() == [] and kube.jobs() == []
    assert kube.all_built() == ["redis", "rabbitmq"]


def test_image_env_passes_every_recorded_ref_and_requires_only_what_starts(box: Box) -> None:
    record_ref("engine", "srvthreds/engine:0123456789ab")
    # Not required: what is missing is left to the files' defaults.
    assert cops.image_env(box.stack, ["session-agent"], required=False) == {
        "ENGINE_IMAGE": "srvthreds/engine:0123456789ab"
    }
    with pytest.raises(StackError) as info:
        cops.image_env(box.stack, ["engine", "session-agent", "bootstrap"], required=True)
    assert info.value.message == f"no image built for session-agent, bootstrap in environment {ENV}"
    assert info.value.fix is not None and f"doit images env={ENV}" in info.value.fix
    # A pulled image (not built here) is never missing.
    record_ref("rabbitmq", "srvthreds/rabbitmq-offline:0123456789ab")
    assert set(cops.image_env(box.stack, ["engine", "rabbitmq"], required=True)) == {
        "ENGINE_IMAGE",
        "RABBITMQ_IMAGE",
    }


def test_compose_requires_images_only_when_told_what_starts(box: Box) -> None:
    cops.show_logs(box.stack)  # nothing built: fine for a query
    assert box.compose_argvs() == [["logs", "--no-color", "--timestamps"]]
    write_env("RABBITMQ_PASSWORD=x\n")
    with pytest.raises(StackError, match="no image built for engine"):
        cops.up(box.stack, cops.Live(PROJECT), ["engine"], "services")
    assert box.compose_argvs() == []  # refused before Compose ran
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


def test_a_daemon_that_cannot_be_asked_means_not_running(box: Box) -> None:
    box.fakes.script("docker", "echo 'Cannot connect to the Docker daemon' >&2; exit 1\n")
    live = cops.Live(PROJECT)
    assert live.states() is None
    assert not live.running([])


def test_volume_ids_change_with_the_volumes_and_are_none_when_one_is_missing(box: Box) -> None:
    assert cops.data_volumes(box.stack) == [f"{PROJECT}_rabbitmq-data", f"{PROJECT}_redis-data"]
    assert cops.volume_ids(box.stack) is None  # not created yet
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("redis", "r:1")
    record_ref("rabbitmq", "q:1")
    live = cops.Live(PROJECT)
    cops.up(box.stack, live, ["redis"], "databases")  # creates the project's volumes
    first = cops.volume_ids(box.stack)
    assert first is not None and f"{PROJECT}_redis-data" in first
    assert cops.volume_ids(box.stack) == first
    cops.down(box.stack, live, wipe=True)
    cops.up(box.stack, live, ["redis"], "databases")
    again = cops.volume_ids(box.stack)
    assert again is not None and again != first


def test_a_stack_without_data_volumes_has_a_constant_identity(box: Box) -> None:
    db_file = Path(box.stack.files[0])
    db_file.write_text("name: x\nservices: {}\n")
    assert cops.data_volumes(box.stack) == []
    assert cops.volume_ids(box.stack) == ""
    assert box.fakes.calls("docker") == []
    db_file.write_text("services: [unclosed\n")
    assert cops.data_volumes(box.stack) == []
    db_file.unlink()
    assert cops.data_volumes(box.stack) == []


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
    explained = cops.explain(box.stack, ["redis", "rabbitmq"], error)
    assert explained is not error
    lines = explained.message.splitlines()
    assert lines[0] == (
        f"rabbitmq failed to start or become healthy (environment {ENV}): dependency rabbitmq failed to start"
    )
    assert lines[1:] == [f"--- last {cops.LOG_TAIL} log lines of rabbitmq ---", "rabbitmq-1  | boom"]
    assert explained.fix is not None and f"doit compose_logs env={ENV}" in explained.fix
    assert box.compose_argvs() == [
        ["ps", "-a", "--format", "json", "redis", "rabbitmq"],
        ["logs", "--no-color", "--tail", str(cops.LOG_TAIL), "rabbitmq"],
    ]
    # The tool's own fix, when it has one, is kept.
    assert cops.explain(box.stack, ["rabbitmq"], tool_error("x", fix="free the port")).fix == "free the port"


def test_explain_keeps_the_error_when_no_service_is_to_blame(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    box.script_compose(PS_AND_LOGS)
    ps_rows(monkeypatch, {"Service": "redis", "State": "running", "Health": "healthy"})
    error = tool_error("port is already allocated")
    assert cops.explain(box.stack, ["redis"], error) is error
    box.script_compose("echo 'Cannot connect to the Docker daemon' >&2; exit 1\n")
    assert cops.explain(box.stack, ["redis"], error) is error
    assert box.compose_argvs() == [["ps", "-a", "--format", "json", "redis"]] * 2


def test_explain_blames_the_secrets_when_a_database_refuses_the_login(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    box.script_compose(PS_AND_LOGS)
    ps_rows(monkeypatch, {"Service": "engine", "State": "restarting", "Health": ""})
    monkeypatch.setenv("LOGS", "engine-1  | amqp: ACCESS_REFUSED - Login was refused")
    explained = cops.explain(box.stack, ["engine"], tool_error("engine exited"))
    assert explained.message.startswith(
        f"engine cannot log in with the passwords in compose/{ENV}/.env, but the data volumes of "
        f"Compose project {PROJECT} exist"
    )
    assert "ACCESS_REFUSED" in explained.message
    assert explained.fix is not None and f"doit compose_down env={ENV} wipe=1" in explained.fix
    # Without data volumes the passwords cannot be stale: the plain report.
    Path(box.stack.files[0]).write_text("name: x\nservices: {}\n")
    plain = cops.explain(box.stack, ["engine"], tool_error("engine exited"))
    assert plain.message.startswith("engine failed to start or become healthy")


def test_an_empty_log_is_said_so(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    box.script_compose(PS_AND_LOGS)
    ps_rows(monkeypatch, {"Service": "redis", "State": "exited", "Health": ""})
    monkeypatch.setenv("LOGS", "")
    explained = cops.explain(box.stack, ["redis"], tool_error("", code=3))
    assert explained.message.splitlines()[0].endswith(": exit 3")
    assert explained.message.splitlines()[-1] == "(no output)"


def test_explain_shows_what_logs_said_even_when_it_fails(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    box.script_compose(
        'case "$*" in *" ps "*) printf \'%s\\n\' "$PS_JSON";; *) echo "no logs: gone" >&2; exit 1;; esac\n'
    )
    ps_rows(monkeypatch, {"Service": "redis", "State": "exited", "Health": ""})
    explained = cops.explain(box.stack, ["redis"], tool_error("redis exited"))
    assert explained.message.splitlines()[-1] == "no logs: gone"


def test_reason_is_composes_last_word_without_progress_lines() -> None:
    progress = " Container a-redis-1  Started\n Container a-redis-1  Waiting\n"
    assert cops.reason(tool_error(progress + "redis is unhealthy\n" + progress)) == "redis is unhealthy"
    assert cops.reason(tool_error(progress)) == "Container a-redis-1  Waiting"
    assert cops.reason(tool_error("", stdout="from stdout\n")) == "from stdout"
    assert cops.reason(tool_error("  \n", code=7)) == "exit 7"


def test_failing_blames_unhealthy_and_stopped_over_starting_per_container() -> None:
    def row(service: str, state: str = "running", health: str = "") -> Container:
        return Container(service, state, health, "img")

    assert cops.failing([row("a", health="unhealthy"), row("b", health="healthy")], ["a", "b"]) == ["a"]
    assert cops.failing([row("a"), row("a", "exited")], ["a"]) == ["a"]
    assert cops.failing([row("a", "exited"), row("a")], ["a"]) == ["a"]
    assert cops.failing([row("a"), row("b")], ["a", "b"]) == []
    # Two replicas, one still starting: that one is the reason of a timeout.
    assert cops.failing([row("a"), row("a", health="starting"), row("b")], ["a", "b"]) == ["a"]
    assert cops.failing([row("a", health="starting"), row("a")], ["a", "b"]) == ["b"]
    # A container that was never created (e.g. its port was taken) counts as broken.
    assert cops.failing([], ["session-agent"]) == ["session-agent"]


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
    cops.ensure_env_file(cops.Stack(cfg))
    lines = path.read_text().splitlines()
    assert lines[:2] == ["# mine", "RABBITMQ_PASSWORD=kept"]
    assert len(lines) == 3 and lines[2].startswith("NEW_TOKEN=") and len(lines[2]) > len("NEW_TOKEN=") + 30
    assert "added random values for NEW_TOKEN" in capsys.readouterr().out
    path.chmod(0o644)
    with pytest.raises(StackError, match="readable by others"):
        cops.ensure_env_file(cops.Stack(cfg))


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


JOB_FAILS = """\
i=1; while [ $i -le 30 ]; do echo "line $i"; i=$((i + 1)); done
echo "$JOB_ERROR" >&2
exit 4
"""


def test_a_failed_job_shows_its_last_lines_and_how_to_rerun(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("bootstrap", "b:1")
    box.script_compose(JOB_FAILS)
    monkeypatch.setenv("JOB_ERROR", "no route to host")
    live = cops.Live(PROJECT)
    with pytest.raises(StackError) as info:
        cops.run_job(box.stack, live, "bootstrap")
    lines = info.value.message.splitlines()
    assert lines[0] == f"bootstrap failed in environment {ENV} (exit 4); last lines:"
    assert lines[1:] == [f"line {i}" for i in range(12, 31)] + ["no route to host"]
    assert info.value.fix == f"fix the cause, then `doit compose_jobs env={ENV}` runs it again"
    # A refused login with no data volumes: not the secrets' fault, the plain report.
    monkeypatch.setenv("JOB_ERROR", "WRONGPASS invalid username-password pair")
    Path(box.stack.files[0]).write_text("name: x\nservices: {}\n")
    with pytest.raises(StackError, match="^bootstrap failed in environment"):
        cops.run_job(box.stack, live, "bootstrap")


def test_a_job_that_succeeds_forgets_the_live_state(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("bootstrap", "b:1")
    live = cops.Live(PROJECT)
    live.states()
    cops.run_job(box.stack, live, "bootstrap")
    assert "bootstrap done" in capsys.readouterr().out
    live.states()
    assert len(box.fakes.argvs("docker")) == 2
    assert box.compose_argvs() == [["run", "--rm", "-T", "bootstrap"]]


def test_a_job_refuses_a_readable_env_file_before_running(box: Box) -> None:
    write_env("RABBITMQ_PASSWORD=x\n", mode=0o644)
    record_ref("bootstrap", "b:1")
    with pytest.raises(StackError, match="readable by others"):
        cops.run_job(box.stack, cops.Live(PROJECT), "bootstrap")
    assert box.compose_argvs() == []


def test_a_job_refused_by_a_database_blames_the_env_file(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("bootstrap", "b:1")
    box.script_compose(JOB_FAILS)
    monkeypatch.setenv("JOB_ERROR", "(403) ACCESS_REFUSED - Login was refused")
    with pytest.raises(StackError) as info:
        cops.run_job(box.stack, cops.Live(PROJECT), "bootstrap")
    lines = info.value.message.splitlines()
    assert lines[0].startswith(
        f"bootstrap cannot log in with the passwords in compose/{ENV}/.env, but the data"
    )
    assert lines[1] == "last lines of bootstrap:" and lines[-1] == "(403) ACCESS_REFUSED - Login was refused"
    assert info.value.fix is not None and "wipe=1" in info.value.fix


def test_a_failing_hook_is_named_by_its_place_in_the_file(box: Box) -> None:
    cfg = dataclasses.replace(
        box.stack.cfg, hooks={"pre_build": ("true", "exit 3", "never"), "post_build": ()}
    )
    with pytest.raises(StackError) as info:
        cops.run_hooks(cops.Stack(cfg), "pre_build")
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
    cops.run_hooks(cops.Stack(cfg), "pre_build")
    assert "pre_build: true" in capsys.readouterr().out


def test_the_steps_deadline_is_the_healthy_timeout_plus_two_minutes(box: Box) -> None:
    # A short `timeouts.healthy`: Compose's own --wait-timeout, and our deadline 120 s later.
    stack = cops.Stack(dataclasses.replace(box.stack.cfg, timeouts={**box.stack.cfg.timeouts, "healthy": 5}))
    write_env("RABBITMQ_PASSWORD=x\n")
    record_ref("redis", "r:1")
    record_ref("bootstrap", "b:1")
    live = cops.Live(PROJECT)
    cops.up(stack, live, ["redis"], "databases")
    cops.run_job(stack, live, "bootstrap")
    assert box.compose_argvs() == [
        ["up", "-d", "--wait", "--wait-timeout", "5", "redis"],
        ["run", "--rm", "-T", "bootstrap"],
    ]


def test_stack_ref_files_are_the_built_images_records(box: Box) -> None:
    assert box.stack.ref_files(["engine", "nginx", "rabbitmq"]) == [
        f".build/{ENV}/images/engine.ref",
        f".build/{ENV}/images/rabbitmq.ref",
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
