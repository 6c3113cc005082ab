"""Regressions found by trying `doit` as a new user would (QA pass on issues 9 and 14).

Each test fails without the fix it names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testing import harness
from testing.fakes import docker as fake_docker
from testing.project import run_doit


def test_an_editor_lock_file_in_environments_is_not_an_environment(project: Path) -> None:
    # Emacs keeps `.#local.yaml` (a dangling symlink) while local.yaml has unsaved edits.
    (project / "environments" / ".#local.yaml").symlink_to("user@host.1234:1700000000")
    listed = run_doit(project, command="list")
    assert listed.code == 0, listed.out
    rendered = run_doit(project, "render")
    assert rendered.code == 0, rendered.out
    assert "Traceback" not in rendered.out


def test_a_secret_name_under_config_or_env_is_refused_before_anything_is_written(project: Path) -> None:
    from testing.project import snapshot

    before = snapshot(project, "k8s", "compose")
    for text, at in (
        ("config: {RABBITMQ_PASSWORD: hunter2}\n", "config.RABBITMQ_PASSWORD"),
        (
            "services: {engine: {env: {RABBITMQ_PASSWORD: hunter2}}}\n",
            "services.engine.env.RABBITMQ_PASSWORD",
        ),
    ):
        local = project / "environments" / "local.yaml"
        saved = local.read_text()
        local.write_text(saved + text)
        result = run_doit(project, "render")
        local.write_text(saved)
        assert result.code == 78, result.out
        assert "==> File environments/local.yaml, line 4" in result.out, result.out
        assert f"==> At {at}\n" in result.out and "is a secret" in result.out, result.out
        assert snapshot(project, "k8s", "compose") == before  # no plain-text secret written


def test_an_output_folder_that_cannot_be_written_is_one_sentence_not_a_traceback(project: Path) -> None:
    import shutil

    prod = project / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("engine: {replicas: 3}", "engine: {replicas: 4}"))
    overlay = project / "k8s" / "overlays" / "prod"
    shutil.rmtree(overlay)
    overlay.write_text("not a folder\n")  # as unwritable as a read-only folder, even for root
    result = run_doit(project, "render")
    assert result.code == 1, result.out
    assert "Traceback" not in result.out, result.out
    assert "cannot write k8s/overlays/prod/" in result.out, result.out
    assert "Fix: make k8s/overlays/prod a writable folder" in result.out, result.out


def test_help_info_list_and_forget_of_a_cloud_task_need_no_confirmation(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    helped = run_doit(project, "deploy:prod", command="help")
    assert helped.code == 0 and "deploy" in helped.out, helped.out
    assert run_doit(project, "deploy", command="help").code == 0
    listed = run_doit(project, "--all", "deploy", command="list")
    assert listed.code == 0 and "deploy:prod" in listed.out, listed.out
    assert not run_doit(project, "deploy", command="forget").code  # doit returns None for forget
    # Running it still needs the confirmation, and one environment.
    assert run_doit(project, "deploy:prod").code == 64
    assert run_doit(project, "deploy").code == 64


def test_status_of_minikube_images_with_minikube_down_is_not_a_traceback(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes = tmp_path / "bin"
    harness.script(
        fakes,
        "minikube",
        "echo 'X Exiting due to GUEST_STATUS: Profile \"srvthreds\" not found' >&2\nexit 85\n",
    )
    fake_docker.install(fakes, tmp_path / "docker-state")  # the status of the local images asks docker
    harness.install(fakes, "kubectl", "testing.fakes.kubectl")  # no cluster: the cloud deploys' status asks
    monkeypatch.setenv("FAKE_K8S_STATE", str(tmp_path / "k8s-state"))
    monkeypatch.setenv("PATH", f"{fakes}{os.pathsep}{os.environ['PATH']}")
    listed = run_doit(project, "--all", "--status", command="list")
    assert listed.code == 0, listed.out
    assert "Traceback" not in listed.out
    assert "R minikube_images:engine" in listed.out, listed.out  # not done: it would run
    info = run_doit(project, "minikube_images:engine", command="info")
    assert "Traceback" not in info.out and "status     : run" in info.out, info.out


def test_a_dependency_database_of_the_wrong_shape_is_rebuilt(project: Path) -> None:
    assert run_doit(project, "render").code == 0
    db = project / ".build" / "state" / "local.json"
    db.write_text('{"render": "x"}')  # valid JSON, but not what doit reads
    result = run_doit(project, "render")
    assert result.code == 0, result.out
    assert "Traceback" not in result.out
    assert "was damaged" in result.out, result.out


def test_doctor_says_the_aws_cli_is_not_installed_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from tasks.ops import doctor

    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path), str(Path(sys.executable).parent)]))
    check = doctor.aws()
    assert not check.ok
    assert check.found == "not installed"  # was cut to "not"


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
    monkeypatch.setenv("PATH", f"{fakes}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert not (project / "compose" / "test" / ".env").exists()
    for task in ("compose_down", "compose_ps", "compose_logs"):
        result = run_doit(project, task, "env=test")
        # compose_ps tells the truth: nothing runs yet, so every workload is stale (exit 1).
        assert result.code == (1 if task == "compose_ps" else 0), result.out
        assert "couldn't find env file" not in result.out
        assert "Traceback" not in result.out
    assert not (project / "compose" / "test" / ".env").exists()  # no secrets made up to stop nothing


def test_a_failing_hook_names_itself_and_where_it_is_configured(project: Path) -> None:
    local = project / "environments" / "local.yaml"
    local.write_text(local.read_text() + "hooks: {pre_build: ['true', 'exit 3']}\n")
    result = run_doit(project, "_compose_pre_build")
    assert result.code == 1, result.out
    assert "hooks.pre_build[1] of environment local failed (exit 3): exit 3" in result.out, result.out
    assert "Fix: fix or remove it (hooks.pre_build in environments/local.yaml" in result.out, result.out


def test_a_copied_cloud_environment_never_acts_on_the_original_cluster(project: Path) -> None:
    # The unknown-environment hint says: cp environments/dev.yaml environments/<name>.yaml
    envs = project / "environments"
    (envs / "qa.yaml").write_text((envs / "dev.yaml").read_text())
    result = run_doit(project, "rollback:qa")
    assert result.code == 78, result.out
    assert "==> File environments/qa.yaml, line 10\n==> At cloud.cluster_name\n" in result.out, result.out
    assert "is also environment dev's" in result.out and "Fix: give qa its own cluster_name" in result.out
    assert run_doit(project, "render").code == 0  # rendering changes no cluster
    (envs / "qa.yaml").write_text((envs / "dev.yaml").read_text().replace("srvthreds-dev", "srvthreds-qa"))
    assert "is also environment" not in run_doit(project, "rollback:qa").out


@pytest.mark.parametrize("shape", ["build-is-a-file", "lock-is-a-folder"])
def test_a_broken_build_folder_is_one_sentence_not_a_traceback(project: Path, shape: str) -> None:
    if shape == "build-is-a-file":
        (project / ".build").write_text("oops\n")
    else:
        (project / ".build" / "run.lock").mkdir(parents=True)
    # A real process: the in-process helper itself writes under .build/.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "doit", "render"],
        cwd=project,
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 64, out
    assert "Traceback" not in out, out
    assert "cannot use the build state folder .build/" in out, out
    assert "rm -rf .build" in out


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
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    for task in ("compose_down", "compose_ps"):
        result = run_doit(project, task)
        assert result.code == 1, result.out
        assert "The Docker daemon is not running or not reachable at unix:///nonexistent.sock" in result.out
        assert "command failed" not in result.out, result.out


def test_ctrl_c_while_waiting_for_the_lock_says_nothing_ran(project: Path) -> None:
    import fcntl
    import signal
    import subprocess
    import sys
    import time

    path = project / ".build" / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = subprocess.Popen(
            [sys.executable, "-m", "doit", "render"],
            cwd=project,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        time.sleep(2)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert "Interrupted while waiting for the other run: nothing ran." in out, out
    assert "task that was running" not in out and "Traceback" not in out, out


def test_a_cloud_task_of_a_non_cloud_environment_says_why_it_does_not_exist(project: Path) -> None:
    result = run_doit(project, "deploy:local")
    assert result.code == 64, result.out  # not doit's bare "Invalid parameter" (3)
    assert "local is not a cloud environment (environments/local.yaml has no `cloud:` block)" in result.out
    assert "Fix: use one of the cloud environments: dev, prod, staging" in result.out, result.out


def test_a_target_of_a_broken_environment_shows_its_config_error(project: Path) -> None:
    prod = project / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("engine: {replicas: 3}", "engine: {replicas: three}"))
    result = run_doit(project, "k8s/overlays/prod/kustomization.yaml")
    assert result.code == 78, result.out  # not doit's "Invalid parameter"
    assert "==> File environments/prod.yaml, line 11\n==> At services.engine.replicas\n" in result.out
    assert run_doit(project, "k8s/base/namespace.yaml").code == 0  # other targets keep working


def test_a_badly_named_environment_file_is_a_config_error_naming_the_file(project: Path) -> None:
    envs = project / "environments"
    (envs / "My.Env.yaml").write_text((envs / "test.yaml").read_text())
    result = run_doit(project, command="list")
    assert result.code == 78, result.out
    assert "==> File environments/My.Env.yaml\n" in result.out, result.out
    assert (
        "Fix: rename the file to lowercase letters, digits and '-' (e.g. environments/my-env.yaml)"
        in result.out
    )


@pytest.mark.parametrize(
    ("argv", "message", "fix"),
    [
        (
            ("render", "-v", "2"),
            "-v is an option of doit, so it goes before the task names",
            "put it first: `doit -v <value> <tasks>`",
        ),
        (
            ("render", "--reporter", "json"),
            "--reporter is an option of doit",
            "`doit --reporter <value> <tasks>`",
        ),
        (("compose_down", "--wipe=1"), "--wipe=1: --wipe takes no value", "write `--wipe`, or `wipe=1`"),
    ],
)
def test_an_option_on_the_wrong_side_of_the_task_says_where_it_goes(
    project: Path, argv: tuple[str, ...], message: str, fix: str
) -> None:
    result = run_doit(project, *argv)
    assert result.code == 64, result.out  # was doit's option table (exit 3)
    assert message in result.out and fix in result.out, result.out
    assert "CmdOption" not in result.out


def test_doit_options_before_the_tasks_still_work(project: Path) -> None:
    assert run_doit(project, "-v", "2", "render").code == 0


def test_compose_up_of_a_cloud_environment_says_it_runs_nothing_there(project: Path) -> None:
    result = run_doit(project, "compose_up", "env=prod")
    assert result.code == 1, result.out
    assert "environment prod runs nothing in Compose (runtime: kubernetes; databases: external)" in result.out
    assert "Fix: deploy it with `doit deploy:prod`" in result.out, result.out
    assert "images:" not in result.out  # nothing built first
    assert not (project / "compose" / "prod" / ".env").exists()
