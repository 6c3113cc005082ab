"""The NetworkPolicy paths of a stack: each workload may reach exactly what it declares.

Everything is denied by default (both ways); DNS is allowed to every pod. Then:
- egress: a workload reaches the databases it `uses` (and `optional_uses`) and the services
  it `calls`, on their ports only;
- ingress: a database in the cluster is reached by the workloads that use it, a service by
  those that call it (on the called port), and a published port by anyone (an ingress
  controller or a load balancer lives outside the namespace).

The base (k8s/base) is rendered once for every environment, and a database may run in the
cluster in one environment and on the host or a managed service in another. So each
database gets one egress rule with two peers: its pods (in the cluster) and any address
(outside: NetworkPolicy cannot name a host), on the ports it may be reached at. The base
allows its port and its published port (a host database is reached on that one from a
cluster); an environment where a database is reached at another port (an endpoint
`host:16379`, a host port `publish: 18379`) gets a patch of the workloads' egress
(`overlay_egress`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from tasks.model import Config, Database, Service

# Ports of the usual schemes of a URL endpoint that names none (`amqps://host/vhost`).
SCHEME_PORTS = {"http": 80, "https": 443, "amqp": 5672, "amqps": 5671, "redis": 6379, "rediss": 6379}


@dataclass(frozen=True)
class Peer:
    name: str
    ports: tuple[int, ...]


@dataclass(frozen=True)
class Egress:
    workload: str
    peers: tuple[Peer, ...]


@dataclass(frozen=True)
class Allow:
    """One ingress rule: these ports, from these workloads (none: from anywhere)."""

    ports: tuple[int, ...]
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ingress:
    workload: str
    rules: tuple[Allow, ...]


def _db_ports_in_base(db: Database) -> tuple[int, ...]:
    return tuple(sorted({db.port, *([db.publish] if db.publish else [])}))


def endpoint_port(db: Database) -> int:
    """The port of a database's endpoint: `host:port`, a URL's port or its scheme's, else its own."""
    text = db.endpoint
    if "://" in text:
        url = urlsplit(text)
        try:
            return url.port or SCHEME_PORTS.get(url.scheme, db.port)
        except ValueError:  # a port that is not a number: the rules let only endpoints through
            return db.port
    port = text.rpartition(":")[2]
    return int(port) if port.isdigit() and ":" in text else db.port


def db_ports_here(cfg: Config, db: Database) -> tuple[int, ...]:
    """Where the workloads of this environment reach a database: in the cluster on its port,
    on the host on the port the host publishes, outside at its endpoint's port."""
    if db.placement == "cluster":
        return (db.port,)
    if db.placement == "external":
        return (endpoint_port(db),)
    if db.placement == "compose" and cfg.runtime == "kubernetes":
        return (db.publish or db.port,)
    return _db_ports_in_base(db)


def _peers(cfg: Config, svc: Service, *, here: bool) -> tuple[Peer, ...]:
    peers: list[Peer] = []
    for dep in dict.fromkeys([*svc.uses, *svc.optional_uses]):
        db = cfg.databases[dep]
        if here and db.placement == "disabled":
            continue  # an optional use this environment does not run: nothing to reach
        peers.append(Peer(dep, db_ports_here(cfg, db) if here else _db_ports_in_base(db)))
    peers += [Peer(callee, (port,)) for callee, port in svc.calls.items()]
    return tuple(peers)


def has_egress(svc: Service) -> bool:
    """Whether the base has an egress policy of its own for the service (what it uses or calls)."""
    return bool(svc.uses or svc.optional_uses or svc.calls)


def egress(stack: Config) -> list[Egress]:
    """Every workload's egress in the base (rendered from the stack alone)."""
    return [Egress(svc.name, _peers(stack, svc, here=False)) for svc in stack.services.values()]


def overlay_egress(cfg: Config, stack: Config) -> list[Egress]:
    """The egress of this environment's workloads where it differs from the base's: a patch each."""
    base = {rule.workload: rule for rule in egress(stack)}
    out = []
    for svc in cfg.services.values():
        rule = Egress(svc.name, _peers(cfg, svc, here=True))
        if svc.name in base and rule != base[svc.name]:
            out.append(rule)
    return out


def callers(stack: Config) -> dict[str, dict[int, tuple[str, ...]]]:
    """service -> port -> the services that call it on that port: one pass over every
    service's `calls` (asked per deployment, it made the ingress quadratic in the services)."""
    found: dict[str, dict[int, list[str]]] = {}
    for svc in stack.services.values():
        for callee, port in svc.calls.items():
            found.setdefault(callee, {}).setdefault(port, []).append(svc.name)
    return {
        callee: {port: tuple(sorted(names)) for port, names in sorted(ports.items())}
        for callee, ports in found.items()
    }


def users(stack: Config) -> dict[str, tuple[str, ...]]:
    """database -> the services that use it (or may), in the stack's order: one pass."""
    found: dict[str, list[str]] = {}
    for svc in stack.services.values():
        for db in dict.fromkeys([*svc.uses, *svc.optional_uses]):
            found.setdefault(db, []).append(svc.name)
    return {db: tuple(names) for db, names in found.items()}


def ingress(stack: Config) -> list[Ingress]:
    """An ingress policy for every deployment with ports and every database that may run in
    the cluster (an overlay deletes those of a disabled service or a database placed elsewhere)."""
    out = []
    called = callers(stack)
    for svc in stack.deployments():
        if not svc.ports:
            continue
        public = tuple(sorted({p.port for p in svc.ports if p.publish}))
        rules = [Allow(public)] if public else []
        rules += [
            Allow((port,), names) for port, names in called.get(svc.name, {}).items() if port not in public
        ]
        out.append(Ingress(svc.name, tuple(rules)))
    used_by = users(stack)
    for db in stack.databases.values():
        if db.cluster:
            names = used_by.get(db.name, ())
            out.append(Ingress(db.name, (Allow((db.port,), names),) if names else ()))
    return out
