from __future__ import annotations

import pytest
from srvthreds_demo.common.config import Endpoint, Settings, parse_endpoint


def test_parse_endpoint() -> None:
    assert parse_endpoint("redis:6380", 6379) == Endpoint("redis", 6380)
    assert parse_endpoint("redis", 6379) == Endpoint("redis", 6379)
    assert parse_endpoint("", 6379) is None
    assert parse_endpoint(None, 6379) is None
    with pytest.raises(ValueError):
        parse_endpoint("redis:http", 6379)


def test_settings_defaults_and_secret_not_in_repr() -> None:
    s = Settings.from_env({"REDIS_HOST": "r:1", "RABBITMQ_PASSWORD": "hunter2"})
    assert s.rabbitmq_user == "srvthreds"
    assert (s.port, s.health_port, s.log_level) == (3000, 8080, "INFO")
    assert s.mongo is None and s.redis == Endpoint("r", 1)
    assert "hunter2" not in repr(s)


def test_require_names_the_variable() -> None:
    with pytest.raises(SystemExit, match="RABBITMQ_HOST"):
        Settings.from_env({}).require("rabbitmq")
