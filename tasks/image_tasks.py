"""doit tasks: base image, shared builder image, and one content-addressed image per service.

Propagation: the builder re-runs when its inputs change; every service build then
re-runs too, but the layer cache makes a service whose copied files did not change
come out with the same image ID, hence the same tag and the same .ref bytes, so
nothing downstream of it (md5 on .ref files) moves.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks import images
from tasks.creators import failing
from tasks.errors import StackError, user_errors
from tasks.model import Config
from tasks.ops import docker_images
from tasks.paths import files_under
from tasks.run import Run

DockerEnv = Callable[[], Mapping[str, str]]


def _no_env() -> Mapping[str, str]:
    return {}


def image_names(cfg: Config) -> list[str]:
    """What `images` builds: every enabled service, and databases we build ourselves."""
    return [*cfg.services, *(db.name for db in cfg.databases.values()
                              if db.build and db.placement != "disabled")]


@dataclass(frozen=True)
class Image:
    """One image task's fixed facts; named functions below take it (no lambdas: `doit info`
    names what a task runs and checks)."""

    env: str
    basename: str
    name: str

    @property
    def iid(self) -> Path:
        return images.iid_file(self.env, self.name, self.basename)

    @property
    def ref(self) -> Path:
        return images.ref_file(self.env, self.name, self.basename)

    def sibling(self, name: str) -> Image:
        return Image(self.env, self.basename, name)

    def recorded(self) -> str:
        return self.ref.read_text().strip()


def image_in_daemon(image: Image, docker_env: DockerEnv) -> bool:
    """uptodate: built before and the daemon still has it under its content tag.

    Never raises: `doit list --status`, `info` and `reset-dep` ask it too. A daemon that
    cannot be asked (Minikube's, with minikube missing or stopped) means "not done", and
    the build action then reports why."""
    try:
        env = docker_env()
    except StackError:
        return False
    return docker_images.is_current(image.iid, image.ref, env)


def base_arg(cfg: Config, image: Image) -> str:
    # The debootstrap base is referenced by its recorded content tag.
    return image.sibling("base").recorded() if cfg.images.base == "debootstrap" else cfg.images.base_image


def build_args(cfg: Config, image: Image, service: str | None, health: str) -> dict[str, str]:
    """Read at run time: the base's and builder's tags are known only once they are built."""
    args = {"BASE_IMAGE": base_arg(cfg, image)}
    if service is not None:
        args |= {"BUILDER_IMAGE": image.sibling("builder").recorded(), "SERVICE": service,
                 "HEALTH_PORT": health}
    return args


@user_errors
def make_base(cfg: Config, image: Image, docker_env: DockerEnv) -> None:
    # Even when forced (`doit -a`): a new debootstrap is never byte-identical and
    # would move every tag downstream, so a base the daemon still has is kept.
    # To make a fresh one, remove .build/<env>/<basename>/base.* first.
    if image_in_daemon(image, docker_env):
        print(f"[base] keeping {image.recorded()}", flush=True)
        return
    docker_images.debootstrap_base("base", suite=cfg.images.suite, repo=f"{cfg.images.prefix}/base",
                                   iid=image.iid, ref=image.ref, docker_env=docker_env())


@user_errors
def build_image(cfg: Config, image: Image, dockerfile: str, context: str, repo: str, service: str | None,
                health: str, docker_env: DockerEnv) -> None:
    docker_images.build(image.name, dockerfile=dockerfile, context=context,
                        args=build_args(cfg, image, service, health), repo=repo, iid=image.iid,
                        ref=image.ref, docker_env=docker_env())


def generate(cfg: Config, *, basename: str = "images", docker_env: DockerEnv = _no_env,
             task_dep: list[str] | None = None) -> list[dict[str, Any]]:
    """Every image task of one environment, for one daemon (named by `basename`).

    Returned as plain task dicts named `<basename>:<image>`, so the Minikube tasks can
    build the same images into Minikube's daemon under their own names and state.
    """
    env = cfg.env or "local"
    offline_base = cfg.images.base == "debootstrap"
    base = Image(env, basename, "base")
    base_deps = [str(base.ref)] if offline_base else []

    tasks: list[dict[str, Any]] = []
    deps = list(task_dep or [])
    if offline_base:
        tasks.append({
            "name": "base", "doc": "Base image made offline with debootstrap + docker import.",
            "actions": [(make_base, [cfg, base, docker_env])], "targets": [str(base.ref)], "task_dep": deps,
            # debootstrap output is never byte-identical, so only a missing image rebuilds it.
            "uptodate": [(image_in_daemon, [base, docker_env])],
        })

    def build_task(name: str, *, dockerfile: str, context: str, inputs: list[str], repo: str, doc: str,
                   service: str | None = None, health: str = "") -> dict[str, Any]:
        image = Image(env, basename, name)
        return {
            "name": name, "doc": doc,
            "actions": [(build_image, [cfg, image, dockerfile, context, repo, service, health, docker_env])],
            "file_dep": sorted({dockerfile, *inputs, *base_deps}),
            "targets": [str(image.ref), str(image.iid)],
            "uptodate": [(image_in_daemon, [image, docker_env])], "task_dep": deps, "clean": True,
        }

    context = cfg.images.builder_context
    builder_inputs = files_under(context)
    tasks.append(build_task(
        "builder", dockerfile=cfg.images.builder_dockerfile, context=context, inputs=builder_inputs,
        repo=f"{cfg.images.prefix}/builder", doc="Shared builder image: builds and tests the app once."))
    for svc in cfg.services.values():
        # The builder's inputs are listed too: a source edit then shows as this image's own
        # reason to rebuild in `doit info` (its builder will change), not as "up-to-date".
        tasks.append(build_task(
            svc.name, dockerfile=cfg.images.service_dockerfile, context=context,
            inputs=[str(Image(env, basename, "builder").ref), *builder_inputs],
            service=svc.name, health=str(svc.health.port) if svc.health else "",
            repo=cfg.image_ref(svc.name), doc=f"Service image for {svc.name} (copies from the builder)."))
    for db in cfg.databases.values():
        if db.build and db.placement != "disabled":
            tasks.append(build_task(
                db.name, dockerfile=f"{db.build}/Dockerfile", context=db.build,
                inputs=files_under(db.build), repo=db.image, doc=f"Offline {db.name} image from Debian packages."))
    return tasks


def task_images(run: Run) -> Iterator[dict[str, Any]]:
    """Build the builder and every service image (content-addressed tags) for env=<name>."""
    cfg = run.try_config(run.env_for("images"))
    if isinstance(cfg, StackError):
        yield failing(cfg, name="config")
        return
    # The preflight (tasks/doctor_tasks.py) stops a run that cannot finish before any build
    # starts; the environment's pre_build hooks (tasks/compose_tasks.py) run before any build.
    pre = ["_compose_pre_build"] if cfg.hooks["pre_build"] else []
    yield from generate(cfg, task_dep=["_preflight:images", *pre])


def task_builder_image(run: Run) -> dict[str, Any]:
    """Build only the shared builder image (and its base) for env=<name>."""
    cfg = run.try_config(run.env_for("builder_image"))
    if isinstance(cfg, StackError):
        return failing(cfg)  # `images:builder` does not exist: say why, not "no such task"
    return {"actions": None, "task_dep": ["images:builder"]}


def task_base_image(run: Run) -> dict[str, Any]:
    """Make the base image with debootstrap, when the environment asks for it (images.base)."""
    cfg = run.try_config(run.env_for("base_image"))
    if isinstance(cfg, StackError):
        return failing(cfg)
    return {"actions": None, "task_dep": ["images:base"] if cfg.images.base == "debootstrap" else []}
