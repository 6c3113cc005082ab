"""Evaluate rendered NetworkPolicies the way a cluster enforces them, as a table.

A connection from one pod to another on a TCP port is allowed when the source may send it
(egress) and the destination may receive it (ingress). A pod that no policy of a direction
selects is open in that direction; once selected, only what some rule allows passes.

The one reading that differs between network plugins is taken at its worst: an `ipBlock`
peer (`0.0.0.0/0`, for a database placed outside the cluster) also matches every pod's
address, as Calico enforces it. So a table that is exact here is exact on every plugin.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tasks.model import STACK, Config, Database

NAME = "app.kubernetes.io/name"
Path = tuple[str, str, int]  # (from workload, to workload, port)


@dataclass(frozen=True)
class Pod:
    name: str
    labels: dict[str, str]
    ports: tuple[int, ...]


def in_cluster(cfg: Config, db: Database) -> bool:
    """The base has a StatefulSet for every database that may run in a cluster; an overlay
    keeps those its environment places there."""
    return bool(db.cluster) and (cfg.env == STACK or db.placement == "cluster")


def pods(cfg: Config) -> list[Pod]:
    """Every workload of the base (the stack alone) or of an environment's overlay: the
    services, and the databases in the cluster."""
    part = {"app.kubernetes.io/part-of": cfg.project}
    out = [Pod(s.name, {NAME: s.name, **part}, tuple(p.port for p in s.ports)) for s in cfg.services.values()]
    out += [
        Pod(d.name, {NAME: d.name, **part}, (d.port,)) for d in cfg.databases.values() if in_cluster(cfg, d)
    ]
    return out


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if selector.get("matchExpressions"):
        raise NotImplementedError("matchExpressions are not rendered by the templates")
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def _peer_matches(peer: dict[str, Any], pod: Pod) -> bool:
    if "ipBlock" in peer:
        # Worst case: the block covers pod addresses too (see the module docstring).
        return ipaddress.ip_network(peer["ipBlock"]["cidr"]).prefixlen == 0
    if "namespaceSelector" in peer:
        return False  # another namespace (the cluster DNS): never a pod of the stack
    return _selects(peer.get("podSelector", {}), pod.labels)


def _port_matches(rule: dict[str, Any], port: int) -> bool:
    ports = rule.get("ports")
    return not ports or any(p.get("protocol", "TCP") == "TCP" and p.get("port") == port for p in ports)


def _direction_allows(policies: list[dict[str, Any]], kind: str, pod: Pod, other: Pod, port: int) -> bool:
    key, peers = ("egress", "to") if kind == "Egress" else ("ingress", "from")
    selecting = [
        p
        for p in policies
        if kind in p["spec"].get("policyTypes", []) and _selects(p["spec"]["podSelector"], pod.labels)
    ]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get(key) or []:
            targets = rule.get(peers)
            if (not targets or any(_peer_matches(t, other) for t in targets)) and _port_matches(rule, port):
                return True
    return False


def allowed(documents: Iterable[dict[str, Any] | None], workloads: list[Pod]) -> dict[Path, bool]:
    """(from, to, port) -> whether the policies let it through, for every ordered pair of
    workloads and every port the destination listens on."""
    policies = [d for d in documents if d and d.get("kind") == "NetworkPolicy"]
    table: dict[Path, bool] = {}
    for src in workloads:
        for dst in workloads:
            if src is dst:
                continue
            for port in dst.ports:
                table[(src.name, dst.name, port)] = _direction_allows(
                    policies, "Egress", src, dst, port
                ) and _direction_allows(policies, "Ingress", dst, src, port)
    return table


def declared(cfg: Config) -> set[Path]:
    """The paths a configuration declares between its pods: each service to the databases it
    uses that are in the cluster (on their port), and to the services it calls (on the
    called port)."""
    paths = {
        (s.name, db, cfg.databases[db].port)
        for s in cfg.services.values()
        for db in (*s.uses, *s.optional_uses)
        if in_cluster(cfg, cfg.databases[db])
    }
    return paths | {(s.name, callee, port) for s in cfg.services.values() for callee, port in s.calls.items()}
