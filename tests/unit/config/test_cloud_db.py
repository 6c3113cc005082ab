"""The table of managed-database modules (tasks/config/cloud_db.py): which module creates
each database, with its settings and their defaults. The rules that check a choice against
the table are tested in tests/unit/config/rules/test_cloud.py."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tasks.config import cloud_db
from testing.configs import cloud, cloud_database


def test_chosen_applies_defaults_and_leaves_external_out() -> None:
    databases = {
        "postgres": cloud_database("rds-postgres", instance_class="db.t4g.micro", storage_gb=50),
        "redis": cloud_database("redis-cloud", deployment_cidr="192.168.10.0/24"),
        "mongodb": cloud_database("external"),
    }
    assert cloud_db.chosen(cloud(databases=databases), "my-shop") == {
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
    assert list(cloud_db.chosen(cloud(databases=databases), "x")) == ["rds-postgres", "redis-cloud"]
    assert cloud_db.chosen(None, "x") == {} and cloud_db.chosen(cloud(), "x") == {}


def test_settings_given_win_over_the_defaults() -> None:
    assert cloud_db.settings("mongodb-atlas", {"instance_size": "M20", "username": "app"}, "shop") == {
        "username": "app",
        "database_name": "shop",
        "instance_size": "M20",
    }
    assert cloud_db.settings("external", {}, "shop") == {}


def test_every_module_lists_its_settings_required_first() -> None:
    assert cloud_db.MODULES["rds-postgres"].settings() == [
        "instance_class",
        "storage_gb",
        "username",
        "database_name",
    ]
    assert cloud_db.MODULES[cloud_db.EXTERNAL].settings() == []


def test_the_module_table_cannot_be_changed_by_a_caller() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        cloud_db.MODULES["redis-cloud"].names = ".*"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("image", "build", "engine"),
    [
        ("redis:7.2-bookworm", None, "redis"),
        ("guestbook/postgres", "docker/postgres", "postgres"),
        ("registry.example.com:5000/team/mongo@sha256:" + "0" * 64, None, "mongo"),
        ("acme/cache", "docker/redis/", "redis"),
        ("rabbitmq:3.13", None, None),
        ("acme/redis-to-postgres", None, None),  # names two: not a guess worth refusing on
    ],
)
def test_a_database_engine_is_read_from_its_image_or_build_folder(
    image: str, build: Any, engine: Any
) -> None:
    assert cloud_db.kind_of(image, build) == engine
