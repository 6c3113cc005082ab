"""`doit images_prune` (tasks/families/prune.py): keep the newest N content tags per image repository.

Every build of changed content adds a tag (tasks/store/images.py), so tags pile up in the
daemon. This removes old *content* tags (12 hex digits) of the repositories this
environment builds, newest kept first, and never one that is
  - recorded in any environment's .build/<env>/<daemon>/<name>.ref (a later step uses it), or
  - the image of a container, running or stopped.
`docker image rm` without --force removes the tag; Docker deletes the image only when
no tag and no container is left. Only the local daemon is pruned (not Minikube's).
"""

from __future__ import annotations

import re

from tasks.errors import StackError
from tasks.model import Config
from tasks.output import console
from tasks.programs import docker
from tasks.programs.docker import Tagged
from tasks.store import state

DEFAULT_KEEP = 3
CONTENT_TAG = re.compile(r"^[0-9a-f]{12}$")


def repositories(cfg: Config) -> list[str]:
    names = ["base", "builder", *cfg.built_images()]
    built_dbs = {db.name: db.image for db in cfg.databases.values() if db.build}
    return sorted({built_dbs.get(n) or cfg.image_ref(n) for n in names})


def recorded_refs() -> set[str]:
    """Every content reference any environment recorded, for any daemon."""
    return {p.read_text().strip() for p in state.recorded_ref_files()}


def plan(
    tagged: list[Tagged],
    *,
    keep: int,
    protected_refs: set[str],
    used_ids: set[str],
    ours: set[str] | None = None,
) -> list[Tagged]:
    """The tags to remove: beyond the newest `keep` per repository, not protected, and (when
    `ours` is given) built by this checkout: a daemon shared by several checkouts keeps the
    others' tags, which look just like ours."""
    doomed = []
    by_repo: dict[str, list[Tagged]] = {}
    for item in tagged:
        if CONTENT_TAG.match(item.tag):
            by_repo.setdefault(item.repo, []).append(item)
    for items in by_repo.values():
        items.sort(key=lambda t: t.created, reverse=True)
        doomed += [
            t
            for t in items[keep:]
            if t.ref not in protected_refs and t.image_id not in used_ids and (ours is None or t.ref in ours)
        ]
    return doomed


def prune(cfg: Config, keep: int) -> None:
    """Remove the tags `plan` picks from the local daemon, saying what was kept."""
    if keep < 1:
        raise StackError(f"--keep {keep} would remove the newest tag too", fix="use --keep 1 or more")
    doomed = plan(
        docker.tagged(repositories(cfg)),
        keep=keep,
        protected_refs=recorded_refs(),
        used_ids=docker.container_image_ids(),
        ours=state.built_refs(),
    )
    for item in doomed:
        docker.remove_image(item.ref)
        console.step(f"removed {item.ref}")
    console.step(
        f"{len(doomed)} old tag(s) removed; kept the newest {keep} per repository, "
        f"every recorded reference, every image a container uses, and every tag this checkout "
        f"did not build ({state.built_log()})"
    )
