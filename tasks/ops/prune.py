"""`doit images_prune`: keep the newest N content tags per image repository.

Every build of changed content adds a tag (tasks/images.py), so tags pile up in the
daemon. This removes old *content* tags (12 hex digits) of the repositories this
environment builds, newest kept first, and never one that is
  - recorded in any environment's .build/<env>/<daemon>/<name>.ref (a later step uses it), or
  - the image of a container, running or stopped.
`docker image rm` without --force removes the tag; Docker deletes the image only when
no tag and no container is left. Only the local daemon is pruned (not Minikube's).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks import state, tools
from tasks.errors import StackError, user_errors
from tasks.image_tasks import image_names
from tasks.model import Config
from tasks.paths import BUILD
from tasks.run import Run

DEFAULT_KEEP = 3
CONTENT_TAG = re.compile(r"^[0-9a-f]{12}$")


@dataclass(frozen=True)
class Tagged:
    repo: str
    tag: str
    image_id: str
    created: str  # docker's CreatedAt; same format for every row, so it sorts

    @property
    def ref(self) -> str:
        return f"{self.repo}:{self.tag}"


def repositories(cfg: Config) -> list[str]:
    names = ["base", "builder", *image_names(cfg)]
    built_dbs = {db.name: db.image for db in cfg.databases.values() if db.build}
    return sorted({built_dbs.get(n) or cfg.image_ref(n) for n in names})


def recorded_refs(build: Path = BUILD) -> set[str]:
    """Every content reference any environment recorded, for any daemon."""
    return {p.read_text().strip() for p in build.glob("*/*/*.ref")}


def plan(tagged: list[Tagged], *, keep: int, protected_refs: set[str], used_ids: set[str],
         ours: set[str] | None = None) -> list[Tagged]:
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
        doomed += [t for t in items[keep:] if t.ref not in protected_refs and t.image_id not in used_ids
                   and (ours is None or t.ref in ours)]
    return doomed


def listing(repos: list[str]) -> list[Tagged]:
    out = tools.run("docker", "image", "ls", "--no-trunc", "--format",
                    "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedAt}}").stdout
    wanted = set(repos)
    rows = [line.split("\t") for line in out.splitlines()]
    return [Tagged(*row[:4]) for row in rows if len(row) >= 4 and row[0] in wanted]


def container_images() -> set[str]:
    """Image IDs of every container (running or stopped)."""
    ids = tools.run("docker", "ps", "-aq", "--no-trunc").stdout.split()
    if not ids:
        return set()
    return set(tools.run("docker", "inspect", "--format", "{{.Image}}", *ids).stdout.split())


@user_errors
def prune(cfg: Config | StackError, keep: int) -> None:
    if isinstance(cfg, StackError):
        raise cfg
    if keep < 1:
        raise StackError(f"--keep {keep} would remove the newest tag too", fix="use --keep 1 or more")
    doomed = plan(listing(repositories(cfg)), keep=keep, protected_refs=recorded_refs(),
                  used_ids=container_images(), ours=state.built_refs())
    for item in doomed:
        tools.run("docker", "image", "rm", item.ref)
        print(f"  removed {item.ref}")
    print(f"  {len(doomed)} old tag(s) removed; kept the newest {keep} per repository, "
          f"every recorded reference, every image a container uses, and every tag this checkout "
          f"did not build ({state.built_log()})")


def task_images_prune(run: Run) -> dict[str, Any]:
    """Remove old content tags from the local daemon, keeping the newest --keep per image."""
    cfg = run.try_config(run.env_for("images_prune"))
    return {"actions": [(prune, [cfg])], "uptodate": [False], "verbosity": 2, "task_dep": ["_preflight:docker"],
            "params": run.params("images_prune")}
