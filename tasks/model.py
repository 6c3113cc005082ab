"""The typed, immutable configuration every later stage reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Scalar = str | int | bool

# The name `Config.env` has when the shared stack is loaded alone (what k8s/base is rendered
# from): environments/stack.yaml is that file, so no environment can have this name.
STACK = "stack"
# Where the logging component pushes when the stack names no `logging.loki_url`: a Loki in
# namespace `logging` (the Grafana chart's service name and Loki's push path).
LOKI_URL = "http://loki.logging.svc:3100/loki/api/v1/push"
# The logging component's DaemonSet, and its host-log volume: the restricted-profile check's
# one written exception names both (tasks/checks/policy.py, docs/operations.md "Logging").
LOG_SHIPPER = "fluent-bit"
LOG_VOLUME = "varlog"


@dataclass(frozen=True)
class Port:
    name: str
    port: int
    publish: int | None


@dataclass(frozen=True)
class Health:
    """How to tell a running service is healthy: Kubernetes probes and Compose healthchecks."""

    kind: str  # "http" (GET path answers 2xx/3xx), "tcp" (port accepts) or "exec" (command exits 0)
    port: int | None = None  # http, tcp
    path: str | None = None  # http
    command: tuple[str, ...] = ()  # exec: argv run inside the container


@dataclass(frozen=True)
class Build:
    """How one image is built, in Compose's terms; paths are relative to the project root."""

    context: str
    dockerfile: str
    target: str | None = None
    args: dict[str, Scalar] = field(default_factory=dict)
    builder: bool = False  # the image copies from the shared builder (gets BUILDER_IMAGE)


@dataclass(frozen=True)
class SyncRule:
    """One live-sync rule of a service (`services.<name>.sync`): a project path copied into the
    running containers at `target`, then `restart` (RESTART_CONTAINER, a shell command, or "")."""

    source: str  # relative to the project root: a file or a folder
    target: str  # absolute path in the container
    restart: str = ""


# The `restart:` word of a sync rule that restarts the container instead of running a command.
RESTART_CONTAINER = "container"


@dataclass(frozen=True)
class Autoscale:
    """A service's HorizontalPodAutoscaler: its replica range and CPU target (percent)."""

    min: int
    max: int
    cpu: int = 70


@dataclass(frozen=True)
class Metrics:
    """Where Prometheus scrapes a service (`services.<name>.metrics`), and the gauge of its queue
    depth when it reports one (a growing-queue alert and dashboard panels)."""

    port: int  # one of the service's `ports` (its Service exposes it by that port's name)
    path: str
    port_name: str
    queue: str | None = None  # a Prometheus metric name, e.g. "work_queue_depth"


@dataclass(frozen=True)
class Service:
    name: str
    kind: str  # "deployment" (long-running) or "job" (runs once)
    command: tuple[str, ...]
    replicas: int
    ports: tuple[Port, ...]
    health: Health | None
    env: dict[str, Scalar]
    uses: tuple[str, ...]
    optional_uses: tuple[str, ...]
    requests: dict[str, str]
    limits: dict[str, str]
    build: Build
    # Services it calls -> the port it calls (a number of the callee's `ports`).
    calls: dict[str, int] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()  # secrets of its own, besides those of the databases it uses
    # Files or folders (project-relative) only this service's image is made from, inside a build
    # context services share: `doit dev` rebuilds only this service when one of them changes.
    inputs: tuple[str, ...] = ()
    sync: tuple[SyncRule, ...] = ()  # live-sync rules (`doit dev`): edits copied into running containers
    autoscale: Autoscale | None = None  # an HPA in Kubernetes environments; None: fixed replicas
    metrics: Metrics | None = None  # scraped by the monitoring components; None: not monitored

    @property
    def floor(self) -> int:
        """The fewest replicas it runs: the autoscaler's minimum, else its fixed count."""
        return self.autoscale.min if self.autoscale else self.replicas

    @property
    def env_prefix(self) -> str:
        """Stem for per-service variables, e.g. SESSION_AGENT for session-agent."""
        return self.name.upper().replace("-", "_")


@dataclass(frozen=True)
class Database:
    name: str
    image: str
    build: str | None  # a Dockerfile folder when we build the image ourselves
    port: int
    env_var: str
    placement: str  # compose | cluster | external | disabled
    endpoint: str  # host:port as seen by the services of this environment
    cluster: dict[str, Any] | None
    publish: int | None
    command: tuple[str, ...]
    healthcheck: tuple[str, ...]
    data_dir: str | None
    env: dict[str, Scalar]
    secret_env: dict[str, str]  # container variable -> secret name
    # Compose only: the host address its `publish` binds to ("" for every one), and files of the
    # environment's compose folder mounted into it ("./<file>:<path>:ro"): Prometheus's own.
    publish_host: str = ""
    mounts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Images:
    prefix: str
    base: str  # "pull" or "debootstrap"
    base_image: str
    builder: Build | None  # the shared builder image, when some service copies from it
    suite: str
    uid: int
    # What pushed images are built for ("linux/arm64"); empty: the host's platform only.
    platforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Minikube:
    profile: str
    driver: str
    cpus: int
    memory: int
    disk: str
    addons: tuple[str, ...]
    image_strategy: str  # "docker-env" or "image-load"


@dataclass(frozen=True)
class NodeCount:
    min: int
    max: int
    desired: int


