"""Contract tests for `doit doctor` on a project copy: one table of what the machine has; it
fails only on what env=<name> needs, with one sentence per gap. Programs are fake
executables first on PATH (testing/machine.py)."""

from __future__ import annotations

from pathlib import Path

from testing.machine import fake, machine
from testing.project import run_doit

__all__ = ["machine"]  # the fixture


def test_cloud_environment_passes_without_minikube(project: Path, machine: Path) -> None:
    result = run_doit(project, "doctor", "env=dev")
    assert result.code == 0, result.out
    rows = {line.split("  ")[0]: line for line in result.out.splitlines()}
    assert "MISSING" in rows["minikube"] and "not installed" in rows["minikube"]
    assert "ok" in rows["AWS CLI v2"] and "aws-cli/2.15.0" in rows["AWS CLI v2"]
    assert "server 24.0.7" in rows["Docker daemon"]
    assert "environment dev: everything it needs is here" in result.out


def test_missing_needed_tool_fails_with_its_fix(project: Path, machine: Path) -> None:
    fake(machine, "aws", 'echo "aws-cli/1.45.11 Python/3.11"\n')  # v1: the deploy chain needs v2
    result = run_doit(project, "doctor", "env=dev")
    assert result.code != 0
    assert (
        "AWS CLI v2 is missing here (aws-cli/1.45.11): install the AWS CLI v2: "
        "https://docs.aws.amazon.com/cli/."
    ) in result.out


def test_daemon_down_is_the_one_sentence(project: Path, machine: Path) -> None:
    fake(machine, "docker", 'echo "Cannot connect to the Docker daemon at unix:///x.sock." >&2; exit 1\n')
    result = run_doit(project, "doctor", "env=dev")
    assert result.code != 0
    assert "Docker daemon             MISSING  daemon not reachable" in result.out
    assert "The Docker daemon is not running or not reachable: start it" in result.out


def test_permission_denied_is_not_called_a_down_daemon(project: Path, machine: Path) -> None:
    fake(
        machine,
        "docker",
        'echo "permission denied while trying to connect to the Docker daemon socket at '
        'unix:///var/run/docker.sock" >&2; exit 1\n',
    )
    result = run_doit(project, "doctor", "env=dev")
    assert result.code != 0
    assert "Docker daemon             MISSING  permission denied" in result.out
    assert (
        "  - You may not use the Docker daemon: add your user to the `docker` group, or run as root."
        in result.out.splitlines()
    )


def test_a_broken_stack_file_still_shows_the_machine(project: Path, machine: Path) -> None:
    stack = project / "environments" / "stack.yaml"
    stack.write_text(stack.read_text() + "bogus_key: 1\n")
    result = run_doit(project, "doctor")
    assert "server 24.0.7" in result.out and "free disk" in result.out, result.out  # the table
    assert result.code == 1 and "==> At bogus_key\n" in result.out, result.out  # then the file's error
