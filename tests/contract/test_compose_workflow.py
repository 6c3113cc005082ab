"""The Compose workflow's edges through doit on a project copy, with stand-in programs: before
the first `up`, with the daemon gone, hooks that fail, an environment that runs nothing there."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing import harness
from testing.project import run_doit

# docker-compose as it behaves about --env-file: a missing file is an error.
COMPOSE = r"""#!/bin/sh
while [ $# -gt 0 ]; do
  case "$1" in
    --env-file) [ -f "$2" ] || { echo "couldn't find env file: $PWD/$2" >&2; exit 1; }; shift 2;;
    --project-directory|-f) shift 2;;
    *) echo "compose $*"; exit 0;;
  esac
done
"""


def test_down_ps_and_logs_work_before_the_first_up(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes = tmp_path / "bin"
    for name, script in (
        ("docker-compose", COMPOSE),
        ("docker", '#!/bin/sh\n[ "$1" = version ] && echo 24.0.7\nexit 0\n'),
    ):
        harness.script(fakes, name, script)
    monkeypatch.setenv("PATH", harness.fake_path(fakes))  # the fakes before the venv's own programs
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert not (project / "compose" / "test" / ".env").exists()
    for task in ("compose_down", "compose_ps", "compose_logs"):
        result = run_doit(project, task, "env=test")
        # compose_ps tells the truth: nothing runs yet, so every workload is stale (exit 1).
        assert result.code == (1 if task == "compose_ps" else 0), result.out
        assert "couldn't find env file" not in result.out
        assert "Traceback" not in result.out
    assert not (project / "compose" / "test" / ".env").exists()  # no secrets made up to stop nothing


def test_bad_log_filters_are_one_sentence_each_and_the_service_is_asked_of_compose(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes = tmp_path / "bin"
    harness.script(fakes, "docker-compose", COMPOSE)
    harness.script(fakes, "docker", '#!/bin/sh\n[ "$1" = version ] && echo 24.0.7\nexit 0\n')
    monkeypatch.setenv("PATH", harness.fake_path(fakes))  # the fakes before the venv's own programs
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    level = run_doit(project, "compose_logs", "env=test", "level=loud")
    assert level.code == 1 and "Traceback" not in level.out, level.out
    assert "level=loud is not a log level: use one of debug, info, warn, error" in level.out, level.out
    service = run_doit(project, "compose_logs", "env=test", "service=nope")
    assert service.code == 1 and "Traceback" not in service.out, service.out
    assert "service=nope names nothing that logs in environment test: use one of " in service.out
    one = run_doit(project, "compose_logs", "env=test", "service=engine")
    assert one.code == 0 and "compose logs --no-color --timestamps engine" in one.out, one.out


def test_a_failing_hook_names_itself_and_where_it_is_configured(project: Path) -> None:
    local = project / "environments" / "local.yaml"
    local.write_text(local.read_text() + "hooks: {pre_build: ['true', 'exit 3']}\n")
    result = run_doit(project, "_compose_pre_build")
    assert result.code == 1, result.out
    assert "hooks.pre_build[1] of environment local failed (exit 3): exit 3" in result.out, result.out
    assert "Fix: fix or remove it (hooks.pre_build in environments/local.yaml" in result.out, result.out


def test_compose_down_with_the_daemon_gone_is_the_one_sentence(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.script(
        tmp_path / "bin",
        "docker-compose",
        "echo 'failed to connect to the docker API at unix:///nonexistent.sock; check if"
        " the path is correct and if the daemon is running: dial unix /nonexistent.sock: connect: no"
        " such file or directory' >&2\nexit 1\n",
    )
    monkeypatch.setenv("PATH", harness.fake_path(tmp_path / "bin"))
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    for task in ("compose_down", "compose_ps"):
        result = run_doit(project, task)
        assert result.code == 1, result.out
        assert "The Docker daemon is not running or not reachable at unix:///nonexistent.sock" in result.out
        assert "command failed" not in result.out, result.out


def test_compose_up_of_a_cloud_environment_says_it_runs_nothing_there(project: Path) -> None:
    result = run_doit(project, "compose_up", "env=prod")
    assert result.code == 1, result.out
    assert "environment prod runs nothing in Compose (runtime: kubernetes; databases: external)" in result.out
    assert "Fix: deploy it with `doit deploy:prod`" in result.out, result.out
    assert "images:" not in result.out  # nothing built first
    assert not (project / "compose" / "prod" / ".env").exists()