@dataclass(frozen=True)
class Access:
    """EKS access entries (IAM role or user ARNs)."""

    admins: tuple[str, ...]
    readers: tuple[str, ...] = ()


@dataclass(frozen=True)
class GitHub:
    repository: str  # owner/name: its deploy workflow may assume the deploy role


# In argocd mode, the Argo CD Application of an environment: k8s/overlays/<env>/<this>.
ARGOCD_APPLICATION = "argocd-application.yaml"


@dataclass(frozen=True)
class ArgoCD:
    """The Argo CD Application of an environment in argocd mode (docs/cloud.md, "Argo CD")."""

    repo_url: str
    revision: str = "HEAD"
    namespace: str = "argocd"
    project: str = "default"
    automated: bool = True
    prune: bool = False
    self_heal: bool = True


@dataclass(frozen=True)
class TerraformState:
    bucket: str
    lock_table: str


@dataclass(frozen=True)
class CloudDatabase:
    """What creates one managed database: a module of tasks/config/cloud_db.py and the
    settings the environment file gives it (defaults are applied by cloud_db.settings)."""

    module: str
    settings: dict[str, Scalar] = field(default_factory=dict)


@dataclass(frozen=True)
class Cloud:
    """An environment's `cloud:` block: the EKS cluster, its registry, network and state.
    Attribute names are the file's keys, so templates read `cloud.node_count.min`."""

    region: str
    cluster_name: str
    cluster_version: str  # the Kubernetes minor of the control plane, e.g. "1.33"
    registry: str
    vpc_cidr: str
    node_instance_types: tuple[str, ...]
    node_count: NodeCount
    state: TerraformState
    access: Access
    github: GitHub
    endpoint_private: bool = False
    endpoint_public_cidrs: tuple[str, ...] = ()  # who may reach the public API endpoint
    create_shared: bool = False  # this environment creates what the AWS account shares
    databases: dict[str, CloudDatabase] = field(default_factory=dict)
    deploy_mode: str = "kubectl"  # kubectl | argocd
    argocd: ArgoCD | None = None  # set in argocd mode only


@dataclass(frozen=True)
class Config:
    env: str  # the environment's name; STACK for the shared stack alone
    project: str
    namespace: str
    network: str
    protected: bool
    kubernetes_version: str
    runtime: str
    images: Images
    services: dict[str, Service]  # enabled services only, in file order
    databases: dict[str, Database]  # every database, with its placement here
    secrets: tuple[str, ...]
    config: dict[str, Scalar]
    components: tuple[str, ...]
    host_address: str
    minikube: Minikube
    cloud: Cloud | None  # None: not a cloud environment
    hooks: dict[str, tuple[str, ...]]
    timeouts: dict[str, int]
    sources: tuple[Path, ...] = field(default_factory=tuple)
    aliases: dict[str, str] = field(default_factory=dict)  # other task names: alias -> task
    # Where Prometheus runs (`monitoring.namespace`): it may reach each service's metrics port.
    monitoring_namespace: str = "monitoring"
    # The logging component (`logging.namespace`, `logging.loki_url`): where its DaemonSet runs
    # ("" means <project>-logging) and where it pushes.
    logging_namespace: str = ""
    loki_url: str = LOKI_URL

    def log_namespace(self) -> str:
        """The logging component's own namespace (a Fluent Bit DaemonSet; render/logging.py)."""
        return self.logging_namespace or f"{self.project}-logging"

    def image_ref(self, service: str) -> str:
        return f"{self.images.prefix}/{service}"

    def application_name(self) -> str:
        """The name of this environment's Argo CD Application (argocd mode)."""
        return f"{self.project}-{self.env}"

    def deployments(self) -> list[Service]:
        return [s for s in self.services.values() if s.kind == "deployment"]

    def monitored(self) -> list[Service]:
        """The deployments that declare `metrics` (what the monitoring components watch)."""
        return [s for s in self.deployments() if s.metrics]

    def jobs(self) -> list[Service]:
        return [s for s in self.services.values() if s.kind == "job"]

    def built_images(self) -> list[str]:
        """What `images` builds besides the builder and base: every enabled service, and the
        enabled databases we build ourselves."""
        return [
            *self.services,
            *(db.name for db in self.databases.values() if db.build and db.placement != "disabled"),
        ]

    def cluster_images(self) -> list[str]:
        """The images a cluster runs from our builds: services, and the databases placed in it
        that we build. (The builder and base only feed other builds: never pushed or pulled.)"""
        return [*self.services, *(d.name for d in self.placed("cluster") if d.build)]

    def placed(self, where: str) -> list[Database]:
        return [d for d in self.databases.values() if d.placement == where]

    def used(self, svc: Service) -> list[Database]:
        """The databases a service uses here (`uses`, then the `optional_uses` not disabled)."""
        names = dict.fromkeys([*svc.uses, *svc.optional_uses])
        return [self.databases[n] for n in names if self.databases[n].placement != "disabled"]

    def addresses(self, svc: Service) -> dict[str, str]:
        """What a service is told of where its databases are: env_var -> host:port, of
        the databases it uses only (least privilege: the others' addresses are not its business)."""
        return {db.env_var: db.endpoint for db in self.used(svc)}

    def secrets_of(self, svc: Service) -> tuple[str, ...]:
        """The secrets a service gets: those of the databases it uses, then its own; no other."""
        of_dbs = [secret for db in self.used(svc) for secret in db.secret_env.values()]
        return tuple(dict.fromkeys([*of_dbs, *svc.secrets]))
