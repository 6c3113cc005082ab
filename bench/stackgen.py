"""Generate a stack of N services in the real schema, in a scratch copy of the project.

    .venv/bin/python bench/stackgen.py 300 /tmp/stack300      # a copy with 300 services

Used by bench/scale.py. The services are not copies of one another: names come from domains
and roles, about one in ten is a job, replicas, health checks (http, tcp, exec), published
ports, environment and resources vary (an HTTP service declares its metrics on its health port),
and each service `uses` one to three databases drawn
with a skew (a few are used by many services, most by a few), as in a real stack. Databases
grow with N (the demo's three, plus one more per 25 services: caches on the Redis image and
document stores on the MongoDB image), and each follows the placement of its family in every
environment (external ones get an endpoint, offline builds its caches from Debian packages as
it does Redis, and disables document stores and every service that needs one). About half the
services `call` one or two others (a NetworkPolicy path each), skewed the same way towards a
few popular deployments; a callee gets a `ports:` entry on its health port, and only services
that no environment disables are called (a call to a disabled service is refused).

Each service has its own module in the demo's package (the builder lays out one folder per
service), so changing one service's code changes exactly one service image. The output is
deterministic for a given N.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from testing.project import copy_project

DOMAINS = (
    "orders", "billing", "catalog", "search", "users", "auth", "inventory", "shipping", "payments",
    "reviews", "media", "notify", "ledger", "pricing", "reports", "audit", "geo", "chat", "feeds",
    "ranking",
)  # fmt: skip
ROLES = ("api", "worker", "gateway", "indexer", "scheduler", "sync", "cache-warmer", "exporter")
JOB_ROLES = ("migrate", "seed", "backfill", "reindex")
PACKAGE = "srvthreds_demo"
# The demo's databases, by family: what an extra one of that family copies.
FAMILIES = {"cache": "redis", "docs": "mongodb"}


def service_names(n: int) -> list[tuple[str, str]]:
    """(name, kind) of n distinct services: about one in ten is a job."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i in range(n):
        domain = DOMAINS[i % len(DOMAINS)]
        round_ = i // len(DOMAINS)
        if i % 10 == 9:
            role, kind = JOB_ROLES[round_ % len(JOB_ROLES)], "job"
        else:
            role, kind = ROLES[round_ % len(ROLES)], "deployment"
        name, copy = f"{domain}-{role}", 1
        while name in seen:  # past the first rounds, a numbered instance of the same role
            copy += 1
            name = f"{domain}-{role}-{copy}"
        seen.add(name)
        out.append((name, kind))
    return out


