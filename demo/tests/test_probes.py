"""Readiness tells the truth: a broker that accepts TCP but refuses our login is down."""

from __future__ import annotations

import logging

import pytest
from srvthreds_demo.common import rabbit, web
from srvthreds_demo.common.config import Endpoint

AT = Endpoint("rabbitmq", 5672)


class Refused(Exception):
    pass


def test_refused_login_makes_healthz_503_and_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[tuple[str, str]] = []

    def login(at: Endpoint, user: str, password: str, timeout: float) -> None:
        calls.append((user, password))
        if password != "right":
            raise Refused("ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN")

    bad = rabbit.login_probe(AT, "app", "wrong", login=login)
    app = web.health_app({"rabbitmq": bad})
    with caplog.at_level(logging.ERROR):
        status, body = app("GET", "/healthz", b"")
        assert app("GET", "/healthz", b"")[0] == 503
    assert status == 503 and body["down"] == ["rabbitmq"] and "ACCESS_REFUSED" in body["checks"]["rabbitmq"]
    assert calls == [("app", "wrong"), ("app", "wrong")]  # it really logs in, every time
    assert sum("ACCESS_REFUSED" in r.getMessage() for r in caplog.records) == 1
    good = rabbit.login_probe(AT, "app", "right", login=login)
    assert web.health_app({"rabbitmq": good})("GET", "/healthz", b"")[0] == 200
