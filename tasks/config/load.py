"""Load environments/stack.yaml plus one environments/<env>.yaml into a Config.

Reading files is all this module does: structure is checked per file (so errors
point at the right file and line), then the merged result is cross-checked.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from tasks.config import cloud_db
from tasks.config import schema as s
from tasks.config.yamlpos import KeyPath, Located, dotted, load_yaml
from tasks.errors import ConfigError, StackError
from tasks.model import Build, Config, Database, Health, Images, Minikube, Port, Service

ENV_DIR = "environments"
STACK_FILE = "stack.yaml"

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_var(value: Any) -> tuple[str, str] | None:
    if isinstance(value, str) and ENV_NAME.match(value):
        return None
    return f"{value!r} is not a valid environment variable name", "use letters, digits and '_'"


def _at_least(n: int) -> s.Check:
    return lambda v: None if v >= n else (f"{v} is less than {n}", f"use {n} or more")


# Kubernetes keeps replicas as int32; a value this large is a typo, not a plan.
MAX_REPLICAS = 10_000
NODES = s.Scalar((int,), s.between(0, 1000))
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
COMMAND = s.typed(r"\S.*", "shell command", "'make assets' (not empty)")
ENV_MAP = s.MapOf(VALUE, _env_var)
RESOURCES = s.Fields(
    {
        "cpu": s.Scalar((str, int, float), s.quantity(s.CPU, "'250m' or '1'")),
        "memory": s.Scalar((str,), s.quantity(s.MEMORY, "'256Mi' or '1Gi'")),
    },
    frozenset({"cpu", "memory"}),
)
# Build specs, in Compose's words; paths relative to the project root (see _build_spec).
_BUILD_FIELDS: dict[str, s.Spec] = {
    "context": s.REL_PATH,
    "dockerfile": s.REL_PATH,
    "target": s.typed(r"[A-Za-z][A-Za-z0-9_.-]*", "build stage name", "'runtime'"),
    "args": s.MapOf(VALUE, _env_var),
}
BUILDER = s.Fields(_BUILD_FIELDS, frozenset({"context"}))
BUILD = s.Fields({**_BUILD_FIELDS, "builder": s.BOOL}, frozenset({"context"}))
# Build args the tool passes to every build itself; a stack may not redefine them.
TOOL_ARGS = ("BASE_IMAGE", "UID", "SERVICE", "BUILDER_IMAGE")
HEALTH_KINDS = ("http", "tcp", "exec")
# Which keys each health kind needs; any other key is a mistake (see _health).
HEALTH_KEYS = {"http": ("port", "path"), "tcp": ("port",), "exec": ("command",)}
HEALTH = s.Fields(
    {
        "kind": s.Scalar((str,), s.one_of(*HEALTH_KINDS)),
        "port": s.PORT,
        "path": s.URL_PATH,
        "command": s.ListOf(s.STR),
    }
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
        "uses": s.STRS,
        "optional_uses": s.STRS,
        "resources": s.Fields(
            {"requests": RESOURCES, "limits": RESOURCES}, frozenset({"requests", "limits"})
        ),
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
        "secret_env": s.MapOf(s.Scalar((str,), _env_var), _env_var),
        "env_var": s.Scalar((str,), _env_var),
        "cluster": s.Fields(
            {
                "storage": s.Scalar((str,), s.quantity(s.MEMORY, "'1Gi'")),
                "uid": s.Scalar((int,), _at_least(1)),
            }
        ),
    },
    frozenset({"image", "port", "env_var"}),
)


def _cidr(value: Any) -> tuple[str, str] | None:
    try:
        net = ipaddress.IPv4Network(value)
    except ValueError:
        return f"{value!r} is not an IPv4 CIDR block", "write it like '203.0.113.0/24'"
    if net.prefixlen == 0:
        return (
            f"{value!r} opens the Kubernetes API to the whole internet",
            "list the CIDR blocks of your office, VPN or CI egress instead",
        )
    return None


def _iam_arn(value: Any) -> tuple[str, str] | None:
    if re.match(r"^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:(role|user|assumed-role)/\S+$", value):
        return None
    return f"{value!r} is not an IAM role or user ARN", "write it like 'arn:aws:iam::123456789012:role/Admin'"


def _slash24(value: Any) -> tuple[str, str] | None:
    """Redis Cloud deploys into exactly a /24."""
    if bad := s.cidr(value):
        return bad
    return (
        None if value.endswith("/24") else (f"{value!r} is not a /24 block", "write it like 192.168.10.0/24")
    )


CLUSTER_VERSION = re.compile(r"^1\.[0-9]+$")
# Every module's settings in one mapping; which module takes which is checked by cloud_db.check.
CLOUD_DATABASE = s.Fields(
    {
        "module": s.Scalar((str,), s.one_of(*cloud_db.MODULES)),
        "instance_size": s.Scalar((str,), s.one_of(*cloud_db.ATLAS_SIZES)),
        # Names: the pattern each module accepts is checked by cloud_db.check.
        "username": s.typed(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}", "database user name", "'myapp'"),
        "database_name": s.typed(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}", "database name", "'myapp'"),
        "instance_class": s.typed(r"db\.[a-z0-9-]+\.[a-z0-9]+", "RDS instance class", "'db.t4g.micro'"),
        "storage_gb": s.Scalar((int,), s.between(20, 16384)),
        "deployment_cidr": s.Scalar((str,), _slash24),
    },
    frozenset({"module"}),
)
CLOUD = s.Fields(
    {
        "region": s.typed(r"[a-z]{2}(?:-[a-z]+)+-[0-9]", "AWS region", "'us-west-2'"),
        "cluster_name": s.NAME,
        "registry": s.IMAGE_REPO,
        "vpc_cidr": s.CIDR,
        "node_instance_types": s.ListOf(s.typed(r"[a-z0-9-]+\.[a-z0-9]+", "EC2 instance type", "'m5.large'")),
        "endpoint_private": s.BOOL,
        # Kubernetes minor of the EKS control plane; must match kubernetes_version (checked in _build).
        "cluster_version": s.Scalar(
            (str,),
            lambda v: (
                None
                if CLUSTER_VERSION.match(v)
                else (f"{v!r} is not a Kubernetes minor version", "write it like '1.33' (quoted)")
            ),
        ),
        # Who may reach the public API endpoint (never 0.0.0.0/0); unused when endpoint_private.
        "endpoint_public_cidrs": s.ListOf(s.Scalar((str,), _cidr)),
        # EKS access entries: cluster admins and read-only users (IAM ARNs). The CI deploy
        # role is made by terraform/modules/github-oidc and gets its entry there.
        "access": s.Fields(
            {"admins": s.ListOf(s.Scalar((str,), _iam_arn)), "readers": s.ListOf(s.Scalar((str,), _iam_arn))},
            frozenset({"admins"}),
        ),
        # GitHub repository (owner/name) whose deploy workflow may assume the deploy role.
        "github": s.Fields(
            {"repository": s.typed(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", "GitHub repository", "'owner/name'")},
            frozenset({"repository"}),
        ),
        # One environment per AWS account creates what the account shares (ECR, GitHub OIDC provider).
        "create_shared": s.BOOL,
        # What creates each managed database: a Terraform module and its settings (tasks/config/cloud_db.py).
        "databases": s.MapOf(CLOUD_DATABASE, s.dns_label),
        "node_count": s.Fields(
            {"min": NODES, "max": NODES, "desired": NODES}, frozenset({"min", "max", "desired"})
        ),
        "state": s.Fields(
            {
                "bucket": s.typed(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "S3 bucket name", "'myapp-tfstate'"),
                "lock_table": s.typed(r"[A-Za-z0-9_.-]{3,255}", "DynamoDB table name", "'myapp-tflock'"),
            },
            frozenset({"bucket", "lock_table"}),
        ),
    },
    frozenset(
        {
            "region",
            "cluster_name",
            "registry",
            "vpc_cidr",
            "node_instance_types",
            "node_count",
            "state",
            "cluster_version",
            "access",
            "github",
        }
    ),
    moved=cloud_db.MOVED,
)
TOP = s.Fields(
    {
        "project": s.NAME,
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
                "builder": BUILDER,
                "service_build": BUILD,
            }
        ),
        "services": s.MapOf(SERVICE, s.dns_label),
        "secrets": s.ListOf(s.Scalar((str,), _env_var)),
        "databases": s.MapOf(DATABASE, s.dns_label),
        "minikube": s.Fields(
            {
                "profile": s.NAME,
                "driver": s.Scalar((str,), s.one_of(*MINIKUBE_DRIVERS)),
                "cpus": s.Scalar((int,), s.between(1, 256)),
                "memory": s.Scalar((int,), _at_least(1024)),
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
        "components": s.ListOf(s.Scalar((str,), s.one_of("ingress", "hpa"))),
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
    "timeouts": {"rollout": 180, "healthy": 120},
}


def environments(root: Path) -> list[str]:
    """Every environment name: one file per environment beside stack.yaml. Hidden files
    are editors' lock and backup files (Emacs's `.#local.yaml`), never environments."""
    return sorted(
        p.stem for p in (root / ENV_DIR).glob("*.yaml") if p.name != STACK_FILE and not p.name.startswith(".")
    )


def env_file(name: str, root: Path) -> Path:
    return root / ENV_DIR / f"{name}.yaml"


def check_env_name(name: str, root: Path) -> None:
    known = environments(root)
    if name in known:
        return
    stem = Path(name).stem if name.endswith((".yaml", ".yml")) else name
    if stem in known:  # `env=local.yaml`: the file name instead of the environment's
        raise StackError(
            f"unknown environment {name!r}", fix=f"write env={stem} (the file name without .yaml)"
        )
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    if not name or not s.DNS1123.match(name):
        how = "use lowercase letters, digits and '-' (an environment is environments/<name>.yaml)"
    elif known:
        how = f"To add one, copy a small file: cp {ENV_DIR}/{known[0]}.yaml {ENV_DIR}/{name}.yaml"
    else:
        how = f"create {ENV_DIR}/{name}.yaml (see README, Configuration reference)"
    raise StackError(
        f"unknown environment {name!r}; known environments: {', '.join(known) or '(none)'}", fix=hint + how
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
            raise ConfigError(
                f"{ENV_DIR}/{env}.yaml",
                "(file name)",
                None,
                f"environment name {env!r} is not a valid DNS-1123 label",
                fix=f"rename the file to lowercase letters, digits and '-' "
                f"(e.g. {ENV_DIR}/{re.sub('[^a-z0-9-]+', '-', env.lower()).strip('-') or 'myenv'}.yaml)",
            )
        over = load_yaml(env_file(env, root), f"{ENV_DIR}/{env}.yaml")
        s.validate(over, TOP, enforce_required=False)
        docs.append(over)
        sources.append(env_file(env, root))
    merged: dict[str, Any] = {}
    for data in [DEFAULTS] + [d.data for d in docs]:
        merged = _merge(merged, data)
    return _build(env, merged, docs, tuple(sources), root)


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


def _build(
    env: str | None, m: dict[str, Any], docs: list[Located], sources: tuple[Path, ...], root: Path
) -> Config:
    where = _Where(docs)
    # An environment file may add a service, a database or a cloud block of its own:
    # what is required is checked once the files are merged.
    if missing := s.first_missing(m, TOP):
        path, key = missing
        raise where.error(
            path, f"missing required key {key!r}", f"add `{key}:` under {dotted(path) or 'the top level'}"
        )
    dbs_raw: dict[str, Any] = m["databases"]
    placement: dict[str, str] = m.get("placement", {})
    endpoints: dict[str, str] = m.get("endpoints", {})
    runtime: str = m["runtime"]
    for name in placement:
        if name not in dbs_raw:
            raise where.error(
                ("placement", name), f"unknown database {name!r}", s._did_you_mean(name, dbs_raw)
            )
    for name in endpoints:
        if name not in dbs_raw:
            raise where.error(
                ("endpoints", name), f"unknown database {name!r}", s._did_you_mean(name, dbs_raw)
            )
    host = m["host_address"]
    databases: dict[str, Database] = {}
    for name, raw in dbs_raw.items():
        where_ = placement.get(name, "compose" if env is None else "")
        if not where_:
            raise where.error(
                ("placement",),
                f"database {name!r} has no placement",
                f"add `{name}: compose|cluster|external|disabled` under placement",
            )
        if where_ == "cluster" and "cluster" not in raw:
            raise where.error(
                ("placement", name),
                f"{name} cannot be placed in the cluster: databases run outside Kubernetes",
                "use compose (host Docker), external (managed) or disabled",
            )
        if where_ == "cluster" and runtime == "compose":
            raise where.error(
                ("placement", name),
                f"{name} is placed in a cluster, but runtime is compose",
                "use `placement: compose` or `runtime: kubernetes`",
            )
        if where_ == "external" and name not in endpoints:
            raise where.error(
                ("endpoints",),
                f"{name} is external but has no endpoint",
                f"add `{name}: host:port` under endpoints",
            )
        if where_ == "external":
            endpoint = endpoints[name]
        elif where_ == "compose" and runtime == "kubernetes":
            # From the cluster the host database is reached where the host publishes it.
            endpoint = f"{host}:{raw.get('publish') or raw['port']}"
        else:
            endpoint = f"{name}:{raw['port']}"
        databases[name] = Database(
            name=name,
            image=raw["image"],
            build=raw.get("build"),
            port=raw["port"],
            env_var=raw["env_var"],
            placement=where_,
            endpoint=endpoint,
            cluster=raw.get("cluster"),
            publish=raw.get("publish"),
            command=tuple(raw.get("command", [])),
            healthcheck=tuple(raw.get("healthcheck", [])),
            data_dir=raw.get("data_dir"),
            env=dict(raw.get("env", {})),
            secret_env=dict(raw.get("secret_env", {})),
        )
    declared = set(m.get("secrets", []))
    for name, raw in dbs_raw.items():
        for var, secret in raw.get("secret_env", {}).items():
            if secret not in declared:
                raise where.error(
                    ("databases", name, "secret_env", var),
                    f"undeclared secret {secret!r}",
                    f"add {secret} to the top-level `secrets:` list",
                )
    disabled = m.get("disabled_services", [])
    for i, name in enumerate(disabled):
        if name not in m["services"]:
            raise where.error(
                ("disabled_services", i), f"unknown service {name!r}", s._did_you_mean(name, m["services"])
            )
    services: dict[str, Service] = {}
    for name, raw in m["services"].items():
        for key in ("uses", "optional_uses"):
            for i, db in enumerate(raw.get(key, [])):
                if db not in databases:
                    raise where.error(
                        ("services", name, key, i), f"unknown database {db!r}", s._did_you_mean(db, databases)
                    )
        if name in disabled:
            continue
        off = [db for db in raw.get("uses", []) if databases[db].placement == "disabled"]
        if off:
            raise where.error(
                ("disabled_services",),
                f"service {name!r} needs {', '.join(off)}, which is disabled here",
                f"add {name} to disabled_services, or place {', '.join(off)}",
            )
        kind = raw.get("kind", "deployment")
        if kind == "deployment" and "health" not in raw:
            raise where.error(
                ("services", name),
                f"deployment {name!r} has no health check",
                "add `health: {kind: http, port: N, path: /healthz}` (or kind tcp or exec; "
                "used for probes and healthchecks)",
            )
        if kind == "job" and "health" in raw:
            raise where.error(
                ("services", name, "health"),
                f"job {name!r} has a health check",
                "remove it: a job runs once, and its exit code says whether it worked",
            )
        services[name] = Service(
            name=name,
            kind=kind,
            command=tuple(raw["command"]),
            replicas=raw.get("replicas", 1),
            ports=tuple(Port(p["name"], p["port"], p.get("publish")) for p in raw.get("ports", [])),
            health=_health(where, name, raw["health"]) if "health" in raw else None,
            env=dict(raw.get("env", {})),
            uses=tuple(raw.get("uses", [])),
            optional_uses=tuple(raw.get("optional_uses", [])),
            requests={k: str(v) for k, v in raw["resources"]["requests"].items()},
            limits={k: str(v) for k, v in raw["resources"]["limits"].items()},
            build=_service_build(where, name, raw, m["images"]),
        )
    _cross_check(where, m, services, databases)
    if env is not None and runtime == "compose":
        _one_container_per_host_port(where, services)
    _check_paths(where, m, services, databases, root)
    _check_cloud(m, where)
    img = m["images"]
    mk = m["minikube"]
    hooks = m.get("hooks", {})
    return Config(
        env=env,
        project=m["project"],
        namespace=m["namespace"],
        network=m["network"],
        protected=bool(m.get("protected", False)),
        kubernetes_version=m["kubernetes_version"],
        runtime=runtime,
        images=Images(
            prefix=img["prefix"],
            base=img["base"],
            base_image=img["base_image"],
            builder=_build_spec(where, ("images", "builder"), img["builder"]) if "builder" in img else None,
            suite=img["suite"],
            uid=img["uid"],
        ),
        services=services,
        databases=databases,
        secrets=tuple(m.get("secrets", [])),
        config=dict(m.get("config", {})),
        components=tuple(m.get("components", [])),
        host_address=host,
        minikube=Minikube(
            profile=mk["profile"],
            driver=mk["driver"],
            cpus=mk["cpus"],
            memory=mk["memory"],
            disk=mk["disk"],
            addons=tuple(mk["addons"]),
            image_strategy=mk["image_strategy"],
        ),
        cloud=m.get("cloud"),
        hooks={k: tuple(hooks.get(k, [])) for k in ("pre_build", "post_build")},
        timeouts=dict(m["timeouts"]),
        sources=sources,
    )


def _health(where: _Where, name: str, raw: dict[str, Any]) -> Health:
    """A health check of one kind, with exactly the keys that kind uses (no kind: http, the
    form `{port, path}` every stack wrote before kinds existed)."""
    kind = raw.get("kind", "http")
    at = ("services", name, "health")
    for key in HEALTH_KEYS[kind]:
        if key not in raw:
            example = {"port": "port: 8080", "path": "path: /healthz", "command": "command: [my-check]"}[key]
            raise where.error(
                at, f"a health check of kind {kind} needs {key!r}", f"add `{example}` under health"
            )
    for key in raw:
        if key != "kind" and key not in HEALTH_KEYS[kind]:
            raise where.error(
                at + (key,),
                f"{key!r} is not used by a health check of kind {kind}",
                "remove it, or set the kind that uses it "
                f"({', '.join(k for k, keys in HEALTH_KEYS.items() if key in keys)})",
            )
    if kind == "exec" and not raw["command"]:
        raise where.error(
            at + ("command",),
            "the health command is empty",
            "write the program and its arguments, e.g. [my-check, --quiet]",
        )
    return Health(
        kind=kind, port=raw.get("port"), path=raw.get("path"), command=tuple(raw.get("command", []))
    )


def _build_spec(where: _Where, at: KeyPath, raw: dict[str, Any]) -> Build:
    context = str(raw["context"]).rstrip("/")
    for key in raw.get("args", {}):
        if key in TOOL_ARGS:
            raise where.error(
                at + ("args", key),
                f"build arg {key} is passed by the tool itself",
                "remove it here (BASE_IMAGE: images.base_image, UID: images.uid, SERVICE: the "
                "service name, BUILDER_IMAGE: the builder's image)",
            )
    return Build(
        context=context,
        dockerfile=raw.get("dockerfile", f"{context}/Dockerfile"),
        target=raw.get("target"),
        args=dict(raw.get("args", {})),
        builder=bool(raw.get("builder", False)),
    )


def _service_build(where: _Where, name: str, raw: dict[str, Any], images: dict[str, Any]) -> Build:
    """The service's own `build`, else `images.service_build`, as a whole (never merged key by
    key: a service with its own Dockerfile must not inherit `builder: true`)."""
    if "build" in raw:
        at: KeyPath = ("services", name, "build")
        spec = raw["build"]
    elif "service_build" in images:
        at, spec = ("images", "service_build"), images["service_build"]
    else:
        raise where.error(
            ("services", name),
            f"service {name!r} has no build spec",
            "add `build: {context: <folder>, dockerfile: <file>}` under it, or a default "
            "`images.service_build:` for every service",
        )
    build = _build_spec(where, at, spec)
    if build.builder and "builder" not in images:
        raise where.error(
            at + ("builder",),
            f"service {name!r} copies from the builder, but there is no builder",
            "add `images.builder: {context: ..., dockerfile: ...}`, or set `builder: false`",
        )
    return build


# --- Cross-field rules: what each file may say alone, but not together -------------

_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def cpu_millis(value: str) -> Decimal:
    return Decimal(value[:-1]) if value.endswith("m") else Decimal(value) * 1000


def memory_bytes(value: str) -> int:
    # No unit ends with another ("Mi" and "M"), so the order they are tried in is irrelevant.
    for suffix, factor in _UNITS.items():
        if value.endswith(suffix):
            return int(value[: -len(suffix)]) * factor
    return int(value)


def _cross_check(
    where: _Where, m: dict[str, Any], services: dict[str, Service], databases: dict[str, Database]
) -> None:
    for name in m["services"]:
        if name in ("base", "builder"):
            raise where.error(
                ("services", name),
                f"{name!r} is the name of the tool's own {name} image",
                "rename the service: its image would overwrite that one's record",
            )
        if name in m["databases"]:
            raise where.error(
                ("services", name),
                f"{name!r} names both a service and a database",
                "rename one: each becomes a container, a Kubernetes object and a host name",
            )
    for key in ("secrets", "disabled_services", "components"):
        _no_repeats(where, (key,), m.get(key, []))
    _no_repeats(where, ("minikube", "addons"), m["minikube"]["addons"])
    endpoints = m.get("endpoints", {})
    for name, db in databases.items():
        if name in endpoints and db.placement != "external":
            raise where.error(
                ("endpoints", name),
                f"{name} is placed {db.placement} here, so its endpoint is unused",
                f"remove `{name}` from endpoints, or place it `external`",
            )
    # Plain values land in ConfigMaps and committed Compose files: never under a secret's name.
    secrets = set(m.get("secrets", []))
    plain = [(("config", k), k) for k in m.get("config", {})] + [
        (("services", n, "env", k), k) for n, raw in m["services"].items() for k in raw.get("env", {})
    ]
    for path, key in plain:
        if key in secrets:
            raise where.error(
                path,
                f"{key} is a secret: this value would be written in plain text",
                f"remove it here; set {key} in compose/<env>/.env or the Kubernetes Secret",
            )
    host_ports: dict[int, str] = {}

    def publish(port: int, path: KeyPath) -> None:
        if port in host_ports:
            raise where.error(
                path,
                f"host port {port} is already published by {host_ports[port]}",
                "give each published port its own number",
            )
        host_ports[port] = dotted(path)

    for svc in services.values():
        raw = m["services"][svc.name]
        for key in ("uses", "optional_uses"):
            _no_repeats(where, ("services", svc.name, key), raw.get(key, []))
        for i, db in enumerate(raw.get("optional_uses", [])):
            if db in raw.get("uses", []):
                raise where.error(
                    ("services", svc.name, "optional_uses", i),
                    f"{db!r} is in both uses and optional_uses",
                    "keep it in one of the two",
                )
        seen_ports: dict[int, int] = {}
        seen_names: dict[str, int] = {}
        for i, p in enumerate(svc.ports):
            at = ("services", svc.name, "ports", i)
            if p.port in seen_ports:
                raise where.error(
                    at + ("port",),
                    f"port {p.port} is listed twice (also ports[{seen_ports[p.port]}])",
                    "remove the duplicate entry",
                )
            if p.name in seen_names:
                raise where.error(
                    at + ("name",),
                    f"port name {p.name!r} is used twice (also ports[{seen_names[p.name]}])",
                    "give each port its own name",
                )
            seen_ports[p.port], seen_names[p.name] = i, i
            if p.publish:
                publish(p.publish, at + ("publish",))
        for res in ("cpu", "memory"):
            req, lim = svc.requests[res], svc.limits[res]
            measure = cpu_millis if res == "cpu" else memory_bytes
            if measure(req) > measure(lim):
                raise where.error(
                    ("services", svc.name, "resources", "requests", res),
                    f"the {res} request {req} is above the limit {lim}",
                    f"lower requests.{res} or raise limits.{res}",
                )
    for db in databases.values():
        if db.placement == "compose" and db.publish:
            publish(db.publish, ("databases", db.name, "publish"))
        # Every database with a `cluster` block gets a StatefulSet in k8s/base, whatever this
        # environment's placement: without data_dir it would mount its volume at "None".
        if db.cluster and not db.data_dir:
            raise where.error(
                ("databases", db.name),
                f"{db.name} may run in a cluster but has no data_dir",
                "add `data_dir: /path/of/its/data` (the cluster volume is mounted there)",
            )
    cloud = m.get("cloud")
    if cloud:
        count = cloud["node_count"]
        if not count["min"] <= count["desired"] <= count["max"]:
            raise where.error(
                ("cloud", "node_count"),
                f"node_count needs min <= desired <= max, got min {count['min']}, "
                f"desired {count['desired']}, max {count['max']}",
                "fix the three numbers",
            )
        cloud_db.check(
            cloud, {name: db.placement for name, db in databases.items()}, m["project"], where.error
        )


def _one_container_per_host_port(where: _Where, services: dict[str, Service]) -> None:
    """Compose runs `replicas` containers of a service, but a host port can be bound by one
    container only: the second would fail at `compose up` with "port is already allocated"."""
    for svc in services.values():
        published = [p.publish for p in svc.ports if p.publish]
        if svc.replicas > 1 and published:
            raise where.error(
                ("services", svc.name, "replicas"),
                f"{svc.name} publishes host port {published[0]}, so Compose can run only one "
                f"container of it, not {svc.replicas}",
                "set `replicas: 1` in this environment, or remove `publish` from its ports "
                "(other services still reach it on the Compose network)",
            )


def _check_paths(
    where: _Where, m: dict[str, Any], services: dict[str, Service], databases: dict[str, Database], root: Path
) -> None:
    """Build inputs the images need exist in the project (else `docker build` fails later)."""
    img = m["images"]
    specs: list[tuple[KeyPath, dict[str, Any]]] = []
    if "builder" in img:
        specs.append((("images", "builder"), img["builder"]))
    for name in services:
        own = "build" in m["services"][name]
        specs.append(
            (
                ("services", name, "build") if own else ("images", "service_build"),
                m["services"][name]["build"] if own else img["service_build"],
            )
        )
    wanted: list[tuple[KeyPath, str, bool]] = []
    for at, spec in specs:
        context = str(spec["context"]).rstrip("/")
        wanted.append((at + ("context",), context, True))
        # Without `dockerfile`, Compose's default: the context's Dockerfile.
        wanted.append(
            (
                at + ("dockerfile",) if "dockerfile" in spec else at + ("context",),
                spec.get("dockerfile", f"{context}/Dockerfile"),
                False,
            )
        )
    for db in databases.values():
        if db.build and db.placement != "disabled":
            wanted.append((("databases", db.name, "build"), db.build, True))
            wanted.append((("databases", db.name, "build"), f"{db.build}/Dockerfile", False))
    for path, rel, folder in dict.fromkeys(wanted):
        target = root / rel
        if not (target.is_dir() if folder else target.is_file()):
            raise where.error(
                path,
                f"{rel} is not a {'folder' if folder else 'file'} in the project",
                "fix the path (relative to the project root) or create it",
            )


def _no_repeats(where: _Where, path: KeyPath, items: list[Any]) -> None:
    seen: set[Any] = set()
    for i, item in enumerate(items):
        if item in seen:
            raise where.error(path + (i,), f"{item!r} is listed twice", "remove the duplicate")
        seen.add(item)


def _check_cloud(m: dict[str, Any], where: _Where) -> None:
    """The cloud block agrees with the rest: the cluster runs the Kubernetes version the
    manifests are validated against, and a public endpoint names who may reach it."""
    cloud = m.get("cloud")
    if not cloud:
        return
    version = cloud.get("cluster_version")
    wanted = ".".join(str(m["kubernetes_version"]).split(".")[:2])
    if version is not None and version != wanted:
        raise where.error(
            ("cloud", "cluster_version"),
            f"EKS runs Kubernetes {version}, but the manifests are validated against "
            f"kubernetes_version {m['kubernetes_version']}",
            f'set `cluster_version: "{wanted}"`, or change kubernetes_version in '
            f"{ENV_DIR}/{STACK_FILE} to the cluster's version",
        )
    if not cloud.get("endpoint_private", False) and not cloud.get("endpoint_public_cidrs"):
        raise where.error(
            ("cloud",),
            "the public Kubernetes API endpoint has no allowed CIDR blocks",
            "list them under `endpoint_public_cidrs:` (your office, VPN or CI egress), "
            "or set `endpoint_private: true`",
        )
