"""Pure rendering: Config -> {path: text}, through Jinja templates (tasks/render/templates.py).

Nothing here touches the network, a daemon or the disk. Output is byte-stable: every mapping
is sorted or in file order, and nothing time- or build-dependent is rendered (image tags are
injected at deploy time). Writing is separate and all or nothing (tasks/render/writer.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tasks.config import cloud_db, monitor
from tasks.model import ARGOCD_APPLICATION, Config, Database, Service
from tasks.render import healthcheck, logship, monitoring, netpol
from tasks.render.compose_text import literal, literals
from tasks.render.templates import Outputs, render_later
from tasks.store import images


def cpus(quantity: str) -> str:
    """Kubernetes CPU quantity -> Compose `cpus` ('500m' -> '0.5')."""
    value = Decimal(quantity[:-1]) / 1000 if quantity.endswith("m") else Decimal(quantity)
    return format(value.normalize(), "f")


def memory(quantity: str) -> str:
    """Kubernetes memory quantity -> Compose byte value ('256Mi' -> '256m')."""
    for suffix, unit in (("Ki", "k"), ("Mi", "m"), ("Gi", "g"), ("K", "k"), ("M", "m"), ("G", "g")):
        if quantity.endswith(suffix):
            return quantity[: -len(suffix)] + unit
    return quantity


def endpoints(cfg: Config) -> dict[str, str]:
    return {db.env_var: db.endpoint for db in cfg.databases.values() if db.placement != "disabled"}


def config_maps(cfg: Config) -> dict[str, dict[str, Any]]:
    """The two ConfigMaps: the shared settings every workload reads whole (envFrom), and the
    database addresses, of which each workload picks those of its `uses` (configMapKeyRef)."""
    return {f"{cfg.project}-config": dict(cfg.config), f"{cfg.project}-addresses": endpoints(cfg)}


# --- Kubernetes -------------------------------------------------------------------


def cluster_capable(cfg: Config) -> list[Database]:
    """Databases that may run in a cluster; MongoDB and Redis never have this block."""
    return [db for db in cfg.databases.values() if db.cluster]


def k8s_base(stack: Config) -> Outputs:
    out: Outputs = {
        "namespace.yaml": render_later("k8s/base/namespace.yaml.j2", cfg=stack),
        "configmap.yaml": render_later("k8s/base/configmap.yaml.j2", cfg=stack, maps=config_maps(stack)),
    }
    for svc in stack.services.values():
        template = "k8s/base/deployment.yaml.j2" if svc.kind == "deployment" else "k8s/base/job.yaml.j2"
        out[f"{svc.name}.yaml"] = render_later(template, cfg=stack, svc=svc)
    for db in cluster_capable(stack):
        out[f"{db.name}.yaml"] = render_later("k8s/base/statefulset.yaml.j2", cfg=stack, db=db)
    out["networkpolicy.yaml"] = render_later(
        "k8s/base/networkpolicy.yaml.j2",
        cfg=stack,
        ingress=netpol.ingress(stack),
        egress=netpol.egress(stack),
    )
    out["kustomization.yaml"] = render_later(
        "k8s/base/kustomization.yaml.j2", cfg=stack, resources=sorted(out)
    )
    return {f"k8s/base/{name}": text for name, text in out.items()}


def exposed(cfg: Config) -> list[tuple[Service, Any]]:
    return [(s, p) for s in cfg.deployments() for p in s.ports if p.publish]


def k8s_components(stack: Config) -> Outputs:
    out: Outputs = {}
    for name, files in (("ingress", {"ingress.yaml": "ingress.yaml.j2"}),):
        folder = f"k8s/components/{name}"
        for target, template in files.items():
            out[f"{folder}/{target}"] = render_later(
                f"{folder}/{template}", cfg=stack, exposed=exposed(stack)
            )
        out[f"{folder}/kustomization.yaml"] = render_later(
            "k8s/components/kustomization.yaml.j2", cfg=stack, resources=sorted(files)
        )
        out[f"{folder}/README.md"] = render_later(f"{folder}/README.md.j2", cfg=stack)
    return {**out, **monitoring.components(stack), **logship.components(stack)}


def scaling(cfg: Config) -> list[tuple[str, Service]]:
    """The overlay's autoscaling objects: ("hpa", service) for each Deployment that declares
    `autoscale`, ("pdb", service) for each whose fewest replicas is more than one."""
    hpas = [("hpa", s) for s in cfg.deployments() if s.autoscale]
    return hpas + [("pdb", s) for s in cfg.deployments() if s.floor > 1]


def external_secrets(cfg: Config) -> dict[str, str]:
    """Names the overlay's External Secrets objects share with terraform/modules/secrets-manager,
    as the root calls it (templates/terraform/root/main.tf.j2): the entries' prefix, the service
    account its role trusts, and that role's ARN (the account is the registry's)."""
    assert cfg.cloud is not None
    account_id = cfg.cloud.registry.split(".")[0]  # rules.cloud_values.the_registry_is_ecr
    return {
        "prefix": f"{cfg.project}/{cfg.env}",
        "account": f"{cfg.project}-external-secrets",
        "store": f"{cfg.project}-secrets-manager",
        "role_arn": f"arn:aws:iam::{account_id}:role/{cfg.project}-{cfg.env}-eso",
    }


def overlay_resources(cfg: Config) -> Outputs:
    """The overlay's own objects (its `resources:`, beside the base): the autoscalers and
    budgets, and in a cloud environment with secrets the External Secrets objects."""
    resources: Outputs = {}
    if scaled := scaling(cfg):
        resources["scaling.yaml"] = render_later("k8s/overlay/scaling.yaml.j2", cfg=cfg, objects=scaled)
    if cfg.cloud and cfg.secrets:
        resources["external-secrets.yaml"] = render_later(
            "k8s/overlay/external-secrets.yaml.j2", cfg=cfg, **external_secrets(cfg)
        )
    return resources


def k8s_overlay(cfg: Config, stack: Config) -> Outputs:
    folder = f"k8s/overlays/{cfg.env}"
    files: Outputs = {
        f"configmap-{cfg.env}.yaml": render_later(
            "k8s/overlay/configmap.patch.yaml.j2", cfg=cfg, maps=config_maps(cfg)
        ),
    }
    resources = overlay_resources(cfg)
    for svc in cfg.deployments():
        if svc.replicas != stack.services[svc.name].replicas:
            files[f"scale-{svc.name}.patch.yaml"] = render_later(
                "k8s/overlay/scale.patch.yaml.j2", cfg=cfg, svc=svc
            )
    for db in cluster_capable(cfg):
        if db.placement != "cluster":
            objects = [
                ("StatefulSet", "apps/v1", db.name),
                ("Service", "v1", db.name),
                ("NetworkPolicy", "networking.k8s.io/v1", f"allow-{db.name}"),
            ]
            files[f"delete-{db.name}.patch.yaml"] = render_later(
                "k8s/overlay/delete.patch.yaml.j2",
                cfg=cfg,
                objects=objects,
                reason=f"{db.name} is {db.placement} in this environment, not in the cluster.",
            )
    for name, svc in stack.services.items():
        if name not in cfg.services:
            kind, api = ("Deployment", "apps/v1") if svc.kind == "deployment" else ("Job", "batch/v1")
            objects = [(kind, api, name)]
            if svc.ports:
                objects += [
                    ("Service", "v1", name),
                    ("NetworkPolicy", "networking.k8s.io/v1", f"allow-{name}"),
                ]
            if netpol.has_egress(svc):
                objects.append(("NetworkPolicy", "networking.k8s.io/v1", f"egress-{name}"))
            objects += monitoring.deleted_with(cfg, svc)
            files[f"delete-{name}.patch.yaml"] = render_later(
                "k8s/overlay/delete.patch.yaml.j2",
                cfg=cfg,
                objects=objects,
                reason=f"{name} is disabled in this environment.",
            )
    for rule in netpol.overlay_egress(cfg, stack):
        # This environment reaches a database at another port (an endpoint, a host port).
        files[f"egress-{rule.workload}.patch.yaml"] = render_later(
            "k8s/overlay/egress.patch.yaml.j2", cfg=cfg, rule=rule
        )
    registry = cfg.cloud.registry if cfg.cloud else ""
    files["kustomization.yaml"] = render_later(
        "k8s/overlay/kustomization.yaml.j2",
        cfg=cfg,
        patches=sorted(files),
        resources=sorted(resources),
        registry=registry,
        images=[cfg.image_ref(s) for s in cfg.services],
    )
    return {f"{folder}/{name}": text for name, text in {**files, **resources, **beside(cfg)}.items()}


def beside(cfg: Config) -> Outputs:
    """What sits in the overlay's folder without being one of its resources: in argocd mode,
    the environment's Argo CD Application."""
    if not (cfg.cloud and cfg.cloud.argocd):
        return {}
    app = render_later(
        "k8s/overlay/argocd-application.yaml.j2",
        cfg=cfg,
        argocd=cfg.cloud.argocd,
        name=cfg.application_name(),
    )
    return {ARGOCD_APPLICATION: app}


