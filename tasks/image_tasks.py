"""doit tasks: base image, shared builder image, and one content-addressed image per service.

Propagation: the builder re-runs when its inputs change; every service build then
re-runs too, but the layer cache makes a service whose copied files did not change
come out with the same image ID, hence the same tag and the same .ref bytes, so
nothing downstream of it (md5 on .ref files) moves.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from tasks import config, docker_images, images, paths
from tasks.errors import StackError, user_errors
from tasks.model import Config
from tasks.paths import files_under, root

DockerEnv = Callable[[], Mapping[str, str]]


def _no_env() -> Mapping[str, str]:
    return {}


def selected_env() -> str:
    return paths.selected_env()


def image_names(cfg: Config) -> list[str]:
    """What `images` builds: every enabled service, and databases we build ourselves."""
    return [*cfg.services, *(db.name for db in cfg.databases.values()
                              if db.build and db.placement != "disabled")]


def generate(cfg: Config, *, basename: str = "images", docker_env: DockerEnv = _no_env,
             task_dep: list[str] | None = None) -> list[dict[str, Any]]:
    """Every image task of one environment, for one daemon (named by `basename`).

    Returned as plain task dicts named `<basename>:<image>`, so the Minikube tasks can
    build the same images into Minikube's daemon under their own names and state.
    """
    env = cfg.env or "local"

    def iid(name: str) -> Path:
        return images.iid_file(env, name, basename)

    def ref(name: str) -> Path:
        return images.ref_file(env, name, basename)

    def current(name: str) -> Callable[[], bool]:
        return lambda: docker_images.is_current(iid(name), ref(name), docker_env())

    def recorded(name: str) -> str:
        return ref(name).read_text().strip()

    offline_base = cfg.images.base == "debootstrap"
    base_deps = [str(ref("base"))] if offline_base else []

    def base_arg() -> str:
        # The debootstrap base is referenced by its recorded content tag.
        return recorded("base") if offline_base else cfg.images.base_image

    tasks: list[dict[str, Any]] = []
    deps = list(task_dep or [])
    if offline_base:
        repo = f"{cfg.images.prefix}/base"

        @user_errors
        def make_base() -> None:
            # Even when forced (`doit -a`): a new debootstrap is never byte-identical and
            # would move every tag downstream, so a base the daemon still has is kept.
            # To make a fresh one, remove .build/<env>/<basename>/base.* first.
            if current("base")():
                print(f"[base] keeping {recorded('base')}", flush=True)
                return
            docker_images.debootstrap_base("base", suite=cfg.images.suite, repo=repo, iid=iid("base"),
                                           ref=ref("base"), docker_env=docker_env())
        tasks.append({
            "name": "base", "doc": "Base image made offline with debootstrap + docker import.",
            "actions": [make_base], "targets": [str(ref("base"))], "task_dep": deps,
            # debootstrap output is never byte-identical, so only a missing image rebuilds it.
            "uptodate": [current("base")],
        })

    def build_task(name: str, *, dockerfile: str, context: str, inputs: list[str],
                   args: Callable[[], dict[str, str]], repo: str, doc: str) -> dict[str, Any]:
        @user_errors
        def action() -> None:
            docker_images.build(name, dockerfile=dockerfile, context=context, args=args(), repo=repo,
                                iid=iid(name), ref=ref(name), docker_env=docker_env())
        return {
            "name": name, "doc": doc, "actions": [action],
            "file_dep": sorted({dockerfile, *inputs, *base_deps}),
            "targets": [str(ref(name)), str(iid(name))],
            "uptodate": [current(name)], "task_dep": deps, "clean": True,
        }

    context = cfg.images.builder_context
    tasks.append(build_task(
        "builder", dockerfile=cfg.images.builder_dockerfile, context=context,
        inputs=files_under(context), args=lambda: {"BASE_IMAGE": base_arg()},
        repo=f"{cfg.images.prefix}/builder", doc="Shared builder image: builds and tests the app once."))
    def service_args(name: str, health: str) -> Callable[[], dict[str, str]]:
        # Read at run time: the builder's tag is known only once it has been built.
        return lambda: {"BASE_IMAGE": base_arg(), "BUILDER_IMAGE": recorded("builder"),
                        "SERVICE": name, "HEALTH_PORT": health}

    for svc in cfg.services.values():
        tasks.append(build_task(
            svc.name, dockerfile=cfg.images.service_dockerfile, context=context,
            inputs=[str(ref("builder"))],
            args=service_args(svc.name, str(svc.health.port) if svc.health else ""),
            repo=cfg.image_ref(svc.name), doc=f"Service image for {svc.name} (copies from the builder)."))
    for db in cfg.databases.values():
        if db.build and db.placement != "disabled":
            tasks.append(build_task(
                db.name, dockerfile=f"{db.build}/Dockerfile", context=db.build,
                inputs=files_under(db.build), args=lambda: {"BASE_IMAGE": base_arg()},
                repo=db.image, doc=f"Offline {db.name} image from Debian packages."))
    return tasks


def _load() -> Config:
    return config.load(selected_env(), root())


def config_failure(exc: Exception) -> dict[str, Any]:
    """A broken config must not crash `doit list`; the task fails with the clean message."""
    @user_errors
    def fail() -> None:
        raise exc
    return {"name": "config", "doc": "Configuration error (run it to see).", "actions": [fail]}


def task_images() -> Iterator[dict[str, Any]]:
    """Build the builder and every service image (content-addressed tags) for env=<name>."""
    try:
        cfg = _load()
    except StackError as exc:
        yield config_failure(exc)
        return
    # The preflight (tasks/doctor_tasks.py) stops a run that cannot finish before any build
    # starts; the environment's pre_build hooks (tasks/compose_tasks.py) run before any build.
    pre = ["_compose_pre_build"] if cfg.hooks["pre_build"] else []
    yield from generate(cfg, task_dep=["_preflight:images", *pre])


def task_builder_image() -> dict[str, Any]:
    """Build only the shared builder image (and its base) for env=<name>."""
    return {"actions": None, "task_dep": ["images:builder"]}


def task_base_image() -> dict[str, Any]:
    """Make the base image with debootstrap, when the environment asks for it (images.base)."""
    try:
        offline = _load().images.base == "debootstrap"
    except StackError:
        offline = False  # task_images reports the error
    return {"actions": None, "task_dep": ["images:base"] if offline else []}
