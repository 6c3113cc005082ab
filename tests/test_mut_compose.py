"""tasks/ops/compose.py called directly, against the fake `docker` and `docker-compose` first on
PATH (testing/fakes), in a folder holding only compose/<env>/ (Stack's paths are relative).

Found unguarded by the mutation benchmark (bench/mutation.py ops.compose): which .env file and
image references Compose gets, when a missing image is an error, what counts as running, the
failure report (which service, why, its logs, the volume hint), the .env creation and additions,
the hooks' error, and the masking of secrets.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.errors import StackError, ToolError
from tasks.ops import compose as cops
from tasks.ops.compose_target import ComposeTarget
from tasks.ops.targets import Failure
from tasks.programs import compose as compose_cli
from testing.fakes import compose as fake_compose
from testing.fakes import docker as fake_docker
from testing.harness import FakeBin
from testing.project import REPO

ENV = "offline"
PROJECT = f"srvthreds-{ENV}"


@dataclass
class Box:
    stack: cops.Stack
    fakes: FakeBin
    daemon: fake_docker.FakeDocker

    def compose_argvs(self) -> list[list[str]]:
        """The compose calls so far, global flags stripped (and forgotten)."""
        out = []
        for argv in self.fakes.argvs("docker-compose"):
            while argv and argv[0].startswith("-"):
                argv = argv[2:]
            out.append(argv)
        self.fakes.clear_calls()
        return out

    def script_compose(self, body: str) -> None:
        """Replace the stateful fake docker-compose by a few lines of sh."""
        self.fakes.script("docker-compose", body)


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Box:
    fakes = FakeBin(tmp_path / "fakes")
    state = tmp_path / "docker-state"
    daemon = fake_docker.install(fakes.bin_dir, state, log=fakes.log)
    fake_compose.install(fakes.bin_dir, state, log=fakes.log)
    fakes.activate(monkeypatch)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    work = tmp_path / "work"
    shutil.copytree(REPO / "compose" / ENV, work / "compose" / ENV, ignore=shutil.ignore_patterns(".env"))
    monkeypatch.chdir(work)
    return Box(cops.Stack(config.load(ENV, REPO)), fakes, daemon)


def write_env(text: str, mode: int = 0o600) -> Path:
    path = Path("compose") / ENV / ".env"
    path.write_text(text)
    path.chmod(mode)
    return path


def record_ref(name: str, ref: str) -> None:
    path = Path(".build") / ENV / "images" / f"{name}.ref"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ref + "\n")


def tool_error(stderr: str = "", stdout: str = "", code: int = 1, fix: str | None = None) -> ToolError:
    return ToolError(["docker-compose", "up"], code, stderr, stdout=stdout, fix=fix)


# --- the stack's files and names -------------------------------------------------------


def test_compose_args_use_the_example_env_file_until_the_real_one_exists(box: Box) -> None:
    folder = f"compose/{ENV}"
    head = ["--project-directory", folder, "-f", f"{folder}/docker-compose-db.yml"]
    head += ["-f", f"{folder}/docker-compose-services.yml", "--env-file"]
    assert box.stack.compose_args() == [*head, f"{folder}/.env.example"]
    write_env("RABBITMQ_PASSWORD=x\n")
    assert box.stack.compose_args() == [*head, f"{folder}/.env"]


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


# --- image references --------------------------------------------------------------------


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
    cops.compose(box.stack, "ps", "-a", "--format", "json")  # nothing built: fine for a query
    assert box.compose_argvs() == [["ps", "-a", "--format", "json"]]
    with pytest.raises(StackError, match="no image built for engine"):
        cops.compose(box.stack, "up", "-d", "engine", required=["engine"])
    assert box.compose_argvs() == []  # refused before Compose ran
    record_ref("engine", "srvthreds/engine:0123456789ab")
    cops.compose(box.stack, "up", "-d", "engine", required=["engine"])
    call = box.fakes.calls("docker-compose")[-1]
    assert call["images"] == {"ENGINE_IMAGE": "srvthreds/engine:0123456789ab"}


# --- liveness --------------------------------------------------------------------------


def add(box: Box, service: str, state: str = "running", health: str = "healthy", n: int = 1) -> None:
    labels = {"com.docker.compose.project": PROJECT, "com.docker.compose.service": service}
    box.daemon.add_container(f"{PROJECT}-{service}-{n}", "img", state=state, labels=labels, health=health)


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


def test_parse_ps_skips_odd_lines_and_any_bad_container_wins() -> None:
    text = "\n".join(
        [
            "redis\trunning\tUp 2 minutes (health: starting)",
            "\trunning\tUp",  # a container without the service label
            "too\tshort",
            "engine\trunning\tUp 1 minute (healthy)",
            "engine\texited\tExited (1)",
            "engine\trunning\tUp 1 minute (healthy)",
            "agent\texited\tExited (0)",
            "agent\trunning\tUp 3 minutes",
        ]
    )
    assert cops.parse_ps(text) == {"redis": "starting", "engine": "exited", "agent": "exited"}


# --- data volumes ----------------------------------------------------------------------


def test_volume_ids_change_with_the_volumes_and_are_none_when_one_is_missing(box: Box) -> None:
    assert cops.data_volumes(box.stack) == [f"{PROJECT}_rabbitmq-data", f"{PROJECT}_redis-data"]
    assert cops.volume_ids(box.stack) is None  # not created yet
    record_ref("redis", "r:1")
    record_ref("rabbitmq", "q:1")
    cops.compose(box.stack, "up", "-d", "redis")  # creates the project's volumes
    first = cops.volume_ids(box.stack)
    assert first is not None and f"{PROJECT}_redis-data" in first
    assert cops.volume_ids(box.stack) == first
    cops.compose(box.stack, "down", "--volumes")
    cops.compose(box.stack, "up", "-d", "redis")
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


# --- failure reports -------------------------------------------------------------------


PS_AND_LOGS = """\
case "$*" in
  *" ps "*) printf '%s\\n' "$PS_JSON";;
  *" logs "*) printf '%s\\n' "$LOGS";;
  *) exit 2;;
