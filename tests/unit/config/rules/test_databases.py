"""Rules about the databases (tasks/config/rules/databases.py), each on a small made-up project."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config.rules import databases as rules
from testing.configs import KUBE, LOCAL, broken, edit, error, line_of, load, read, small_project, stack


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


def test_placement_names_known_databases(root: Path) -> None:
    err = broken(
        rules.placement_names_known_databases,
        root,
        None,
        {**LOCAL, "placement": {"pg": "compose", "pgg": "compose"}},
    )
    assert (err.file, err.keypath, err.line) == ("environments/test.yaml", "placement.pgg", 4)
    assert (err.problem, err.fix) == ("unknown database 'pgg'", "did you mean 'pg'? (allowed: pg)")
    rules.placement_names_known_databases(read(root, None, LOCAL))


def test_endpoints_name_known_databases(root: Path) -> None:
    err = broken(rules.endpoints_name_known_databases, root, None, {**LOCAL, "endpoints": {"pgs": "db:1"}})
    assert (err.keypath, err.problem, err.fix) == (
        "endpoints.pgs",
        "unknown database 'pgs'",
        "did you mean 'pg'? (allowed: pg)",
    )
    rules.endpoints_name_known_databases(read(root, None, {**LOCAL, "endpoints": {"pg": "db:1"}}))


def test_every_database_has_a_placement(root: Path) -> None:
    err = broken(rules.every_database_has_a_placement, root, None, {"runtime": "compose"})
    assert (err.file, err.keypath) == ("environments/test.yaml", "placement")
    assert err.problem == "database 'pg' has no placement"
    assert err.fix == "add `pg: compose|cluster|external|disabled` under placement"
    # The stack alone runs nowhere: its databases are on the host.
    assert load(root).databases["pg"].placement == "compose"


def test_only_databases_with_a_cluster_block_run_in_a_cluster(root: Path) -> None:
    err = broken(
        rules.only_databases_with_a_cluster_block_run_in_a_cluster,
        root,
        None,
        {**KUBE, "placement": {"pg": "cluster"}},
    )
    assert (err.keypath, err.problem, err.fix) == (
        "placement.pg",
        "pg cannot be placed in the cluster: databases run outside Kubernetes",
        "use compose (host Docker), external (managed) or disabled",
    )
    data = stack()
    data["databases"]["pg"]["cluster"] = {"storage": "1Gi", "uid": 10000}
    rules.only_databases_with_a_cluster_block_run_in_a_cluster(
        read(root, data, {**KUBE, "placement": {"pg": "cluster"}})
    )


def test_a_cluster_placement_needs_kubernetes(root: Path) -> None:
    data = stack()
    data["databases"]["pg"]["cluster"] = {"storage": "1Gi", "uid": 10000}
    err = broken(
        rules.a_cluster_placement_needs_kubernetes, root, data, {**LOCAL, "placement": {"pg": "cluster"}}
    )
    assert (err.keypath, err.problem) == ("placement.pg", "pg is placed in a cluster, but runtime is compose")
    assert err.fix == "use `placement: compose` or `runtime: kubernetes`"
    assert load(root, data, {**KUBE, "placement": {"pg": "cluster"}}).databases["pg"].placement == "cluster"


def test_an_external_database_has_an_endpoint(root: Path) -> None:
    err = broken(
        rules.an_external_database_has_an_endpoint, root, None, {**KUBE, "placement": {"pg": "external"}}
    )
    assert (err.keypath, err.problem, err.fix) == (
        "endpoints",
        "pg is external but has no endpoint",
        "add `pg: host:port` under endpoints",
    )
    external = {**KUBE, "placement": {"pg": "external"}, "endpoints": {"pg": "db.example.com:5432"}}
    assert load(root, None, external).databases["pg"].endpoint == "db.example.com:5432"


def test_only_external_databases_have_an_endpoint(root: Path) -> None:
    err = broken(
        rules.only_external_databases_have_an_endpoint, root, None, {**KUBE, "endpoints": {"pg": "db:5432"}}
    )
    assert (err.keypath, err.problem) == (
        "endpoints.pg",
        "pg is placed compose here, so its endpoint is unused",
    )
    assert err.fix == "remove `pg` from endpoints, or place it `external`"


def test_secret_env_names_declared_secrets(root: Path) -> None:
    data = stack()
    data["secrets"] = ["OTHER"]
    err = broken(rules.secret_env_names_declared_secrets, root, data)
    assert (err.keypath, err.problem) == (
        "databases.pg.secret_env.POSTGRES_PASSWORD",
        "undeclared secret 'PG_PASSWORD'",
    )
    assert err.fix == "add PG_PASSWORD to the top-level `secrets:` list"
    rules.secret_env_names_declared_secrets(read(root, stack()))


def test_databases_that_may_run_in_a_cluster_have_a_data_dir(root: Path) -> None:
    data = stack()
    data["databases"]["pg"]["cluster"] = {"storage": "1Gi", "uid": 10000}
    del data["databases"]["pg"]["data_dir"]
    err = broken(rules.databases_that_may_run_in_a_cluster_have_a_data_dir, root, data)
    assert (err.keypath, err.problem, err.fix) == (
        "databases.pg",
        "pg may run in a cluster but has no data_dir",
        "add `data_dir: /path/of/its/data` (the cluster volume is mounted there)",
    )
    # Whatever this environment's placement: k8s/base holds its StatefulSet anyway.
    assert (
        "data_dir"
        in broken(rules.databases_that_may_run_in_a_cluster_have_a_data_dir, root, data, LOCAL).problem
    )
    del data["databases"]["pg"]["cluster"]  # no block: nothing to run in a cluster
    rules.databases_that_may_run_in_a_cluster_have_a_data_dir(read(root, data))


# --- on the shipped stack: the rule, through `load`, in the file the user edited ---------------


def test_mongodb_can_never_be_placed_in_a_cluster(project: Path) -> None:
    edit(project, "minikube.yaml", "mongodb: compose", "mongodb: cluster")
    err = error(project, "minikube")
    assert (err.file, err.keypath) == ("environments/minikube.yaml", "placement.mongodb")
    assert err.line == line_of(project, "minikube.yaml", "mongodb: cluster")
    assert "mongodb cannot be placed in the cluster" in str(err)


def test_a_shipped_external_database_needs_its_endpoint(project: Path) -> None:
    edit(project, "dev.yaml", "  redis: redis-dev.example.redis-cloud.com:6379\n", "")
    err = error(project, "dev")
    assert (err.file, err.keypath) == ("environments/dev.yaml", "endpoints")
    assert "redis is external but has no endpoint" in str(err)


def test_a_shipped_secret_env_must_name_a_declared_secret(project: Path) -> None:
    edit(
        project, "stack.yaml", "RABBITMQ_DEFAULT_PASS: RABBITMQ_PASSWORD", "RABBITMQ_DEFAULT_PASS: RABBIT_PW"
    )
    err = error(project, None)
    assert (err.file, err.keypath) == (
        "environments/stack.yaml",
        "databases.rabbitmq.secret_env.RABBITMQ_DEFAULT_PASS",
    )
    assert "undeclared secret 'RABBIT_PW'" in str(err)
