"""Which services a batch of changed files concerns: the inner loop's "one service's change
costs one service", from the configuration alone.

A file belongs to a service when it is (or is under) one of the service's `inputs`, or is
its own Dockerfile, or lies in a build context no other service shares. A file of a shared
context that no service claims (shared code, a shared test) concerns every service built
from that context; the shared builder's Dockerfile concerns every service that copies from
it. A file under environments/ or templates/ changes the configuration or what is
rendered from it: every service, with a render first.
"""

from __future__ import annotations

from dataclasses import dataclass

from tasks.model import Config, Service

CONFIG_FOLDERS = ("environments/", "templates/")


@dataclass(frozen=True)
class Work:
    """What one cycle must do for a batch of changed files."""

    services: tuple[str, ...]  # whose images to rebuild and containers to recreate
    config: bool  # the configuration or the templates changed: reload, render, redeploy all

    @property
    def empty(self) -> bool:
        return not self.services and not self.config


def under(path: str, root: str) -> bool:
    """`path` is `root` or lies inside it (both project-relative)."""
    root = root.rstrip("/")
    return root in ("", ".") or path == root or path.startswith(root + "/")


def built(cfg: Config) -> list[Service]:
    """The services whose images this environment builds and runs."""
    return [svc for svc in cfg.services.values()]


def owners(cfg: Config, path: str) -> set[str]:
    """The services a single changed file concerns (empty: none of them)."""
    services = built(cfg)
    own = {s.name for s in services if any(under(path, i) for i in s.inputs) or path == s.build.dockerfile}
    if own:
        return own
    builder = cfg.images.builder
    if builder is not None and path == builder.dockerfile:
        return {s.name for s in services if s.build.builder}
    in_context = {s.name for s in services if under(path, s.build.context)}
    if builder is not None and under(path, builder.context):
        in_context |= {s.name for s in services if s.build.builder}
    return in_context


def plan(cfg: Config, changed: list[str]) -> Work:
    """The work a batch of changed files (project-relative) asks for."""
    if any(path.startswith(CONFIG_FOLDERS) for path in changed):
        return Work(tuple(s.name for s in built(cfg)), True)
    names: set[str] = set()
    for path in changed:
        names |= owners(cfg, path)
    order = [s.name for s in built(cfg)]
    return Work(tuple(n for n in order if n in names), False)
