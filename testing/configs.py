"""Configurations for tests: a small made-up project on disk, edits of a project copy, and
Config objects built directly (so a test of rendering or the model sees one rule alone).

The small project has one service, one job and one database; `load`, `read` and `refused`
write the stack (and optionally environments/test.yaml) and go through the public doors of
tasks/config.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.config import load as loader
from tasks.config.merged import Merged
from tasks.errors import ConfigError
from tasks.model import (
    Access,
    Build,
    Cloud,
    CloudDatabase,
    Config,
    Database,
    GitHub,
    Images,
    Minikube,
    NodeCount,
    Service,
    TerraformState,
)

# --- a small project on disk -----------------------------------------------------------

RESOURCES = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": 1, "memory": "128Mi"}}
STACK: dict[str, Any] = {
    "project": "shop",
    "namespace": "shop",
    "network": "shop-net",
    "images": {"prefix": "acme", "service_build": {"context": "app"}},
    "services": {
        "web": {
            "command": ["serve"],
            "health": {"port": 8080, "path": "/healthz"},
            "ports": [{"name": "http", "port": 8080, "publish": 8080}],
            "uses": ["pg"],
            "resources": RESOURCES,
        },
        "migrate": {"kind": "job", "command": ["migrate"], "uses": ["pg"], "resources": RESOURCES},
    },
    "secrets": ["PG_PASSWORD"],
    "databases": {
        "pg": {
            "image": "postgres:16",
            "port": 5432,
            "publish": 15432,
            "env_var": "PG_HOST",
            "data_dir": "/data",
            "secret_env": {"POSTGRES_PASSWORD": "PG_PASSWORD"},
        }
    },
}
CLOUD: dict[str, Any] = {
    "region": "us-west-2",
    "cluster_name": "shop-dev",
    "registry": "123456789012.dkr.ecr.us-west-2.amazonaws.com",
    "vpc_cidr": "10.10.0.0/16",
    "node_instance_types": ["t3.medium"],
    "node_count": {"min": 1, "max": 3, "desired": 2},
    "state": {"bucket": "shop-tfstate-dev", "lock_table": "shop-tflock-dev"},
    "cluster_version": "1.33",
    "endpoint_public_cidrs": ["203.0.113.0/24"],
    "access": {"admins": ["arn:aws:iam::123456789012:role/admin"]},
    "github": {"repository": "acme/shop"},
}
# environments/test.yaml for each runtime, placing the one database on the host.
KUBE: dict[str, Any] = {"runtime": "kubernetes", "placement": {"pg": "compose"}}
LOCAL: dict[str, Any] = {"runtime": "compose", "placement": {"pg": "compose"}}


def stack() -> dict[str, Any]:
    """A fresh copy of the small stack, to change."""
    return copy.deepcopy(STACK)


def cloud_env(**cloud: Any) -> dict[str, Any]:
    """A cloud environment file (the database external), with `cloud` overriding CLOUD."""
    return {**KUBE, "placement": {"pg": "external"}, "endpoints": {"pg": "db:1"}, "cloud": {**CLOUD, **cloud}}


def write(root: Path, name: str, data: dict[str, Any]) -> None:
    folder = root / "environments"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(yaml.safe_dump(data, sort_keys=False))


def small_project(root: Path) -> Path:
    """The small stack in `root`, with the build context its services name."""
    (root / "app").mkdir()
    (root / "app" / "Dockerfile").write_text("FROM scratch\n")
    write(root, "stack.yaml", STACK)
    return root


def _files(root: Path, data: dict[str, Any] | None, env: dict[str, Any] | None) -> None:
    if data is not None:
        write(root, "stack.yaml", data)
    if env is not None:
        write(root, "test.yaml", env)


def load(root: Path, data: dict[str, Any] | None = None, env: dict[str, Any] | None = None) -> Config:
    """The stack (`data`, else the one on disk) alone, or with `env` as environments/test.yaml."""
    _files(root, data, env)
    return loader.load_stack(root) if env is None else loader.load("test", root)


def read(root: Path, data: dict[str, Any] | None = None, env: dict[str, Any] | None = None) -> Merged:
    """As `load`, up to the merged files the rules check."""
    _files(root, data, env)
    return loader.read_stack(root) if env is None else loader.read("test", root)


def refused(root: Path, data: dict[str, Any] | None = None, env: dict[str, Any] | None = None) -> ConfigError:
    """The error `load` raises."""
    with pytest.raises(ConfigError) as info:
        load(root, data, env)
    return info.value


def broken(
    rule: Callable[[Merged], None],
    root: Path,
    data: dict[str, Any] | None = None,
    env: dict[str, Any] | None = None,
) -> ConfigError:
    """The error one rule raises on these files (the others are not run)."""
    merged = read(root, data, env)
    with pytest.raises(ConfigError) as info:
        rule(merged)
    return info.value


# --- edits of a project copy (the demo's environments) ------------------------------------


def edit(root: Path, name: str, old: str, new: str) -> None:
    """Replace the first `old` in environments/<name>."""
    path = root / "environments" / name
    text = path.read_text()
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1))


def error(root: Path, env: str | None) -> ConfigError:
    """The error loading `env` (None: the stack alone) raises."""
    with pytest.raises(ConfigError) as info:
        loader.load_stack(root) if env is None else loader.load(env, root)
    return info.value


def line_of(root: Path, name: str, needle: str) -> int:
    """The first line of environments/<name> that contains `needle`."""
    lines = (root / "environments" / name).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


# --- Config objects built directly ----------------------------------------------------------


def service(name: str, kind: str = "deployment", **kw: Any) -> Service:
    fields: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "command": ("run",),
        "replicas": 1,
        "ports": (),
        "health": None,
        "env": {},
        "uses": (),
        "optional_uses": (),
        "requests": {},
        "limits": {},
        "build": Build(context="app", dockerfile="app/Dockerfile"),
    }
    return Service(**{**fields, **kw})


def database(name: str, placement: str = "compose", **kw: Any) -> Database:
    fields: dict[str, Any] = {
        "name": name,
        "image": f"{name}:1",
        "build": None,
        "port": 5000,
        "env_var": "X",
        "placement": placement,
        "endpoint": f"{name}:5000",
        "cluster": None,
        "publish": None,
        "command": (),
        "healthcheck": (),
        "data_dir": None,
        "env": {},
        "secret_env": {},
    }
    return Database(**{**fields, **kw})


def cloud(cluster_name: str = "shop-dev", region: str = "us-west-2", **kw: Any) -> Cloud:
    fields: dict[str, Any] = {
        "region": region,
        "cluster_name": cluster_name,
        "cluster_version": "1.33",
        "registry": "123456789012.dkr.ecr.us-west-2.amazonaws.com",
        "vpc_cidr": "10.10.0.0/16",
        "node_instance_types": ("t3.medium",),
        "node_count": NodeCount(1, 3, 2),
        "state": TerraformState("shop-tfstate", "shop-tflock"),
        "access": Access(admins=("arn:aws:iam::123456789012:role/admin",)),
        "github": GitHub("acme/shop"),
        "databases": {},
    }
    return Cloud(**{**fields, **kw})


def cloud_database(module: str, **settings: Any) -> CloudDatabase:
    return CloudDatabase(module, settings)


def config(
    env: str,
    services: list[Service],
    databases: list[Database],
    runtime: str = "compose",
    cloud: Cloud | None = None,
) -> Config:
    return Config(
        env=env,
        project="shop",
        namespace="shop",
        network="shop-net",
        protected=False,
        kubernetes_version="1.33.0",
        runtime=runtime,
        images=Images(prefix="acme", base="pull", base_image="debian", builder=None, suite="bookworm", uid=1),
        services={s.name: s for s in services},
        databases={d.name: d for d in databases},
        secrets=(),
        config={},
        components=(),
        host_address="host",
        minikube=Minikube("p", "docker", 2, 4096, "20g", (), "docker-env"),
        cloud=cloud,
        hooks={},
        timeouts={},
    )
