"""tasks/families/images.py: the image task creators (`images`, `base_image`, `builder_image`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from doit.exceptions import TaskFailed

from tasks.config import load as config
from tasks.errors import StackError
from tasks.families import images as image_tasks
from tasks.families.shared import image_builds
from tasks.ops import platforms
from testing.project import REPO


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
    tasks = image_builds.generate(cfg, task_dep=["_preflight:images"])
    # A build context's digest too: with the daemon down, its preflight is said first.
    assert any(t["name"].startswith("context:") for t in tasks)
    for task in tasks:
        assert task["task_dep"] == ["_preflight:images"], task["name"]
    assert all(task["task_dep"] == [] for task in image_builds.generate(cfg))


# binfmt_misc's entry for qemu-aarch64, as Debian's qemu-user-static and docker/setup-qemu-action register it.
ENTRY = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\n"


def _list_platforms(project: Path, env: str) -> None:
    path = project / "environments" / f"{env}.yaml"
    data = yaml.safe_load(path.read_text())
    data.setdefault("images", {})["platforms"] = ["linux/amd64", "linux/arm64"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture
def no_emulation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    binfmt = tmp_path / "binfmt_misc"
    binfmt.mkdir()
    monkeypatch.setattr(platforms, "BINFMT", binfmt)
    return binfmt


def _images(project: Path, env: str) -> dict[str, dict[str, Any]]:
    from tasks.cli.resolve import resolve

    run = resolve(["images", f"env={env}"], project)
    return {t["name"]: t for t in image_tasks.task_images(run)}


def test_listed_platforms_are_checked_first_and_foreign_images_built_when_emulated(
    project: Path, no_emulation: Path
) -> None:
    _list_platforms(project, "local")
    tasks = _images(project, "local")
    assert "engine@arm64" not in tasks  # no emulation: the host's images only
    assert all("images:platforms" in t["task_dep"] for n, t in tasks.items() if n != "platforms")
    (no_emulation / "qemu-aarch64").write_text(ENTRY)
    tasks = _images(project, "local")
    assert "engine@arm64" in tasks and "engine" in tasks
    assert "images:platforms" in tasks["engine@arm64"]["task_dep"]


def test_an_environment_listing_no_platform_has_no_platform_check(project: Path, no_emulation: Path) -> None:
    tasks = _images(project, "local")
    assert "platforms" not in tasks and all("images:platforms" not in t["task_dep"] for t in tasks.values())


def test_without_emulation_a_local_environment_says_once_what_it_builds(
    project: Path, no_emulation: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _list_platforms(project, "local")
    check = _images(project, "local")["platforms"]
    func, args = check["actions"][0]
    assert func(*args) is None
    assert (
        "NOTE: linux/arm64 not built: this machine (linux/amd64) cannot run their programs"
        in capsys.readouterr().err
    )
    assert check["uptodate"][0].config == {
        "platforms": ("linux/amd64", "linux/arm64"),
        "missing": ("linux/arm64",),
    }


def test_without_emulation_a_cloud_environment_fails_before_any_build(
    project: Path, no_emulation: Path
) -> None:
    _list_platforms(project, "dev")
    check = _images(project, "dev")["platforms"]
    func, args = check["actions"][0]
    failed = func(*args)
    assert isinstance(failed, TaskFailed)
    said = str(failed)
    assert "environment dev lists images.platforms linux/amd64, linux/arm64" in said
    assert "qemu-user-static" in said
    # Where the list is, and the other way out: the user's file, key and line.
    listed = next(
        n
        for n, line in enumerate((project / "environments" / "dev.yaml").read_text().splitlines(), 1)
        if line.strip() == "platforms:"
    )
    assert f"==> File environments/dev.yaml, line {listed}" in said
    assert "==> At images.platforms" in said
    assert "remove linux/arm64 from images.platforms" in said
    assert "Traceback" not in said


def test_with_emulation_the_check_names_the_platforms_built(
    project: Path, no_emulation: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _list_platforms(project, "dev")
    (no_emulation / "qemu-aarch64").write_text(ENTRY)
    func, args = _images(project, "dev")["platforms"]["actions"][0]
    assert func(*args) is None
    assert "images for linux/amd64, linux/arm64 (host: linux/amd64)" in capsys.readouterr().out


def test_listing_the_foreign_platform_alone_still_says_the_hosts_images_are_built(
    project: Path, no_emulation: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = project / "environments" / "local.yaml"
    data = yaml.safe_load(path.read_text())
    data.setdefault("images", {})["platforms"] = ["linux/arm64"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    (no_emulation / "qemu-aarch64").write_text(ENTRY)
    tasks = _images(project, "local")
    assert "engine" in tasks and "engine@arm64" in tasks
    func, args = tasks["platforms"]["actions"][0]
    assert func(*args) is None
    assert "images for linux/amd64, linux/arm64 (host: linux/amd64)" in capsys.readouterr().out