esac
"""


def ps_rows(monkeypatch: pytest.MonkeyPatch, *rows: dict[str, str]) -> None:
    monkeypatch.setenv("PS_JSON", "\n".join(json.dumps(r) for r in rows))


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


def test_reason_is_composes_last_word_without_progress_lines() -> None:
    progress = " Container a-redis-1  Started\n Container a-redis-1  Waiting\n"
    assert cops.reason(tool_error(progress + "redis is unhealthy\n" + progress)) == "redis is unhealthy"
    assert cops.reason(tool_error(progress)) == "Container a-redis-1  Waiting"
    assert cops.reason(tool_error("", stdout="from stdout\n")) == "from stdout"
    assert cops.reason(tool_error("  \n", code=7)) == "exit 7"


def test_compose_ps_that_is_not_json_is_a_clear_error() -> None:
    with pytest.raises(StackError) as info:
        cops.parse_compose_ps("NAME  IMAGE\nx-redis-1  redis\n")
    assert "printed something that is not JSON: 'NAME  IMAGE'" in info.value.message
    assert cops.parse_compose_ps('\n{"Service": "a"}\n\n') == [{"Service": "a"}]


def test_failing_blames_unhealthy_and_stopped_over_starting_per_container() -> None:
    def row(service: str, state: str = "running", health: str = "") -> dict[str, str]:
        return {"Service": service, "State": state, "Health": health}

    assert cops.failing([row("a", health="unhealthy"), row("b", health="healthy")], ["a", "b"]) == ["a"]
    assert cops.failing([row("a"), row("a", "exited")], ["a"]) == ["a"]
    assert cops.failing([row("a", "exited"), row("a")], ["a"]) == ["a"]
    assert cops.failing([row("a"), row("b")], ["a", "b"]) == []
    # Two replicas, one still starting: that one is the reason of a timeout.
    assert cops.failing([row("a"), row("a", health="starting"), row("b")], ["a", "b"]) == ["a"]
    assert cops.failing([row("a", health="starting"), row("a")], ["a", "b"]) == ["b"]


# --- the .env file ---------------------------------------------------------------------


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
    record_ref("redis", "r:1")
    cops.compose(box.stack, "up", "-d", "redis")
    with pytest.raises(StackError) as info:
        cops.ensure_env_file(box.stack)
    assert info.value.message.startswith(f"compose/{ENV}/.env is missing, but the data volumes")
    assert info.value.fix is not None and "wipe=1" in info.value.fix
    assert not Path(box.stack.env_file).exists()


def test_a_daemon_that_cannot_list_volumes_does_not_block_the_env_file(box: Box) -> None:
    box.fakes.script("docker", "exit 1\n")
    cops.ensure_env_file(box.stack)
    assert Path(box.stack.env_file).exists()


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


# --- actions ---------------------------------------------------------------------------


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
    cops.show(box.stack, "logs")
    assert capsys.readouterr().out == "out\nwarn\n"
    box.script_compose("echo out\n")
    cops.show(box.stack, "logs")
    assert capsys.readouterr().out == "out\n"


def test_secrets_are_urlsafe_and_new_each_time() -> None:
    first, second = cops.new_secret(), cops.new_secret()
    assert first != second and len(first) == 32 and os.sep not in first


# --- the Compose deploy target (tasks/ops/compose_target.py) -----------------------------


def test_target_applies_only_its_step(box: Box) -> None:
    write_env("RABBITMQ_PASSWORD=x\n")
    for name in ("redis", "rabbitmq", "engine", "session-agent"):
        record_ref(name, f"{name}:1")
    live = cops.Live(PROJECT)
    ComposeTarget(box.stack.cfg, live, "services").apply()
    assert [argv[-2:] for argv in box.compose_argvs()] == [["engine", "session-agent"]]
    ComposeTarget(box.stack.cfg, live, "databases").apply()
    assert [argv[-2:] for argv in box.compose_argvs()] == [["redis", "rabbitmq"]]
    ComposeTarget(box.stack.cfg).apply()
    assert [argv[-2:] for argv in box.compose_argvs()] == [["redis", "rabbitmq"], ["engine", "session-agent"]]


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
    assert list(rows) == ["service/redis", "service/rabbitmq", "service/engine", "service/session-agent"]
    as_tuples = {name: dataclasses.astuple(row)[1:] for name, row in rows.items()}
    assert as_tuples == {
        "service/redis": ("2", "1", "redis:new", "yes", "failed", "starting"),
        "service/rabbitmq": ("1", "1", "rabbitmq:new", "yes", "ok", ""),
        "service/engine": ("1", "1", "engine:old", "no", "stale", "recorded image is engine:new"),
        "service/session-agent": ("1", "0", "-", "no", "stale", "not started"),
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


def test_check_file_asks_compose_to_validate_one_file(box: Box) -> None:
    box.script_compose('echo "services.redis Additional property imgae is not allowed" >&2; exit 15\n')
    with pytest.raises(ToolError) as info:
        compose_cli.check_file("compose/x/docker-compose-db.yml", "compose/x/.env.example")
    assert info.value.code == 15 and "imgae" in info.value.message
    assert box.fakes.argvs("docker-compose") == [
        ["-f", "compose/x/docker-compose-db.yml", "--env-file", "compose/x/.env.example", "config", "-q"]
    ]


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


def test_a_job_refuses_a_readable_env_file_before_running(box: Box) -> None:
    write_env("RABBITMQ_PASSWORD=x\n", mode=0o644)
    record_ref("bootstrap", "b:1")
    with pytest.raises(StackError, match="readable by others"):
        cops.run_job(box.stack, cops.Live(PROJECT), "bootstrap")
    assert box.compose_argvs() == []


def test_the_env_file_folder_is_made_when_missing(box: Box) -> None:
    shutil.rmtree("compose")
    cops.ensure_env_file(box.stack)
    assert Path(box.stack.env_file).is_file()


def test_compose_ps_json_as_one_array_or_nothing() -> None:
    assert cops.parse_compose_ps(' [{"Service": "a"}, {"Service": "b"}]\n') == [
        {"Service": "a"},
        {"Service": "b"},
    ]
    assert cops.parse_compose_ps("  \n") == []


def test_stack_ref_files_are_the_built_images_records(box: Box) -> None:
    assert box.stack.ref_files(["engine", "nginx", "rabbitmq"]) == [
        f".build/{ENV}/images/engine.ref",
        f".build/{ENV}/images/rabbitmq.ref",
    ]


def test_explain_shows_what_logs_said_even_when_it_fails(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    box.script_compose(
        'case "$*" in *" ps "*) printf \'%s\\n\' "$PS_JSON";; *) echo "no logs: gone" >&2; exit 1;; esac\n'
    )
    ps_rows(monkeypatch, {"Service": "redis", "State": "exited", "Health": ""})
    explained = cops.explain(box.stack, ["redis"], tool_error("redis exited"))
    assert explained.message.splitlines()[-1] == "no logs: gone"


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


def test_compose_commands_fail_loudly_unless_told_otherwise(box: Box) -> None:
    box.script_compose("echo 'no such service: x' >&2; exit 1\n")
    with pytest.raises(ToolError, match="no such service"):
        compose_cli.run(box.stack.compose_args(), "up", "x")
    assert compose_cli.run(box.stack.compose_args(), "up", "x", check=False).code == 1
