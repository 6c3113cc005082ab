"""Rules about the `cloud:` block (tasks/config/rules/cloud.py): the cluster, and the module
that creates each managed database, on a small made-up project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.config.rules import cloud as rules
from tasks.errors import ConfigError
from testing.configs import CLOUD, broken, cloud_env, load, read, small_project, stack

# Three databases of the stack, all external in the cloud environment.
NAMES = ("mongodb", "redis", "postgres")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


def three(project: str = "shop") -> dict[str, Any]:
    data = stack()
    data["project"] = project
    data["databases"] = {
        name: {"image": f"{name}:1", "port": 1000 + i, "env_var": f"DB{i}"} for i, name in enumerate(NAMES)
    }
    del data["secrets"]
    for svc in data["services"].values():
        svc["uses"] = []
    data["services"]["web"]["ports"][0]["publish"] = 9000
    return data


def env_with(
    databases: dict[str, Any] | None, placed: dict[str, str] | None = None, **cloud: Any
) -> dict[str, Any]:
    placement = {name: "external" for name in NAMES} | (placed or {})
    endpoints = {name: f"{name}.example.com:1" for name, where in placement.items() if where == "external"}
    return {
        "runtime": "kubernetes",
        "placement": placement,
        "endpoints": endpoints,
        "cloud": {
            **CLOUD,
            "vpc_cidr": "10.0.0.0/16",
            **cloud,
            **({"databases": databases} if databases else {}),
        },
    }


def refused_by(rule: Any, root: Path, databases: dict[str, Any], **kw: Any) -> ConfigError:
    return broken(rule, root, three(kw.pop("project", "shop")), env_with(databases, **kw))


# --- the cluster ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "count",
    [{"min": 2, "max": 3, "desired": 1}, {"min": 1, "max": 3, "desired": 4}],
)
def test_node_count_is_ordered(root: Path, count: dict[str, int]) -> None:
    err = broken(rules.node_count_is_ordered, root, None, cloud_env(node_count=count))
    assert (err.file, err.keypath) == ("environments/test.yaml", "cloud.node_count")
    assert err.problem == (
        f"node_count needs min <= desired <= max, got min {count['min']}, "
        f"desired {count['desired']}, max {count['max']}"
    )
    assert err.fix == "fix the three numbers"
    rules.node_count_is_ordered(read(root, None, cloud_env(node_count={"min": 2, "max": 2, "desired": 2})))


def test_cluster_version_is_kubernetes_version(root: Path) -> None:
    err = broken(rules.cluster_version_is_kubernetes_version, root, None, cloud_env(cluster_version="1.32"))
    assert (err.keypath, err.problem, err.fix) == (
        "cloud.cluster_version",
        "EKS runs Kubernetes 1.32, but the manifests are validated against kubernetes_version 1.33.0",
        'set `cluster_version: "1.33"`, or change kubernetes_version in environments/stack.yaml '
        "to the cluster's version",
    )
    rules.cluster_version_is_kubernetes_version(read(root, None, cloud_env()))


def test_a_public_endpoint_names_who_may_reach_it(root: Path) -> None:
    err = broken(
        rules.a_public_endpoint_names_who_may_reach_it, root, None, cloud_env(endpoint_public_cidrs=[])
    )
    assert (err.keypath, err.problem, err.fix) == (
        "cloud",
        "the public Kubernetes API endpoint has no allowed CIDR blocks",
        "list them under `endpoint_public_cidrs:` (your office, VPN or CI egress), "
        "or set `endpoint_private: true`",
    )
    private = cloud_env(endpoint_private=True, endpoint_public_cidrs=[])
    assert load(root, None, private).cloud is not None


# --- the managed databases ----------------------------------------------------------------


def test_a_valid_choice_of_every_module_passes(root: Path) -> None:
    entries = {
        "mongodb": {"module": "mongodb-atlas", "instance_size": "M10"},
        "redis": {"module": "redis-cloud", "deployment_cidr": "192.168.10.0/24"},
        "postgres": {"module": "rds-postgres", "instance_class": "db.t4g.micro"},
    }
    cfg = load(root, three("my-shop"), env_with(entries))
    assert cfg.cloud is not None and [d.module for d in cfg.cloud.databases.values()] == [
        "mongodb-atlas",
        "redis-cloud",
        "rds-postgres",
    ]
    assert load(root, three(), env_with(None)).cloud is not None


def test_cloud_databases_are_the_stacks(root: Path) -> None:
    err = refused_by(rules.cloud_databases_are_the_stacks, root, {"mongo": {"module": "external"}})
    assert (err.keypath, err.problem) == ("cloud.databases.mongo", "unknown database 'mongo'")
    assert err.fix == "did you mean 'mongodb'? name one of the stack's databases (mongodb, redis, postgres)"
    far = refused_by(rules.cloud_databases_are_the_stacks, root, {"zzz": {"module": "external"}})
    assert far.fix == "name one of the stack's databases (mongodb, redis, postgres)"


def test_cloud_database_settings_are_its_modules(root: Path) -> None:
    err = refused_by(
        rules.cloud_database_settings_are_its_modules,
        root,
        {"redis": {"module": "redis-cloud", "deployment_cidr": "192.168.1.0/24", "instance_size": "M10"}},
    )
    assert err.keypath == "cloud.databases.redis.instance_size"
    assert err.problem == "instance_size is a setting of mongodb-atlas, not of redis-cloud"
    assert err.fix == "remove it (redis-cloud takes deployment_cidr, database_name)"
    external = refused_by(
        rules.cloud_database_settings_are_its_modules,
        root,
        {"redis": {"module": "external", "username": "x"}},
    )
    assert external.problem == "username is a setting of mongodb-atlas or rds-postgres, not of external"
    assert external.fix == "remove it (external takes no settings)"


def test_cloud_databases_have_their_modules_required_settings(root: Path) -> None:
    err = refused_by(
        rules.cloud_databases_have_their_modules_required_settings,
        root,
        {"mongodb": {"module": "mongodb-atlas"}},
    )
    assert (err.keypath, err.problem, err.fix) == (
        "cloud.databases.mongodb",
        "module mongodb-atlas needs 'instance_size'",
        "add `instance_size: M10` under cloud.databases.mongodb",
    )


def test_cloud_databases_get_a_module_of_their_engine(root: Path) -> None:
    err = refused_by(
        rules.cloud_databases_get_a_module_of_their_engine,
        root,
        {"redis": {"module": "rds-postgres", "instance_class": "db.t4g.micro"}},
    )
    assert (err.file, err.keypath, err.problem, err.fix) == (
        "environments/test.yaml",
        "cloud.databases.redis.module",
        "redis runs redis:1 (a redis database), but module rds-postgres makes a postgres database",
        "use `module: redis-cloud or external`",
    )
    # An image whose name says nothing of its engine is left to the user.
    data = three()
    data["databases"]["redis"]["image"] = "acme/cache:1"
    rules.cloud_databases_get_a_module_of_their_engine(
        read(root, data, env_with({"redis": {"module": "rds-postgres", "instance_class": "db.t4g.micro"}}))
    )


def test_cloud_databases_are_placed_external(root: Path) -> None:
    data = three()
    data["databases"]["redis"]["cluster"] = {"storage": "1Gi", "uid": 10000}
    data["databases"]["redis"]["data_dir"] = "/data"
    module = {"redis": {"module": "redis-cloud", "deployment_cidr": "192.168.1.0/24"}}
    err = broken(
        rules.cloud_databases_are_placed_external, root, data, env_with(module, {"redis": "cluster"})
    )
    assert err.keypath == "cloud.databases.redis.module"
    assert err.problem == (
        "redis is placed cluster here, but `module: redis-cloud` creates a managed redis that services "
        "reach by its endpoint"
    )
    assert err.fix == (
        "place redis external (with its endpoint under endpoints), or remove cloud.databases.redis"
    )
    endpoint = {"redis": {"module": "external"}}
    external = broken(
        rules.cloud_databases_are_placed_external, root, data, env_with(endpoint, {"redis": "cluster"})
    )
    assert external.problem == "redis is placed cluster here, but `module: external` is an endpoint"


def test_a_module_makes_one_database(root: Path) -> None:
    err = refused_by(
        rules.a_module_makes_one_database,
        root,
        {
            "mongodb": {"module": "mongodb-atlas", "instance_size": "M10"},
            "redis": {"module": "mongodb-atlas", "instance_size": "M10"},
        },
    )
    assert (err.keypath, err.problem, err.fix) == (
        "cloud.databases.redis.module",
        "module mongodb-atlas is already chosen for mongodb",
        "a module makes one database per environment: write `module: external` for one of them",
    )
    # Any number of databases may be external.
    both = {"mongodb": {"module": "external"}, "redis": {"module": "external"}}
    rules.a_module_makes_one_database(read(root, three(), env_with(both)))


def test_cloud_database_names_fit_their_module(root: Path) -> None:
    rds = {"module": "rds-postgres", "instance_class": "db.t4g.micro"}
    given = refused_by(
        rules.cloud_database_names_fit_their_module, root, {"postgres": {**rds, "username": "9lives"}}
    )
    assert given.keypath == "cloud.databases.postgres.username"
    assert given.problem == (
        "rds-postgres needs a username of 1 to 63 letters, digits or '_', starting with a letter; "
        "'9lives' is not"
    )
    assert given.fix == "change `username:` under cloud.databases.postgres"
    defaulted = refused_by(
        rules.cloud_database_names_fit_their_module, root, {"postgres": rds}, project="9shop"
    )
    assert defaulted.keypath == "cloud.databases.postgres"
    assert defaulted.problem.endswith("the default '9shop' (from the project name) is not")
    assert defaulted.fix == "set `username:` under cloud.databases.postgres"
    # The whole name must match, not a prefix of it.
    atlas = {"module": "mongodb-atlas", "instance_size": "M10", "database_name": "ok_name"}
    err = refused_by(rules.cloud_database_names_fit_their_module, root, {"mongodb": atlas})
    assert err.keypath == "cloud.databases.mongodb.database_name"
    # A project name with '-' becomes '_' for RDS, which accepts it.
    rules.cloud_database_names_fit_their_module(read(root, three("my-shop"), env_with({"postgres": rds})))


def test_redis_cloud_deploys_outside_the_vpc(root: Path) -> None:
    err = refused_by(
        rules.redis_cloud_deploys_outside_the_vpc,
        root,
        {"redis": {"module": "redis-cloud", "deployment_cidr": "10.0.128.0/24"}},
    )
    assert (err.keypath, err.problem, err.fix) == (
        "cloud.databases.redis.deployment_cidr",
        "10.0.128.0/24 overlaps the VPC 10.0.0.0/16",
        "choose a block outside cloud.vpc_cidr",
    )
    outside = {"redis": {"module": "redis-cloud", "deployment_cidr": "10.1.0.0/24"}}
    rules.redis_cloud_deploys_outside_the_vpc(read(root, three(), env_with(outside)))


def test_argocd_settings_need_argocd_mode(root: Path) -> None:
    err = broken(rules.argocd_settings_need_argocd_mode, root, None, cloud_env(argocd={"prune": True}))
    assert (err.keypath, err.problem, err.fix) == (
        "cloud.argocd",
        "`argocd:` is set, but deploy_mode is 'kubectl': the settings would be ignored",
        "add `deploy_mode: argocd` to the cloud block, or remove `argocd:`",
    )
    assert err.line is not None
    rules.argocd_settings_need_argocd_mode(read(root, None, cloud_env(deploy_mode="argocd", argocd={})))