def extra_databases(n: int) -> dict[str, str]:
    """name -> family of the databases beyond the demo's three (one per 25 services)."""
    out = {}
    for i in range(n // 25):
        family = "cache" if i % 2 == 0 else "docs"
        out[f"{family}-{i + 1}"] = family
    return out


def database_spec(name: str, family: str, base: dict[str, Any]) -> dict[str, Any]:
    spec = {k: v for k, v in base[FAMILIES[family]].items() if k not in ("publish", "cluster")}
    spec["env_var"] = re.sub(r"\W", "_", name).upper() + "_HOST"
    return spec


def service_spec(rng: random.Random, i: int, name: str, kind: str, databases: list[str]) -> dict[str, Any]:
    module = name.replace("-", "_")
    weights = [1.0 / (rank + 1) for rank in range(len(databases))]  # Zipf-like: a few are popular
    uses = sorted(set(rng.choices(databases, weights=weights, k=rng.randint(1, 3))))
    spec: dict[str, Any] = {
        # Its own module: `doit dev` rebuilds this service alone when it changes.
        "inputs": [f"demo/{PACKAGE}/{module}.py"],
        "kind": kind,
        "command": ["python3", "-m", f"{PACKAGE}.{module}"],
        "env": {"LOG_LEVEL": rng.choice(["info", "info", "warning", "debug"])},
        "uses": uses,
        "resources": {
            "requests": {"cpu": f"{rng.choice([50, 100, 200])}m", "memory": f"{rng.choice([64, 128])}Mi"},
            "limits": {"cpu": f"{rng.choice([250, 500, 1000])}m", "memory": f"{rng.choice([256, 512])}Mi"},
        },
    }
    if kind == "job":
        return spec
    port = rng.choice([8080, 3000, 9000])
    spec["replicas"] = rng.choice([1, 1, 1, 2, 3])
    spec["health"] = rng.choice(
        [
            {"port": port, "path": "/healthz"},
            {"port": port, "path": "/healthz"},
            {"kind": "tcp", "port": port},
            {"kind": "exec", "command": ["python3", "-c", "pass"]},
        ]
    )
    if i % 20 == 1:  # a few are reached from the host (each its own host port, so one container)
        spec["ports"] = [{"name": "http", "port": port, "publish": 20000 + i}]
        spec["replicas"] = 1
    if rng.random() < 0.3:
        spec["env"]["FEATURE_FLAGS"] = rng.choice(["beta", "none", "canary"])
    if spec["health"].get("path"):
        # An HTTP service serves its metrics on its health port (prod's monitoring component
        # needs at least one, and scrapes a port the service declares). No draw: the stack for a
        # given N is the one it was before metrics existed, plus these keys.
        spec["metrics"] = {"port": port, "path": "/metrics"}
        spec.setdefault("ports", [{"name": "http", "port": port}])
    return spec


def module_text(name: str) -> str:
    return (
        f'"""The {name} service of the generated stack (bench/stackgen.py)."""\n\n'
        "import logging\n\n"
        f"log = logging.getLogger({name!r})\n\n"
        f'if __name__ == "__main__":\n    logging.basicConfig(level=logging.INFO)\n    log.info("started")\n'
    )


def stack_file(root: Path, n: int) -> tuple[dict[str, Any], dict[str, str]]:
    rng = random.Random(n)
    path = root / "environments" / "stack.yaml"
    stack = yaml.safe_load(path.read_text())
    extras = extra_databases(n)
    base_dbs = stack["databases"]
    for name, family in extras.items():
        base_dbs[name] = database_spec(name, family, base_dbs)
    # Popularity order: the message broker and the shared cache first, document stores last.
    databases = sorted(base_dbs, key=lambda d: (d == "mongodb" or d.startswith("docs"), d != "rabbitmq"))
    names = service_names(n)
    stack["services"] = {
        name: service_spec(rng, i, name, kind, databases) for i, (name, kind) in enumerate(names)
    }
    add_calls(random.Random(n + 1), stack["services"], never_disabled(root, set(base_dbs), extras))
    path.write_text(yaml.safe_dump(stack, sort_keys=False))
    return stack, extras


def never_disabled(root: Path, databases: set[str], extras: dict[str, str]) -> set[str]:
    """The databases no environment disables (an extra one follows its family's placement)."""
    off: set[str] = set()
    for path in (root / "environments").glob("*.yaml"):
        placement = (yaml.safe_load(path.read_text()) or {}).get("placement") or {}
        off |= {db for db, where in placement.items() if where == "disabled"}
    off |= {name for name, family in extras.items() if FAMILIES[family] in off}
    return databases - off


def add_calls(rng: random.Random, services: dict[str, Any], databases: set[str]) -> None:
    """About half the services call one or two deployments that are never disabled."""
    callable_ = [n for n, s in services.items() if s["kind"] == "deployment" and set(s["uses"]) <= databases]
    weights = [1.0 / (rank + 1) for rank in range(len(callable_))]  # a few are called by many
    for name, spec in services.items():
        if rng.random() >= 0.5:
            continue
        callees = {c for c in rng.choices(callable_, weights=weights, k=rng.randint(1, 2)) if c != name}
        for callee in sorted(callees):
            target = services[callee]
            if not target.get("ports"):
                target["ports"] = [{"name": "http", "port": target["health"].get("port", 8080)}]
            spec.setdefault("calls", {})[callee] = target["ports"][0]["port"]


def environment_file(path: Path, stack: dict[str, Any], extras: dict[str, str]) -> None:
    """Every extra database follows its family's placement; demo service names give way."""
    env: dict[str, Any] = yaml.safe_load(path.read_text())
    placement = env.get("placement", {})
    endpoints = env.get("endpoints", {})
    disabled = {db for db, where in placement.items() if where == "disabled"}
    for name, family in extras.items():
        where = placement.get(FAMILIES[family], "compose")
        placement[name] = "compose" if where == "cluster" else where
        if where == "external":
            host, _, port = endpoints[FAMILIES[family]].rpartition(":")
            endpoints[name] = f"{name}.{host.split('.', 1)[1]}:{port}"
        if where == "disabled":
            disabled.add(name)
        databases = env.setdefault("databases", {})
        if FAMILIES[family] in databases:  # offline: built from Debian packages, as its family
            databases[name] = {"image": f"srvthreds/{name}-offline", **{
                k: v for k, v in databases[FAMILIES[family]].items() if k != "image"
            }}  # fmt: skip
    services = stack["services"]
    names = list(services)
    if "disabled_services" in env:
        env["disabled_services"] = [n for n, s in services.items() if disabled & set(s["uses"])]
    if "services" in env:  # per-environment overrides: the same number, on generated services
        overrides = list(env["services"].values())
        deployments = [n for n in names if services[n]["kind"] == "deployment"]
        env["services"] = {deployments[i * 7 % len(deployments)]: o for i, o in enumerate(overrides)}
    if endpoints:
        env["endpoints"] = endpoints
    path.write_text(yaml.safe_dump(env, sort_keys=False))


def builder_dockerfile(root: Path, names: list[str]) -> None:
    """The builder lays out one folder per service (the loop over service:module pairs)."""
    path = root / "demo" / "docker" / "Dockerfile.builder"
    pairs = " ".join(f"{n}:{n.replace('-', '_')}" for n in names)
    text = re.sub(r"for pair in [^;]*; do", f"for pair in {pairs}; do", path.read_text(), flags=re.S)
    path.write_text(text)


def generate(root: Path, n: int) -> list[str]:
    """Rewrite the project at `root` (a copy) to a stack of n services; returns their names."""
    stack, extras = stack_file(root, n)
    for path in sorted((root / "environments").glob("*.yaml")):
        if path.name != "stack.yaml":
            environment_file(path, stack, extras)
    names = list(stack["services"])
    package = root / "demo" / PACKAGE
    for name in names:
        module = package / f"{name.replace('-', '_')}.py"
        if not module.exists():
            module.write_text(module_text(name))
    builder_dockerfile(root, names)
    return names


def main() -> None:
    n, dest = int(sys.argv[1]), Path(sys.argv[2])
    names = generate(copy_project(dest), n)
    print(f"{dest}: {len(names)} services")


if __name__ == "__main__":
    main()
