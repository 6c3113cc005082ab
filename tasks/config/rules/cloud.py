"""Rules about the `cloud:` block: the cluster, and the module that creates each managed
database (the table of modules is tasks/config/cloud_db.py)."""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterator
from typing import Any

from tasks.config import cloud_db
from tasks.config.merged import Merged
from tasks.config.yamlpos import KeyPath


def node_count_is_ordered(m: Merged) -> None:
    if cloud := m.data.get("cloud"):
        count = cloud["node_count"]
        if not count["min"] <= count["desired"] <= count["max"]:
            raise m.error(
                ("cloud", "node_count"),
                f"node_count needs min <= desired <= max, got min {count['min']}, "
                f"desired {count['desired']}, max {count['max']}",
                "fix the three numbers",
            )


def _entries(m: Merged) -> Iterator[tuple[KeyPath, str, dict[str, Any]]]:
    """(where, database, entry) of every `cloud.databases` entry, in file order."""
    cloud = m.data.get("cloud") or {}
    for db, entry in (cloud.get("databases") or {}).items():
        yield ("cloud", "databases", db), db, entry


def cloud_databases_are_the_stacks(m: Merged) -> None:
    databases = list(m.data["databases"])
    for at, db, _entry in _entries(m):
        if db not in databases:
            close = difflib.get_close_matches(db, databases, n=1)
            raise m.error(
                at,
                f"unknown database {db!r}",
                (f"did you mean {close[0]!r}? " if close else "")
                + f"name one of the stack's databases ({', '.join(databases) or 'none'})",
            )


def cloud_database_settings_are_its_modules(m: Merged) -> None:
    for at, _db, entry in _entries(m):
        module = entry["module"]
        spec = cloud_db.MODULES[module]
        for key in entry:
            if key != "module" and key not in spec.settings():
                owner = [name for name, other in cloud_db.MODULES.items() if key in other.settings()]
                takes = ", ".join(spec.settings()) or "no settings"
                raise m.error(
                    at + (key,),
                    f"{key} is a setting of {' or '.join(owner)}, not of {module}",
                    f"remove it ({module} takes {takes})",
                )


def cloud_databases_have_their_modules_required_settings(m: Merged) -> None:
    for at, db, entry in _entries(m):
        module = entry["module"]
        missing = {k: v for k, v in cloud_db.MODULES[module].required.items() if k not in entry}
        if missing:
            raise m.error(
                at,
                f"module {module} needs {' and '.join(repr(k) for k in missing)}",
                f"add {', '.join(f'`{k}: {v}`' for k, v in missing.items())} under cloud.databases.{db}",
            )


def cloud_databases_get_a_module_of_their_engine(m: Merged) -> None:
    """`module: rds-postgres` makes PostgreSQL: a Redis database given it would be replaced by
    a database its services cannot speak to."""
    for at, db, entry in _entries(m):
        module = cloud_db.MODULES[entry["module"]]
        raw = m.data["databases"][db]
        kind = cloud_db.kind_of(raw["image"], raw.get("build"))
        if module.kind and kind and kind != module.kind:
            fits = [name for name, other in cloud_db.MODULES.items() if other.kind == kind]
            raise m.error(
                at + ("module",),
                f"{db} runs {raw['image']} (a {kind} database), but module {entry['module']} "
                f"makes a {module.kind} database",
                f"use `module: {' or '.join([*fits, cloud_db.EXTERNAL])}`",
            )


def cloud_databases_are_placed_external(m: Merged) -> None:
    """Services reach a managed database by its endpoint: it is never also run here."""
    for at, db, entry in _entries(m):
        module, placement = entry["module"], m.placement(db)
        if placement != cloud_db.EXTERNAL:
            what = (
                "is an endpoint"
                if module == cloud_db.EXTERNAL
                else f"creates a managed {db} that services reach by its endpoint"
            )
            raise m.error(
                at + ("module",),
                f"{db} is placed {placement} here, but `module: {module}` {what}",
                f"place {db} external (with its endpoint under endpoints), or remove cloud.databases.{db}",
            )


def a_module_makes_one_database(m: Merged) -> None:
    users: dict[str, str] = {}
    for at, db, entry in _entries(m):
        module = entry["module"]
        if module != cloud_db.EXTERNAL and module in users:
            raise m.error(
                at + ("module",),
                f"module {module} is already chosen for {users[module]}",
                "a module makes one database per environment: write `module: external` for one of them",
            )
        users[module] = db


def cloud_database_names_fit_their_module(m: Merged) -> None:
    """Given or defaulted from the project name, a user or database name is one the module accepts."""
    for at, db, entry in _entries(m):
        module = entry["module"]
        spec = cloud_db.MODULES[module]
        resolved = cloud_db.settings(
            module, {k: v for k, v in entry.items() if k != "module"}, m.data["project"]
        )
        for key in cloud_db.NAMES:
            if key in resolved and not re.fullmatch(spec.names, resolved[key]):
                given = key in entry
                raise m.error(
                    at + ((key,) if given else ()),
                    f"{module} needs a {key} of {spec.names_are}; "
                    + (
                        f"{resolved[key]!r} is not"
                        if given
                        else f"the default {resolved[key]!r} (from the project name) is not"
                    ),
                    f"{'change' if given else 'set'} `{key}:` under cloud.databases.{db}",
                )


def redis_cloud_deploys_outside_the_vpc(m: Merged) -> None:
    for at, _db, entry in _entries(m):
        if entry["module"] == "redis-cloud":
            vpc = ipaddress.ip_network(m.data["cloud"]["vpc_cidr"])
            net = ipaddress.ip_network(entry["deployment_cidr"])
            if vpc.overlaps(net):
                raise m.error(
                    at + ("deployment_cidr",),
                    f"{net} overlaps the VPC {vpc}",
                    "choose a block outside cloud.vpc_cidr",
                )


def cluster_version_is_kubernetes_version(m: Merged) -> None:
    """The cluster runs the Kubernetes version the manifests are validated against."""
    cloud = m.data.get("cloud")
    if not cloud:
        return
    version = cloud.get("cluster_version")
    wanted = ".".join(str(m.data["kubernetes_version"]).split(".")[:2])
    if version is not None and version != wanted:
        raise m.error(
            ("cloud", "cluster_version"),
            f"EKS runs Kubernetes {version}, but the manifests are validated against "
            f"kubernetes_version {m.data['kubernetes_version']}",
            f'set `cluster_version: "{wanted}"`, or change kubernetes_version in '
            f"{m.docs[0].file} to the cluster's version",
        )


def a_public_endpoint_names_who_may_reach_it(m: Merged) -> None:
    cloud = m.data.get("cloud")
    if cloud and not cloud.get("endpoint_private", False) and not cloud.get("endpoint_public_cidrs"):
        raise m.error(
            ("cloud",),
            "the public Kubernetes API endpoint has no allowed CIDR blocks",
            "list them under `endpoint_public_cidrs:` (your office, VPN or CI egress), "
            "or set `endpoint_private: true`",
        )


def argocd_settings_need_argocd_mode(m: Merged) -> None:
    """An `argocd:` block is read only in argocd mode: anywhere else it would mislead."""
    cloud = m.data.get("cloud") or {}
    if "argocd" in cloud and cloud.get("deploy_mode") != "argocd":
        raise m.error(
            ("cloud", "argocd"),
            f"`argocd:` is set, but deploy_mode is {cloud.get('deploy_mode', 'kubectl')!r}: "
            "the settings would be ignored",
            "add `deploy_mode: argocd` to the cloud block, or remove `argocd:`",
        )
