"""cloud_db: which module creates each managed database, and every refusal of `check`.

Found unguarded by the mutation benchmark (bench/mutation.py cloud_db). `check` is called
directly with a `fail` that records where and what, the way config.py calls it (which turns
the key path into a file and line; tests/test_bad_inputs.py covers that end to end).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tasks.config import cloud_db
from tasks.config.yamlpos import KeyPath
from tasks.errors import ConfigError


class Refused(ConfigError):
    def __init__(self, at: KeyPath, problem: str, fix: str) -> None:
        super().__init__("environments/x.yaml", ".".join(str(p) for p in at), None, problem, fix=fix)
        self.at, self.fix_text = at, fix


def fail(at: KeyPath, problem: str, fix: str) -> ConfigError:
    return Refused(at, problem, fix)


EXTERNAL = {"mongodb": "external", "redis": "external", "postgres": "external"}


def cloud(**databases: Any) -> dict[str, Any]:
    return {"vpc_cidr": "10.0.0.0/16", "databases": databases}


def refused(entries: dict[str, Any], placed: dict[str, str] | None = None, project: str = "shop") -> Refused:
    with pytest.raises(Refused) as info:
        cloud_db.check(cloud(**entries), EXTERNAL if placed is None else placed, project, fail)
    return info.value


def test_a_valid_choice_of_every_module_passes() -> None:
    entries = {
        "mongodb": {"module": "mongodb-atlas", "instance_size": "M10"},
        "redis": {"module": "redis-cloud", "deployment_cidr": "192.168.10.0/24"},
        "postgres": {"module": "rds-postgres", "instance_class": "db.t4g.micro"},
    }
    cloud_db.check(cloud(**entries), EXTERNAL, "my-shop", fail)
    cloud_db.check({"vpc_cidr": "10.0.0.0/16"}, EXTERNAL, "shop", fail)


def test_chosen_applies_defaults_and_leaves_external_out() -> None:
    entries = {
        "postgres": {"module": "rds-postgres", "instance_class": "db.t4g.micro", "storage_gb": 50},
        "redis": {"module": "redis-cloud", "deployment_cidr": "192.168.10.0/24"},
        "mongodb": {"module": "external"},
    }
    assert cloud_db.chosen(cloud(**entries), "my-shop") == {
        "rds-postgres": {
            "instance_class": "db.t4g.micro",
            "storage_gb": 50,
            "username": "my_shop",
            "database_name": "my_shop",
            "database": "postgres",
        },
        "redis-cloud": {
            "deployment_cidr": "192.168.10.0/24",
            "database_name": "my-shop",
            "database": "redis",
        },
    }
    assert list(cloud_db.chosen(cloud(**entries), "x")) == ["rds-postgres", "redis-cloud"]
    assert cloud_db.chosen(None, "x") == {} and cloud_db.chosen({"databases": None}, "x") == {}


def test_an_unknown_database_is_named_with_the_closest() -> None:
    problem = refused({"mongo": {"module": "external"}})
    assert problem.at == ("cloud", "databases", "mongo") and problem.problem == "unknown database 'mongo'"
    assert (
        problem.fix_text
        == "did you mean 'mongodb'? name one of the stack's databases (mongodb, redis, postgres)"
    )
    far = refused({"zzz": {"module": "external"}}, placed={})
    assert far.fix_text == "name one of the stack's databases (none)"


def test_a_setting_of_another_module_is_refused() -> None:
    problem = refused(
        {"redis": {"module": "redis-cloud", "deployment_cidr": "192.168.1.0/24", "instance_size": "M10"}}
    )
    assert problem.at == ("cloud", "databases", "redis", "instance_size")
    assert problem.problem == "instance_size is a setting of mongodb-atlas, not of redis-cloud"
    assert problem.fix_text == "remove it (redis-cloud takes deployment_cidr, database_name)"
    external = refused({"redis": {"module": "external", "username": "x"}})
    assert external.problem == "username is a setting of mongodb-atlas or rds-postgres, not of external"
    assert external.fix_text == "remove it (external takes no settings)"


def test_a_required_setting_is_asked_for_with_an_example() -> None:
    problem = refused({"mongodb": {"module": "mongodb-atlas"}})
    assert problem.at == ("cloud", "databases", "mongodb")
    assert problem.problem == "module mongodb-atlas needs 'instance_size'"
    assert problem.fix_text == "add `instance_size: M10` under cloud.databases.mongodb"


def test_a_module_for_a_database_placed_in_the_cluster_is_refused() -> None:
    placed = {**EXTERNAL, "redis": "cluster"}
    problem = refused({"redis": {"module": "redis-cloud", "deployment_cidr": "192.168.1.0/24"}}, placed)
    assert problem.at == ("cloud", "databases", "redis", "module")
    assert problem.problem == (
        "redis is placed cluster here, but `module: redis-cloud` creates a managed redis that services "
        "reach by its endpoint"
    )
    assert "place redis external" in problem.fix_text
    external = refused({"redis": {"module": "external"}}, placed)
    assert external.problem == "redis is placed cluster here, but `module: external` is an endpoint"


def test_one_module_makes_one_database() -> None:
    problem = refused(
        {
            "mongodb": {"module": "mongodb-atlas", "instance_size": "M10"},
            "redis": {"module": "mongodb-atlas", "instance_size": "M10"},
        }
    )
    assert problem.at == ("cloud", "databases", "redis", "module")
    assert problem.problem == "module mongodb-atlas is already chosen for mongodb"
    # Any number of databases may be external.
    both = cloud(mongodb={"module": "external"}, redis={"module": "external"})
    cloud_db.check(both, EXTERNAL, "shop", fail)


def test_names_are_checked_given_or_defaulted() -> None:
    rds = {"module": "rds-postgres", "instance_class": "db.t4g.micro"}
    given = refused({"postgres": {**rds, "username": "9lives"}})
    assert given.at == ("cloud", "databases", "postgres", "username")
    assert given.problem == (
        "rds-postgres needs a username of 1 to 63 letters, digits or '_', starting with a letter; "
        "'9lives' is not"
    )
    assert given.fix_text == "change `username:` under cloud.databases.postgres"
    defaulted = refused({"postgres": rds}, project="9shop")
    assert defaulted.at == ("cloud", "databases", "postgres")
    assert defaulted.problem.endswith("the default '9shop' (from the project name) is not")
    assert defaulted.fix_text == "set `username:` under cloud.databases.postgres"
    # The whole name must match, not a prefix of it.
    atlas = {"module": "mongodb-atlas", "instance_size": "M10", "database_name": "ok-name!"}
    assert refused({"mongodb": atlas}).at == ("cloud", "databases", "mongodb", "database_name")


def test_a_redis_deployment_block_must_not_overlap_the_vpc() -> None:
    problem = refused({"redis": {"module": "redis-cloud", "deployment_cidr": "10.0.128.0/24"}})
    assert problem.at == ("cloud", "databases", "redis", "deployment_cidr")
    assert problem.problem == "10.0.128.0/24 overlaps the VPC 10.0.0.0/16"


def test_the_module_table_cannot_be_changed_by_a_caller() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        cloud_db.MODULES["redis-cloud"].names = ".*"  # type: ignore[misc]
