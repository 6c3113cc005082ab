"""Rules about the databases: where each runs in this environment, and what that needs."""

from __future__ import annotations

from tasks.config import schema as s
from tasks.config.merged import Merged


def placement_names_known_databases(m: Merged) -> None:
    for name in m.data.get("placement", {}):
        if name not in m.data["databases"]:
            raise m.error(
                ("placement", name), f"unknown database {name!r}", s.did_you_mean(name, m.data["databases"])
            )


def endpoints_name_known_databases(m: Merged) -> None:
    for name in m.data.get("endpoints", {}):
        if name not in m.data["databases"]:
            raise m.error(
                ("endpoints", name), f"unknown database {name!r}", s.did_you_mean(name, m.data["databases"])
            )


def every_database_has_a_placement(m: Merged) -> None:
    for name in m.data["databases"]:
        if not m.placement(name):
            raise m.error(
                ("placement",),
                f"database {name!r} has no placement",
                f"add `{name}: compose|cluster|external|disabled` under placement",
            )


def only_databases_with_a_cluster_block_run_in_a_cluster(m: Merged) -> None:
    for name, raw in m.data["databases"].items():
        if m.placement(name) == "cluster" and "cluster" not in raw:
            raise m.error(
                ("placement", name),
                f"{name} cannot be placed in the cluster: databases run outside Kubernetes",
                "use compose (host Docker), external (managed) or disabled",
            )


def a_cluster_placement_needs_kubernetes(m: Merged) -> None:
    for name in m.data["databases"]:
        if m.placement(name) == "cluster" and m.data["runtime"] == "compose":
            raise m.error(
                ("placement", name),
                f"{name} is placed in a cluster, but runtime is compose",
                "use `placement: compose` or `runtime: kubernetes`",
            )


def an_external_database_has_an_endpoint(m: Merged) -> None:
    for name in m.data["databases"]:
        if m.placement(name) == "external" and name not in m.data.get("endpoints", {}):
            raise m.error(
                ("endpoints",),
                f"{name} is external but has no endpoint",
                f"add `{name}: host:port` under endpoints",
            )


def secret_env_names_declared_secrets(m: Merged) -> None:
    declared = set(m.data.get("secrets", []))
    for name, raw in m.data["databases"].items():
        for var, secret in raw.get("secret_env", {}).items():
            if secret not in declared:
                raise m.error(
                    ("databases", name, "secret_env", var),
                    f"undeclared secret {secret!r}",
                    f"add {secret} to the top-level `secrets:` list",
                )


def only_external_databases_have_an_endpoint(m: Merged) -> None:
    for name in m.data["databases"]:
        placement = m.placement(name)
        if name in m.data.get("endpoints", {}) and placement != "external":
            raise m.error(
                ("endpoints", name),
                f"{name} is placed {placement} here, so its endpoint is unused",
                f"remove `{name}` from endpoints, or place it `external`",
            )


def databases_that_may_run_in_a_cluster_have_a_data_dir(m: Merged) -> None:
    """Every database with a `cluster` block gets a StatefulSet in k8s/base, whatever this
    environment's placement: without data_dir it would mount its volume at "None"."""
    for name, raw in m.data["databases"].items():
        if raw.get("cluster") and not raw.get("data_dir"):
            raise m.error(
                ("databases", name),
                f"{name} may run in a cluster but has no data_dir",
                "add `data_dir: /path/of/its/data` (the cluster volume is mounted there)",
            )
