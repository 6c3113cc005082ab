"""Egress rules (tasks/render/netpol.py): a workload may reach what it declares it uses."""

from __future__ import annotations

import dataclasses

import pytest

from tasks.model import Port
from tasks.render import netpol
from testing.configs import config, database, service


def test_egress_peers_are_the_declared_uses_on_their_ports() -> None:
    cfg = config(
        "dev",
        [
            service(
                "web",
                uses=("pg", "api", "cache"),
                optional_uses=("pg", "quiet", "ghost"),
            ),
            service(
                "api", ports=(Port("http", 8080, None), Port("admin", 8081, 18081), Port("h2", 8080, None))
            ),
            service("quiet"),  # no ports: nothing to allow
        ],
        [database("pg", port=5432, publish=15432), database("cache", port=6379, publish=6379)],
    )
    rules = {e.workload: e.peers for e in netpol.egress(cfg)}
    assert rules == {
        "web": (
            netpol.Peer("pg", (5432, 15432)),
            netpol.Peer("api", (8080, 8081)),
            netpol.Peer("cache", (6379,)),
        ),
        "api": (),
        "quiet": (),
    }


def test_egress_rules_are_immutable() -> None:
    for obj in (netpol.Peer("pg", (1,)), netpol.Egress("web", ())):
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.ports = ()  # type: ignore[misc, union-attr]


def test_egress_to_a_database_that_publishes_nothing() -> None:
    cfg = config("dev", [service("web", uses=("pg",))], [database("pg", port=5432)])
    assert netpol.egress(cfg) == [netpol.Egress("web", (netpol.Peer("pg", (5432,)),))]
