"""tasks/families/doctor.py: one sentence per gap, the preflights before long steps (and what an
offline base needs), the doctor table for a broken environment, the hidden preflight tasks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tasks.config import load as config
from tasks.families import doctor as doctor_tasks
from tasks.ops import doctor, platforms
from testing.machine import fake, machine
from testing.project import REPO

__all__ = ["machine"]  # the fixture


def base_built_and_kept(machine: Path, project: Path) -> None:
    """The offline base recorded in `project` and held by the (fake) daemon, so it is kept:
    no debootstrap and no root needed for it."""
    from tasks.ops import docker_images

    folder = project / ".build" / "offline" / "images"
    folder.mkdir(parents=True)
    (folder / "base.iid").write_text("sha256:b1\n")
    (folder / "base.ref").write_text("srvthreds/base:b1\n")
    fake(
        machine,
        "docker",
        'case "$1" in version) echo 24.0.7;; image) echo "sha256:b1 srvthreds/base:b1";; esac\n',
    )
    docker_images.LISTINGS.forget()  # the daemon's listing of before the base was there


def test_offline_preflight_needs_debootstrap_only_while_the_base_is_not_built(
    machine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.families import doctor as doctor_tasks
    from tasks.ops import docker_images

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
    base_built_and_kept(machine, tmp_path)
    assert doctor_tasks.images_needs(offline) == ("docker",)
    assert doctor_tasks.preflight_images(offline) is None
    docker_images.LISTINGS.forget()


def test_busy_port_sentence_names_the_environment_file() -> None:

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


def test_each_gap_is_one_sentence_with_its_fix() -> None:
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
    from tasks.ops import docker_images

    docker_images.LISTINGS.forget()
    assert doctor_tasks.preflight(("docker", "compose")) is None
    fake(machine, "docker-compose", "exit 1\n")  # `version` fails, but the preflight only asks PATH
    assert doctor_tasks.preflight(("compose",)) is None
    fake(machine, "docker", 'echo "Cannot connect to the Docker daemon at unix:///x.sock." >&2; exit 1\n')
    docker_images.LISTINGS.forget()  # the daemon's answer is kept for a run: this is a new one
    fake(machine, "aws", "exit 1\n")
    failed = doctor_tasks.preflight(("python", "docker", "aws"))
    assert failed is not None and "Docker daemon is not running" in failed.get_msg()
    assert "AWS" not in failed.get_msg()


def test_a_broken_environment_still_gets_the_table(machine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tasks.errors import StackError

    failed = doctor_tasks.run_doctor(StackError("environments/qa.yaml: bad", fix="fix it"))
    assert failed is not None and "environments/qa.yaml: bad" in failed.get_msg()
    out = capsys.readouterr().out
    assert "Docker daemon" in out and "(* = used by" not in out


def test_the_preflight_tasks_run_their_checks(machine: Path, project: Path) -> None:
    from tasks.cli.resolve import resolve

    tasks = {t["name"]: t for t in doctor_tasks.task__preflight(resolve(["images"], project))}
    assert list(tasks) == ["images", "compose", "docker"]
    checked = tasks["images"]["actions"][0][1][1]  # the run's answers, shared by all three
    assert tasks["compose"]["actions"] == [(doctor_tasks.preflight, [("docker", "compose"), checked])]
    assert tasks["docker"]["actions"] == [(doctor_tasks.preflight, [("docker",), checked])]
    assert all(t["uptodate"] == [False] for t in tasks.values())


def test_the_preflights_of_one_run_ask_the_daemon_once(
    machine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks.cli.resolve import resolve
    from tasks.ops import docker_images
    from testing.tasks import run_action, subtask

    calls = tmp_path / "docker-calls"
    fake(machine, "docker", f'echo "$1" >> {calls}; echo "sha256:b1 srvthreds/base:b1"\n')
    monkeypatch.chdir(REPO)
    docker_images.LISTINGS.forget()
    preflights = list(doctor_tasks.task__preflight(resolve(["compose_up"], REPO)))
    for name in ("images", "compose", "docker"):
        assert run_action(subtask(preflights, name)) is None
    # The image listing the image tasks' up-to-date checks read next is the answer: no
    # `docker version` is started only to ask whether the daemon is there.
    assert calls.read_text().split() == ["image"]
    assert docker_images.present({}) == {("sha256:b1", "srvthreds/base:b1")}
    assert calls.read_text().split() == ["image"]
    # The next run (a new process: nothing kept) asks again.
    docker_images.LISTINGS.forget()
    again = list(doctor_tasks.task__preflight(resolve(["compose_up"], REPO)))
    assert run_action(subtask(again, "compose")) is None
    assert calls.read_text().split() == ["image", "image"]
    docker_images.LISTINGS.forget()


def test_doctor_says_what_the_environment_uses_and_that_it_has_it(
    machine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    dev = config.load("dev", REPO)
    assert doctor_tasks.run_doctor(dev) is None
    out = capsys.readouterr().out
    assert "free host ports (dev)" in out  # the environment's own check joins the machine's
    assert "(* = used by environment dev: cloud)" in out
    assert "environment dev: everything it needs is here" in out
    fake(machine, "aws", "echo aws-cli/1.18.0\n")
    failed = doctor_tasks.run_doctor(dev)
    assert failed is not None
    lines = failed.get_msg().strip().splitlines()
    assert lines[0] == "environment dev cannot run here yet:" and len(lines) == 2
    assert lines[1].startswith("  - AWS CLI v2 is missing here (aws-cli/1.18.0): install")
    assert "everything it needs is here" not in capsys.readouterr().out


def test_doctor_of_an_offline_environment_with_its_base_built_needs_no_debootstrap(
    machine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tasks.ops import docker_images

    monkeypatch.chdir(tmp_path)
    offline = config.load("offline", REPO)
    failed = doctor_tasks.run_doctor(offline)
    assert failed is not None and "debootstrap" in failed.get_msg()
    assert "debootstrap and root are not needed now" not in capsys.readouterr().out
    base_built_and_kept(machine, tmp_path)
    failed = doctor_tasks.run_doctor(offline)
    docker_images.LISTINGS.forget()
    assert failed is None or "debootstrap" not in failed.get_msg()  # a busy host port may still fail it
    out = capsys.readouterr().out
    assert "(* = used by environment offline: compose, offline)" in out
    assert "(debootstrap and root are not needed now: the offline base image is built and kept)" in out


def test_doctor_always_runs_even_for_a_broken_environment(machine: Path, tmp_path: Path) -> None:
    from tasks.cli.resolve import resolve
    from testing.environments import break_environment, copy_environments
    from testing.tasks import run_action, up_to_date

    root = copy_environments(tmp_path)
    break_environment(root, "local")
    task = doctor_tasks.task_doctor(resolve(["doctor"], root))  # a broken file does not stop it
    assert up_to_date(task) is False
    failed = run_action(task)
    assert failed is not None and "environments/local.yaml" in failed.get_msg()


def test_doctor_of_an_environment_listing_a_platform_it_cannot_build(
    machine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    monkeypatch.setattr(platforms, "BINFMT", tmp_path)  # no qemu entry
    listed = ("linux/amd64", "linux/arm64")
    dev = config.load("dev", REPO)
    dev = dataclasses.replace(dev, images=dataclasses.replace(dev.images, platforms=listed))
    failed = doctor_tasks.run_doctor(dev)  # a cloud environment needs it: images:platforms stops it
    assert failed is not None
    assert (
        "  - qemu emulation (dev) is missing here (cannot build linux/arm64): install qemu"
        in failed.get_msg()
    )
    local = config.load("local", REPO)
    local = dataclasses.replace(local, images=dataclasses.replace(local.images, platforms=listed))
    failed = doctor_tasks.run_doctor(local)
    assert failed is None or "emulation" not in failed.get_msg()  # a busy host port may still fail it
    out = capsys.readouterr().out
    assert "(without emulation a local environment builds the host's platform only)" in out
    (tmp_path / "qemu-aarch64").write_text("enabled\nflags: F\n")
    assert doctor_tasks.run_doctor(dev) is None
    assert "qemu emulation (dev)" in capsys.readouterr().out
