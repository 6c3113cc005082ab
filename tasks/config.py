"""Load environments/stack.yaml plus one environments/<env>.yaml into a Config.

Reading files is all this module does: structure is checked per file (so errors
point at the right file and line), then the merged result is cross-checked.
"""
from __future__ import annotations

import difflib
import functools
import re
from pathlib import Path
from typing import Any

from tasks import schema as s
from tasks.errors import ConfigError, StackError
from tasks.model import Config, Database, Health, Images, Minikube, Port, Service
from tasks.yamlpos import KeyPath, Located, dotted, load_yaml

ENV_DIR = "environments"
STACK_FILE = "stack.yaml"

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_var(value: Any) -> tuple[str, str] | None:
    if isinstance(value, str) and ENV_NAME.match(value):
        return None
    return f"{value!r} is not a valid environment variable name", "use letters, digits and '_'"


def _at_least(n: int) -> s.Check:
    return lambda v: None if v >= n else (f"{v} is less than {n}", f"use {n} or more")


VALUE = s.Scalar((str, int, bool))
ENV_MAP = s.MapOf(VALUE, _env_var)
RESOURCES = s.Fields(
    {"cpu": s.Scalar((str, int, float), s.quantity(s.CPU, "'250m' or '1'")),
     "memory": s.Scalar((str,), s.quantity(s.MEMORY, "'256Mi' or '1Gi'"))},
    frozenset({"cpu", "memory"}),
)
SERVICE = s.Fields(
    {
        "kind": s.Scalar((str,), s.one_of("deployment", "job")),
        "command": s.ListOf(s.STR),
        "replicas": s.Scalar((int,), _at_least(0)),
        "ports": s.ListOf(s.Fields({"name": s.NAME, "port": s.PORT, "publish": s.PORT},
                                   frozenset({"name", "port"}))),
        "health": s.Fields({"port": s.PORT, "path": s.STR}, frozenset({"port", "path"})),
        "env": ENV_MAP,
        "uses": s.STRS,
        "optional_uses": s.STRS,
        "resources": s.Fields({"requests": RESOURCES, "limits": RESOURCES},
                              frozenset({"requests", "limits"})),
    },
    frozenset({"command", "resources"}),
)
DATABASE = s.Fields(
    {
        "image": s.STR, "build": s.STR, "port": s.PORT, "publish": s.PORT, "replica_set": s.STR,
        "command": s.STRS, "healthcheck": s.STRS, "data_dir": s.STR, "env": ENV_MAP,
        "secret_env": s.MapOf(s.Scalar((str,), _env_var), _env_var),
        "env_var": s.Scalar((str,), _env_var),
        "cluster": s.Fields({"storage": s.Scalar((str,), s.quantity(s.MEMORY, "'1Gi'")),
                             "uid": s.Scalar((int,), _at_least(1))}),
    },
    frozenset({"image", "port", "env_var"}),
)
CLOUD = s.Fields(
    {
        "region": s.STR, "cluster_name": s.NAME, "registry": s.STR, "vpc_cidr": s.STR,
        "node_instance_types": s.STRS, "endpoint_private": s.BOOL,
        "mongodb_instance_size": s.Scalar((str,), s.one_of("M10", "M20", "M30", "M40", "M50", "M60", "M80")),
        "redis_deployment_cidr": s.STR,
        "node_count": s.Fields({"min": s.INT, "max": s.INT, "desired": s.INT},
                               frozenset({"min", "max", "desired"})),
        "state": s.Fields({"bucket": s.STR, "lock_table": s.STR}, frozenset({"bucket", "lock_table"})),
    },
    frozenset({"region", "cluster_name", "registry", "vpc_cidr", "node_instance_types",
               "node_count", "state", "mongodb_instance_size", "redis_deployment_cidr"}),
)
TOP = s.Fields(
    {
        "project": s.NAME, "namespace": s.NAME, "network": s.STR, "kubernetes_version": s.STR,
        "images": s.Fields({
            "prefix": s.STR, "base": s.Scalar((str,), s.one_of("pull", "debootstrap")),
            "base_image": s.STR, "suite": s.STR, "service_dockerfile": s.STR,
            "uid": s.Scalar((int,), _at_least(1)),
            "builder": s.Fields({"dockerfile": s.STR, "context": s.STR},
                                frozenset({"dockerfile", "context"})),
        }),
        "services": s.MapOf(SERVICE, s.dns_label),
        "secrets": s.ListOf(s.Scalar((str,), _env_var)),
        "databases": s.MapOf(DATABASE, s.dns_label),
        "minikube": s.Fields({
            "profile": s.NAME, "driver": s.STR, "cpus": s.Scalar((int,), _at_least(1)),
            "memory": s.Scalar((int,), _at_least(1024)), "disk": s.STR, "addons": s.STRS,
            "image_strategy": s.Scalar((str,), s.one_of("docker-env", "image-load")),
        }),
        "runtime": s.Scalar((str,), s.one_of("compose", "kubernetes")),
        "placement": s.MapOf(s.Scalar((str,), s.one_of("compose", "cluster", "external", "disabled"))),
        "endpoints": s.MapOf(s.STR),
        "disabled_services": s.STRS,
        "config": ENV_MAP,
        "components": s.ListOf(s.Scalar((str,), s.one_of("ingress", "hpa"))),
        "host_address": s.STR,
        "hooks": s.Fields({"pre_build": s.STRS, "post_build": s.STRS}),
        "timeouts": s.Fields({"rollout": s.Scalar((int,), _at_least(1)),
                              "healthy": s.Scalar((int,), _at_least(1))}),
        "cloud": CLOUD,
    },
    frozenset({"project", "namespace", "network", "images", "services", "databases"}),
)

