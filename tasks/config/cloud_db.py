"""What creates each managed database of a cloud environment: a Terraform module, or nothing.

`cloud.databases.<db>.module` in environments/<env>.yaml chooses one of MODULES; the
module's own settings sit beside that choice. A database with no entry (or `module:
external`) is someone else's: its endpoint is all we know, and the rendered roots hold
nothing for it. The rules that check a choice against this table are in
tasks/config/rules/cloud.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tasks.model import Cloud

EXTERNAL = "external"


# Where a setting defaults to the project name (written the way the module accepts names).
PROJECT = "<project>"


@dataclass(frozen=True)
class Module:
    """A database module under terraform/modules/: its required settings (with an example
    for the fix text), its optional ones with their defaults, and the names it accepts."""

    required: dict[str, str]
    optional: dict[str, Any] = field(default_factory=dict)
    # What `username`/`database_name` must look like for this module, and how to say it.
    names: str = r"[A-Za-z0-9][A-Za-z0-9-]{0,39}"
    names_are: str = "1 to 40 letters, digits or '-', starting with a letter or digit"
    # How a project name (a DNS label) becomes a default name here.
    name_of: Callable[[str], str] = str
    # The database it makes, as image names spell it (`redis:7.2`, `acme/postgres`).
    kind: str = ""

    def settings(self) -> list[str]:
        return [*self.required, *self.optional]


MODULES: dict[str, Module] = {
    "mongodb-atlas": Module(
        required={"instance_size": "M10"},
        optional={"username": PROJECT, "database_name": PROJECT},
        kind="mongo",
    ),
    "redis-cloud": Module(
        required={"deployment_cidr": "192.168.10.0/24"}, optional={"database_name": PROJECT}, kind="redis"
    ),
    # The master password is made and kept by RDS (Secrets Manager): no password setting.
    "rds-postgres": Module(
        required={"instance_class": "db.t4g.micro"},
        optional={"storage_gb": 20, "username": PROJECT, "database_name": PROJECT},
        names=r"[A-Za-z][A-Za-z0-9_]{0,62}",
        names_are="1 to 63 letters, digits or '_', starting with a letter",
        name_of=lambda project: project.replace("-", "_"),
        kind="postgres",
    ),
    EXTERNAL: Module(required={}),
}
NAMES = ("username", "database_name")
ATLAS_SIZES = ("M10", "M20", "M30", "M40", "M50", "M60", "M80")
# Keys that once sat directly under `cloud:`; each names its new home in the error.
MOVED = {
    "mongodb_instance_size": "cloud.databases.<db>: {module: mongodb-atlas, instance_size: M10}",
    "redis_deployment_cidr": "cloud.databases.<db>: {module: redis-cloud, deployment_cidr: 192.168.10.0/24}",
}


def chosen(cloud: Cloud | None, project: str) -> dict[str, dict[str, Any]]:
    """module name -> its settings (defaults applied, `database`: the stack database it
    serves), for every module a cloud block uses; external ones are left out."""
    out: dict[str, dict[str, Any]] = {}
    for db, entry in (cloud.databases if cloud else {}).items():
        if entry.module == EXTERNAL:
            continue
        out[entry.module] = {**settings(entry.module, entry.settings, project), "database": db}
    return dict(sorted(out.items()))


def settings(module: str, given: dict[str, Any], project: str) -> dict[str, Any]:
    """The module's settings: what the file gives, else the defaults (names: the project's)."""
    spec = MODULES[module]
    defaults = {k: spec.name_of(project) if v == PROJECT else v for k, v in spec.optional.items()}
    return {**defaults, **given}


def kind_of(image: str, build: str | None) -> str | None:
    """The kind of database it runs, when its image or build folder names one a module makes
    (`redis:7.2-bookworm`, `docker/postgres`); None when neither does (a name of its own)."""
    repository = image.split("@")[0].rsplit("/", 1)[-1].split(":")[0]
    names = [repository, *([build.rstrip("/").rsplit("/", 1)[-1]] if build else [])]
    kinds = {m.kind for m in MODULES.values() if m.kind}
    found = sorted({kind for kind in kinds for name in names if kind in name.lower()})
    return found[0] if len(found) == 1 else None
