"""`doit images`, `base_image` and `builder_image` in a copy of the project, against the fake docker
(testing/fakes): what is built, with which arguments, and what is kept; hooks around the build."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config import load as config
from testing import harness
from testing.composebox import host_ports
from testing.fakes import compose as fake_compose
from testing.fakes import docker as docker_fake
from testing.fakes.docker import FakeDocker
from testing.harness import Call, FakeBin
from testing.project import run_doit


@pytest.fixture
def fake_docker(fake_docker_daemon: FakeDocker, monkeypatch: pytest.MonkeyPatch) -> FakeDocker:
    """The fake docker first on PATH, talking to the host's daemon (the "local" store)."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    return fake_docker_daemon


def builds(daemon: FakeDocker) -> list[str]:
    return daemon.builds()


def docker_calls(daemon: FakeDocker) -> list[list[str]]:
    return daemon.argvs()


def _build_args(daemon: FakeDocker) -> dict[str, dict[str, str]]:
    """Build arguments of every `docker build`, keyed by SERVICE (or the Dockerfile)."""
    out: dict[str, dict[str, str]] = {}
    for argv in docker_calls(daemon):
        if argv[:1] == ["build"]:
            args = dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "--build-arg")
            out[args.get("SERVICE") or argv[argv.index("-f") + 1]] = args
    return out


def _ref(project: Path, env: str, name: str) -> str:
    return (project / ".build" / env / "images" / f"{name}.ref").read_text().strip()


def test_builder_then_every_service_with_its_own_arguments(project: Path, fake_docker: FakeDocker) -> None:
    result = run_doit(project, "images", "env=local")
    assert result.code == 0, result.out
    cfg = config.load("local", project)
    assert cfg.images.builder is not None
    assert builds(fake_docker)[0] == cfg.images.builder.dockerfile
    assert sorted(builds(fake_docker)[1:]) == sorted(cfg.services)
    args = _build_args(fake_docker)
    assert args[cfg.images.builder.dockerfile]["BASE_IMAGE"] == cfg.images.base_image
    assert "BUILDER_IMAGE" not in args[cfg.images.builder.dockerfile]
    builder = _ref(project, "local", "builder")
    for name, svc in cfg.services.items():
        assert args[name]["SERVICE"] == name and args[name]["BASE_IMAGE"] == cfg.images.base_image
        assert args[name]["UID"] == str(cfg.images.uid)
        assert args[name].get("BUILDER_IMAGE") == (builder if svc.build.builder else None)
        assert _ref(project, "local", name).startswith(f"{cfg.image_ref(name)}:")


def test_an_image_the_daemon_lost_is_rebuilt_and_nothing_else(project: Path, fake_docker: FakeDocker) -> None:
    assert run_doit(project, "images", "env=local").code == 0
    first = len(builds(fake_docker))
    again = run_doit(project, "images", "env=local")
    assert again.code == 0 and len(builds(fake_docker)) == first, again.out

    lost = _ref(project, "local", "engine")
    fake_docker.untag(lost)
    assert lost not in fake_docker.refs()
    third = run_doit(project, "images", "env=local")
    assert third.code == 0, third.out
    assert builds(fake_docker)[first:] == ["engine"]
    assert lost in fake_docker.refs()


def test_a_base_the_daemon_still_has_is_kept_and_databases_are_built(
    project: Path, fake_docker: FakeDocker
) -> None:
    # A debootstrap base recorded by an earlier run and still in the daemon.
    iid, ref = "sha256:" + "b" * 64, "srvthreds/base:bbbbbbbbbbbb"
    folder = project / ".build" / "offline" / "images"
    folder.mkdir(parents=True)
    (folder / "base.iid").write_text(iid + "\n")
    (folder / "base.ref").write_text(ref + "\n")
    fake_docker.add_image(ref, iid=iid)
    assert fake_docker.refs() == [ref]

    result = run_doit(project, "images", "env=offline")
    assert result.code == 0, result.out
    assert "-- images:base" in result.out.splitlines()  # up to date: the daemon has it
    assert not any(argv[:1] == ["import"] for argv in docker_calls(fake_docker))
    cfg = config.load("offline", project)
    built = builds(fake_docker)
    assert cfg.images.builder is not None
    assert sorted(built) == sorted(
        [
            cfg.images.builder.dockerfile,
            *cfg.services,
            *(
                f"{db.build}/Dockerfile"
                for db in cfg.databases.values()
                if db.build and db.placement != "disabled"
            ),
        ]
    )
    assert "persistence-agent" not in built  # disabled in offline.yaml
    assert all(args["BASE_IMAGE"] == ref for args in _build_args(fake_docker).values())

    # Forced, it is still kept: a new debootstrap would move every tag downstream.
    forced = run_doit(project, "-a", "images:base", "env=offline")
    assert forced.code == 0, forced.out
    assert f"[base] keeping {ref}" in forced.out
    assert not any(argv[:1] == ["import"] for argv in docker_calls(fake_docker))


