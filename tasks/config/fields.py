"""The declared configuration: every key a file may hold, its type and its value check.

This is data (tasks/config/schema.py walks it, file by file, so an error names the file
and line where the value was written). A check of one value alone (a type, a range, a
pattern) is declared here with its key; a rule that relates two values, or looks at the
disk, is a named function in tasks/config/rules/ (see its docstring).
"""

from __future__ import annotations

import re
from typing import Any

from tasks.config import schema as s
from tasks.config.cloud_fields import CLOUD
from tasks.model import RESTART_CONTAINER

# The lowest UID a pod may run as: below it a UID may belong to a host account (the restricted
# policy check, tasks/checks/policy.py, and checkov's CKV_K8S_40 refuse it).
MIN_POD_UID = 10000
# Names that say "secret": never a plain setting (ConfigMaps and committed Compose files hold those).
SECRET_LIKE = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY", re.IGNORECASE)
# Kubernetes keeps replicas as int32; a value this large is a typo, not a plan.
MAX_REPLICAS = 10_000
VALUE = s.Scalar((str, int, bool))
# minikube's own list (`minikube start --help`): a typo fails here, not at `minikube start`.
MINIKUBE_DRIVERS = (
    "docker",
    "podman",
    "kvm2",
    "qemu2",
    "qemu",
    "virtualbox",
    "vmware",
    "hyperkit",
    "hyperv",
    "parallels",
    "vfkit",
    "krunkit",
    "ssh",
    "none",
)


def port_ref(value: Any) -> tuple[str, str] | None:
    """A port of another service: its number, or its name under `ports`."""
    return s.port(value) if isinstance(value, int) else s.dns_label(value)


def pod_uid(value: Any) -> tuple[str, str] | None:
    """The uid a database's pods run as (`cluster.uid`): never one a host account may have."""
    if value >= MIN_POD_UID:
        return None
    return (
        f"uid {value} is below {MIN_POD_UID}: it may be a host account's, so the restricted Pod "
        "Security policy refuses the pod",
        f"use a uid of {MIN_POD_UID} or more that the image can run as (e.g. 10999, made in its Dockerfile)",
    )


# `monitoring` (Prometheus Operator: ServiceMonitors, a PrometheusRule) or, for a Prometheus
# without the operator, `monitoring-annotations` (prometheus.io annotations, a rules file).
# `logging`: a Fluent Bit DaemonSet shipping the stack's container logs to Loki (render/logging.py).
COMPONENTS = ("ingress", "logging", "monitoring", "monitoring-annotations")


def component(value: Any) -> tuple[str, str] | None:
    """A Kustomize component an environment switches on. `hpa` was one (fixed numbers for every
    Deployment) until autoscaling became a per-service key: its fix says where it went."""
    if value == "hpa":
        return (
            "the hpa component is gone: an autoscaler is rendered only for a service that declares "
            "`autoscale`",
            "remove `hpa` and give each service to autoscale `autoscale: {min: 2, max: 6, cpu: 70}` "
            "(under services.<name>, here or in environments/stack.yaml; docs/upgrading.md)",
        )
    return s.one_of(*COMPONENTS)(value)


LOKI_URL = s.typed(
    r"https?://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~/-]*)?",
    "Loki push URL",
    "'http://loki.logging.svc:3100/loki/api/v1/push'",
)
COMMAND = s.typed(r"\S.*", "shell command", "'make assets' (not empty)")
ENV_MAP = s.MapOf(VALUE, s.env_var)
# A declared secret is a key of the Secret a cluster's ExternalSecret fills (`secretKey`, at most
# 253 characters of [-._a-zA-Z0-9]: schemas/crds/external-secrets.io_ExternalSecret_v1.json).
# An environment variable name already fits the pattern; the length is refused here, at the key.
MAX_SECRET_NAME = 253


def secret_name(value: Any) -> tuple[str, str] | None:
    if bad := s.env_var(value):
        return bad
    if len(value) > MAX_SECRET_NAME:
        return (
            f"the secret name is {len(value)} characters; it is a key of the cluster's Secret "
            f"(an ExternalSecret `secretKey`), which takes at most {MAX_SECRET_NAME}",
            f"shorten it to at most {MAX_SECRET_NAME} characters",
        )
    return None


