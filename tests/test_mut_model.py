"""The typed configuration and what is derived from it without templates (tasks/model.py,
placement.py, netpol.py, healthcheck.py, images.py): edges bench/mutation.py found unguarded.

Configurations are built here directly, small and made up, so each rule is seen alone."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from tasks.model import Build, Config, Database, Health, Images, Minikube, Port, Service
from tasks.render import healthcheck, netpol, placement
from tasks.store import images, state


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


def config(
    env: str | None,
    services: list[Service],
    databases: list[Database],
    runtime: str = "compose",
    cloud: dict[str, Any] | None = None,
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


# --- model -------------------------------------------------------------------------


def test_model_queries() -> None:
    cfg = config(
        "dev",
        [service("web-api"), service("migrate", kind="job"), service("worker")],
        [
            database("pg", "cluster", build="docker/pg"),
            database("cache", "cluster"),
            database("queue", "compose", build="docker/queue"),
            database("old", "disabled", build="docker/old"),
            database("ext", "external"),
        ],
    )
    assert cfg.services["web-api"].env_prefix == "WEB_API"
    assert cfg.image_ref("worker") == "acme/worker"
    assert [s.name for s in cfg.deployments()] == ["web-api", "worker"]
    assert [s.name for s in cfg.jobs()] == ["migrate"]
    assert cfg.built_images() == ["web-api", "migrate", "worker", "pg", "queue"]
    assert cfg.cluster_images() == ["web-api", "migrate", "worker", "pg"]
    assert [d.name for d in cfg.placed("cluster")] == ["pg", "cache"]
    assert [d.name for d in cfg.placed("external")] == ["ext"]


def test_the_configuration_is_immutable() -> None:
    cfg = config("dev", [service("web", ports=(Port("http", 80, None),))], [database("pg")])
    web = cfg.services["web"]
    health = Health(kind="tcp", port=1)
    objects: list[Any] = [
        cfg,
        cfg.images,
        cfg.minikube,
        web,
        web.ports[0],
        web.build,
        cfg.databases["pg"],
        health,
    ]
    for obj in objects:
        name = dataclasses.fields(obj)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, name, None)
    assert Build(context="app", dockerfile="app/Dockerfile").builder is False


# --- placement ---------------------------------------------------------------------


def test_services_where() -> None:
    assert placement.services_where(config("a", [], [], cloud={"region": "r"})) == "EKS"
    assert placement.services_where(config("a", [], [], runtime="kubernetes")) == "Minikube"
    assert placement.services_where(config("a", [], [])) == "Compose"


def test_placement_markdown_lists_each_environment_and_only_services_that_differ() -> None:
    configs = [
        config(None, [service("web"), service("worker")], [database("pg")]),  # the stack alone: no column
        config("local", [service("web"), service("worker")], [database("pg"), database("cache")]),
        config("kube", [service("web")], [database("pg", "cluster")], runtime="kubernetes"),
    ]
    text = placement.markdown(configs)
    lines = text.splitlines()
    assert lines[0] == placement.HEADER
    table = lines[lines.index("|  | `local` | `kube` |") :]
    assert table[:6] == [
        "|  | `local` | `kube` |",
        "|---|---|---|",
        "| **cache** | compose | - |",
        "| **pg** | compose | cluster |",
        "| services run in | Compose | Minikube |",
        "| service `worker` | on | off |",
    ]
    assert table[6] == ""  # `web` runs everywhere: no row
    assert '  subgraph local["local: services in Compose"]' in lines
    assert '    local_cache["cache: Compose on the host"]:::compose' in lines
    assert '    kube_pg["pg: in the cluster"]:::cluster' in lines
    assert not any(line.startswith("    kube_cache") for line in lines)
    assert lines.count("  end") == 2
    assert text.endswith("  classDef disabled fill:#f3f4f6,stroke:#9ca3af,stroke-dasharray: 4\n```\n")


# --- netpol ------------------------------------------------------------------------


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


# --- healthcheck -------------------------------------------------------------------


def test_exec_health_check_runs_the_command_with_literal_dollars() -> None:
    health = Health(kind="exec", command=("check", "$HOME", "--x"))
    assert healthcheck.compose_test(health) == ["CMD", "check", "$$HOME", "--x"]


def test_tcp_health_check_connects_to_the_port() -> None:
    assert healthcheck.compose_test(Health(kind="tcp", port=5672)) == [
        "CMD",
        "bash",
        "-c",
        "exec 3<>/dev/tcp/127.0.0.1/5672",
    ]


def test_http_health_check_asks_for_the_path_and_wants_2xx_or_3xx() -> None:
    test = healthcheck.compose_test(Health(kind="http", port=8080, path="/healthz"))
    assert test[:3] == ["CMD", "bash", "-c"]
    assert test[3] == (
        "exec 3<>/dev/tcp/127.0.0.1/8080 && "
        "printf 'GET /healthz HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3 && "
        "read -r status <&3 && [[ $$status == 'HTTP/1.'?' '[23]* ]]"
    )
    assert json.loads(healthcheck.compose_test_yaml(Health(kind="http", port=8080, path="/healthz"))) == test


# --- images ------------------------------------------------------------------------


def test_image_state_files() -> None:
    assert images.state_dir("dev") == state.BUILD / "dev" / "images"
    assert images.iid_file("dev", "web") == state.BUILD / "dev" / "images" / "web.iid"
    assert images.ref_file("dev", "web", "minikube") == state.BUILD / "dev" / "minikube" / "web.ref"


def test_content_tag_is_the_short_image_id() -> None:
    assert images.content_tag(" sha256:0123456789abcdef0123\n") == "0123456789ab"
    assert len(images.content_tag("sha256:" + "f" * 64)) == images.TAG_LENGTH == 12


def test_refs_are_read_for_built_images_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    images.state_dir("dev").mkdir(parents=True)
    images.ref_file("dev", "web").write_text("acme/web:0123\n")
    assert images.refs("dev", ["web", "worker"]) == {"web": "acme/web:0123"}
    assert images.refs("dev", ["web"], "minikube") == {}


def test_pushed_images_are_services_and_cluster_databases_we_build() -> None:
    cfg = config(
        "dev",
        [service("web")],
        [database("pg", "cluster", build="docker/pg", image="acme/pg-custom"), database("cache", "cluster")],
    )
    assert images.pushed(cfg) == {"web": "acme/web", "pg": "acme/pg-custom"}


def test_image_var() -> None:
    assert images.image_var("session-agent") == "SESSION_AGENT_IMAGE"