# --- Docker Compose ---------------------------------------------------------------


def compose(cfg: Config) -> Outputs:
    folder = f"compose/{cfg.env}"
    example = f"{folder}/.env.example"

    def secret_ref(secret: str) -> str:
        return f'"${{{secret}:?{secret} is not set; see {example}}}"'

    def db_image(db: Database) -> str:
        return f'"${{{images.image_var(db.name)}:-{db.image}:latest}}"' if db.build else db.image

    def environment(svc: Service) -> dict[str, Any]:
        # Least privilege: the shared settings, and the addresses of its own databases only.
        # Compose interpolates `$` in values; `$$` is its escape for a literal dollar.
        plain = {**cfg.config, **cfg.addresses(svc), **svc.env}
        return {k: literal(str(v)) for k, v in plain.items()}

    common = {
        "cfg": cfg,
        "project_name": f"{cfg.project}-{cfg.env}",
        "secret_ref": secret_ref,
        "literal": literal,
        "literals": literals,
    }
    return {
        f"{folder}/docker-compose-db.yml": render_later(
            "compose/docker-compose-db.yml.j2", dbs=cfg.placed("compose"), image=db_image, **common
        ),
        f"{folder}/docker-compose-services.yml": render_later(
            "compose/docker-compose-services.yml.j2",
            services=list(cfg.services.values()),
            environment=environment,
            secrets=cfg.secrets_of,
            cpus=cpus,
            memory=memory,
            health_test=healthcheck.compose_test_yaml,
            **common,
        ),
        example: render_later("compose/env.example.j2", cfg=cfg),
        **prometheus_config(cfg),
    }