RESOURCES = s.Fields(
    {
        "cpu": s.Scalar((str, int, float), s.quantity(s.CPU, "'250m' or '1'")),
        "memory": s.Scalar((str,), s.quantity(s.MEMORY, "'256Mi' or '1Gi'")),
    },
    frozenset({"cpu", "memory"}),
)
# Build specs, in Compose's words; paths relative to the project root (see build.py).
_BUILD_FIELDS: dict[str, s.Spec] = {
    "context": s.REL_PATH,
    "dockerfile": s.REL_PATH,
    "target": s.typed(r"[A-Za-z][A-Za-z0-9_.-]*", "build stage name", "'runtime'"),
    "args": s.MapOf(VALUE, s.env_var),
}
BUILDER = s.Fields(_BUILD_FIELDS, frozenset({"context"}))
BUILD = s.Fields({**_BUILD_FIELDS, "builder": s.BOOL}, frozenset({"context"}))
# The platforms images are built for: Docker's names of the Debian architectures that EKS nodes run
# (Graviton: arm64). tasks/ops/platforms.py maps each to Debian's and qemu's names.
PLATFORMS = ("linux/amd64", "linux/arm64")
# Build args the tool passes to every build itself; a stack may not redefine them.
TOOL_ARGS = ("BASE_IMAGE", "UID", "SERVICE", "BUILDER_IMAGE")
HEALTH_KINDS = ("http", "tcp", "exec")
# Which keys each health kind needs; any other key is a mistake (a rule: rules/services.py).
HEALTH_KEYS = {"http": ("port", "path"), "tcp": ("port",), "exec": ("command",)}
HEALTH = s.Fields(
    {
        "kind": s.Scalar((str,), s.one_of(*HEALTH_KINDS)),
        "port": s.PORT,
        "path": s.URL_PATH,
        "command": s.ListOf(s.STR),
    }
)


# A Prometheus metric name (the data model's `[a-zA-Z_:][a-zA-Z0-9_:]*`).
METRIC_NAME = s.typed(r"[a-zA-Z_:][a-zA-Z0-9_:]*", "Prometheus metric name", "'work_queue_depth'")
# Where Prometheus scrapes a service: one of its ports (rules/metrics.py), a URL path with no
# query (a ServiceMonitor keeps the path and its parameters apart).
METRICS_PATH = s.typed(r"/[A-Za-z0-9._~/-]*", "metrics path", "'/metrics'")
METRICS = s.Fields(
    {"port": s.PORT, "path": METRICS_PATH, "queue": METRIC_NAME},
    frozenset({"port", "path"}),
)


def container_path(value: Any) -> tuple[str, str] | None:
    """Where a sync rule copies to: a path in the container, absolute (a relative one would
    depend on the image's WORKDIR, which the configuration does not know)."""
    if re.fullmatch(r"(?:/[A-Za-z0-9._@+-]+)+/?", value) and "/../" not in value + "/":
        return None
    fix = "write the path the image keeps this code at, from /, e.g. '/app/myservice/main.py'"
    if not value.startswith("/"):
        return f"{value!r} is not an absolute path in the container", fix
    if value.strip("/") == "":
        return f"{value!r} is the container's root: a sync would copy over the whole filesystem", fix
    if "/../" in value + "/":
        return f"{value!r} climbs out of its folder with '..': say where the code lands directly", fix
    return f"{value!r} has characters a container path of this tool may not have", fix


_COMMAND = s.pattern(r"\S.*", "shell command", "'make assets' (not empty)")


def sync_restart(value: Any) -> tuple[str, str] | None:
    """A sync rule's restart: the keyword `container` or a shell command. The keyword written in
    another case ('Container') is refused, not run as a command: no image has a program of that
    name, and the first save would fail inside the container instead of here."""
    if str(value).strip().lower() == RESTART_CONTAINER and value != RESTART_CONTAINER:
        return (
            f"{value!r} is not the keyword {RESTART_CONTAINER!r}, and would run as a shell command",
            f"write `restart: {RESTART_CONTAINER}` (lower case) to restart the container, or a "
            "command that makes the process reload its code, e.g. 'kill -HUP 1'",
        )
    return _COMMAND(value)


