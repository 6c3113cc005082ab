"""Where each database runs (tasks/render/placement.py), on configurations built directly."""

from __future__ import annotations

from tasks.model import STACK
from tasks.render import placement
from testing.configs import cloud, config, database, service


def test_services_where() -> None:
    assert placement.services_where(config("a", [], [], cloud=cloud())) == "EKS"
    assert placement.services_where(config("a", [], [], runtime="kubernetes")) == "Minikube"
    assert placement.services_where(config("a", [], [])) == "Compose"


def test_placement_markdown_lists_each_environment_and_only_services_that_differ() -> None:
    configs = [
        config(STACK, [service("web"), service("worker")], [database("pg")]),  # the stack alone: no column
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
