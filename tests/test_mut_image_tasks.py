"""The image tasks against the fake `docker` program first on PATH (testing/fakes/docker.py).

Found unguarded by the mutation benchmark (bench/mutation.py image_tasks): which images are
built and with which build arguments, that a built image is not rebuilt while the daemon has
it and is rebuilt when it is gone, and that a debootstrap base the daemon still has is kept.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from doit.exceptions import TaskFailed

from tasks.config import load as config
from tasks.errors import StackError
from tasks.families import images as image_tasks
from tasks.families.shared import image_builds
from testing import harness
from testing.fakes.docker import FakeDocker
from testing.project import REPO, run_doit


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


def test_image_names_are_services_and_the_databases_we_build() -> None:
    cfg = config.load("offline", REPO)
    built_dbs = [db.name for db in cfg.databases.values() if db.build and db.placement != "disabled"]
    assert built_dbs
    assert cfg.built_images() == [*cfg.services, *built_dbs]
    local = config.load("local", REPO)
    assert local.built_images() == list(local.services)


def test_a_daemon_that_cannot_be_asked_means_not_built(tmp_path: Path) -> None:
    def unreachable() -> dict[str, str]:
        raise StackError("minikube is not running")

    image = image_builds.Image("local", "images", "engine")
    assert image_builds.image_in_daemon(image, unreachable) is False


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


def test_a_broken_environment_gives_failing_image_tasks_not_none(project: Path) -> None:
    """A run that does not need local.yaml (here `doit tf_fmt`) still creates every task: the
    image tasks must exist and fail with the file's own message when run."""
    from tasks.cli.resolve import resolve

    env = project / "environments" / "local.yaml"
    env.write_text(env.read_text().replace("runtime: compose", "runtime: 3"))
    run = resolve(["tf_fmt"], project)
    for creator in (image_tasks.task_builder_image, image_tasks.task_base_image):
        task = creator(run)
        assert isinstance(task, dict) and task["uptodate"] == [False], creator.__name__
        failed = task["actions"][0]()
        assert isinstance(failed, TaskFailed) and "environments/local.yaml" in str(failed), creator.__name__


def test_generate_puts_the_given_dependencies_on_every_image_task() -> None:
    cfg = config.load("offline", REPO)
    for task in image_builds.generate(cfg, task_dep=["_preflight:images"]):
        assert task["task_dep"] == ["_preflight:images"], task["name"]
    assert all(task["task_dep"] == [] for task in image_builds.generate(cfg))


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
