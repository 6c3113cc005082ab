"""tasks/render/placement.py: docs/placement.md, where each database runs in every environment."""

from __future__ import annotations

from pathlib import Path

from tasks.config import load as config
from tasks.model import STACK, Config
from tasks.render import placement
from testing.configs import cloud, database, service
from testing.configs import config as make_config
from testing.project import REPO


def test_services_where() -> None:
    assert placement.services_where(make_config("a", [], [], cloud=cloud())) == "EKS"
    assert placement.services_where(make_config("a", [], [], runtime="kubernetes")) == "Minikube"
    assert placement.services_where(make_config("a", [], [])) == "Compose"


def test_placement_markdown_lists_each_environment_and_only_services_that_differ() -> None:
    configs = [
        make_config(
            STACK, [service("web"), service("worker")], [database("pg")]
        ),  # the stack alone: no column
        make_config("local", [service("web"), service("worker")], [database("pg"), database("cache")]),
        make_config("kube", [service("web")], [database("pg", "cluster")], runtime="kubernetes"),
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


def configs(root: Path) -> list[Config]:
    return [config.load(env, root) for env in config.environments(root)]


def test_matrix_rows_come_from_each_environment() -> None:
    text = placement.markdown(configs(REPO))
    assert text.splitlines()[0].startswith("<!-- Generated from environments/*.yaml")
    assert "| **mongodb** | external | compose | compose | disabled | external | external | compose |" in text
    assert '    minikube_rabbitmq["rabbitmq: in the cluster"]:::cluster' in text


def test_external_is_a_managed_service_only_where_a_module_creates_it() -> None:
    from testing.configs import cloud_database

    dbs = [database("pg", "external"), database("mq", "external"), database("cache", "external")]
    made = cloud(databases={"pg": cloud_database("rds-postgres"), "cache": cloud_database("external")})
    cfg = make_config("dev", [], dbs, runtime="kubernetes", cloud=made)
    assert [placement.where(cfg, db) for db in ("pg", "mq", "cache")] == [
        "managed service (rds-postgres)",
        "external endpoint",
        "external endpoint",
    ]
    lines = placement.markdown([cfg]).splitlines()
    assert '    dev_mq["mq: external endpoint"]:::external' in lines
    assert '    dev_pg["pg: managed service (rds-postgres)"]:::external' in lines
