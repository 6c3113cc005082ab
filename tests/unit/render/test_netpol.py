"""tasks/render/netpol.py: default-deny both ways, plus DNS and each workload's declared `uses`
and `calls` (as the rendered Kubernetes base and overlays carry them)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.config import load as config
from tasks.model import Config, Port
from tasks.render import files, netpol, templates
from testing import netpol as table
from testing.configs import config as make_config
from testing.configs import database, service
from testing.project import REPO

GUESTBOOK = REPO / "examples" / "guestbook"


def test_egress_peers_are_the_declared_uses_and_calls_on_their_ports() -> None:
    cfg = make_config(
        "dev",
        [
            service("web", uses=("pg", "cache"), optional_uses=("pg",), calls={"api": 8081}),
            service("api", ports=(Port("http", 8080, None), Port("admin", 8081, 18081))),
            service("quiet"),  # uses and calls nothing: no egress policy
        ],
        [database("pg", port=5432, publish=15432), database("cache", port=6379, publish=6379)],
    )
    rules = {e.workload: e.peers for e in netpol.egress(cfg)}
    assert rules == {
        "web": (netpol.Peer("pg", (5432, 15432)), netpol.Peer("cache", (6379,)), netpol.Peer("api", (8081,))),
        "api": (),
        "quiet": (),
    }
    assert [netpol.has_egress(s) for s in cfg.services.values()] == [True, False, False]


def test_egress_rules_are_immutable() -> None:
    for obj in (
        netpol.Peer("pg", (1,)),
        netpol.Egress("web", ()),
        netpol.Allow((1,)),
        netpol.Ingress("a", ()),
    ):
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


# --- the table: every (from, to, port) of a stack, allowed exactly when declared ---------------


def _base_documents(stack: Config) -> list[dict[str, Any]]:
    text = files.k8s_base(stack)["k8s/base/networkpolicy.yaml"]()
    return [d for d in yaml.safe_load_all(text) if d]


@pytest.mark.parametrize("root", [REPO, GUESTBOOK], ids=["demo", "guestbook"])
def test_the_base_allows_exactly_the_declared_paths(root: Path) -> None:
    stack = config.load_stack(root)
    pods = table.pods(stack)
    found = table.allowed(_base_documents(stack), pods)
    # Every ordered pair of workloads, on each port the target listens on.
    assert len(found) == sum(len(p.ports) for p in pods) * (len(pods) - 1) > 0
    assert {path for path, ok in found.items() if ok} == table.declared(stack)


def test_the_guestbook_worker_may_call_the_api_and_nothing_else_may() -> None:
    stack = config.load_stack(GUESTBOOK)
    found = table.allowed(_base_documents(stack), table.pods(stack))
    assert found[("worker", "api", 8080)] is True
    assert found[("migrate", "api", 8080)] is False  # the api publishes 8080, but migrate declares no call
    assert found[("api", "postgres", 5432)] is True and found[("postgres", "api", 8080)] is False


def _calling_stack(*, published: bool) -> Config:
    return make_config(
        "stack",
        [
            service(
                "gateway", ports=(Port("http", 80, 8000 if published else None),), calls={"orders": 9000}
            ),
            service("orders", ports=(Port("grpc", 9000, None), Port("metrics", 9100, None)), uses=("pg",)),
            service("report", kind="job", uses=("pg",), calls={"orders": 9100}),
        ],
        [database("pg", port=5432, cluster={"storage": "1Gi", "uid": 10999})],
    )


@pytest.mark.parametrize("published", [False, True])
def test_a_call_opens_the_callers_egress_and_the_callees_ingress_on_that_port_only(published: bool) -> None:
    stack = _calling_stack(published=published)
    found = table.allowed(_base_documents(stack), table.pods(stack))
    assert {path for path, ok in found.items() if ok} == {
        ("gateway", "orders", 9000),
        ("report", "orders", 9100),
        ("orders", "pg", 5432),
        ("report", "pg", 5432),
    }
    ingress = {rule.workload: rule.rules for rule in netpol.ingress(stack)}
    assert ingress["orders"] == (netpol.Allow((9000,), ("gateway",)), netpol.Allow((9100,), ("report",)))
    assert ingress["pg"] == (netpol.Allow((5432,), ("orders", "report")),)
    assert ingress["gateway"] == ((netpol.Allow((80,)),) if published else ())


def test_the_table_sees_a_policy_that_allows_too_much() -> None:
    """The evaluator is not blind: the part-of rule every workload once had opens undeclared paths."""
    stack = _calling_stack(published=False)
    docs = _base_documents(stack)
    for doc in docs:
        if doc["metadata"]["name"] == "allow-orders":
            doc["spec"]["ingress"] = [{"from": [{"podSelector": {"matchLabels": {table.NAME: "report"}}}]}]
    found = table.allowed(docs, table.pods(stack))
    assert found[("report", "orders", 9000)] is False  # report's egress still stops it
    assert found[("gateway", "orders", 9000)] is False  # orders' ingress now refuses the gateway
    docs = [d for d in docs if d["metadata"]["name"] != "default-deny-egress" and "egress" not in d["spec"]]
    assert table.allowed(docs, table.pods(stack))[("report", "orders", 9000)] is True


# --- each environment's ports ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "port"),
    [
        ("redis.example.com:16379", 16379),
        ("amqps://user@mq.example.com/vhost", 5671),
        ("amqps://mq.example.com:15671/vhost", 15671),
        ("db.example.com", 6379),
        ("[2001:db8::1]:7000", 7000),
    ],
)
def test_an_endpoint_names_the_port_it_is_reached_at(endpoint: str, port: int) -> None:
    assert netpol.endpoint_port(database("redis", "external", port=6379, endpoint=endpoint)) == port


def _redis_stack(redis: Any) -> tuple[Config, Config]:
    users = [service("cache-user", uses=("redis",)), service("other", uses=("pg",))]
    stack = make_config(
        "stack", users, [database("redis", port=6379, publish=6379), database("pg", port=5432)]
    )
    env = make_config("mk", users, [redis, database("pg", "cluster", port=5432)], runtime="kubernetes")
    return stack, env


@pytest.mark.parametrize(
    ("redis", "ports"),
    [
        (database("redis", "external", port=6379, endpoint="redis.example.com:16379"), (16379,)),
        (database("redis", "compose", port=6379, publish=18379), (18379,)),
    ],
    ids=["endpoint", "host-port"],
)
def test_an_environment_reaching_a_database_elsewhere_patches_its_users_egress(
    redis: Any, ports: Any
) -> None:
    stack, env = _redis_stack(redis)
    assert netpol.overlay_egress(env, stack) == [netpol.Egress("cache-user", (netpol.Peer("redis", ports),))]
    patch = templates.texts(files.k8s_overlay(env, stack))["k8s/overlays/mk/egress-cache-user.patch.yaml"]
    (doc,) = [d for d in yaml.safe_load_all(patch) if d]
    assert doc["metadata"]["name"] == "egress-cache-user"
    assert [[p["port"] for p in rule["ports"]] for rule in doc["spec"]["egress"]] == [list(ports)]
    kustomization = templates.texts(files.k8s_overlay(env, stack))["k8s/overlays/mk/kustomization.yaml"]
    assert "egress-cache-user.patch.yaml" in kustomization


def test_an_environment_reaching_databases_at_the_base_ports_has_no_patch() -> None:
    stack, env = _redis_stack(database("redis", "compose", port=6379, publish=6379))
    assert netpol.overlay_egress(env, stack) == []
    assert not [p for p in templates.texts(files.k8s_overlay(env, stack)) if "egress-" in p]


def test_a_disabled_service_loses_its_egress_policy_too() -> None:
    stack, _ = _redis_stack(database("redis"))
    env = make_config(
        "mk",
        [service("other", uses=("pg",))],
        [database("redis"), database("pg", "cluster")],
        runtime="kubernetes",
    )
    text = templates.texts(files.k8s_overlay(env, stack))["k8s/overlays/mk/delete-cache-user.patch.yaml"]
    assert {d["metadata"]["name"] for d in yaml.safe_load_all(text) if d} == {
        "cache-user",
        "egress-cache-user",
    }


def test_callers_and_users_are_indexed_in_one_pass_over_the_services() -> None:
    stack = make_config(
        "stack",
        [
            service("a", calls={"orders": 9000, "audit": 7000}, optional_uses=("pg",)),
            service("b", calls={"orders": 9000}, uses=("pg", "cache"), optional_uses=("pg",)),
            service("c", kind="job", calls={"orders": 9100}),
            service("orders", ports=(Port("grpc", 9000, None), Port("metrics", 9100, None))),
        ],
        [database("pg", port=5432), database("cache", port=6379)],
    )
    assert netpol.callers(stack) == {
        "orders": {9000: ("a", "b"), 9100: ("c",)},
        "audit": {7000: ("a",)},
    }
    # A service that both uses and may use a database is named once.
    assert netpol.users(stack) == {"pg": ("a", "b"), "cache": ("b",)}