# One live-sync rule (rules about what it names: rules/sync.py).
SYNC_RULE = s.Fields(
    {
        "source": s.REL_PATH,
        "target": s.Scalar((str,), container_path),
        # "container" (tasks.model.RESTART_CONTAINER) or a shell command run in the container.
        "restart": s.Scalar((str,), sync_restart),
    },
    frozenset({"source", "target"}),
)
# The replica range and CPU target (percent of the request) of a service's autoscaler.
AUTOSCALE = s.Fields(
    {
        # An HPA's minReplicas is at least 1 (the API refuses 0).
        "min": s.Scalar((int,), s.between(1, MAX_REPLICAS)),
        "max": s.Scalar((int,), s.between(1, MAX_REPLICAS)),
        "cpu": s.Scalar((int,), s.between(1, 100)),
    },
    frozenset({"min", "max"}),
)
SERVICE = s.Fields(
    {
        "kind": s.Scalar((str,), s.one_of("deployment", "job")),
        "command": s.ListOf(s.STR),
        # Kubernetes stores replicas as int32; far beyond any laptop or cluster we target.
        "replicas": s.Scalar((int,), s.between(0, MAX_REPLICAS)),
        "ports": s.ListOf(
            s.Fields({"name": s.NAME, "port": s.PORT, "publish": s.PORT}, frozenset({"name", "port"}))
        ),
        "health": HEALTH,
        "build": BUILD,
        "env": ENV_MAP,
        # The databases it needs: their addresses and secrets, and nothing of the others.
        "uses": s.STRS,
        "optional_uses": s.STRS,
        # Services it calls, each with the port (name or number) it calls: a NetworkPolicy path.
        "calls": s.MapOf(s.Scalar((str, int), port_ref), s.dns_label),
        # Secrets of its own (declared under the top-level `secrets`), besides its databases'.
        "secrets": s.ListOf(s.Scalar((str,), s.env_var)),
        # What only this service is built from (inside a shared build context): `doit dev`
        # rebuilds this service alone when one of them changes.
        "inputs": s.ListOf(s.REL_PATH),
        "resources": s.Fields(
            {"requests": RESOURCES, "limits": RESOURCES}, frozenset({"requests", "limits"})
        ),
        # Live sync for `doit dev`: project paths copied into the running containers.
        "sync": s.ListOf(SYNC_RULE),
        # A HorizontalPodAutoscaler (and a PodDisruptionBudget when min > 1); rules/autoscale.py.
        "autoscale": AUTOSCALE,
        # Scraped by the monitoring components (alerts, dashboards); rules/metrics.py.
        "metrics": METRICS,
    },
    frozenset({"command", "resources"}),
)
DATABASE = s.Fields(
    {
        "image": s.IMAGE_REF,
        "build": s.REL_PATH,
        "port": s.PORT,
        "publish": s.PORT,
        "command": s.STRS,
        "healthcheck": s.STRS,
        "data_dir": s.ABS_PATH,
        "env": ENV_MAP,
        "secret_env": s.MapOf(s.Scalar((str,), s.env_var), s.env_var),
        "env_var": s.Scalar((str,), s.env_var),
        # Both are written into the StatefulSet: without one it would fail in a template.
        "cluster": s.Fields(
            {
                "storage": s.Scalar((str,), s.quantity(s.MEMORY, "'1Gi'")),
                "uid": s.Scalar((int,), pod_uid),
            },
            frozenset({"storage", "uid"}),
        ),
    },
    frozenset({"image", "port", "env_var"}),
)


