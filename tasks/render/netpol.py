"""Egress allowed by NetworkPolicy: DNS for every pod, and for each workload exactly the
declared `uses` (and `optional_uses`), on their ports.

The base is rendered once for every environment, and a dependency may run in the
cluster in one environment and on the host or a managed service in another. So each
dependency gets one rule with two peers: its pods (in the cluster) and any address
(outside: NetworkPolicy cannot name a host), both limited to the dependency's ports,
the published one included (a host database is reached on it from a cluster).
"""

from __future__ import annotations

from dataclasses import dataclass

from tasks.model import Config


@dataclass(frozen=True)
class Peer:
    name: str
    ports: tuple[int, ...]


@dataclass(frozen=True)
class Egress:
    workload: str
    peers: tuple[Peer, ...]


def egress(stack: Config) -> list[Egress]:
    out = []
    for svc in stack.services.values():
        peers = []
        for dep in dict.fromkeys([*svc.uses, *svc.optional_uses]):
            if dep in stack.databases:
                db = stack.databases[dep]
                ports = tuple(sorted({db.port, *([db.publish] if db.publish else [])}))
            elif dep in stack.services:
                ports = tuple(sorted({p.port for p in stack.services[dep].ports}))
            else:
                continue  # config validation reports unknown names
            if ports:
                peers.append(Peer(dep, ports))
        out.append(Egress(svc.name, tuple(peers)))
    return out