DEFAULTS: dict[str, Any] = {
    "kubernetes_version": "1.33.0",
    "runtime": "compose",
    "images": {"prefix": "stack", "base": "pull", "base_image": "debian:bookworm-slim",
               "suite": "bookworm", "service_dockerfile": "docker/Dockerfile.service", "uid": 10001},
    "minikube": {"profile": "minikube", "driver": "docker", "cpus": 2, "memory": 4096,
                 "disk": "20g", "addons": [], "image_strategy": "docker-env"},
    "host_address": "host.docker.internal",
    "timeouts": {"rollout": 180, "healthy": 120},
}


def environments(root: Path) -> list[str]:
    """Every environment name: one file per environment beside stack.yaml."""
    return sorted(p.stem for p in (root / ENV_DIR).glob("*.yaml") if p.name != STACK_FILE)


def env_file(name: str, root: Path) -> Path:
    return root / ENV_DIR / f"{name}.yaml"


def check_env_name(name: str, root: Path) -> None:
    known = environments(root)
    if name in known:
        return
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise StackError(
        f"unknown environment {name!r}; known environments: {', '.join(known)}",
        fix=f"{hint}To add one, copy a small file: cp {ENV_DIR}/dev.yaml {ENV_DIR}/{name}.yaml",
    )


def load(env: str | None, root: Path) -> Config:
    """The merged, validated configuration of one environment (None: the stack alone)."""
    files = [root / ENV_DIR / STACK_FILE] + ([env_file(env, root)] if env else [])
    # Task creators ask for the same environments many times per run; a file's
    # identity (mtime, size) keys the cache so an edit is always seen.
    key = tuple((str(f), *_stat(f)) for f in files)
    return _load_cached(env, root, key)


