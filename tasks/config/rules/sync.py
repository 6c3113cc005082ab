"""Rules about live sync (`services.<name>.sync`, used by `doit dev`): what a rule copies, from
where, into what, and where sync may run at all.

A sync rule copies project files into running containers instead of building an image; the
rules keep that honest: only files the service's image is built from (so the next real build
makes the same code), only into containers that keep running (deployments, on a runtime the
developer owns), never on a cloud environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tasks.config import disk
from tasks.config.merged import Merged
from tasks.config.yamlpos import KeyPath
from tasks.model import RESTART_CONTAINER


def _rules(m: Merged) -> Iterator[tuple[str, KeyPath, dict[str, Any]]]:
    """(service, where, rule) of every sync rule of the enabled services, in file order."""
    for name in m.enabled():
        for i, rule in enumerate(m.data["services"][name].get("sync", [])):
            yield name, ("services", name, "sync", i), rule


def sync_is_not_for_cloud_environments(m: Merged) -> None:
    """A cloud cluster runs what was built and pushed, reviewed by CI: never a laptop's edits."""
    if "cloud" not in m.data:
        return
    for name in m.enabled():
        if m.data["services"][name].get("sync"):
            raise m.error(
                ("services", name, "sync"),
                f"service {name!r} has sync rules, but {m.env!r} is a cloud environment",
                "declare `sync:` in the files of the environments you develop in (not "
                "environments/stack.yaml), or set `sync: []` for it in this environment's file",
            )


def only_deployments_sync(m: Merged) -> None:
    for name in m.jobs_declaring("sync"):
        raise m.error(
            ("services", name, "sync"),
            f"job {name!r} has sync rules, but a job runs once: no container keeps running to sync into",
            "remove `sync:` from the job; `doit dev` rebuilds its image when its files change",
        )


def sync_sources_stay_in_the_project(m: Merged) -> None:
    """A symlink out of the project would copy files no one reviewed, which no build would make."""
    root = m.root.resolve()
    for _name, at, rule in _rules(m):
        real = Path(disk.real(m.root / rule["source"]))
        if not real.is_relative_to(root):
            raise m.error(
                at + ("source",),
                f"{rule['source']} leads out of the project (to {real}) through a symlink",
                "sync files inside the project: point at the real path inside it",
            )


def sync_sources_exist(m: Merged) -> None:
    for _name, at, rule in _rules(m):
        if disk.kind(m.root / rule["source"]) not in ("file", "dir"):
            raise m.error(
                at + ("source",),
                f"{rule['source']} is not a file or folder in the project",
                "fix the path (relative to the project root, like the build contexts) or create it",
            )


def _contexts(m: Merged, name: str) -> list[str]:
    """The folders a service's image is built from: its build context, and the builder's when
    it copies from the builder."""
    spec = m.build_of(name)
    if spec is None:
        return []
    contexts = [str(spec[1]["context"]).rstrip("/")]
    if spec[1].get("builder", False) and "builder" in m.data["images"]:
        contexts.append(str(m.data["images"]["builder"]["context"]).rstrip("/"))
    return list(dict.fromkeys(contexts))  # the builder's context is often the service's own


def sync_sources_are_in_the_build_context(m: Merged) -> None:
    """Else the synced container runs code no build of the image contains, and the next real
    build would silently drop the change."""
    for name, at, rule in _rules(m):
        source = rule["source"].rstrip("/")
        contexts = _contexts(m, name)
        if not any(c in (".", "") or source == c or source.startswith(c + "/") for c in contexts):
            raise m.error(
                at + ("source",),
                f"{source} is not in the build context of {name!r} ({', '.join(contexts) or 'none'}), "
                "so no build of its image contains it",
                "sync a path inside the service's build context, or build the image from a "
                "context that holds it",
            )


def restarting_the_container_is_for_compose(m: Merged) -> None:
    """Kubernetes restarts a container from its image, which drops the synced files."""
    if m.data.get("runtime") != "kubernetes":
        return
    for _name, at, rule in _rules(m):
        if rule.get("restart") == RESTART_CONTAINER:
            raise m.error(
                at + ("restart",),
                f"`restart: {RESTART_CONTAINER}` on Kubernetes starts the container again from its "
                "image, without the synced files",
                "write a command that makes the running process reload its code, e.g. 'kill -HUP 1'",
            )
