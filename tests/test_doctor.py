"""`doit doctor`: one table of what the machine has; fails only on what env=<name> needs.

Programs are faked at the PATH boundary (fake executables), as everywhere else."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from tasks.ops import doctor
from testing import harness
from testing.project import run_doit


def fake(bin_dir: Path, name: str, script: str) -> None:
    harness.script(bin_dir, name, script)


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with a working docker, docker-compose, kubectl and AWS CLI v2; no minikube."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake(bin_dir, "docker", 'case "$1" in version) echo 24.0.7;; ps) ;; esac\n')
    fake(bin_dir, "docker-compose", "echo 2.29.1\n")
    fake(bin_dir, "kubectl", 'echo "Client Version: v1.37.1"\n')
    fake(bin_dir, "aws", 'echo "aws-cli/2.15.0 Python/3.11.6 Linux/6 exe/x86_64"\n')
    venv_bin = Path(sys.executable).parent
    # Only the wheels' python from the venv; the venv's own kubectl etc. would shadow nothing here.
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), str(venv_bin), "/usr/bin", "/bin"]))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    return bin_dir


def test_table_lists_every_check_and_which_workflow_needs_it(machine: Path) -> None:
    checks = [
        doctor.Check("python", "Python >= 3.11", True, "3.11.7"),
        doctor.Check("minikube", "minikube", False, "not installed", "install it"),
    ]
    assert doctor.table(checks, ["compose"]).splitlines() == [
        "check           status   found          compose*  offline  minikube  cloud",
        "--------------  -------  -------------  --------  -------  --------  -----",
        "Python >= 3.11  ok       3.11.7         needs     needs    needs     needs",
        "minikube        MISSING  not installed                     needs",
    ]


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


def test_port_in_use_is_reported_unless_our_stack_holds_it(machine: Path) -> None:
    from tasks import config
    from testing.project import REPO

    cfg = config.load("local", REPO)
    port = doctor.published_ports(cfg)[0]
    holder = socket.socket()
    try:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            holder.bind(("0.0.0.0", port))
            holder.listen()
        except OSError:
            pass  # something else holds it already: just as good for this test
        busy = doctor.ports(cfg, own_ports=set)
        assert not busy.ok and str(port) in busy.found
        assert busy.fix == "stop what holds them, or change `publish:` in environments/local.yaml"
        assert doctor.ports(cfg, own_ports=lambda: {port}).ok
        # Our stack runs, but another project holds this port: still in the way.
        assert not doctor.ports(cfg, own_ports=lambda: {port + 1}).ok
    finally:
        holder.close()


def test_workflows_follow_the_environment() -> None:
    from tasks import config
    from testing.project import REPO

    assert doctor.workflows_of(config.load("local", REPO)) == ["compose"]
    assert doctor.workflows_of(config.load("offline", REPO)) == ["compose", "offline"]
    assert doctor.workflows_of(config.load("minikube", REPO)) == ["minikube"]
    assert doctor.workflows_of(config.load("prod", REPO)) == ["cloud"]


def test_offline_preflight_needs_debootstrap_only_while_the_base_is_not_built(
    machine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks import config, doctor_tasks
    from tasks.ops import docker_images
    from testing.project import REPO

    monkeypatch.chdir(tmp_path)
    offline = config.load("offline", REPO)
    assert doctor_tasks.images_needs(config.load("local", REPO)) == ("docker",)
    assert doctor_tasks.images_needs(offline) == ("docker", "debootstrap")
    # No debootstrap on this PATH: one sentence with the fix.
    failed = doctor_tasks.preflight_images(offline)
    assert failed is not None
    assert failed.get_msg().strip() == (
        "debootstrap + root is missing here (debootstrap not installed): "
        "install it (Debian: `apt-get install debootstrap`)."
    )
    # Once the daemon has the recorded base, it is kept: no debootstrap, no root needed.
    folder = tmp_path / ".build" / "offline" / "images"
    folder.mkdir(parents=True)
    (folder / "base.iid").write_text("sha256:b1\n")
    (folder / "base.ref").write_text("srvthreds/base:b1\n")
    fake(
        machine,
        "docker",
        'case "$1" in version) echo 24.0.7;; image) echo "sha256:b1 srvthreds/base:b1";; esac\n',
    )
    docker_images.LISTINGS.forget()
    assert doctor_tasks.images_needs(offline) == ("docker",)
    assert doctor_tasks.preflight_images(offline) is None
    docker_images.LISTINGS.forget()


def test_busy_port_sentence_names_the_environment_file() -> None:
    from tasks import doctor_tasks

    check = doctor.Check(
        "ports",
        "free host ports (local)",
        False,
        "in use: 3000",
        "stop what holds them, or change `publish:` in environments/local.yaml",
    )
    assert doctor_tasks.sentence(check) == (
        "Host ports in use: 3000: stop what holds them, or change `publish:` in environments/local.yaml."
    )


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
