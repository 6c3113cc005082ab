"""docs/placement.md: which database and which service runs where, in each environment.

Generated from the configuration by `doit render` (render:docs-placement), so the
picture cannot drift from environments/*.yaml. Pure: configs in, Markdown out.
"""

from __future__ import annotations

from tasks.config import cloud_db
from tasks.model import STACK, Config

PATH = "docs/placement.md"
HEADER = (
    "<!-- Generated from environments/*.yaml by tasks/render/placement.py (`doit render`). Do not edit. -->"
)
LEGEND = (
    "`compose`: a container next to the stack on the host (Compose, or beside Minikube); "
    "`cluster`: inside Kubernetes; `external`: reached at its endpoint, run by someone else "
    "(a managed service when a module of `cloud.databases` creates it); "
    "`disabled`: not run, and its consumers are off."
)
WHERE = {
    "compose": "Compose on the host",
    "cluster": "in the cluster",
    "external": "external endpoint",
    "disabled": "off",
}


def where(cfg: Config, db: str) -> str:
    """How the diagram names a database's place: `external` is a managed service only where a
    module creates it (the rendered Terraform does); otherwise it is only an endpoint."""
    place = cfg.databases[db].placement
    chosen = cfg.cloud.databases.get(db) if cfg.cloud else None
    if place == "external" and chosen is not None and chosen.module != cloud_db.EXTERNAL:
        return f"managed service ({chosen.module})"
    return WHERE.get(place, place)


def services_where(cfg: Config) -> str:
    if cfg.cloud is not None:
        return "EKS"
    return "Minikube" if cfg.runtime == "kubernetes" else "Compose"


def markdown(configs: list[Config]) -> str:
    envs = [c for c in configs if c.env != STACK]
    dbs = sorted({name for c in envs for name in c.databases})
    services = list(dict.fromkeys(name for c in envs for name in c.services))
    head = ["", *[f"`{c.env}`" for c in envs]]
    rows = [
        [f"**{db}**", *[c.databases[db].placement if db in c.databases else "-" for c in envs]] for db in dbs
    ]
    rows.append(["services run in", *[services_where(c) for c in envs]])
    for name in services:
        if any(name not in c.services for c in envs):
            rows.append([f"service `{name}`", *["on" if name in c.services else "off" for c in envs]])
    lines = [
        HEADER,
        "",
        "# Where each database runs, per environment",
        "",
        LEGEND,
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += ["", "```mermaid", "flowchart LR"]
    for c in envs:
        lines.append(f'  subgraph {c.env}["{c.env}: services in {services_where(c)}"]')
        for db in dbs:
            if db in c.databases:
                place = c.databases[db].placement
                lines.append(f'    {c.env}_{db}["{db}: {where(c, db)}"]:::{place}')
        lines.append("  end")
    lines += [
        "  classDef compose fill:#dbeafe,stroke:#1d4ed8",
        "  classDef cluster fill:#dcfce7,stroke:#15803d",
        "  classDef external fill:#fef9c3,stroke:#a16207",
        "  classDef disabled fill:#f3f4f6,stroke:#9ca3af,stroke-dasharray: 4",
        "```",
        "",
    ]
    return "\n".join(lines)
