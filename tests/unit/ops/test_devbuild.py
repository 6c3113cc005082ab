"""tasks/ops/devbuild.py against the fake `docker` (testing/fakes): the changed services'
images and, only when its inputs changed, the shared builder, told which service it is for."""

from __future__ import annotations

from pathlib import Path

from tasks.model import Build, Config, Images
from tasks.ops import devbuild
from tasks.store import images
from testing.configs import config, service
from testing.dockerd import Daemon, daemon, fakes

__all__ = ["daemon", "fakes"]  # the fixtures

SHARED = Build(context="app", dockerfile="app/Dockerfile", builder=True, args={"DEBUG": True})


def project(n: int) -> Config:
    Path("app").mkdir(exist_ok=True)
    Path("app/Dockerfile").write_text("ARG BUILDER_IMAGE\nFROM ${BUILDER_IMAGE}\n")
    Path("app/Dockerfile.builder").write_text("FROM scratch\n")
    cfg = config("dev", [service(f"s{i}", build=SHARED) for i in range(n)], [])
    builder = Build(context="app", dockerfile="app/Dockerfile.builder")
    pics = Images(prefix="acme", base="pull", base_image="debian", builder=builder, suite="bookworm", uid=7)
    return Config(**{**cfg.__dict__, "images": pics})


def builds(d: Daemon) -> list[list[str]]:
    return [argv for argv in d.argvs() if argv[0] == "build"]


def test_one_service_builds_its_builder_for_it_and_its_image(daemon: Daemon) -> None:
    cfg = project(3)
    made = devbuild.build(cfg, ("s1",), ["app/s1.py"])
    assert list(made) == ["s1"] and made["s1"].startswith("acme/s1:")
    assert images.ref_file("dev", "s1").read_text().strip() == made["s1"]
    first, second = builds(daemon)
    assert "SERVICE=s1" in first and first[first.index("-f") + 1] == "app/Dockerfile.builder"
    builder_ref = images.ref_file("dev", "builder").read_text().strip()
    for arg in ("SERVICE=s1", "UID=7", "DEBUG=true", "BASE_IMAGE=debian", f"BUILDER_IMAGE={builder_ref}"):
        assert arg in second


def test_the_docker_calls_of_one_change_do_not_grow_with_the_stack(daemon: Daemon) -> None:
    devbuild.build(project(3), ("s1",), ["app/s1.py"])
    small = len(daemon.argvs())
    devbuild.build(project(30), ("s7",), ["app/s7.py"])
    assert len(daemon.argvs()) - small == small


def test_the_builder_is_kept_when_no_changed_file_is_its_input(daemon: Daemon) -> None:
    cfg = project(2)
    devbuild.build(cfg, ("s0",), ["app/s0.py"])
    assert not devbuild.needs_builder(cfg, ("s0",), ["elsewhere/x"])
    assert devbuild.needs_builder(cfg, ("s0",), ["app/Dockerfile.builder"])
    before = len(builds(daemon))
    devbuild.build(cfg, ("s0",), ["elsewhere/x"])
    assert len(builds(daemon)) == before + 1  # the service image only


def test_a_full_build_runs_the_builder_for_every_service(daemon: Daemon) -> None:
    devbuild.build(project(2), ("s0", "s1"), [], full=True)
    first = builds(daemon)[0]
    assert not any(a.startswith("SERVICE=") for a in first) and len(builds(daemon)) == 3