def prometheus_config(cfg: Config) -> Outputs:
    """The scrape configuration of the environment's Prometheus, where it runs one (its
    monitoring component in Compose: tasks/config/monitor.py)."""
    db = cfg.databases.get(monitor.NAME)
    if db is None or db.build != monitor.BUILD or db.placement != "compose":
        return {}
    return {
        f"compose/{cfg.env}/{monitor.CONFIG}": render_later(
            "compose/prometheus.yml.j2", cfg=cfg, monitored=cfg.monitored(), port=monitor.PORT
        )
    }


# --- Terraform --------------------------------------------------------------------


def terraform(cfg: Config) -> Outputs:
    assert cfg.cloud is not None
    folder = f"terraform/environments/{cfg.env}"
    repositories = sorted(set(images.pushed(cfg).values()))  # one ECR repository per pushed image
    # The database modules this environment's `cloud.databases` chose; nothing of the others
    # (module, provider, variable, output) is rendered.
    modules = cloud_db.chosen(cfg.cloud, cfg.project)
    inputs = {
        f"{folder}/{name}": render_later(
            f"terraform/{name}.j2",
            env=cfg.env,
            project=cfg.project,
            cloud=cfg.cloud,
            repositories=repositories,
            modules=modules,
            protected=cfg.protected,
            namespace=cfg.namespace,
            entries=list(cfg.secrets),
        )
        for name in ("terraform.tfvars", "backend.hcl")
    }
    # Each environment root is a thin caller of the modules: the same for every environment
    # that chose the same database modules; only its inputs differ.
    roots = {
        f"{folder}/{name}": render_later(f"terraform/root/{name}.j2", modules=modules)
        for name in ("main.tf", "outputs.tf", "variables.tf", "versions.tf")
    }
    return {**inputs, **roots}