def test_base_image_task_builds_a_base_only_for_debootstrap(project: Path, fake_docker: FakeDocker) -> None:
    result = run_doit(project, "base_image", "env=local")
    assert result.code == 0, result.out
    assert builds(fake_docker) == []
    assert not (project / ".build" / "local" / "images" / "base.ref").exists()


def test_builder_image_builds_only_the_builder(project: Path, fake_docker: FakeDocker) -> None:
    result = run_doit(project, "builder_image", "env=local")
    assert result.code == 0, result.out
    builder = config.load("local", project).images.builder
    assert builder is not None and builds(fake_docker) == [builder.dockerfile]


def test_a_missing_base_is_made_with_debootstrap(
    project: Path, fake_docker: FakeDocker, fakebin: harness.FakeBin, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fake `debootstrap` that fails like one without a reachable mirror: the base task must
    # try it (and report its failure), never succeed without a base.
    fakebin.script("debootstrap", "echo 'E: Failed getting release file' >&2\nexit 1\n")
    fakebin.activate(monkeypatch)
    result = run_doit(project, "images:base", "env=offline")
    assert result.code != 0, result.out
    assert "debootstrap" in result.out and "Failed getting release file" in result.out
    assert fakebin.argvs("debootstrap"), "the base task never ran debootstrap"
    assert not (project / ".build" / "offline" / "images" / "base.ref").exists()


def test_broken_environment_file_is_reported_not_a_missing_task(project: Path) -> None:
    env = project / "environments" / "local.yaml"
    env.write_text(env.read_text().replace("runtime: compose", "runtime: 3"))
    for argv in (("builder_image",), ("images",), ("base_image",)):
        built = run_doit(project, *argv)
        assert built.code == 78, built.out
        assert "==> File environments/local.yaml" in built.out and "Traceback" not in built.out
        assert "does not exist" not in built.out  # never "Task dependency 'images:builder' does not exist"
    # A task that does not read local.yaml still runs (doit builds every task, builder_image included).
    assert run_doit(project, "tf_fmt").code == 0


# Each hook records how many images were built when it ran.
COUNT = "$(ls .build/local/images 2>/dev/null | grep -c '[.]ref$')"


def _fakes(fakebin: FakeBin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeDocker:
    """The fake docker and docker-compose first on PATH, sharing one store and fakebin's log."""
    state = tmp_path / "fake-docker"
    daemon = docker_fake.install(fakebin.bin_dir, state, log=fakebin.log)
    fake_compose.install(fakebin.bin_dir, state, log=fakebin.log)
    fakebin.activate(monkeypatch)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    host_ports(monkeypatch)
    return daemon


def _ups(fakebin: FakeBin) -> list[Call]:
    return [c for c in fakebin.calls("docker-compose") if "up" in c["argv"]]


def test_hooks_run_around_the_real_image_build(
    project: Path, fakebin: FakeBin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon = _fakes(fakebin, tmp_path, monkeypatch)
    env_yaml = project / "environments/local.yaml"
    env_yaml.write_text(
        env_yaml.read_text() + f'hooks:\n  pre_build: ["echo pre {COUNT} >> hooks.log"]\n'
        f'  post_build: ["echo post {COUNT} >> hooks.log"]\n'
    )
    first = run_doit(project, "compose_up", "env=local")
    assert first.code == 0, first.out
    built = daemon.builds()
    assert built[0].endswith("Dockerfile.builder") and len(built) == 5  # builder + 4 service images
    assert (project / "hooks.log").read_text() == "pre 0\npost 5\n"  # before any build, after all of them
    ups = _ups(fakebin)
    assert ups and all(c["images"] for c in ups)  # Compose got the content tags the builds recorded
    recorded = {(project / f".build/local/images/{name}.ref").read_text().strip() for name in built[1:]}
    assert recorded <= {ref for c in ups for ref in c["images"].values()}  # ...and exactly those
    fakebin.clear_calls()
    # Hooks run on every compose_up; nothing is built or started again.
    again = run_doit(project, "compose_up", "env=local")
    assert again.code == 0, again.out
    assert (project / "hooks.log").read_text() == "pre 0\npost 5\npre 5\npost 5\n"
    assert daemon.builds() == []
    assert daemon.mutating_calls() == []
    assert _ups(fakebin) == []


def test_the_project_root_as_build_context_builds_once(project: Path, fake_docker: FakeDocker) -> None:
    # The build state (.build/) is inside that context: its stamp and refs are not its files.
    stack = project / "environments/stack.yaml"
    stack.write_text(stack.read_text().replace("    context: demo\n", "    context: .\n"))
    first = run_doit(project, "images", "env=local")
    assert first.code == 0, first.out
    built = len(builds(fake_docker))
    assert built == 1 + len(config.load("local", project).services)
    again = run_doit(project, "images", "env=local")
    assert again.code == 0, again.out
    assert len(builds(fake_docker)) == built
