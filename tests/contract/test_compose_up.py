"""`doit compose_up` and the other Compose tasks in a copy of the project, no Docker: the fake
`docker-compose` and `docker` (testing/fakes) come first on PATH, and the real image tasks build
into the fake daemon, whose content-derived image IDs move only when an image's inputs change.
Every test runs in seconds."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from tasks.config import load as config
from tasks.families import compose as ct
from testing.composebox import host_ports
from testing.fakes import compose as fake_compose
from testing.fakes import docker as fake_docker
from testing.harness import FakeBin, read_calls
from testing.project import DoitRun, run_doit

ENV = "offline"


def fakes_of(project: Path) -> FakeBin:
    """The fakes of the `stack` fixture (next to the project copy)."""
    return FakeBin(project.parent / "fakes")


def daemon_of(project: Path) -> fake_docker.FakeDocker:
    return fake_docker.FakeDocker(project.parent / "docker-state", fakes_of(project).log)


@pytest.fixture
def stack(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project copy with the fake docker-compose and docker first on PATH, sharing one store
    and one call log; a `hook` program (a scripted fake) for the hooks test."""
    fakes = fakes_of(project)
    state = project.parent / "docker-state"
    fake_docker.install(fakes.bin_dir, state, log=fakes.log)
    fake_compose.install(fakes.bin_dir, state, log=fakes.log)
    fakes.script("hook", "exit 0\n")
    fakes.activate(monkeypatch)
    host_ports(monkeypatch)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    (project / "compose" / ENV / ".env").unlink(missing_ok=True)
    # The compose contract does not depend on where the base image comes from; the debootstrap
    # base would need root and debootstrap, so this copy pulls it (by name; the fake never pulls).
    env_yaml = project / "environments" / f"{ENV}.yaml"
    env_yaml.write_text(env_yaml.read_text().replace("images:\n  base: debootstrap\n", ""))
    assert "base: debootstrap" not in env_yaml.read_text()
    return project


def calls(project: Path, prog: str = "docker-compose") -> list[dict[str, Any]]:
    """The calls of `prog` since the previous `calls()` (which forgets every program's calls)."""
    log = fakes_of(project).log
    rows = read_calls(log)
    log.unlink(missing_ok=True)
    return [r for r in rows if r["tool"] == prog]


def verbs(rows: list[dict[str, Any]]) -> list[list[str]]:
    """The compose subcommand and its arguments, global flags stripped."""
    out = []
    for row in rows:
        args = row["argv"]
        while args and args[0].startswith("-"):
            args = args[2:]
        out.append(args)
    return out


def ref(project: Path, name: str) -> str:
    """The reference the image task recorded for `name` (what compose must be given)."""
    return (project / ".build" / ENV / "images" / f"{name}.ref").read_text().strip()


def edit_source(project: Path, module: str) -> None:
    """Change one demo module, as a developer would: only the images copying it change."""
    path = project / "demo" / "srvthreds_demo" / f"{module}.py"
    path.write_text(path.read_text() + "\n# edited by a test\n")


def up(project: Path, *extra: str) -> DoitRun:
    result = run_doit(project, *extra, "compose_up", f"env={ENV}")
    assert result.code == 0, result.out
    return result


def test_every_public_task_is_listed_with_a_doc(stack: Path) -> None:
    listed = run_doit(stack, f"env={ENV}", command="list").out
    for name in ct.PUBLIC:
        line = next((row for row in listed.splitlines() if row.split() and row.split()[0] == name), "")
        assert len(line.split()) > 1, f"{name} missing or without doc:\n{listed}"
    # The demo names the old CLI's words as aliases (environments/stack.yaml); the family names none.
    for old, new in config.load_stack(stack).aliases.items():
        assert any(row.split()[:4] == [old, "alias", "of", new] for row in listed.splitlines()), old
    assert "_compose_env" not in listed  # internal helper stays private


def test_up_runs_dbs_then_services_then_bootstrap_with_both_files_and_refs(stack: Path) -> None:
    result = up(stack)
    rows = calls(stack)
    assert verbs(rows) == [
        # Prometheus with the databases: the environment lists the monitoring component.
        ["up", "-d", "--wait", "--wait-timeout", "120", "redis", "rabbitmq", "prometheus"],
        ["up", "-d", "--wait", "--wait-timeout", "120", "engine", "session-agent"],
        ["run", "--rm", "-T", "bootstrap"],
    ]
    for row in rows:
        assert row["argv"][:7] == [
            "--project-directory",
            f"compose/{ENV}",
            "-f",
            f"compose/{ENV}/docker-compose-db.yml",
            "-f",
            f"compose/{ENV}/docker-compose-services.yml",
            "--env-file",
        ]
    # Each call gets the content ref of every image it starts and of what ran before it. doit
    # orders only through task_dep, so the databases may start while service images still
    # build (their ${NAME_IMAGE:-...} defaults are never started by that call); by the jobs,
    # every image is built and passed, so compose sees one consistent project.
    needed = [
        ["redis", "rabbitmq", "prometheus"],
        ["redis", "engine", "session-agent"],
        ["redis", "engine", "bootstrap"],
    ]
    for row, names in zip(rows, needed, strict=True):
        for name in names:
            var = f"{name.upper().replace('-', '_')}_IMAGE"
            assert row["images"].get(var) == ref(stack, name), (name, row, result.out)
    # Content tags of what the image tasks built into the (fake) daemon.
    assert re.fullmatch(r"srvthreds/engine:[0-9a-f]{12}", ref(stack, "engine"))
    assert re.fullmatch(r"srvthreds/redis-offline:[0-9a-f]{12}", ref(stack, "redis"))
    assert re.fullmatch(r"srvthreds/prometheus:[0-9a-f]{12}", ref(stack, "prometheus"))
    assert {ref(stack, n) for n in ("engine", "redis", "bootstrap")} <= set(daemon_of(stack).refs())