# A task name as doit accepts it on the command line (`compose_jobs`, `s_a_dbs`).
TASK_NAME = s.typed(r"[a-z][a-z0-9_]*", "task name", "'seed_data' (lowercase letters, digits, '_')")
TOP = s.Fields(
    {
        "project": s.NAME,
        # The environment of a run that names none (env=); else the first Compose one. stack.yaml only.
        "default_env": s.NAME,
        # Other names for tasks (an old CLI's words): alias -> task. stack.yaml only.
        "aliases": s.MapOf(TASK_NAME, TASK_NAME.check),
        "namespace": s.NAME,
        "network": s.DOCKER_NAME,
        "kubernetes_version": s.K8S_VERSION,
        "images": s.Fields(
            {
                "prefix": s.IMAGE_REPO,
                "base": s.Scalar((str,), s.one_of("pull", "debootstrap")),
                "base_image": s.IMAGE_REF,
                "suite": s.typed(r"[a-z]+", "Debian suite", "'bookworm'"),
                "uid": s.Scalar((int,), s.between(1, 2**31 - 1)),
                # The platforms pushed images are built for (a manifest list when more than the
                # host's); empty: the host's only. tasks/ops/platforms.py.
                "platforms": s.ListOf(s.Scalar((str,), s.one_of(*PLATFORMS))),
                "builder": BUILDER,
                "service_build": BUILD,
            }
        ),
        "services": s.MapOf(SERVICE, s.dns_label),
        "secrets": s.ListOf(s.Scalar((str,), secret_name)),
        "databases": s.MapOf(DATABASE, s.dns_label),
        "minikube": s.Fields(
            {
                "profile": s.NAME,
                "driver": s.Scalar((str,), s.one_of(*MINIKUBE_DRIVERS)),
                "cpus": s.Scalar((int,), s.between(1, 256)),
                "memory": s.Scalar((int,), s.at_least(1024)),
                "disk": s.typed(r"[0-9]+[kmgtKMGT]?[bB]?", "disk size", "'20g'"),
                "addons": s.ListOf(s.NAME),
                "image_strategy": s.Scalar((str,), s.one_of("docker-env", "image-load")),
            }
        ),
        "runtime": s.Scalar((str,), s.one_of("compose", "kubernetes")),
        # A protected environment is changed by a mutating cloud task only with confirm=<env> (or in CI).
        "protected": s.BOOL,
        "placement": s.MapOf(s.Scalar((str,), s.one_of("compose", "cluster", "external", "disabled"))),
        "endpoints": s.MapOf(s.ENDPOINT),
        "disabled_services": s.STRS,
        "config": ENV_MAP,
        "components": s.ListOf(s.Scalar((str,), component)),
        # Where Prometheus (and Grafana) run: the monitoring components let that namespace
        # reach each service's metrics port. stack.yaml only (the components are the stack's).
        "monitoring": s.Fields({"namespace": s.NAME}),
        # The logging component: its own namespace (default <project>-logging) and where Loki
        # takes pushes. stack.yaml only (the component is the stack's).
        "logging": s.Fields({"namespace": s.NAME, "loki_url": LOKI_URL}),
        "host_address": s.HOSTNAME,
        "hooks": s.Fields({"pre_build": s.ListOf(COMMAND), "post_build": s.ListOf(COMMAND)}),
        "timeouts": s.Fields(
            {
                "rollout": s.Scalar((int,), s.between(1, 86400)),
                "healthy": s.Scalar((int,), s.between(1, 86400)),
            }
        ),
        "cloud": CLOUD,
    },
    frozenset({"project", "namespace", "network", "images", "services", "databases"}),
)

DEFAULTS: dict[str, Any] = {
    "kubernetes_version": "1.33.0",
    "runtime": "compose",
    "images": {
        "prefix": "stack",
        "base": "pull",
        "base_image": "debian:bookworm-slim",
        "suite": "bookworm",
        "uid": 10001,
        "platforms": [],
    },
    "minikube": {
        "profile": "minikube",
        "driver": "docker",
        "cpus": 2,
        "memory": 4096,
        "disk": "20g",
        "addons": [],
        "image_strategy": "docker-env",
    },
    "host_address": "host.docker.internal",
    "monitoring": {"namespace": "monitoring"},
    "timeouts": {"rollout": 180, "healthy": 120},
}
