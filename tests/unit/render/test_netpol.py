"""tasks/render/netpol.py: default-deny egress, plus DNS and each workload's declared `uses`
(as the rendered Kubernetes base carries them)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.config import load as config
from tasks.model import Port
from tasks.render import files, netpol, templates
from testing.configs import config as make_config
from testing.configs import database, service
from testing.project import REPO


def test_egress_peers_are_the_declared_uses_on_their_ports() -> None:
    cfg = make_config(
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
    cfg = make_config("dev", [service("web", uses=("pg",))], [database("pg", port=5432)])
    assert netpol.egress(cfg) == [netpol.Egress("web", (netpol.Peer("pg", (5432,)),))]


def _policies(root: Path) -> dict[str, dict[str, Any]]:
    text = templates.texts(files.k8s_base(config.load_stack(root)))["k8s/base/networkpolicy.yaml"]
    docs = yaml.safe_load_all(text)
    return {d["metadata"]["name"]: d for d in docs if d}


def test_egress_is_denied_by_default_and_dns_allowed() -> None:
    pol = _policies(REPO)
    deny = pol["default-deny-egress"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Egress"]}  # no rule: nothing allowed
    dns = pol["allow-dns-egress"]["spec"]["egress"][0]
    assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}
    assert dns["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}


def test_each_workload_may_reach_exactly_what_it_uses() -> None:
    stack = yaml.safe_load((REPO / "environments/stack.yaml").read_text())
    pol = _policies(REPO)
    for name, svc in stack["services"].items():
        uses = [*svc.get("uses", []), *svc.get("optional_uses", [])]
        rules = pol[f"egress-{name}"]["spec"]["egress"]
        reached = [r["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for r in rules]
        assert reached == uses, name
        for rule, dep in zip(rules, uses, strict=False):
            db = stack["databases"][dep]
            assert {p["port"] for p in rule["ports"]} == {db["port"], db.get("publish", db["port"])}


def test_a_published_port_is_allowed_too(project: Path) -> None:
    path = project / "environments/stack.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["databases"]["redis"]["publish"] = 16379
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    rules = _policies(project)["egress-engine"]["spec"]["egress"]
    redis = next(
        r for r in rules if r["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "redis"
    )
    assert {p["port"] for p in redis["ports"]} == {6379, 16379}
