"""doit tasks: base image, the optional shared builder image, and one content-addressed
image per service, each built from its build spec (services.<name>.build or
images.service_build: context, dockerfile, target, args, builder).

Propagation: the builder re-runs when its inputs change; every service build that
copies from it then re-runs too, but the layer cache makes a service whose copied
files did not change come out with the same image ID, hence the same tag and the
same .ref bytes, so nothing downstream of it (md5 on .ref files) moves.

The task dicts themselves come from tasks/families/shared/image_builds.py, shared with Minikube's image
tasks (which build the same images into Minikube's daemon); this family names them
`images:*` and adds the preflight and pre_build hooks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from doit.tools import config_changed

from tasks.errors import StackError
from tasks.families.shared.creators import failing, user_errors
from tasks.families.shared.image_builds import generate
from tasks.families.shared.registry import Scope, Task, creator
from tasks.families.shared.run import Run
from tasks.model import Config
from tasks.ops import platforms
from tasks.output import console


@creator(Task("images", Scope.SELECTED), needs=("_preflight", "compose"))  # compose: pre_build hooks
def task_images(run: Run) -> Iterator[dict[str, Any]]:
    """Build the builder and every service image (content-addressed tags) for env=<name>."""
    cfg = run.try_config(run.env_for("images"))
    if isinstance(cfg, StackError):
        yield failing(cfg, name="config")
        return
    # The preflight (tasks/families/doctor.py) stops a run that cannot finish before any build
    # starts; the environment's pre_build hooks (tasks/families/compose.py) run before any build.
    deps = ["_preflight:images", *(["_compose_pre_build"] if cfg.hooks["pre_build"] else [])]
    missing = platforms.unbuildable(cfg)
    if cfg.images.platforms:
        yield _platforms_task(cfg, missing, run.root)
        deps.append("images:platforms")
    foreign = tuple(p for p in platforms.foreign(cfg) if p not in missing)
    yield from generate(cfg, task_dep=deps, foreign=foreign)


@user_errors
def check_platforms(cfg: Config, missing: tuple[str, ...], root: Path) -> None:
    """A platform this machine cannot build: a cloud environment stops (its nodes may be of that
    platform), a local one builds the host's and says so."""
    if missing and cfg.cloud is not None:
        raise platforms.refuse_unbuildable(cfg, missing, root)
    if missing:
        console.note(platforms.host_only_note(cfg, missing))
    else:
        # What is built: the host's images always (Compose and Minikube run them), then the foreign.
        built = (platforms.host(), *platforms.foreign(cfg))
        console.step(f"images for {', '.join(built)} (host: {platforms.host()})")


def _platforms_task(cfg: Config, missing: tuple[str, ...], root: Path) -> dict[str, Any]:
    return {
        "name": "platforms",
        "doc": "Which of images.platforms this machine can build (foreign ones need emulation).",
        "actions": [(check_platforms, [cfg, missing, root])],
        # Said once per answer: a run that changes neither the list nor the machine says nothing.
        "uptodate": [config_changed({"platforms": cfg.images.platforms, "missing": missing})],
    }


@creator(Task("builder_image", Scope.SELECTED), needs=("images", "base_image"))
def task_builder_image(run: Run) -> dict[str, Any]:
    """Build only the shared builder image (and its base) for env=<name>."""
    cfg = run.try_config(run.env_for("builder_image"))
    if isinstance(cfg, StackError):
        return failing(cfg)  # `images:builder` does not exist: say why, not "no such task"
    if not any(svc.build.builder for svc in cfg.services.values()):
        # Nothing to do, and nothing that fails: this stack builds every image on its own.
        return {"actions": None, "task_dep": ["base_image"]}
    return {"actions": None, "task_dep": ["images:builder"]}


@creator(Task("base_image", Scope.SELECTED), needs=("images",))
def task_base_image(run: Run) -> dict[str, Any]:
    """Make the base image with debootstrap, when the environment asks for it (images.base)."""
    cfg = run.try_config(run.env_for("base_image"))
    if isinstance(cfg, StackError):
        return failing(cfg)
    return {"actions": None, "task_dep": ["images:base"] if cfg.images.base == "debootstrap" else []}
