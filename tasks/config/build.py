"""Build the typed Config from merged data the rules have passed.

Nothing here checks: every lookup may assume what fields.py declares and the rules
(tasks/config/rules/) require, so a refusal never hides in the middle of a build.
"""

from __future__ import annotations

from typing import Any

from tasks.config import monitor
from tasks.config.merged import Merged
from tasks.model import (
    LOKI_URL,
    Access,
    ArgoCD,
    Autoscale,
    Build,
    Cloud,
    CloudDatabase,
    Config,
    Database,
    GitHub,
    Health,
    Images,
    Metrics,
    Minikube,
    NodeCount,
    Port,
    Service,
    SyncRule,
    TerraformState,
)


def config(m: Merged) -> Config:
    data = m.data
    img = data["images"]
    mk = data["minikube"]
    hooks = data.get("hooks", {})
    return Config(
        env=m.env,
        project=data["project"],
        namespace=data["namespace"],
        network=data["network"],
        protected=bool(data.get("protected", False)),
        kubernetes_version=data["kubernetes_version"],
        runtime=data["runtime"],
        images=Images(
            prefix=img["prefix"],
            base=img["base"],
            base_image=img["base_image"],
            builder=build_spec(img["builder"]) if "builder" in img else None,
            suite=img["suite"],
            uid=img["uid"],
            platforms=tuple(img["platforms"]),
        ),
        services=services(m),
        databases=databases(m),
        secrets=tuple(data.get("secrets", [])),
        config=dict(data.get("config", {})),
        components=tuple(data.get("components", [])),
        host_address=data["host_address"],
        minikube=Minikube(
            profile=mk["profile"],
            driver=mk["driver"],
            cpus=mk["cpus"],
            memory=mk["memory"],
            disk=mk["disk"],
            addons=tuple(mk["addons"]),
            image_strategy=mk["image_strategy"],
        ),
        cloud=cloud(data["cloud"]) if data.get("cloud") else None,
        hooks={k: tuple(hooks.get(k, [])) for k in ("pre_build", "post_build")},
        timeouts=dict(data["timeouts"]),
        sources=m.sources,
        aliases=dict(data.get("aliases", {})),
        monitoring_namespace=data["monitoring"]["namespace"],
        logging_namespace=data.get("logging", {}).get("namespace", ""),
        loki_url=data.get("logging", {}).get("loki_url", LOKI_URL),
    )


def databases(m: Merged) -> dict[str, Database]:
    """Every database of the stack, with where it runs here and how services reach it."""
    out: dict[str, Database] = {}
    for name, raw in m.data["databases"].items():
        out[name] = Database(
            name=name,
            image=raw["image"],
            build=raw.get("build"),
            port=raw["port"],
            env_var=raw["env_var"],
            placement=m.placement(name),
            endpoint=endpoint(m, name),
            cluster=raw.get("cluster"),
            publish=raw.get("publish"),
            command=tuple(raw.get("command", [])),
            healthcheck=tuple(raw.get("healthcheck", [])),
            data_dir=raw.get("data_dir"),
            env=dict(raw.get("env", {})),
            secret_env=dict(raw.get("secret_env", {})),
        )
    if monitor.wanted(m):
        out[monitor.NAME] = monitor.prometheus(m)
    return out


def endpoint(m: Merged, name: str) -> str:
    """host:port of a database as the services of this environment reach it."""
    raw = m.data["databases"][name]
    placement = m.placement(name)
    if placement == "external":
        endpoints: dict[str, str] = m.data["endpoints"]
        return endpoints[name]
    if placement == "compose" and m.data["runtime"] == "kubernetes":
        # From the cluster the host database is reached where the host publishes it.
        return f"{m.data['host_address']}:{raw.get('publish') or raw['port']}"
    return f"{name}:{raw['port']}"


