"""Rules about image builds (tasks/config/rules/builds.py), on a small made-up project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks.config.rules import builds as rules
from testing.configs import LOCAL, broken, load, read, small_project, stack


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


def test_every_service_has_a_build_spec(root: Path) -> None:
    data = stack()
    del data["images"]["service_build"]
    err = broken(rules.every_service_has_a_build_spec, root, data)
    assert (err.keypath, err.problem) == ("services.web", "service 'web' has no build spec")
    assert err.fix == (
        "add `build: {context: <folder>, dockerfile: <file>}` under it, or a default "
        "`images.service_build:` for every service"
    )
    data["services"]["web"]["build"] = {"context": "app"}
    assert broken(rules.every_service_has_a_build_spec, root, data).keypath == "services.migrate"
    rules.every_service_has_a_build_spec(read(root, data, {**LOCAL, "disabled_services": ["migrate"]}))


@pytest.mark.parametrize("arg", ["BASE_IMAGE", "UID", "SERVICE", "BUILDER_IMAGE"])
def test_build_args_are_not_the_tools(root: Path, arg: str) -> None:
    data = stack()
    data["images"]["service_build"]["args"] = {"OK": "1", arg: "x"}
    err = broken(rules.build_args_are_not_the_tools, root, data)
    assert (err.keypath, err.problem) == (
        f"images.service_build.args.{arg}",
        f"build arg {arg} is passed by the tool itself",
    )
    assert err.fix == (
        "remove it here (BASE_IMAGE: images.base_image, UID: images.uid, SERVICE: the "
        "service name, BUILDER_IMAGE: the builder's image)"
    )
    data["images"]["service_build"]["args"] = {"OK": "1"}
    assert load(root, data).services["web"].build.args == {"OK": "1"}
    # The builder's own args, and a service's own build, are held to it too.
    data["images"]["builder"] = {"context": "app", "args": {arg: "x"}}
    assert broken(rules.build_args_are_not_the_tools, root, data).keypath == f"images.builder.args.{arg}"
    del data["images"]["builder"]
    data["services"]["web"]["build"] = {"context": "app", "args": {arg: "x"}}
    assert broken(rules.build_args_are_not_the_tools, root, data).keypath == f"services.web.build.args.{arg}"


def test_copying_from_the_builder_needs_a_builder(root: Path) -> None:
    data = stack()
    data["images"]["service_build"]["builder"] = True
    err = broken(rules.copying_from_the_builder_needs_a_builder, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        "images.service_build.builder",
        "service 'web' copies from the builder, but there is no builder",
        "add `images.builder: {context: ..., dockerfile: ...}`, or set `builder: false`",
    )
    data["images"]["builder"] = {"context": "app"}
    rules.copying_from_the_builder_needs_a_builder(read(root, data))


def test_build_inputs_exist(root: Path) -> None:
    data = stack()
    data["images"]["service_build"] = {"context": "nowhere"}
    err = broken(rules.build_inputs_exist, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        "images.service_build.context",
        "nowhere is not a folder in the project",
        "fix the path (relative to the project root) or create it",
    )
    (root / "app" / "Dockerfile").unlink()
    err = broken(rules.build_inputs_exist, root, stack())
    assert (err.keypath, err.problem) == (
        "images.service_build.context",
        "app/Dockerfile is not a file in the project",
    )
    data = stack()
    data["images"]["service_build"]["dockerfile"] = "app"
    err = broken(rules.build_inputs_exist, root, data)
    assert (err.keypath, err.problem) == (
        "images.service_build.dockerfile",
        "app is not a file in the project",
    )


def test_the_builder_build_inputs_must_exist(root: Path) -> None:
    data = stack()
    data["images"]["builder"] = {"context": "app", "dockerfile": "app/Dockerfile.builder"}
    err = broken(rules.build_inputs_exist, root, data)
    assert (err.keypath, err.problem) == (
        "images.builder.dockerfile",
        "app/Dockerfile.builder is not a file in the project",
    )


def test_a_database_we_build_needs_its_dockerfile_unless_disabled(root: Path) -> None:
    data = stack()
    data["databases"]["pg"]["build"] = "docker/pg"
    err = broken(rules.build_inputs_exist, root, data)
    assert (err.keypath, err.problem) == ("databases.pg.build", "docker/pg is not a folder in the project")
    (root / "docker" / "pg").mkdir(parents=True)
    err = broken(rules.build_inputs_exist, root, data)
    assert (err.keypath, err.problem) == (
        "databases.pg.build",
        "docker/pg/Dockerfile is not a file in the project",
    )
    assert load(
        root, data, {**LOCAL, "placement": {"pg": "disabled"}, "disabled_services": ["web", "migrate"]}
    )
    (root / "docker" / "pg" / "Dockerfile").write_text("FROM scratch\n")
    assert load(root, data).databases["pg"].build == "docker/pg"


def test_a_database_may_build_from_a_tool_folder_that_render_copies(root: Path) -> None:
    data = stack()
    data["databases"]["pg"]["build"] = "docker/redis"  # the tool's: `doit render` copies it here
    assert not (root / "docker").exists()
    assert load(root, data).databases["pg"].build == "docker/redis"
    data["databases"]["pg"]["build"] = "docker/redis/sub"  # not a tool folder: it must exist
    err = broken(rules.build_inputs_exist, root, data)
    assert (err.keypath, err.problem) == (
        "databases.pg.build",
        "docker/redis/sub is not a folder in the project",
    )


def test_build_inputs_stay_in_the_project(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "Dockerfile").write_text("FROM scratch\n")
    (root / "app" / "Dockerfile").unlink()
    (root / "app" / "Dockerfile").symlink_to(outside / "Dockerfile")
    err = broken(rules.build_inputs_stay_in_the_project, root, stack())
    assert (err.keypath, err.problem) == (
        "images.service_build.context",
        f"app/Dockerfile leads out of the project (to {outside / 'Dockerfile'}) through a symlink",
    )
    (root / "linked").symlink_to(outside, target_is_directory=True)
    data = stack()
    data["images"]["service_build"] = {"context": "linked"}
    err = broken(rules.build_inputs_stay_in_the_project, root, data)
    assert err.problem.startswith("linked leads out of the project")
    # A symlink that stays inside is fine.
    (root / "app" / "Dockerfile").unlink()
    (root / "app" / "Dockerfile.real").write_text("FROM scratch\n")
    (root / "app" / "Dockerfile").symlink_to("Dockerfile.real")
    rules.build_inputs_stay_in_the_project(read(root, stack()))


def test_a_special_file_named_like_a_dockerfile_is_refused(root: Path) -> None:
    (root / "app" / "Dockerfile").unlink()
    os.mkfifo(root / "app" / "Dockerfile")
    err = broken(rules.build_inputs_exist, root, stack())
    assert (err.keypath, err.problem, err.fix) == (
        "images.service_build.context",
        "app/Dockerfile is a special file (a FIFO, socket or device), not a file",
        "replace it with a regular file",
    )


def test_build_targets_are_stages_of_their_dockerfile(root: Path) -> None:
    (root / "app" / "Dockerfile").write_text(
        "FROM debian AS Build\nRUN make\nfrom --platform=$BUILDPLATFORM scratch as runtime\n"
    )
    data = stack()
    data["images"]["service_build"]["target"] = "runtim"
    err = broken(rules.build_targets_are_stages_of_their_dockerfile, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        "images.service_build.target",
        "'runtim' is not a stage of app/Dockerfile (its stages: build, runtime)",
        "name one of its stages, or add `AS runtim` to a FROM line",
    )
    for fine in ("runtime", "BUILD"):
        data["images"]["service_build"]["target"] = fine
        rules.build_targets_are_stages_of_their_dockerfile(read(root, data))
    (root / "app" / "Dockerfile").write_text("FROM scratch\n")
    data["images"]["service_build"]["target"] = "runtime"
    none = broken(rules.build_targets_are_stages_of_their_dockerfile, root, data)
    assert (
        none.problem == "'runtime' is not a stage of app/Dockerfile (it names no stage: `FROM ... AS <name>`)"
    )


def test_stages_reads_the_named_stages_in_order() -> None:
    assert rules.stages("FROM a AS one\nFROM one\n  FROM --platform=x b as Two\n") == ["one", "two"]


def test_platforms_are_listed_once(root: Path) -> None:
    data = stack()
    data["images"]["platforms"] = ["linux/amd64", "linux/arm64", "linux/amd64"]
    err = broken(rules.platforms_are_listed_once, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        "images.platforms[2]",
        "platform linux/amd64 is listed twice",
        "list each platform once: `platforms: [linux/amd64, linux/arm64]`",
    )
    data["images"]["platforms"] = ["linux/amd64", "linux/arm64"]
    rules.platforms_are_listed_once(read(root, data))