def test_env_file_is_created_once_with_mode_600_and_never_printed(stack: Path) -> None:
    result = up(stack)
    env_file = stack / "compose" / ENV / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    secret = values["RABBITMQ_PASSWORD"]
    assert len(secret) >= 24
    assert secret not in result.out
    assert "created compose/offline/.env" in result.out
    before = env_file.read_bytes()
    up(stack, "-a")
    assert env_file.read_bytes() == before


def test_existing_env_file_is_kept_and_must_be_private(stack: Path) -> None:
    env_file = stack / "compose" / ENV / ".env"
    env_file.write_text("RABBITMQ_PASSWORD=mine\n")
    env_file.chmod(0o644)
    refused = run_doit(stack, "compose_up", f"env={ENV}")
    assert refused.code != 0 and f"chmod 600 compose/{ENV}/.env" in refused.out
    assert calls(stack) == []  # nothing started
    env_file.chmod(0o600)
    up(stack)
    assert env_file.read_text() == "RABBITMQ_PASSWORD=mine\n"


def test_placeholder_password_is_refused_outside_local(stack: Path) -> None:
    env_file = stack / "compose" / ENV / ".env"
    fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("RABBITMQ_PASSWORD=change-me\n")
    refused = run_doit(stack, "compose_up", f"env={ENV}")
    assert refused.code != 0 and "still hold the placeholder 'change-me'" in refused.out


def test_compose_ps_is_a_table_with_verdicts_and_exit_code(stack: Path) -> None:
    before = run_doit(stack, "compose_ps", f"env={ENV}")
    assert before.code != 0 and re.search(r"service/engine .* stale \(not started\)", before.out), before.out
    up(stack)
    fine = run_doit(stack, "compose_ps", f"env={ENV}")
    assert fine.code == 0, fine.out
    assert re.search(r"service/engine +1 +1 +\S+ +yes +ok", fine.out), fine.out
    # The jobs are listed with their last result and when it ran.
    assert re.search(
        r"job/bootstrap +1 +1 +\S+ +yes +ok \(succeeded at \d{4}-\d\d-\d\d [\d:]+ UTC\)", fine.out
    )
    daemon_of(stack).update_container(
        f"srvthreds-{ENV}-engine-1", health="unhealthy", health_output="amqp: connection refused\n"
    )
    broken = run_doit(stack, "compose_ps", f"env={ENV}")
    assert broken.code != 0, broken.out
    # Why: the health check's own last output, from Docker's health log.
    cause = r"failed \(unhealthy; last health check: exit 1: amqp: connection refused\)"
    assert re.search(r"service/engine .* " + cause, broken.out), broken.out


def test_noop_up_calls_nothing_but_one_ps(stack: Path) -> None:
    up(stack)
    calls(stack)
    calls(stack, "docker")
    result = up(stack)
    log = fakes_of(stack).calls()
    assert not [c for c in log if c["tool"] == "docker-compose"], result.out
    assert not {"compose_up_dbs", "compose_up_services", "compose_jobs"} & set(result.executed())
    assert not [c for c in log if c["mutating"]], result.out  # no image built or tagged again either
    docker = [r["argv"][0] for r in calls(stack, "docker")]
    assert docker.count("ps") == 1  # one `docker ps`, shared by every up task


def test_changed_image_reruns_only_its_step_with_all_refs(stack: Path) -> None:
    up(stack)
    calls(stack)
    engine, agent = ref(stack, "engine"), ref(stack, "session-agent")
    edit_source(stack, "engine")
    up(stack)
    rows = calls(stack)
    assert verbs(rows) == [["up", "-d", "--wait", "--wait-timeout", "120", "engine", "session-agent"]]
    assert ref(stack, "engine") != engine
    assert rows[0]["images"]["ENGINE_IMAGE"] == ref(stack, "engine")
    assert rows[0]["images"]["SESSION_AGENT_IMAGE"] == agent == ref(stack, "session-agent")


def test_bootstrap_reruns_when_its_image_changes(stack: Path) -> None:
    up(stack)
    calls(stack)
    bootstrap = ref(stack, "bootstrap")
    edit_source(stack, "bootstrap")
    up(stack)
    assert ref(stack, "bootstrap") != bootstrap
    assert verbs(calls(stack)) == [["run", "--rm", "-T", "bootstrap"]]