def services(m: Merged) -> dict[str, Service]:
    """The services this environment runs, in file order."""
    out: dict[str, Service] = {}
    for name in m.enabled():
        raw = m.data["services"][name]
        spec = m.build_of(name)
        assert spec is not None  # rules.builds.every_service_has_a_build_spec
        out[name] = Service(
            name=name,
            kind=raw.get("kind", "deployment"),
            command=tuple(raw["command"]),
            replicas=replicas(raw),
            ports=tuple(Port(p["name"], p["port"], p.get("publish")) for p in raw.get("ports", [])),
            health=health(raw["health"]) if "health" in raw else None,
            env=dict(raw.get("env", {})),
            uses=tuple(raw.get("uses", [])),
            optional_uses=tuple(raw.get("optional_uses", [])),
            requests={k: str(v) for k, v in raw["resources"]["requests"].items()},
            limits={k: str(v) for k, v in raw["resources"]["limits"].items()},
            build=build_spec(spec[1]),
            calls={callee: called_port(m, callee, port) for callee, port in raw.get("calls", {}).items()},
            secrets=tuple(raw.get("secrets", [])),
            inputs=tuple(raw.get("inputs", [])),
            sync=tuple(
                SyncRule(r["source"].rstrip("/"), r["target"], r.get("restart", ""))
                for r in raw.get("sync", [])
            ),
            autoscale=Autoscale(**raw["autoscale"]) if "autoscale" in raw else None,
            metrics=metrics(m, name) if "metrics" in raw else None,
        )
    return out


def replicas(raw: dict[str, Any]) -> int:
    """The Deployment's starting count. With an autoscaler, a count an earlier file set (the
    stack's 1 under an environment's `autoscale: {min: 3}`) is brought into its range; one the
    same file set outside it is refused (rules/autoscale.py)."""
    count: int = raw.get("replicas", 1)
    if "autoscale" in raw:
        low: int = raw["autoscale"]["min"]
        high: int = raw["autoscale"]["max"]
        return max(low, min(count, high))
    return count


def metrics(m: Merged, name: str) -> Metrics:
    raw = m.data["services"][name]["metrics"]
    port = next(p for p in m.data["services"][name]["ports"] if p["port"] == raw["port"])
    return Metrics(port=raw["port"], path=raw["path"], port_name=port["name"], queue=raw.get("queue"))


def called_port(m: Merged, callee: str, port: int | str) -> int:
    """The number of the callee's port a call names (by number or by name)."""
    for p in m.data["services"][callee].get("ports", []):
        if port in (p["port"], p["name"]):
            return int(p["port"])
    raise AssertionError(f"rules.services.calls_name_a_port_of_the_callee let {callee}:{port} through")


def health(raw: dict[str, Any]) -> Health:
    """No kind: http, the form `{port, path}` every stack wrote before kinds existed."""
    return Health(
        kind=raw.get("kind", "http"),
        port=raw.get("port"),
        path=raw.get("path"),
        command=tuple(raw.get("command", [])),
    )


def build_spec(raw: dict[str, Any]) -> Build:
    context = str(raw["context"]).rstrip("/")
    return Build(
        context=context,
        # Without `dockerfile`, Compose's default: the context's Dockerfile.
        dockerfile=raw.get("dockerfile", f"{context}/Dockerfile"),
        target=raw.get("target"),
        args=dict(raw.get("args", {})),
        builder=bool(raw.get("builder", False)),
    )


def cloud(raw: dict[str, Any]) -> Cloud:
    access = raw["access"]
    return Cloud(
        region=raw["region"],
        cluster_name=raw["cluster_name"],
        cluster_version=raw["cluster_version"],
        registry=raw["registry"],
        vpc_cidr=raw["vpc_cidr"],
        node_instance_types=tuple(raw["node_instance_types"]),
        node_count=NodeCount(**raw["node_count"]),
        state=TerraformState(**raw["state"]),
        access=Access(admins=tuple(access["admins"]), readers=tuple(access.get("readers", []))),
        github=GitHub(**raw["github"]),
        endpoint_private=raw.get("endpoint_private", False),
        endpoint_public_cidrs=tuple(raw.get("endpoint_public_cidrs", [])),
        create_shared=raw.get("create_shared", False),
        databases={
            db: CloudDatabase(entry["module"], {k: v for k, v in entry.items() if k != "module"})
            for db, entry in (raw.get("databases") or {}).items()
        },
        deploy_mode=raw.get("deploy_mode", "kubectl"),
        argocd=argocd(raw) if raw.get("deploy_mode") == "argocd" else None,
    )


def argocd(raw: dict[str, Any]) -> ArgoCD:
    """The Application's settings: the file's, over the defaults; the repository defaults to
    the GitHub repository whose deploy workflow deploys this environment."""
    given = dict(raw.get("argocd") or {})
    given.setdefault("repo_url", f"https://github.com/{raw['github']['repository']}.git")
    return ArgoCD(**given)
