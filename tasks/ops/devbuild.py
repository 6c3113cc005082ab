"""The inner loop's image builds: the changed services' images and nothing else.

The build arguments are the image tasks' (tasks/families/shared/image_builds.py): the
stack's own args, UID, SERVICE, BASE_IMAGE and, for an image that copies from the shared
builder, BUILDER_IMAGE. Each image is recorded where the image tasks record it
(`.build/<env>/<daemon>/<name>.ref`), so Compose and the cluster see the new content tag.

The shared builder is rebuilt only when a changed file is one of its inputs, and when one
service alone changed it is built with SERVICE=<that service>: a builder may use it to run
only that service's tests (the demo's does). What the service images copy from it must not
depend on SERVICE, so their content tags are those a full build gives; the next
`doit compose_up` rebuilds the builder for every service (its inputs changed), and the
service images come out with the same IDs.
"""

from __future__ import annotations

from collections.abc import Mapping

from tasks.model import Build, Config
from tasks.ops import docker_images
from tasks.store import images

BUILDER = "builder"


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def base_image(cfg: Config, daemon: str) -> str:
    """BASE_IMAGE: the pulled base, or the content tag of the debootstrapped one."""
    if cfg.images.base == "debootstrap":
        return images.ref_file(cfg.env, "base", daemon).read_text().strip()
    return cfg.images.base_image


def args(cfg: Config, build: Build, service: str | None, daemon: str) -> dict[str, str]:
    """The build arguments of one image, as the image tasks pass them."""
    out = {key: _text(value) for key, value in build.args.items()} | {"UID": str(cfg.images.uid)}
    out |= {"SERVICE": service} if service is not None else {}
    out["BASE_IMAGE"] = base_image(cfg, daemon)
    if build.builder:
        out["BUILDER_IMAGE"] = images.ref_file(cfg.env, BUILDER, daemon).read_text().strip()
    return out


def needs_builder(cfg: Config, services: tuple[str, ...], changed: list[str], daemon: str = "images") -> bool:
    """Rebuild the shared builder: one of these services copies from it and a changed file
    is its Dockerfile or lies in its context (or it was never built)."""
    builder = cfg.images.builder
    if builder is None or not any(cfg.services[s].build.builder for s in services):
        return False
    if not images.ref_file(cfg.env, BUILDER, daemon).exists():
        return True
    context = builder.context.rstrip("/") + "/"
    return any(p == builder.dockerfile or p.startswith(context) for p in changed)


def build(
    cfg: Config,
    services: tuple[str, ...],
    changed: list[str],
    *,
    daemon: str = "images",
    docker_env: Mapping[str, str] | None = None,
    full: bool = False,
) -> dict[str, str]:
    """Build the builder (when needed) and each service's image; name -> new content ref."""
    env = dict(docker_env or {})
    builder = cfg.images.builder
    if builder is not None and (full or needs_builder(cfg, services, changed, daemon)):
        # One service: its tests only (SERVICE); several, or the configuration: all of them.
        one = services[0] if len(services) == 1 and not full else None
        docker_images.build(
            BUILDER,
            dockerfile=builder.dockerfile,
            context=builder.context,
            args=args(cfg, builder, one, daemon),
            stage=builder.target,
            repo=f"{cfg.images.prefix}/{BUILDER}",
            iid=images.iid_file(cfg.env, BUILDER, daemon),
            ref=images.ref_file(cfg.env, BUILDER, daemon),
            docker_env=env,
        )
    made = {}
    for name in services:
        svc = cfg.services[name]
        made[name] = docker_images.build(
            name,
            dockerfile=svc.build.dockerfile,
            context=svc.build.context,
            args=args(cfg, svc.build, name, daemon),
            stage=svc.build.target,
            repo=cfg.image_ref(name),
            iid=images.iid_file(cfg.env, name, daemon),
            ref=images.ref_file(cfg.env, name, daemon),
            docker_env=env,
        )
    return made