def test_stopped_containers_are_started_again_but_bootstrap_not(stack: Path) -> None:
    up(stack)
    calls(stack)
    assert run_doit(stack, "compose_down", f"env={ENV}").code == 0
    assert verbs(calls(stack)) == [["down", "--remove-orphans"]]  # data volumes kept
    up(stack)
    assert [v[0] for v in verbs(calls(stack))] == ["up", "up"]


def test_wipe_deletes_volumes_and_bootstrap_runs_again(stack: Path) -> None:
    up(stack)
    calls(stack)
    assert run_doit(stack, "compose_down", f"env={ENV}", "wipe=1").code == 0
    assert verbs(calls(stack)) == [["down", "--remove-orphans", "--volumes"]]
    up(stack)
    assert [v[0] for v in verbs(calls(stack))] == ["up", "up", "run"]


def test_unhealthy_database_names_it_with_its_logs_and_is_not_recorded(
    stack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_COMPOSE_UNHEALTHY", "rabbitmq")
    result = run_doit(stack, "compose_up", f"env={ENV}")
    assert result.code != 0
    assert "rabbitmq failed to start or become healthy" in result.out
    assert "is unhealthy" in result.out
    assert "last 20 log lines of rabbitmq" in result.out
    assert "something went wrong" in result.out
    assert "redis failed" not in result.out
    assert "Traceback" not in result.out
    # 200 lines are read (a refused login may be older than the lines shown), 20 shown.
    assert ["logs", "--no-color", "--tail", "200", "rabbitmq"] in verbs(calls(stack))
    monkeypatch.delenv("FAKE_COMPOSE_UNHEALTHY")
    up(stack)
    assert [v[0] for v in verbs(calls(stack))] == ["up", "up", "run"]  # the failure left nothing recorded


def test_config_prints_effective_configuration_with_secrets_masked(stack: Path) -> None:
    result = run_doit(stack, "compose_config", f"env={ENV}")
    assert result.code == 0, result.out
    secret = (stack / "compose" / ENV / ".env").read_text().split("RABBITMQ_PASSWORD=")[1].split()[0]
    assert "RABBITMQ_PASSWORD: ********" in result.out
    assert secret not in result.out


def test_aliases_run_their_target(stack: Path) -> None:
    result = run_doit(stack, "s_a_dbs", f"env={ENV}")
    assert result.code == 0, result.out
    up_dbs = ["up", "-d", "--wait", "--wait-timeout", "120", "redis", "rabbitmq", "prometheus"]
    assert verbs(calls(stack)) == [up_dbs]


def test_hooks_run_around_the_image_build(stack: Path) -> None:
    env_yaml = stack / "environments" / f"{ENV}.yaml"
    env_yaml.write_text(
        env_yaml.read_text() + "hooks:\n  pre_build: ['hook pre']\n  post_build: ['hook post']\n"
    )
    up(stack)
    log = fakes_of(stack).calls()
    steps = [
        ("hook", c["argv"][0]) if c["tool"] == "hook" else ("docker", "build")
        for c in log
        if c["tool"] == "hook" or c["argv"][:1] == ["build"]
    ]
    assert steps[0] == ("hook", "pre") and steps[-1] == ("hook", "post"), steps
    assert len(steps) > 2 and all(step == ("docker", "build") for step in steps[1:-1]), steps
    assert [v[0] for v in verbs(calls(stack))] == ["up", "up", "run"]
    up(stack)  # hooks run on every compose_up; nothing else does
    log = fakes_of(stack).calls()
    assert [c["argv"] for c in log if c["tool"] == "hook"] == [["pre"], ["post"]]
    assert not [c for c in log if c["tool"] == "docker-compose" or c["mutating"]], log


def test_unknown_environment_is_a_clean_error(stack: Path) -> None:
    result = run_doit(stack, "compose_up", "env=offlin")
    assert result.code != 0
    assert "unknown environment 'offlin'" in result.out and "did you mean 'offline'" in result.out
    assert "Traceback" not in result.out


def test_a_world_readable_env_file_is_refused_with_the_fix(stack: Path) -> None:
    env_file = stack / "compose" / "offline" / ".env"
    env_file.write_text("RABBITMQ_PASSWORD=mine\n")
    env_file.chmod(0o644)  # e.g. copied from another checkout
    result = run_doit(stack, "compose_up", f"env={ENV}")
    assert result.code == 1, result.out
    assert "readable by others (mode 644)" in result.out and "chmod 600" in result.out, result.out
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o644  # never silently changed or extended
    assert env_file.read_text() == "RABBITMQ_PASSWORD=mine\n"


def test_a_job_refused_by_a_database_says_the_env_file_no_longer_matches(
    stack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # compose/<env>/.env deleted and re-created while the data volumes kept the old password.
    monkeypatch.setenv("FAKE_COMPOSE_RUN_FAIL", "ERROR bootstrap: (403) 'ACCESS_REFUSED - Login was refused'")
    result = run_doit(stack, "compose_up", f"env={ENV}")
    assert result.code == 1, result.out
    assert "bootstrap cannot log in with the passwords in compose/offline/.env" in result.out, result.out
    assert "compose_down env=offline wipe=1" in result.out
