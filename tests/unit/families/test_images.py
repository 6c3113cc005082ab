"""tasks/families/images.py: the image task creators (`images`, `base_image`, `builder_image`)."""

from __future__ import annotations

from pathlib import Path

from doit.exceptions import TaskFailed

from tasks.config import load as config
from tasks.errors import StackError
from tasks.families import images as image_tasks
from tasks.families.shared import image_builds
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
    for task in image_builds.generate(cfg, task_dep=["_preflight:images"]):
        assert task["task_dep"] == ["_preflight:images"], task["name"]
    assert all(task["task_dep"] == [] for task in image_builds.generate(cfg))