def _stat(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, -1)
    return (st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _load_cached(env: str | None, root: Path, key: tuple[tuple[str, int, int], ...]) -> Config:
    stack_path = root / ENV_DIR / STACK_FILE
    stack = load_yaml(stack_path, f"{ENV_DIR}/{STACK_FILE}")
    s.validate(stack, TOP, enforce_required=True)
    docs = [stack]
    sources = [stack_path]
    if env is not None:
        check_env_name(env, root)
        if not s.DNS1123.match(env):
            raise StackError(f"environment name {env!r} is not a valid DNS-1123 label",
                             fix="rename the file to lowercase letters, digits and '-'")
        over = load_yaml(env_file(env, root), f"{ENV_DIR}/{env}.yaml")
        s.validate(over, TOP, enforce_required=False)
        docs.append(over)
        sources.append(env_file(env, root))
    merged: dict[str, Any] = {}
    for data in [DEFAULTS] + [d.data for d in docs]:
        merged = _merge(merged, data)
    return _build(env, merged, docs, tuple(sources))


def _merge(base: Any, over: Any) -> Any:
    """Mappings merge key by key; anything else (lists too) is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base.get(key), value)
        return out
    return over


class _Where:
    """Report a merged key at the file that last set it."""

    def __init__(self, docs: list[Located]) -> None:
        self.docs = docs

    def error(self, path: KeyPath, problem: str, fix: str | None = None) -> ConfigError:
        for doc in reversed(self.docs):
            if path in doc.lines or (path[:1] and path[:1] in doc.lines and doc is not self.docs[0]):
                return ConfigError(doc.file, dotted(path), doc.line(path), problem, fix=fix)
        doc = self.docs[-1]
        return ConfigError(doc.file, dotted(path), doc.line(path), problem, fix=fix)


def _build(env: str | None, m: dict[str, Any], docs: list[Located], sources: tuple[Path, ...]) -> Config:
    where = _Where(docs)
    dbs_raw: dict[str, Any] = m["databases"]
    placement: dict[str, str] = m.get("placement", {})
    endpoints: dict[str, str] = m.get("endpoints", {})
    runtime: str = m["runtime"]
    for name in placement:
        if name not in dbs_raw:
            raise where.error(("placement", name), f"unknown database {name!r}",
                              s._did_you_mean(name, dbs_raw))
    for name in endpoints:
        if name not in dbs_raw:
            raise where.error(("endpoints", name), f"unknown database {name!r}",
                              s._did_you_mean(name, dbs_raw))
    host = m["host_address"]
    databases: dict[str, Database] = {}
    for name, raw in dbs_raw.items():
        where_ = placement.get(name, "compose" if env is None else "")
        if not where_:
            raise where.error(("placement",), f"database {name!r} has no placement",
                              f"add `{name}: compose|cluster|external|disabled` under placement")
        if where_ == "cluster" and "cluster" not in raw:
            raise where.error(("placement", name),
                              f"{name} cannot be placed in the cluster: databases run outside Kubernetes",
                              "use compose (host Docker), external (managed) or disabled")
        if where_ == "cluster" and runtime == "compose":
            raise where.error(("placement", name), f"{name} is placed in a cluster, but runtime is compose",
                              "use `placement: compose` or `runtime: kubernetes`")
        if where_ == "external" and name not in endpoints:
            raise where.error(("endpoints",), f"{name} is external but has no endpoint",
                              f"add `{name}: host:port` under endpoints")
        if where_ == "external":
            endpoint = endpoints[name]
        elif where_ == "compose" and runtime == "kubernetes":
            # From the cluster the host database is reached where the host publishes it.
            endpoint = f"{host}:{raw.get('publish') or raw['port']}"
        else:
            endpoint = f"{name}:{raw['port']}"
        databases[name] = Database(
            name=name, image=raw["image"], build=raw.get("build"), port=raw["port"],
            env_var=raw["env_var"], placement=where_, endpoint=endpoint,
            replica_set=raw.get("replica_set"), cluster=raw.get("cluster"),
            publish=raw.get("publish"), command=tuple(raw.get("command", [])),
            healthcheck=tuple(raw.get("healthcheck", [])), data_dir=raw.get("data_dir"),
            env=dict(raw.get("env", {})), secret_env=dict(raw.get("secret_env", {})),
        )
    declared = set(m.get("secrets", []))
    for name, raw in dbs_raw.items():
        for var, secret in raw.get("secret_env", {}).items():
            if secret not in declared:
                raise where.error(("databases", name, "secret_env", var), f"undeclared secret {secret!r}",
                                  f"add {secret} to the top-level `secrets:` list")
    disabled = m.get("disabled_services", [])
    for i, name in enumerate(disabled):
        if name not in m["services"]:
            raise where.error(("disabled_services", i), f"unknown service {name!r}",
                              s._did_you_mean(name, m["services"]))
    services: dict[str, Service] = {}
    for name, raw in m["services"].items():
        for key in ("uses", "optional_uses"):
            for i, db in enumerate(raw.get(key, [])):
                if db not in databases:
                    raise where.error(("services", name, key, i), f"unknown database {db!r}",
                                      s._did_you_mean(db, databases))
        if name in disabled:
            continue
        off = [db for db in raw.get("uses", []) if databases[db].placement == "disabled"]
        if off:
            raise where.error(("disabled_services",),
                              f"service {name!r} needs {', '.join(off)}, which is disabled here",
                              f"add {name} to disabled_services, or place {', '.join(off)}")
        kind = raw.get("kind", "deployment")
        if kind == "deployment" and "health" not in raw:
            raise where.error(("services", name), f"deployment {name!r} has no health endpoint",
                              "add `health: {port: N, path: /healthz}` (used for probes and healthchecks)")
        services[name] = Service(
            name=name, kind=kind, command=tuple(raw["command"]),
            replicas=raw.get("replicas", 1),
            ports=tuple(Port(p["name"], p["port"], p.get("publish")) for p in raw.get("ports", [])),
            health=Health(**raw["health"]) if "health" in raw else None,
            env=dict(raw.get("env", {})), uses=tuple(raw.get("uses", [])),
            optional_uses=tuple(raw.get("optional_uses", [])),
            requests={k: str(v) for k, v in raw["resources"]["requests"].items()},
            limits={k: str(v) for k, v in raw["resources"]["limits"].items()},
        )
    img = m["images"]
    mk = m["minikube"]
    hooks = m.get("hooks", {})
    return Config(
        env=env, project=m["project"], namespace=m["namespace"], network=m["network"],
        kubernetes_version=m["kubernetes_version"], runtime=runtime,
        images=Images(prefix=img["prefix"], base=img["base"], base_image=img["base_image"],
                      builder_dockerfile=img["builder"]["dockerfile"],
                      builder_context=img["builder"]["context"],
                      service_dockerfile=img["service_dockerfile"], suite=img["suite"],
                      uid=img["uid"]),
        services=services, databases=databases, secrets=tuple(m.get("secrets", [])),
        config=dict(m.get("config", {})), components=tuple(m.get("components", [])),
        host_address=host,
        minikube=Minikube(profile=mk["profile"], driver=mk["driver"], cpus=mk["cpus"],
                          memory=mk["memory"], disk=mk["disk"], addons=tuple(mk["addons"]),
                          image_strategy=mk["image_strategy"]),
        cloud=m.get("cloud"),
        hooks={k: tuple(hooks.get(k, [])) for k in ("pre_build", "post_build")},
        timeouts=dict(m["timeouts"]), sources=sources,
    )
