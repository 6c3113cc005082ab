"""What creates each managed database of a cloud environment: a Terraform module, or nothing.

`cloud.databases.<db>.module` in environments/<env>.yaml chooses one of MODULES; the
module's own settings sit beside that choice. A database with no entry (or `module:
external`) is someone else's: its endpoint is all we know, and the rendered roots hold
nothing for it. Checking is here, next to the table it checks; config.py calls `check`.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tasks.config.yamlpos import KeyPath
from tasks.errors import ConfigError

# (path, problem, fix) -> the located error; config.py passes its merged-file locator.
Fail = Callable[[KeyPath, str, str], ConfigError]

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

    def settings(self) -> list[str]:
        return [*self.required, *self.optional]


MODULES: dict[str, Module] = {
    "mongodb-atlas": Module(
        required={"instance_size": "M10"}, optional={"username": PROJECT, "database_name": PROJECT}
    ),
    "redis-cloud": Module(
        required={"deployment_cidr": "192.168.10.0/24"}, optional={"database_name": PROJECT}
    ),
    # The master password is made and kept by RDS (Secrets Manager): no password setting.
    "rds-postgres": Module(
        required={"instance_class": "db.t4g.micro"},
        optional={"storage_gb": 20, "username": PROJECT, "database_name": PROJECT},
        names=r"[A-Za-z][A-Za-z0-9_]{0,62}",
        names_are="1 to 63 letters, digits or '_', starting with a letter",
        name_of=lambda project: project.replace("-", "_"),
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


def chosen(cloud: dict[str, Any] | None, project: str) -> dict[str, dict[str, Any]]:
    """module name -> its settings (defaults applied, `database`: the stack database it
    serves), for every module a (checked) cloud block uses; external ones are left out."""
    out: dict[str, dict[str, Any]] = {}
    for db, entry in ((cloud or {}).get("databases") or {}).items():
        module = entry["module"]
        if module == EXTERNAL:
            continue
        out[module] = {**settings(module, entry, project), "database": db}
    return dict(sorted(out.items()))


def settings(module: str, entry: dict[str, Any], project: str) -> dict[str, Any]:
    """The module's settings: what the file says, else the defaults (names: the project's)."""
    spec = MODULES[module]
    defaults = {k: spec.name_of(project) if v == PROJECT else v for k, v in spec.optional.items()}
    return {**defaults, **{k: v for k, v in entry.items() if k != "module"}}


def check(cloud: dict[str, Any], databases: dict[str, str], project: str, fail: Fail) -> None:
    """`databases`: stack database name -> its placement in this environment."""
    entries: dict[str, Any] = cloud.get("databases") or {}
    users: dict[str, str] = {}
    for db, entry in entries.items():
        at = ("cloud", "databases", db)
        if db not in databases:
            close = difflib.get_close_matches(db, list(databases), n=1)
            raise fail(
                at,
                f"unknown database {db!r}",
                (f"did you mean {close[0]!r}? " if close else "")
                + f"name one of the stack's databases ({', '.join(databases) or 'none'})",
            )
        module = entry["module"]
        spec = MODULES[module]
        for key in entry:
            if key != "module" and key not in spec.settings():
                owner = [name for name, m in MODULES.items() if key in m.settings()]
                takes = ", ".join(spec.settings()) or "no settings"
                raise fail(
                    at + (key,),
                    f"{key} is a setting of {' or '.join(owner)}, not of {module}",
                    f"remove it ({module} takes {takes})",
                )
        for key, example in spec.required.items():
            if key not in entry:
                raise fail(
                    at, f"module {module} needs {key!r}", f"add `{key}: {example}` under cloud.databases.{db}"
                )
        if databases[db] != EXTERNAL:
            what = (
                "is an endpoint"
                if module == EXTERNAL
                else f"creates a managed {db} that services reach by its endpoint"
            )
            raise fail(
                at + ("module",),
                f"{db} is placed {databases[db]} here, but `module: {module}` {what}",
                f"place {db} external (with its endpoint under endpoints), or remove cloud.databases.{db}",
            )
        if module != EXTERNAL and module in users:
            raise fail(
                at + ("module",),
                f"module {module} is already chosen for {users[module]}",
                "a module makes one database per environment: write `module: external` for one of them",
            )
        users[module] = db
        resolved = settings(module, entry, project)
        for key in NAMES:
            if key in resolved and not re.fullmatch(spec.names, resolved[key]):
                given = key in entry
                raise fail(
                    at + ((key,) if given else ()),
                    f"{module} needs a {key} of {spec.names_are}; "
                    + (
                        f"{resolved[key]!r} is not"
                        if given
                        else f"the default {resolved[key]!r} (from the project name) is not"
                    ),
                    f"{'change' if given else 'set'} `{key}:` under cloud.databases.{db}",
                )
        if module == "redis-cloud":
            vpc = ipaddress.ip_network(cloud["vpc_cidr"])
            net = ipaddress.ip_network(entry["deployment_cidr"])
            if vpc.overlaps(net):
                raise fail(
                    at + ("deployment_cidr",),
                    f"{net} overlaps the VPC {vpc}",
                    "choose a block outside cloud.vpc_cidr",
                )
