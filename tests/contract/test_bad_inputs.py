"""A corpus of realistic mistakes: every one gets one clean error and changes nothing.

Each case edits one file of a pristine project copy, runs a real `doit` command on it,
and checks what the user sees and what is left behind:
  - a non-zero exit (78 for configuration errors, 1 for a failing render task);
  - the file, the key path and the line (configuration errors) or the template and line;
  - no Python traceback;
  - every generated tree (k8s/, compose/, terraform/) byte-identical;
  - no temp file left behind;
  - nothing changed out of the project, where a case's link leads;
  - no hang (each run is bounded by an alarm).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import pytest
from doit.reporter import JsonReporter

from tasks.cli import reporter
from testing.project import REPO, DoitRun, copy_project, run_doit, snapshot

GENERATED = ("k8s", "compose", "terraform")
Edit = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    id: str
    file: str  # relative to the project root
    edit: Edit
    at: str | None  # expected "==> At <key path>" (None: not a config error)
    text: str  # expected in the message
    needle: str | None = None  # the line is the first line of the edited file containing it
    cmd: tuple[str, ...] = ("render",)
    code: int = 78
    line: int | None = None  # an explicit line (when there is no needle)
    extra: tuple[str, ...] = field(default_factory=tuple)
    # Other paths the edit changes, put back as the pristine project has them afterwards.
    restore: tuple[str, ...] = field(default_factory=tuple)


def replace(old: str, new: str, count: int = 1) -> Callable[[str], Edit]:
    def for_file(rel: str) -> Edit:
        def edit(root: Path) -> None:
            path = root / rel
            text = path.read_text()
            assert old in text, f"{old!r} not in {rel}"
            path.write_text(text.replace(old, new, count))

        return edit

    return for_file


def append(extra: str) -> Callable[[str], Edit]:
    def for_file(rel: str) -> Edit:
        def edit(root: Path) -> None:
            path = root / rel
            path.write_text(path.read_text() + extra)

        return edit

    return for_file


def edits(*pairs: tuple[str, str]) -> Callable[[str], Edit]:
    """Several replacements in one file, each of the first occurrence."""

    def for_file(rel: str) -> Edit:
        def edit(root: Path) -> None:
            for old, new in pairs:
                replace(old, new)(rel)(root)

        return edit

    return for_file


def write(data: str | bytes) -> Callable[[str], Edit]:
    def for_file(rel: str) -> Edit:
        def edit(root: Path) -> None:
            path = root / rel
            path.write_bytes(data.encode() if isinstance(data, str) else data)

        return edit

    return for_file


def special(kind: str) -> Callable[[str], Edit]:
    def for_file(rel: str) -> Edit:
        def edit(root: Path) -> None:
            path = root / rel
            path.unlink()
            if kind == "fifo":
                os.mkfifo(path)
            elif kind == "dir":
                path.mkdir()

        return edit

    return for_file


S, L, P, D, M, OFF = (
    f"environments/{n}.yaml" for n in ("stack", "local", "prod", "dev", "minikube", "offline")
)
BOMB = "".join(
    f"{k}: &{k} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
    for k, p in zip("abcdefg", ["", "a", "b", "c", "d", "e", "f"], strict=False)
)
CLOUD_ENVS = "dev, prod, staging"


def c(
    id: str,
    file: str,
    how: Callable[[str], Edit],
    at: str | None,
    text: str,
    needle: str | None = None,
    **kw: object,
) -> Case:
    return Case(id, file, how(file), at, text, needle, **kw)  # type: ignore[arg-type]


CASES = [
    # --- the file itself -------------------------------------------------------------
    c("malformed", S, append("services: [\n"), "(top level)", "malformed YAML", line=1000),
    c("tab-indent", S, replace("  engine:\n", "\tengine:\n"), "(top level)", "malformed YAML", "\tengine"),
    c("empty-stack", S, write(""), "(top level)", "missing required key 'databases'", line=1),
    c("deleted-stack", S, special("delete"), "(top level)", "file not found"),
    c("stack-is-dir", S, special("dir"), "(top level)", "is a directory, not a file"),
    c("local-is-fifo", L, special("fifo"), "(top level)", "is not a regular file", cmd=("compose_up",)),
    c("not-utf8", S, append("# caf\xe9\n".encode("latin-1").decode("latin-1")), None, "", line=None),
    c("nul-byte", S, append("x: a\x00b\n"), "(top level)", "control character U+0000", "\x00"),
    c("bell-char", L, append("config: {A: \x07}\n"), "(top level)", "control character U+0007", "\x07"),
    c("alias-bomb", L, append(BOMB), "e", "aliases expand to more than", "e: &e"),
    c(
        "self-alias",
        L,
        append("config: &a {A: *a}\n"),
        "config.A",
        "refers to the node that contains it",
        "&a",
    ),
    c(
        "python-name",
        L,
        append("host_address: !!python/name:os.system\n"),
        "host_address",
        "'!!python/name:os.system' is not allowed",
        "python/name",
    ),
    c(
        "python-object",
        L,
        append("hooks: !!python/object:os.system {}\n"),
        "hooks",
        "!!python/object:os.system",
        "python/object",
    ),
    c(
        "binary-tag",
        L,
        append("host_address: !!binary aGVsbG8=\n"),
        "host_address",
        "'!!binary' is not allowed",
        "binary",
    ),
    c("custom-tag", L, append("host_address: !Ref db\n"), "host_address", "'!Ref' is not allowed", "!Ref"),
    c(
        "merge-key",
        L,
        append("x: &x {A: b}\nconfig: {<<: *x}\n"),
        "config",
        "merge keys (<<) are not supported",
        "<<",
    ),
    c(
        "dup-key-stack",
        S,
        replace("namespace: srvthreds\n", "namespace: srvthreds\nproject: again\n"),
        "project",
        "duplicate key 'project'",
        "project: again",
    ),
    c("dup-key-local", L, append("runtime: compose\n"), "runtime", "duplicate key 'runtime'", line=4),
    c("huge-file", L, append("#" + "x" * 300_000 + "\n"), "(top level)", "environment files are limited to"),
    c("stack-is-list", S, write("- a\n- b\n"), "(top level)", "expected a mapping, got list", line=1),
    c("local-is-scalar", L, write("hello\n"), "(top level)", "expected a mapping, got str", line=1),
    c("complex-key", L, append("? [a, b]\n: c\n"), "(top level)", "keys must be plain strings", "? [a"),
    c(
        "malformed-dev",
        D,
        append("config: {A: [}\n"),
        "(top level)",
        "malformed YAML",
        "config: {A: [}",
        cmd=("deploy:dev",),
    ),
    c("unknown-key-prod", P, append("zzz: 1\n"), "zzz", "unknown key 'zzz'", "zzz", cmd=("deploy:prod",)),
    c(
        "typo-key",
        S,
        replace("namespace: srvthreds", "namspace: srvthreds"),
        "namspace",
        "did you mean 'namespace'?",
        "namspace",
    ),
    # --- types and typed strings ---------------------------------------------------------
    c(
        "replicas-str",
        P,
        replace("engine: {autoscale: {min: 3, max: 9, cpu: 70}}", "engine: {replicas: three}"),
        "services.engine.replicas",
        "expected int, got str",
        "three",
    ),
    c(
        "replicas-bool",
        P,
        replace("engine: {autoscale: {min: 3, max: 9, cpu: 70}}", "engine: {replicas: yes}"),
        "services.engine.replicas",
        "expected int, got bool",
        "replicas: yes",
    ),
    c(
        "replicas-negative",
        P,
        replace("engine: {autoscale: {min: 3, max: 9, cpu: 70}}", "engine: {replicas: -1}"),
        "services.engine.replicas",
        "-1 is not between 0 and 10000",
        "replicas: -1",
    ),
    c(
        "service-name-typo-in-an-environment",
        P,
        replace("engine: {autoscale: {min: 3, max: 9, cpu: 70}}", "enigne: {autoscale: {min: 3, max: 9}}"),
        "services.enigne",
        "unknown service 'enigne'",
        "enigne: {autoscale",
    ),
    c(
        "database-under-an-environments-services",
        P,
        replace("engine: {autoscale: {min: 3, max: 9, cpu: 70}}", "mongodb: {autoscale: {min: 3, max: 9}}"),
        "services.mongodb",
        "'mongodb' is a database, not a service",
        "mongodb: {autoscale",
    ),
    c(
        "replicas-huge",
        P,
        replace("engine: {autoscale: {min: 3, max: 9, cpu: 70}}", "engine: {replicas: 1000000000}"),
        "services.engine.replicas",
        "is not between 0 and 10000",
        "1000000000",
    ),
    c(
        "port-str",
        S,
        replace("{name: http, port: 3000", "{name: http, port: web"),
        "services.session-agent.ports[0].port",
        "expected int, got str",
        "port: web",
    ),
    c(
        "port-high",
        S,
        replace("{name: http, port: 3000", "{name: http, port: 70000"),
        "services.session-agent.ports[0].port",
        "port 70000 is out of range",
        "70000",
    ),
    c(
        "port-zero",
        S,
        replace("health: {port: 8080, path: /healthz}", "health: {port: 0, path: /healthz}"),
        "services.engine.health.port",
        "port 0 is out of range",
        "port: 0",
    ),
    c(
        "publish-high",
        S,
        replace("publish: 3000}", "publish: 99999}"),
        "services.session-agent.ports[0].publish",
        "out of range",
        "99999",
    ),
    c(
        "health-no-slash",
        S,
        replace("health: {port: 3000, path: /healthz}", "health: {port: 3000, path: healthz}"),
        "services.session-agent.health.path",
        "is not a valid URL path",
        "path: healthz}",
    ),
    c(
        "health-newline",
        S,
        replace(
            "health: {port: 3000, path: /healthz}", 'health: {port: 3000, path: "/healthz\\nhost: evil"}'
        ),
        "services.session-agent.health.path",
        "line break",
        "evil",
    ),
    c(
        "health-quote",
        S,
        replace(
            "health: {port: 3000, path: /healthz}", "health: {port: 3000, path: \"/h'+__import__('os')+'\"}"
        ),
        "services.session-agent.health.path",
        "is not a valid URL path",
        "__import__",
    ),
    c(
        "network-newline",
        S,
        replace("network: srvthreds-net", 'network: "net\\n  evil: 1"'),
        "network",
        "line break",
        "evil",
    ),
    c(
        "network-space",
        S,
        replace("network: srvthreds-net", "network: my net"),
        "network",
        "is not a valid Docker network name",
        "my net",
    ),
    c(
        "image-interp",
        S,
        replace("image: redis:7.2-bookworm", "image: ${REDIS}"),
        "databases.redis.image",
        "is not a valid image reference",
        "${REDIS}",
    ),
    c(
        "image-space",
        S,
        replace("image: redis:7.2-bookworm", "image: redis 7"),
        "databases.redis.image",
        "is not a valid image reference",
        "redis 7",
    ),
    c(
        "base-image-interp",
        S,
        replace("base_image: debian:bookworm-slim", "base_image: ${BASE}"),
        "images.base_image",
        "is not a valid image reference",
        "${BASE}",
    ),
    c(
        "prefix-upper",
        S,
        replace("prefix: srvthreds", "prefix: SrvThreds"),
        "images.prefix",
        "is not a valid image repository",
        "SrvThreds",
    ),
    c("uid-zero", S, replace("uid: 10001", "uid: 0"), "images.uid", "0 is not between 1", "uid: 0"),
    c("uid-str", S, replace("uid: 10001", "uid: root"), "images.uid", "expected int, got str", "uid: root"),
    c(
        "k8s-version-banana",
        S,
        replace('kubernetes_version: "1.33.0"', "kubernetes_version: banana"),
        "kubernetes_version",
        "'banana' is not a valid Kubernetes version",
        "banana",
    ),
    c(
        "k8s-version-old",
        S,
        replace('kubernetes_version: "1.33.0"', 'kubernetes_version: "1.10.0"'),
        "kubernetes_version",
        "is not a valid Kubernetes version (1.25.0 to 1.37.x)",
        "1.10.0",
    ),
    c(
        "k8s-version-float",
        S,
        replace('kubernetes_version: "1.33.0"', "kubernetes_version: 1.33"),
        "kubernetes_version",
        "expected str, got float",
        "1.33",
    ),
    c(
        "kind-cron",
        S,
        replace("    kind: job", "    kind: cronjob"),
        "services.bootstrap.kind",
        "'cronjob' is not one of deployment, job",
        "cronjob",
    ),
    c(
        "command-str",
        S,
        replace("command: [python3, -m, srvthreds_demo.engine]", "command: python3 -m engine"),
        "services.engine.command",
        "expected a list, got str",
        "python3 -m engine",
    ),
    c(
        "command-item-map",
        S,
        replace("command: [python3, -m, srvthreds_demo.engine]", "command: [{a: b}]"),
        "services.engine.command[0]",
        "expected str, got mapping",
        "{a: b}",
    ),
    c(
        "env-name-bad",
        S,
        replace("env: {LOG_LEVEL: info}", "env: {1BAD: info}"),
        "services.engine.env.1BAD",
        "'1BAD' is not a valid environment variable name",
        "1BAD",
    ),
    c(
        "env-value-list",
        S,
        replace("env: {LOG_LEVEL: info}", "env: {LOG_LEVEL: [a]}"),
        "services.engine.env.LOG_LEVEL",
        "expected str or int or bool, got list",
        "LOG_LEVEL: [a]",
    ),
    c(
        "cpu-words",
        S,
        replace("limits: {cpu: 500m, memory: 256Mi}", "limits: {cpu: lots, memory: 256Mi}"),
        "services.engine.resources.limits.cpu",
        "'lots' is not a valid resource quantity",
        "lots",
    ),
    c(
        "cpu-too-fine",
        S,
        replace("requests: {cpu: 100m, memory: 64Mi}", "requests: {cpu: 0.0001, memory: 64Mi}"),
        "services.engine.resources.requests.cpu",
        "not a valid resource quantity",
        "0.0001",
    ),
    c(
        "cpu-half-milli",
        S,
        replace("requests: {cpu: 100m, memory: 64Mi}", "requests: {cpu: 0.5m, memory: 64Mi}"),
        "services.engine.resources.requests.cpu",
        "not a valid resource quantity",
        "0.5m",
    ),
    c(
        "memory-gb",
        S,
        replace("limits: {cpu: 500m, memory: 256Mi}", "limits: {cpu: 500m, memory: 1GB}"),
        "services.engine.resources.limits.memory",
        "'1GB' is not a valid resource quantity",
        "1GB",
    ),
    c(
        "cpu-request-over-limit",
        S,
        replace("requests: {cpu: 100m, memory: 64Mi}", "requests: {cpu: 2, memory: 64Mi}"),
        "services.engine.resources.requests.cpu",
        "the cpu request 2 is above the limit 500m",
        "cpu: 2,",
    ),
    c(
        "memory-request-over-limit",
        S,
        replace("requests: {cpu: 100m, memory: 64Mi}", "requests: {cpu: 100m, memory: 1Gi}"),
        "services.engine.resources.requests.memory",
        "the memory request 1Gi is above the limit 256Mi",
        "1Gi",
    ),
    c(
        "limits-missing",
        S,
        replace("      limits: {cpu: 500m, memory: 256Mi}\n", "", 1),
        "services.engine.resources",
        "missing required key 'limits'",
        "    resources:",
    ),
    c(
        "secret-name-bad",
        S,
        replace("  - RABBITMQ_PASSWORD", "  - rabbit-password"),
        "secrets[0]",
        "is not a valid environment variable name",
        "rabbit-password",
    ),
    c(
        "secret-dup",
        S,
        replace("  - RABBITMQ_PASSWORD", "  - RABBITMQ_PASSWORD\n  - RABBITMQ_PASSWORD"),
        "secrets[1]",
        "'RABBITMQ_PASSWORD' is listed twice",
        line=None,
    ),
    c(
        "data-dir-relative",
        S,
        replace("data_dir: /data\n", "data_dir: data\n"),
        "databases.redis.data_dir",
        "is not a valid absolute path",
        "data_dir: data",
    ),
    c(
        "build-dotdot",
        OFF,
        replace("build: docker/redis", "build: ../redis"),
        "databases.redis.build",
        "is not a valid relative path",
        "../redis",
        cmd=("compose_up", "env=offline"),
    ),
    c(
        "db-port-str",
        S,
        replace("port: 6379", "port: redis"),
        "databases.redis.port",
        "expected int, got str",
        "port: redis",
    ),
    c(
        "db-env-var-bad",
        S,
        replace("env_var: REDIS_HOST", "env_var: redis-host"),
        "databases.redis.env_var",
        "is not a valid environment variable name",
        "redis-host",
    ),
    c(
        "secret-undeclared",
        S,
        replace(
            "secret_env: {RABBITMQ_DEFAULT_PASS: RABBITMQ_PASSWORD}",
            "secret_env: {RABBITMQ_DEFAULT_PASS: OTHER}",
        ),
        "databases.rabbitmq.secret_env.RABBITMQ_DEFAULT_PASS",
        "undeclared secret 'OTHER'",
        "OTHER",
    ),
    c(
        "storage-words",
        S,
        replace("cluster: {storage: 1Gi,", "cluster: {storage: lots,"),
        "databases.rabbitmq.cluster.storage",
        "not a valid resource quantity",
        "storage: lots",
    ),
    c(
        "minikube-cpus-zero",
        S,
        replace("  cpus: 4", "  cpus: 0"),
        "minikube.cpus",
        "0 is not between 1 and 256",
        "cpus: 0",
        cmd=("minikube_up",),
    ),
    c(
        "minikube-memory-small",
        S,
        replace("  memory: 8192", "  memory: 512"),
        "minikube.memory",
        "512 is less than 1024",
        "memory: 512",
        cmd=("minikube_up",),
    ),
    c(
        "minikube-strategy-typo",
        S,
        replace("image_strategy: docker-env", "image_strategy: docker_env"),
        "minikube.image_strategy",
        "did you mean 'docker-env'?",
        "docker_env",
        cmd=("minikube_up",),
    ),
    c(
        "minikube-disk",
        S,
        replace("disk: 20g", "disk: big"),
        "minikube.disk",
        "is not a valid disk size",
        "disk: big",
    ),
    c(
        "minikube-addon-space",
        S,
        replace("addons: [ingress,", "addons: [ingress nginx,"),
        "minikube.addons[0]",
        "is not a valid DNS-1123 label",
        "ingress nginx",
    ),
    c(
        "project-upper",
        S,
        replace("project: srvthreds", "project: SrvThreds"),
        "project",
        "'SrvThreds' is not a valid DNS-1123 label",
        "SrvThreds",
    ),
    c(
        "namespace-underscore",
        S,
        replace("namespace: srvthreds", "namespace: srv_threds"),
        "namespace",
        "is not a valid DNS-1123 label",
        "srv_threds",
    ),
    # --- what files may not say together ---------------------------------------------------
    c(
        "runtime-banana",
        L,
        replace("runtime: compose", "runtime: banana"),
        "runtime",
        "'banana' is not one of compose, kubernetes",
        "banana",
        cmd=("compose_up",),
    ),
    c(
        "placement-unknown-db",
        L,
        replace("rabbitmq: compose}", "rabbitmq: compose, postgres: compose}"),
        "placement.postgres",
        "unknown database 'postgres'",
        "postgres",
        cmd=("compose_up",),
    ),
    c(
        "placement-typo",
        L,
        replace("redis: compose,", "redis: compse,"),
        "placement.redis",
        "did you mean 'compose'?",
        "compse",
        cmd=("compose_up",),
    ),
    c(
        "placement-missing",
        L,
        replace(" redis: compose,", ""),
        "placement",
        "database 'redis' has no placement",
        "placement:",
        cmd=("compose_up",),
    ),
    c(
        "mongo-in-cluster",
        M,
        replace("mongodb: compose", "mongodb: cluster"),
        "placement.mongodb",
        "mongodb cannot be placed in the cluster",
        "mongodb: cluster",
        cmd=("minikube_up",),
    ),
    c(
        "cluster-under-compose",
        L,
        replace("rabbitmq: compose}", "rabbitmq: cluster}"),
        "placement.rabbitmq",
        "placed in a cluster, but runtime is compose",
        "rabbitmq: cluster",
        cmd=("compose_up",),
    ),
    c(
        "external-without-endpoint",
        P,
        replace("  redis: redis-prod.example.redis-cloud.com:6379\n", ""),
        "endpoints",
        "redis is external but has no endpoint",
        "endpoints:",
        cmd=("deploy:prod",),
    ),
    c(
        "endpoint-unknown-db",
        P,
        replace("endpoints:\n", "endpoints:\n  postgres: pg:5432\n"),
        "endpoints.postgres",
        "unknown database 'postgres'",
        "postgres",
        cmd=("deploy:prod",),
    ),
    c(
        "endpoint-space",
        P,
        replace("rabbitmq: prod.example.cloudamqp.com:5672", "rabbitmq: prod example:5672"),
        "endpoints.rabbitmq",
        "is not a valid endpoint",
        "prod example",
        cmd=("deploy:prod",),
    ),
    c(
        "disabled-typo",
        OFF,
        replace("disabled_services: [persistence-agent]", "disabled_services: [persistance-agent]"),
        "disabled_services[0]",
        "did you mean 'persistence-agent'?",
        "persistance",
        cmd=("images", "env=offline"),
    ),
    c(
        "disabled-dup",
        OFF,
        replace(
            "disabled_services: [persistence-agent]",
            "disabled_services: [persistence-agent, persistence-agent]",
        ),
        "disabled_services[1]",
        "is listed twice",
        "disabled_services",
        cmd=("images", "env=offline"),
    ),
    c(
        "needs-disabled-db",
        L,
        replace("redis: compose,", "redis: disabled,"),
        "disabled_services",
        "needs redis, which is disabled here",
        line=None,
        cmd=("compose_up",),
    ),
    c(
        "uses-unknown-db",
        S,
        replace("uses: [rabbitmq, redis]", "uses: [rabbitmq, postgres]"),
        "services.engine.uses[1]",
        "'postgres' is neither a database nor a service",
        "postgres",
    ),
    c(
        "deployment-no-health",
        S,
        replace("    health: {port: 8080, path: /healthz}\n", "", 1),
        "services.engine",
        "deployment 'engine' has no health check",
        "  engine:",
    ),
    c(
        "port-dup-number",
        S,
        replace(
            "- {name: http, port: 3000, publish: 3000}",
            "- {name: http, port: 3000, publish: 3000}\n      - {name: admin, port: 3000}",
        ),
        "services.session-agent.ports[1].port",
        "port 3000 is listed twice",
        "name: admin",
    ),
    c(
        "port-dup-name",
        S,
        replace(
            "- {name: http, port: 3000, publish: 3000}",
            "- {name: http, port: 3000, publish: 3000}\n      - {name: http, port: 3001}",
        ),
        "services.session-agent.ports[1].name",
        "port name 'http' is used twice",
        "port: 3001",
    ),
    c(
        "publish-twice-services",
        S,
        replace("      - {name: http, port: 8080}\n", "      - {name: http, port: 8080, publish: 3000}\n", 1),
        "services.session-agent.ports[0].publish",
        "host port 3000 is already published by services.engine",
        "- {name: http, port: 3000, publish: 3000}",
    ),
    c(
        "metrics-port-not-a-port",
        S,
        replace("    metrics: {port: 8080, path: /metrics,", "    metrics: {port: 9100, path: /metrics,", 1),
        "services.engine.metrics.port",
        "metrics port 9100 is not one of engine's ports (http (8080))",
        "metrics: {port: 9100",
    ),
    c(
        "metrics-path-relative",
        S,
        replace("    metrics: {port: 8080, path: /metrics,", "    metrics: {port: 8080, path: metrics,", 1),
        "services.engine.metrics.path",
        "'metrics' is not a valid metrics path",
        "path: metrics,",
    ),
    c(
        "metrics-on-a-job",
        S,
        replace("    kind: job\n", "    kind: job\n    metrics: {port: 9999, path: /metrics}\n", 1),
        "services.bootstrap.metrics",
        "job 'bootstrap' declares metrics",
        "port: 9999",
    ),
    c(
        "metrics-in-an-environment-file",
        P,
        replace(
            "  engine: {autoscale: {min: 3, max: 9, cpu: 70}}", "  engine: {metrics: {port: 8080, path: /m}}"
        ),
        "services.engine.metrics",
        "metrics of 'engine' are set in an environment file",
        "path: /m}",
    ),
    c(
        "monitoring-twice",
        P,
        replace(
            "components: [ingress, monitoring, logging]",
            "components: [ingress, monitoring, monitoring-annotations, logging]",
        ),
        "components[2]",
        "monitoring and monitoring-annotations are two ways to do the same",
        "components:",
    ),
    c(
        "publish-prometheus-port",
        S,
        replace("- {name: http, port: 3000, publish: 3000}", "- {name: http, port: 3000, publish: 9090}", 1),
        "services.session-agent.ports[0].publish",
        "host port 9090 is where the Prometheus container of environment 'offline'",
        "publish: 9090}",
    ),
    c(
        "publish-service-and-db",
        S,
        replace("publish: 3000}", "publish: 6379}"),
        "databases.redis.publish",
        "host port 6379 is already published by services.session-agent.ports[0].publish",
        "    publish: 6379",
    ),
    c(
        "service-named-like-db",
        L,
        append(
            "services:\n  redis: {kind: job, command: [x],"
            " resources: {requests: {cpu: 1m, memory: 1Mi},"
            " limits: {cpu: 1m, memory: 1Mi}}}\n"
        ),
        "services.redis",
        "'redis' names both a service and a database",
        "redis: {kind",
        cmd=("compose_up",),
    ),
    c(
        "new-service-incomplete",
        L,
        append("services:\n  worker: {kind: job}\n"),
        "services.worker",
        "is not a service of environments/stack.yaml, and as a service this file adds it lacks 'command'",
        "worker",
        cmd=("compose_up",),
    ),
    c(
        "new-db-incomplete",
        L,
        append("databases:\n  postgres: {port: 5432}\n"),
        "databases.postgres",
        "missing required key 'env_var'",
        "postgres",
        cmd=("compose_up",),
    ),
    c(
        "node-count-min-max",
        P,
        replace("node_count: {min: 3, max: 6, desired: 3}", "node_count: {min: 7, max: 6, desired: 3}"),
        "cloud.node_count",
        "needs min <= desired <= max",
        "min: 7",
        cmd=("deploy:prod",),
    ),
    c(
        "node-count-desired",
        D,
        replace("node_count: {min: 1, max: 3, desired: 2}", "node_count: {min: 1, max: 3, desired: 9}"),
        "cloud.node_count",
        "desired 9",
        "desired: 9",
        cmd=("deploy:dev",),
    ),
    c(
        "vpc-not-cidr",
        P,
        replace("vpc_cidr: 10.30.0.0/16", "vpc_cidr: not-a-cidr"),
        "cloud.vpc_cidr",
        "'not-a-cidr' is not a valid IPv4 CIDR block",
        "not-a-cidr",
        cmd=("deploy:prod",),
    ),
    c(
        "vpc-host-bits",
        P,
        replace("vpc_cidr: 10.30.0.0/16", "vpc_cidr: 10.30.0.1/16"),
        "cloud.vpc_cidr",
        "has host bits set",
        "10.30.0.1/16",
        cmd=("tf_plan:prod",),
    ),
    c(
        "redis-overlaps-vpc",
        P,
        replace("deployment_cidr: 192.168.30.0/24", "deployment_cidr: 10.30.5.0/24"),
        "cloud.databases.redis.deployment_cidr",
        "overlaps the VPC 10.30.0.0/16",
        "10.30.5.0",
        cmd=("tf_plan:prod",),
    ),
    # --- cloud databases: which Terraform module creates each one (tasks/config/cloud_db.py) ---------
    c(
        "cloud-db-old-key",
        P,
        replace("  databases:\n", "  mongodb_instance_size: M30\n  databases:\n"),
        "cloud.mongodb_instance_size",
        "'mongodb_instance_size' is no longer a key here",
        "mongodb_instance_size",
        cmd=("tf_plan:prod",),
        extra=("it moved: write cloud.databases.<db>: {module: mongodb-atlas",),
    ),
    c(
        "cloud-db-module-typo",
        P,
        replace("module: mongodb-atlas", "module: mongo-atlas"),
        "cloud.databases.mongodb.module",
        "did you mean 'mongodb-atlas'?",
        "mongo-atlas",
        cmd=("tf_plan:prod",),
    ),
    c(
        "cloud-db-foreign-setting",
        P,
        replace("module: redis-cloud,", "module: redis-cloud, instance_size: M10,"),
        "cloud.databases.redis.instance_size",
        "instance_size is a setting of mongodb-atlas, not of redis-cloud",
        "instance_size: M10",
        cmd=("tf_plan:prod",),
        extra=("remove it (redis-cloud takes deployment_cidr",),
    ),
    c(
        "cloud-db-setting-missing",
        P,
        replace("{module: mongodb-atlas, instance_size: M30}", "{module: mongodb-atlas}"),
        "cloud.databases.mongodb",
        "module mongodb-atlas needs 'instance_size'",
        "module: mongodb-atlas",
        cmd=("tf_plan:prod",),
        extra=("add `instance_size: M10` under cloud.databases.mongodb",),
    ),
    c(
        "cloud-db-unknown-db",
        P,
        replace("    mongodb: {module", "    mongo: {module"),
        "cloud.databases.mongo",
        "unknown database 'mongo'",
        "mongo: {module",
        cmd=("tf_plan:prod",),
        extra=("did you mean 'mongodb'?",),
    ),
    c(
        "cloud-db-twice",
        D,
        replace(
            "  databases:\n",
            "  databases:\n    rabbitmq: {module: redis-cloud, deployment_cidr: 192.168.11.0/24}\n",
        ),
        "cloud.databases.redis.module",
        "module redis-cloud is already chosen for rabbitmq",
        "redis: {module",
        cmd=("tf_plan:dev",),
        extra=("write `module: external` for one of them",),
    ),
    c(
        "cloud-db-not-24",
        P,
        replace("deployment_cidr: 192.168.30.0/24", "deployment_cidr: 192.168.30.0/25"),
        "cloud.databases.redis.deployment_cidr",
        "'192.168.30.0/25' is not a /24 block",
        "192.168.30.0/25",
        cmd=("tf_plan:prod",),
    ),
    c(
        "cloud-db-rds-username",
        D,
        replace(
            "  databases:\n",
            "  databases:\n    rabbitmq: {module: rds-postgres, "
            "instance_class: db.t4g.micro, username: app-user}\n",
        ),
        "cloud.databases.rabbitmq.username",
        "rds-postgres needs a username of 1 to 63 letters, digits or '_'",
        "app-user",
        cmd=("tf_plan:dev",),
        extra=("change `username:` under cloud.databases.rabbitmq",),
    ),
    c(
        "cloud-db-rds-class",
        D,
        replace(
            "  databases:\n",
            "  databases:\n    rabbitmq: {module: rds-postgres, instance_class: t4g.micro}\n",
        ),
        "cloud.databases.rabbitmq.instance_class",
        "'t4g.micro' is not a valid RDS instance class",
        "t4g.micro",
        cmd=("tf_plan:dev",),
    ),
    c(
        "cloud-db-not-external",
        P,
        edits(
            ("rabbitmq: external}", "rabbitmq: cluster}"),
            ("  rabbitmq: prod.example.cloudamqp.com:5672\n", ""),
            ("  databases:\n", "  databases:\n    rabbitmq: {module: external}\n"),
        ),
        "cloud.databases.rabbitmq.module",
        "rabbitmq is placed cluster here, but `module: external` is an endpoint",
        "rabbitmq: {module",
        cmd=("tf_plan:prod",),
        extra=("place rabbitmq external",),
    ),
    c(
        "region-bad",
        P,
        replace("region: us-west-2", "region: Oregon"),
        "cloud.region",
        "'Oregon' is not a valid AWS region",
        "Oregon",
        cmd=("deploy:prod",),
    ),
    c(
        "cluster-name-upper",
        P,
        replace("cluster_name: srvthreds-prod", "cluster_name: SrvThreds-Prod"),
        "cloud.cluster_name",
        "is not a valid DNS-1123 label",
        "SrvThreds-Prod",
        cmd=("deploy:prod",),
    ),
    c(
        "instance-type-bad",
        P,
        replace("node_instance_types: [m5.large]", "node_instance_types: [large]"),
        "cloud.node_instance_types[0]",
        "is not a valid EC2 instance type",
        "[large]",
        cmd=("deploy:prod",),
    ),
    c(
        "bucket-bad",
        P,
        replace("bucket: srvthreds-tfstate-prod", "bucket: Srv_State"),
        "cloud.state.bucket",
        "is not a valid S3 bucket name",
        "Srv_State",
        cmd=("tf_plan:prod",),
    ),
    c(
        "cloud-state-missing",
        D,
        replace("  state: {bucket: srvthreds-tfstate-dev, lock_table: srvthreds-tflock-dev}\n", ""),
        "cloud",
        "missing required key 'state'",
        "cloud:",
        cmd=("deploy:dev",),
    ),
    c(
        "timeout-zero",
        L,
        append("timeouts: {rollout: 0}\n"),
        "timeouts.rollout",
        "0 is not between 1 and 86400",
        "rollout: 0",
        cmd=("compose_up",),
    ),
    c(
        "hooks-not-list",
        L,
        append("hooks: {pre_build: make}\n"),
        "hooks.pre_build",
        "expected a list, got str",
        "pre_build",
        cmd=("compose_up",),
    ),
    c(
        "component-unknown",
        M,
        replace("components: [ingress]", "components: [grafana]"),
        "components[0]",
        "'grafana' is not one of ingress",
        "grafana",
        cmd=("minikube_up",),
    ),
    c(
        "host-address-space",
        M,
        replace("host_address: host.minikube.internal", "host_address: my host"),
        "host_address",
        "is not a valid host name",
        "my host",
        cmd=("minikube_up",),
    ),
    c(
        "protected-str",
        P,
        replace("protected: true", "protected: yes please"),
        "protected",
        "expected bool, got str",
        "yes please",
        cmd=("deploy:prod",),
    ),
    c(
        "config-key-bad",
        L,
        append("config: {bad-key: 1}\n"),
        "config.bad-key",
        "is not a valid environment variable name",
        "bad-key",
        cmd=("compose_up",),
    ),
    c(
        "config-value-newline",
        L,
        append('config: {A: "x\\ny: 1"}\n'),
        "config.A",
        "line break",
        "config:",
        cmd=("compose_up",),
    ),
    c(
        "endpoint-unused",
        L,
        append("endpoints: {redis: r.example.com:6379}\n"),
        "endpoints.redis",
        "redis is placed compose here, so its endpoint is unused",
        "endpoints:",
        cmd=("compose_up",),
    ),
    c(
        "hook-empty",
        L,
        append("hooks: {pre_build: ['']}\n"),
        "hooks.pre_build[0]",
        "is not a valid shell command",
        "pre_build",
        cmd=("compose_up",),
    ),
    c(
        "addons-dup",
        S,
        replace("addons: [ingress,", "addons: [ingress, ingress,"),
        "minikube.addons[1]",
        "'ingress' is listed twice",
        "addons:",
        cmd=("minikube_up",),
    ),
    c(
        "components-dup",
        M,
        replace("components: [ingress]", "components: [ingress, ingress]"),
        "components[1]",
        "'ingress' is listed twice",
        "components:",
        cmd=("minikube_up",),
    ),
    c(
        "data-dir-root",
        S,
        replace("data_dir: /data\n", "data_dir: /  # the root\n"),
        "databases.redis.data_dir",
        "is not a valid absolute path below /",
        "# the root",
    ),
    c(
        "context-missing",
        S,
        replace("context: demo", "context: nodemo"),
        "images.builder.context",
        "nodemo is not a folder in the project",
        "nodemo",
    ),
    c(
        "dockerfile-missing",
        S,
        replace("dockerfile: demo/docker/Dockerfile.builder", "dockerfile: docker/Dockerfile.nope"),
        "images.builder.dockerfile",
        "docker/Dockerfile.nope is not a file in the project",
        "Dockerfile.nope",
    ),
    c(
        "db-build-missing",
        OFF,
        replace("build: docker/redis", "build: docker/nope"),
        "databases.redis.build",
        "docker/nope is not a folder in the project",
        "docker/nope",
        cmd=("images", "env=offline"),
    ),
    c(
        "uses-and-optional",
        S,
        replace("optional_uses: [mongodb]", "optional_uses: [mongodb, redis]"),
        "services.bootstrap.optional_uses[1]",
        "'redis' is in both uses and optional_uses",
        "optional_uses",
    ),
    c(
        "driver-typo",
        S,
        replace("driver: docker", "driver: dokcer"),
        "minikube.driver",
        "did you mean 'docker'?",
        "dokcer",
        cmd=("minikube_up",),
    ),
    # --- build specs, health kinds, replicas (issue 12) ----------------------------------------
    c(
        "health-key-of-other-kind",
        S,
        replace("health: {port: 8080, path: /healthz}", "health: {kind: tcp, port: 8080, path: /healthz}"),
        "services.engine.health.path",
        "'path' is not used by a health check of kind tcp",
        "kind: tcp",
    ),
    c(
        "health-exec-no-command",
        S,
        replace("health: {port: 8080, path: /healthz}", "health: {kind: exec}"),
        "services.engine.health",
        "a health check of kind exec needs 'command'",
        "kind: exec",
    ),
    c(
        "health-exec-empty",
        S,
        replace("health: {port: 8080, path: /healthz}", "health: {kind: exec, command: []}"),
        "services.engine.health.command",
        "the health command is empty",
        "kind: exec",
    ),
    c(
        "health-kind-typo",
        S,
        replace("health: {port: 8080, path: /healthz}", "health: {kind: htp, port: 8080}"),
        "services.engine.health.kind",
        "did you mean 'http'?",
        "kind: htp",
    ),
    c(
        "job-with-health",
        S,
        replace("    kind: job\n", "    kind: job\n    health: {kind: tcp, port: 9000}\n"),
        "services.bootstrap.health",
        "job 'bootstrap' has a health check",
        "port: 9000",
    ),
    c(
        "builder-left-out",
        S,
        replace("  builder:\n    dockerfile: demo/docker/Dockerfile.builder\n    context: demo\n", ""),
        "images.service_build.builder",
        "'engine' copies from the builder, but there is no builder",
        "builder: true",
    ),
    c(
        "build-arg-of-the-tool",
        S,
        replace("    builder: true\n", "    builder: true\n    args: {UID: 0}\n"),
        "images.service_build.args.UID",
        "build arg UID is passed by the tool itself",
        "UID: 0",
    ),
    c(
        "no-build-spec",
        S,
        replace(
            "  service_build:\n    dockerfile: demo/docker/Dockerfile.service\n    context: demo\n"
            "    builder: true\n",
            "",
        ),
        "services.engine",
        "service 'engine' has no build spec",
        "  engine:",
    ),
    c(
        "service-dockerfile-gone",
        S,
        replace("  service_build:\n", "  service_dockerfile: x/Dockerfile\n  service_build:\n"),
        "images.service_dockerfile",
        "unknown key 'service_dockerfile'",
        "service_dockerfile",
    ),
    c(
        "service-context-missing",
        S,
        replace("Dockerfile.service\n    context: demo\n", "Dockerfile.service\n    context: nodemo\n"),
        "images.service_build.context",
        "nodemo is not a folder in the project",
        "nodemo",
    ),
    c(
        "own-build-no-dockerfile",
        S,
        replace("    kind: job\n", "    kind: job\n    build: {context: templates}\n"),
        "services.bootstrap.build.context",
        "templates/Dockerfile is not a file in the project",
        "context: templates",
    ),
    c(
        "service-named-builder",
        S,
        replace("  bootstrap:\n", "  builder:  # renamed\n"),
        "services.builder",
        "'builder' is the name of the tool's own builder image",
        "# renamed",
    ),
    c(
        "replica-set-removed",
        S,
        replace("    env_var: MONGO_HOST\n", "    env_var: MONGO_HOST\n    replica_set: rs0\n"),
        "databases.mongodb.replica_set",
        "unknown key 'replica_set'",
        "replica_set",
    ),
    c(
        "replicas-on-published-port",
        L,
        append("services: {session-agent: {replicas: 2}}\n"),
        "services.session-agent.replicas",
        "session-agent publishes host port 3000, so Compose can run only one container of it, not 2",
        "replicas: 2",
        cmd=("compose_up",),
    ),
    c(
        "cluster-db-without-data-dir",
        S,
        replace("    data_dir: /var/lib/rabbitmq\n", ""),
        "databases.rabbitmq",
        "rabbitmq may run in a cluster but has no data_dir",
        "  rabbitmq:",
    ),
    # --- every command reports it the same way ---------------------------------------------
    c(
        "list-broken-prod",
        P,
        replace("engine: {autoscale: {min: 3, max: 9, cpu: 70}}", "engine: {replicas: 3.5}"),
        "services.engine.replicas",
        "expected int, got float",
        "3.5",
        cmd=("list",),
    ),
    c(
        "default-broken-stack",
        S,
        replace("replicas: 1\n", "replicas: many\n"),
        "services.engine.replicas",
        "expected int, got str",
        "many",
        cmd=(),
    ),
    c(
        "images-broken-local",
        L,
        replace("runtime: compose", "runtime: 7"),
        "runtime",
        "expected str, got int",
        "runtime: 7",
        cmd=("images",),
    ),
    c(
        "builder-broken-local",
        L,
        replace("runtime: compose", "runtime: 7"),
        "runtime",
        "expected str, got int",
        "runtime: 7",
        cmd=("builder_image",),
    ),
    c(
        "info-broken-local",
        L,
        replace("runtime: compose", "runtime: 7"),
        "runtime",
        "expected str, got int",
        "runtime: 7",
        cmd=("info", "compose_up"),
    ),
    c(
        "env-var-broken-test",
        "environments/test.yaml",
        append("zzz: 1\n"),
        "zzz",
        "unknown key 'zzz'",
        "zzz",
        cmd=("compose_up", "env=test"),
    ),
    # --- templates ------------------------------------------------------------------------
    c(
        "template-syntax",
        "templates/k8s/base/namespace.yaml.j2",
        append("{% if %}\n"),
        None,
        "templates/k8s/base/namespace.yaml.j2, line",
        code=1,
        extra=("Fix: fix the template syntax",),
    ),
    c(
        "template-undefined",
        "templates/compose/env.example.j2",
        append("{{ nosuch }}\n"),
        None,
        "templates/compose/env.example.j2, line",
        code=1,
        extra=("'nosuch' is undefined",),
    ),
    c(
        "template-missing",
        "templates/k8s/base/job.yaml.j2",
        special("delete"),
        None,
        "templates/k8s/base/job.yaml.j2: template not found",
        code=1,
    ),
    c(
        "template-bad-yaml",
        "templates/k8s/base/namespace.yaml.j2",
        append("bad: [unclosed\n"),
        None,
        "rendering produced invalid YAML in k8s/base/namespace.yaml",
        code=1,
    ),
    c(
        "template-bad-include",
        "templates/k8s/base/deployment.yaml.j2",
        replace('{% import "k8s/base/_pod.j2"', '{% import "k8s/base/_nope.j2"'),
        None,
        "templates/k8s/base/_nope.j2: template not found",
        code=1,
    ),
    c(
        "template-python-escape",
        "templates/k8s/base/namespace.yaml.j2",
        append("{{ cfg.__class__.__mro__ }}\n"),
        None,
        "templates/k8s/base/namespace.yaml.j2, line",
        code=1,
    ),
]


# The not-UTF-8 case needs raw bytes; replace its placeholder edit.
def _latin1(root: Path) -> None:
    (root / S).write_bytes((root / S).read_bytes() + b"# caf\xe9\n")


CASES = [
    Case("not-utf8", S, _latin1, "(top level)", "is not UTF-8 text (byte 0xe9)", line=None)
    if case.id == "not-utf8"
    else case
    for case in CASES
]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One pristine copy, rendered once; each case edits it and restores it."""
    root = copy_project(tmp_path_factory.mktemp("corpus") / "project")
    assert run_doit(root, "render").code == 0
    yield root


def _timeout(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError("the command hung")


# Beside the project copy: where a case puts what its link out of the project leads to.
OUTSIDE = "outside"


def _outside(root: Path) -> dict[str, bytes]:
    return snapshot(root.parent, OUTSIDE) if (root.parent / OUTSIDE).is_dir() else {}


def pristine(root: Path, rel: str) -> None:
    """Put `rel` back as the pristine project has it (whatever a case left there: a link, a FIFO,
    a folder), or remove it when the project has none."""
    path = root / rel
    if path.is_symlink() or path.is_fifo() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    source = REPO / rel
    if source.is_dir():
        shutil.copytree(source, path, ignore=shutil.ignore_patterns(".env", "__pycache__", ".terraform"))
    elif source.is_file():
        shutil.copy2(source, path)


def bounded(root: Path, *cmd: str) -> DoitRun:
    """One doit run, which may not hang (a FIFO where a file is read would block forever)."""
    old = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(20)
    try:
        return run_doit(root, *cmd)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _temps(root: Path) -> list[str]:
    return [
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.name.endswith(".tmp") and ".build/checkov/" not in p.as_posix()
    ]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_gets_one_clean_error_and_changes_nothing(base: Path, case: Case) -> None:
    target = base / case.file
    saved = target.read_bytes() if target.is_file() else None
    try:
        case.edit(base)
        # After the edit: a case may write its input inside a generated tree (compose/<env>/.env).
        before, out_before = snapshot(base, *GENERATED), _outside(base)
        edited = target.read_text(errors="replace") if target.is_file() and not target.is_fifo() else ""
        result = bounded(base, *case.cmd)
        out = result.out
        assert result.code == case.code, out
        assert "Traceback" not in out, out
        assert "S3cretPw" not in out, out  # a secret in the input never reaches the message
        assert case.text in out, out
        for text in case.extra:
            assert text in out, out
        if case.at is not None:
            assert f"==> File {case.file}" in out, out
            assert f"==> At {case.at}\n" in out, out
            assert out.count("==> File") == 1, f"reported more than once:\n{out}"
            line = case.line
            if case.needle is not None:
                line = next(i for i, text in enumerate(edited.splitlines(), 1) if case.needle in text)
            if line == 1000:  # "the last line": where a truncated document ends
                line = len(edited.splitlines()) + 1
            if line is not None:
                assert re.search(rf"==> File {re.escape(case.file)}, line {line}\n", out), out
            assert "\nFix: " in out, f"no fix:\n{out}"
        assert snapshot(base, *GENERATED) == before
        assert _outside(base) == out_before
        assert _temps(base) == []
    finally:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_fifo() or target.is_symlink():
            target.unlink()
        if saved is not None:
            target.write_bytes(saved)
        for rel in case.restore:
            pristine(base, rel)
        shutil.rmtree(base.parent / OUTSIDE, ignore_errors=True)


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 100
    assert len({case.id for case in CASES}) == len(CASES)


def test_tasks_that_do_not_read_a_broken_file_keep_working(project: Path) -> None:
    prod = project / P
    prod.write_text(prod.read_text() + "zzz: 1\n")
    fmt = run_doit(project, "tf_fmt")
    assert fmt.code == 0, fmt.out
    help_ = run_doit(project, "compose_down", command="help")
    assert help_.code == 0 and "--wipe" in help_.out, help_.out
    listed = run_doit(project, command="list")
    assert listed.code == 78 and "environments/prod.yaml" in listed.out


# ======================================================================================
# Secrets, and the command line around them (issue 22, "Secrets" and "Command line and
# reports"). The same verdicts as above; a case's .env (or link) is its input, written
# inside compose/ before the trees are compared.
# ======================================================================================

DOTENV = "compose/local/.env"


def dotenv(data: str | bytes, mode: int = 0o600) -> Callable[[str], Edit]:
    """compose/<env>/.env holding `data` (private unless `mode` says otherwise)."""

    def for_file(rel: str) -> Edit:
        def edit(root: Path) -> None:
            path = root / rel
            path.write_bytes(data.encode() if isinstance(data, str) else data)
            path.chmod(mode)

        return edit

    return for_file


def dotenv_link(target: str | None) -> Callable[[str], Edit]:
    """compose/<env>/.env as a link to a private file outside the project (None: to nothing)."""

    def for_file(rel: str) -> Edit:
        def edit(root: Path) -> None:
            outside = root.parent / "outside-secrets.env"
            if target is not None:
                outside.write_text(target)
                outside.chmod(0o600)
            (root / rel).symlink_to(outside if target is not None else root.parent / "nowhere.env")

        return edit

    return for_file


def dotenv_special(kind: str) -> Callable[[str], Edit]:
    def for_file(rel: str) -> Edit:
        def edit(root: Path) -> None:
            if kind == "fifo":
                os.mkfifo(root / rel)
            else:
                (root / rel).mkdir()

        return edit

    return for_file


def nothing(rel: str) -> Edit:
    """No file changes: the command line is the mistake."""

    def edit(root: Path) -> None:
        return None

    return edit


def cli(id: str, *cmd: str, text: str, extra: tuple[str, ...] = ()) -> Case:
    return Case(id, S, nothing(S), None, text, cmd=cmd, code=64, extra=extra)


SECRET_CASES = [
    # --- a secret named like a variable the tool sets itself -------------------------------
    c(
        "secret-is-an-image-variable",
        S,
        replace("  - RABBITMQ_PASSWORD", "  - RABBITMQ_PASSWORD\n  - ENGINE_IMAGE"),
        "secrets[1]",
        "ENGINE_IMAGE is the variable through which the tool passes the image of service 'engine' "
        "(services.engine): the tool's value would replace the secret",
        "ENGINE_IMAGE",
        cmd=("compose_up",),
    ),
    c(
        "secret-is-a-database-address",
        S,
        replace("  - RABBITMQ_PASSWORD", "  - REDIS_HOST\n  - RABBITMQ_PASSWORD"),
        "databases.redis.env_var",
        "REDIS_HOST is also a secret (secrets:): the address and the secret would both set it",
        "env_var: REDIS_HOST",
        extra=("give redis another env_var, or rename the secret",),
    ),
    c(
        "secret-is-a-built-databases-image",
        S,
        # A secret a service reads (in the stack alone it is no variable of the tool's).
        edits(
            ("  - RABBITMQ_PASSWORD", "  - RABBITMQ_PASSWORD\n  - REDIS_IMAGE"),
            ("    env: {LOG_LEVEL: info}\n", "    env: {LOG_LEVEL: info}\n    secrets: [REDIS_IMAGE]\n"),
        ),
        "secrets[1]",
        "passes the image of database 'redis' (databases.redis.build)",
        "  - REDIS_IMAGE",
        cmd=("compose_up", "env=offline"),
    ),
    c(
        "secret-is-a-compose-setting",
        S,
        replace("  - RABBITMQ_PASSWORD", "  - RABBITMQ_PASSWORD\n  - COMPOSE_PROJECT_NAME"),
        "secrets[1]",
        "COMPOSE_PROJECT_NAME is a variable Docker Compose reads as its own setting",
        "COMPOSE_PROJECT_NAME",
    ),
    c(
        "secret-is-a-docker-setting",
        S,
        replace("  - RABBITMQ_PASSWORD", "  - DOCKER_HOST\n  - RABBITMQ_PASSWORD"),
        "secrets[0]",
        "DOCKER_HOST is a variable Docker Compose reads as its own setting",
        "DOCKER_HOST",
        cmd=("list",),
    ),
    # --- a password written where plain values go ------------------------------------------
    c(
        "endpoint-with-a-password",
        P,
        replace(
            "mongodb: srvthreds-prod.example.mongodb.net:27017",
            "mongodb: mongodb+srv://app:S3cretPw@srvthreds-prod.example.mongodb.net",
        ),
        "endpoints.mongodb",
        "this value holds a password (user info `app:...@`): it would be written in plain text",
        "S3cretPw",
        cmd=("deploy:prod", "confirm=prod"),
        extra=("`databases.<db>.secret_env`",),
    ),
    c(
        "endpoint-with-a-password-no-scheme",
        P,
        replace(
            "rabbitmq: prod.example.cloudamqp.com:5672",
            "rabbitmq: app:S3cretPw@prod.example.cloudamqp.com:5672",
        ),
        "endpoints.rabbitmq",
        "this value holds a password (user info `app:...@`)",
        "S3cretPw",
    ),
    c(
        "config-url-with-a-password",
        P,
        replace(
            "config: {NODE_ENV: production}",
            "config: {NODE_ENV: production, AMQP_URL: 'amqp://u:S3cretPw@mq'}",
        ),
        "config.AMQP_URL",
        "this value holds a password (user info `u:...@`)",
        "S3cretPw",
        cmd=("tf_plan:prod",),
    ),
    c(
        "service-env-url-with-a-password",
        S,
        replace("env: {LOG_LEVEL: info}", "env: {LOG_LEVEL: info, DB_URL: 'postgres://u:S3cretPw@db/x'}"),
        "services.engine.env.DB_URL",
        "this value holds a password",
        "S3cretPw",
    ),
    c(
        "database-env-url-with-a-password",
        S,
        replace(
            "env: {RABBITMQ_DEFAULT_USER: srvthreds}", "env: {RABBITMQ_URL: 'amqp://u:S3cretPw@localhost'}"
        ),
        "databases.rabbitmq.env.RABBITMQ_URL",
        "this value holds a password",
        "S3cretPw",
    ),
    # --- compose/<env>/.env that Compose cannot read, or that is not a private regular file --
    c(
        "dotenv-unclosed-quote",
        DOTENV,
        dotenv('OTHER=1\nRABBITMQ_PASSWORD="S3cretPw\n'),
        None,
        f'{DOTENV}, line 2: a quoted value is not closed (the closing " is missing)',
        cmd=("compose_config",),
        code=1,
    ),
    c(
        "dotenv-space-in-a-name",
        DOTENV,
        dotenv("\nRABBITMQ PASSWORD=S3cretPw\n"),
        None,
        f"{DOTENV}, line 2: a space follows the variable name 'RABBITMQ': "
        "write NAME=value, with no space in NAME",
        cmd=("compose_config",),
        code=1,
    ),
    c(
        "dotenv-bad-character-in-a-name",
        DOTENV,
        dotenv("RABBITMQ_PASSWORD!=S3cretPw\n"),
        None,
        f"{DOTENV}, line 1: unexpected character '!' in the variable name 'RABBITMQ_PASSWORD!'",
        cmd=("compose_config",),
        code=1,
    ),
    c(
        "dotenv-required-variable-unset",
        DOTENV,
        dotenv("RABBITMQ_PASSWORD=${NOT_SET_ANYWHERE:?set it}\n"),
        None,
        f"{DOTENV}, line 1: ${{NOT_SET_ANYWHERE:?...}} requires NOT_SET_ANYWHERE, which is not set",
        cmd=("compose_config",),
        code=1,
    ),
    c(
        "dotenv-dollar-brace-without-a-name",
        DOTENV,
        dotenv("RABBITMQ_PASSWORD=S3cret${\n"),
        None,
        f"{DOTENV}, line 1: `${{` starts no `${{NAME}}`",
        cmd=("compose_config",),
        code=1,
    ),
    c(
        "dotenv-not-utf8",
        DOTENV,
        dotenv(b"RABBITMQ_PASSWORD=caf\xe9\n"),
        None,
        f"{DOTENV} is not UTF-8 text (byte 0xe9)",
        cmd=("compose_config",),
        code=1,
    ),
    c(
        "dotenv-empty-secret",
        DOTENV,
        dotenv("RABBITMQ_PASSWORD=\n"),
        None,
        f"{DOTENV}: RABBITMQ_PASSWORD is set but empty",
        cmd=("compose_config",),
        code=1,
        extra=("delete the line from compose/local/.env to get a random one",),
    ),
    c(
        "dotenv-placeholder-outside-local",
        "compose/offline/.env",
        dotenv("RABBITMQ_PASSWORD=change-me  # from the example\n"),
        None,
        "RABBITMQ_PASSWORD still hold the placeholder 'change-me' (environment offline)",
        cmd=("compose_config", "env=offline"),
        code=1,
    ),
    c(
        "dotenv-readable-by-others",
        DOTENV,
        dotenv("RABBITMQ_PASSWORD=S3cretPw\n", mode=0o644),
        None,
        f"{DOTENV} holds secrets but is readable by others (mode 644)",
        cmd=("compose_config",),
        code=1,
        extra=(f"chmod 600 {DOTENV}",),
    ),
    c(
        "dotenv-linked-outside-the-project",
        DOTENV,
        dotenv_link("OTHER=S3cretPw\n"),
        None,
        f"{DOTENV} is a symbolic link (to ",
        cmd=("compose_config",),
        code=1,
        extra=(f"`(umask 077 && cp {DOTENV} {DOTENV}.new) && mv {DOTENV}.new {DOTENV}`",),
    ),
    c(
        "dotenv-dangling-link",
        DOTENV,
        dotenv_link(None),
        None,
        f"{DOTENV} is a symbolic link (to ",
        cmd=("compose_config",),
        code=1,
    ),
    c(
        "dotenv-fifo",
        DOTENV,
        dotenv_special("fifo"),
        None,
        f"{DOTENV} is not a regular file",
        cmd=("compose_config",),
        code=1,
    ),
    c(
        "dotenv-directory",
        DOTENV,
        dotenv_special("dir"),
        None,
        f"{DOTENV} is not a regular file",
        cmd=("compose_config",),
        code=1,
    ),
    # --- the command line ---------------------------------------------------------------------
    cli(
        "env-written-as-an-option",
        "compose_up",
        "--env=local",
        text="--env=local: env is not an option of doit or of a task but a run variable",
        extra=("write `env=local` without dashes: `doit ", " compose_up env=local`"),
    ),
    cli(
        "env-written-as-an-option-with-a-space",
        "compose_up",
        "--env",
        "offline",
        text="--env: env is not an option",
        extra=("write `env=offline` without dashes", " compose_up env=offline`"),
    ),
    cli(
        "confirm-written-as-an-option",
        "deploy:prod",
        "--confirm=prod",
        text="write `confirm=prod` without dashes",
        extra=(" deploy:prod confirm=prod`",),
    ),
    cli(
        "confirm-on-a-local-command", "compose_up", "confirm=prod", text="confirm=prod confirms nothing here"
    ),
    cli(
        "confirm-on-an-unprotected-environment",
        "deploy:dev",
        "confirm=dev",
        text="confirm=dev confirms nothing here: dev is not a protected environment",
    ),
    cli(
        "confirm-names-another-environment",
        "deploy:prod",
        "confirm=staging",
        text="confirm=staging does not name the protected environment this run changes (prod)",
    ),
    cli("confirm-on-a-read-only-task", "tf_plan:prod", "confirm=prod", text="no task named changes prod"),
    cli(
        "env-given-twice",
        "compose_up",
        "env=local",
        "env=offline",
        text="env= is given twice (env=local, env=offline)",
    ),
    cli("wipe-given-twice", "compose_down", "wipe=1", "wipe=0", text="wipe= is given twice (wipe=1, wipe=0)"),
]


@pytest.mark.parametrize("case", SECRET_CASES, ids=[case.id for case in SECRET_CASES])
def test_bad_secret_or_command_line_gets_one_clean_error_and_changes_nothing(base: Path, case: Case) -> None:
    test_bad_input_gets_one_clean_error_and_changes_nothing(base, case)


# ======================================================================================
# Cloud values, names, collisions, Docker's limits, build inputs, cluster blocks and what
# render writes (issue 22, "Cloud values that only fail at `tf_plan` or in AWS", "Names,
# collisions and files", "Values that Docker refuses later"). The same verdicts; a case that
# also changes another path (a link, a FIFO, a second file) lists it in `restore`, and what a
# link out of the project leads to sits in OUTSIDE, compared before and after the run.
# ======================================================================================

STAGING = "environments/staging.yaml"
LONG_ENV = "a" * 237
BUILDER_DOCKERFILE = "demo/docker/Dockerfile.builder"


def copy_of(source: str, *pairs: tuple[str, str]) -> Callable[[str], Edit]:
    """A new file: the project's `source` with these replacements (each of the first occurrence)."""

    def for_file(rel: str) -> Edit:
        def edit(root: Path) -> None:
            text = (root / source).read_text()
            for old, new in pairs:
                assert old in text, f"{old!r} not in {source}"
                text = text.replace(old, new, 1)
            (root / rel).write_text(text)

        return edit

    return for_file


def also(own: Callable[[str], Edit], *others: Edit) -> Callable[[str], Edit]:
    """The case file's edit, then edits of other paths (the case lists them in `restore`)."""

    def for_file(rel: str) -> Edit:
        first = own(rel)

        def edit(root: Path) -> None:
            first(root)
            for other in others:
                other(root)

        return edit

    return for_file


def moved_out(rel: str) -> Edit:
    """`rel` moved out of the project, a symlink to it left in its place."""

    def edit(root: Path) -> None:
        away = root.parent / OUTSIDE / Path(rel).name
        away.parent.mkdir(exist_ok=True)
        (root / rel).rename(away)
        (root / rel).symlink_to(away, target_is_directory=away.is_dir())

    return edit


def linked_out(link: str, source: str) -> Edit:
    """A new symlink `link` to a copy, out of the project, of the project's `source`."""

    def edit(root: Path) -> None:
        away = root.parent / OUTSIDE / Path(source).name
        away.parent.mkdir(exist_ok=True)
        if (root / source).is_dir():
            shutil.copytree(root / source, away)
        else:
            shutil.copy2(root / source, away)
        (root / link).symlink_to(away, target_is_directory=away.is_dir())

    return edit


def fifo(rel: str) -> Edit:
    return special("fifo")(rel)


def rds(line: str) -> Callable[[str], Edit]:
    """dev's rabbitmq made by the rds-postgres module, with these settings."""
    return replace("  databases:\n", f"  databases:\n    rabbitmq: {{module: rds-postgres, {line}}}\n")


SHARED_TOO = replace("  endpoint_private: true\n", "  endpoint_private: true\n  create_shared: true\n")
# dev, as another environment (its own cluster; dev alone creates what the account shares).
AS_ANOTHER = (("cluster_name: srvthreds-dev", "cluster_name: srvthreds-other"), ("create_shared: true", ""))
NO_CLOUD_DATABASES = (
    (
        "  databases:\n    mongodb: {module: mongodb-atlas, instance_size: M10}\n"
        "    # Private /24 that Redis Cloud deploys into; must not overlap vpc_cidr.\n"
        "    redis: {module: redis-cloud, deployment_cidr: 192.168.10.0/24}\n",
        "",
    ),
)

CLOUD_VALUE_CASES = [
    c(
        "vpc-a-slash-8",
        P,
        replace("vpc_cidr: 10.30.0.0/16", "vpc_cidr: 10.0.0.0/8"),
        "cloud.vpc_cidr",
        "a /8 VPC is not what the networking module takes (/16 to /24)",
        "10.0.0.0/8",
        cmd=("tf_plan:prod",),
        extra=("use a /16 to /24 block, e.g. 10.0.0.0/16",),
    ),
    c(
        "vpc-a-slash-28",
        STAGING,
        replace("vpc_cidr: 10.20.0.0/16", "vpc_cidr: 10.20.0.0/28"),
        "cloud.vpc_cidr",
        "a /28 VPC is not what the networking module takes",
        "10.20.0.0/28",
        cmd=("validate",),
    ),
    c(
        "node-counts-all-zero",
        P,
        replace("node_count: {min: 3, max: 6, desired: 3}", "node_count: {min: 0, max: 0, desired: 0}"),
        "cloud.node_count.max",
        "node_count.max is 0: the cluster could never run a pod (EKS needs a max_size of 1 or more)",
        "max: 0",
        extra=("set max to 1 or more (min may stay 0)",),
    ),
    c(
        "no-instance-types",
        D,
        replace("node_instance_types: [t3.medium]", "node_instance_types: []"),
        "cloud.node_instance_types",
        "no instance types: EKS cannot make a node group without one",
        "node_instance_types: []",
        cmd=("list",),
    ),
    c(
        "cluster-admin-is-an-sts-session",
        P,
        replace(
            "admins: [arn:aws:iam::",
            "admins: [arn:aws:sts::123456789012:assumed-role/platform-admin/alice, arn:aws:iam::",
        ),
        "cloud.access.admins[0]",
        "'arn:aws:sts::123456789012:assumed-role/platform-admin/alice' is an STS session, not an IAM "
        "role or user (EKS access entries take those)",
        "assumed-role",
        cmd=("tf_plan:prod",),
        extra=("write the role itself: arn:aws:iam::123456789012:role/platform-admin",),
    ),
    c(
        "cluster-reader-is-an-sts-session",
        STAGING,
        replace(
            "readers: [arn:aws:iam::123456789012:role/developer]",
            "readers: [arn:aws:sts::123456789012:assumed-role/developer/bob]",
        ),
        "cloud.access.readers[0]",
        "is an STS session, not an IAM role or user",
        "assumed-role",
        cmd=("deploy:staging",),
        extra=("write the role itself: arn:aws:iam::123456789012:role/developer",),
    ),
    c(
        "no-cluster-admins",
        D,
        replace("admins: [arn:aws:iam::123456789012:role/platform-admin]", "admins: []"),
        "cloud.access.admins",
        "no cluster admins: nobody (not even whoever runs tf_apply) could administer the cluster",
        "admins: []",
        cmd=("tf_apply:dev",),
    ),
    c(
        "registry-not-ecr",
        P,
        replace("registry: 123456789012.dkr.ecr.us-west-2.amazonaws.com", "registry: ghcr.io/example-org"),
        "cloud.registry",
        "'ghcr.io/example-org' is not an ECR registry (the roots create ECR repositories)",
        "ghcr.io",
        cmd=("deploy:prod", "confirm=prod"),
        extra=("write <12-digit account>.dkr.ecr.us-west-2.amazonaws.com",),
    ),
    c(
        "registry-in-another-region",
        STAGING,
        replace("dkr.ecr.us-west-2.amazonaws.com", "dkr.ecr.us-east-1.amazonaws.com"),
        "cloud.registry",
        "the registry is in us-east-1, but region is us-west-2: "
        "the roots create its repositories in us-west-2",
        "us-east-1",
        cmd=("tf_plan:staging",),
        extra=("use 123456789012.dkr.ecr.us-west-2.amazonaws.com, or change region",),
    ),
    c(
        "project-name-of-25-characters",
        S,
        replace("project: srvthreds", "project: srvthreds-platform-core01"),
        "project",
        "project 'srvthreds-platform-core01' is 25 characters; a cloud environment's Terraform takes 1 to 24",
        "srvthreds-platform-core01",
    ),
    c(
        "redis-subscription-name-over-40-characters",
        "environments/development-us-west-2-blue-green.yaml",
        copy_of(D, *AS_ANOTHER),
        "cloud.databases.redis.module",
        "the redis-cloud subscription_name made from the project and environment names, "
        "'srvthreds-development-us-west-2-blue-green', is 42 characters; it takes at most 40",
        "redis: {module",
        extra=("shorten the environment name (rename environments/development-us-west-2-blue-green.yaml)",),
    ),
    c(
        "vpc-name-over-48-characters",
        "environments/development-us-west-2-blue-green-canary.yaml",
        copy_of(D, *AS_ANOTHER, *NO_CLOUD_DATABASES),
        "cloud",
        "the networking name made from the project and environment names, "
        "'srvthreds-development-us-west-2-blue-green-canary', is 49 characters; it takes at most 48",
        "cloud:",
        cmd=("list",),
    ),
    c(
        "rds-user-admin",
        D,
        rds("instance_class: db.t4g.micro, username: admin"),
        "cloud.databases.rabbitmq.username",
        "RDS for PostgreSQL refuses the master user name 'admin': it is one of PostgreSQL's reserved words",
        "username: admin",
        cmd=("tf_plan:dev",),
        extra=("change `username:` under cloud.databases.rabbitmq, e.g. rabbitmq_admin",),
    ),
    c(
        "rds-user-a-reserved-word",
        D,
        rds("instance_class: db.t4g.micro, username: Select"),
        "cloud.databases.rabbitmq.username",
        "refuses the master user name 'Select': it is one of PostgreSQL's reserved words",
        "username: Select",
        cmd=("tf_plan:dev",),
    ),
    c(
        "rds-default-user-from-a-reserved-project-name",
        D,
        also(rds("instance_class: db.t4g.micro"), replace("project: srvthreds", "project: user")(S)),
        "cloud.databases.rabbitmq",
        "refuses the master user name 'user': it is one of PostgreSQL's reserved words "
        "(the default, from the project name)",
        "rabbitmq: {module: rds-postgres",
        cmd=("tf_plan:dev",),
        extra=("set `username:` under cloud.databases.rabbitmq",),
        restore=(S,),
    ),
    c(
        "github-repository-ending-in-git",
        P,
        replace("repository: example-org/srvthreds}", "repository: example-org/srvthreds.git}"),
        "cloud.github.repository",
        "'example-org/srvthreds.git' is not a GitHub repository as its tokens name it (owner/name)",
        "srvthreds.git",
        cmd=("tf_plan:prod",),
        extra=("write 'example-org/srvthreds'",),
    ),
    c(
        "github-repository-as-a-url",
        D,
        replace(
            "repository: example-org/srvthreds}", "repository: 'https://github.com/example-org/srvthreds'}"
        ),
        "cloud.github.repository",
        "'https://github.com/example-org/srvthreds' is not a valid GitHub repository",
        "https://",
        cmd=("tf_plan:dev",),
    ),
    c(
        "create-shared-in-two-environments",
        P,
        SHARED_TOO,
        "cloud.create_shared",
        "environment dev (environments/dev.yaml) already creates what AWS account 123456789012 shares "
        "(its ECR repositories, GitHub's OIDC provider)",
        "create_shared",
        extra=("remove `create_shared: true` here",),
    ),
    c(
        "create-shared-in-two-environments-planned",
        P,
        SHARED_TOO,
        "cloud.create_shared",
        "environment dev (environments/dev.yaml) already creates what AWS account 123456789012 shares",
        "create_shared",
        cmd=("tf_plan:prod",),
    ),
    c(
        "create-shared-in-two-environments-applied-from-the-first",
        P,
        SHARED_TOO,
        "cloud.create_shared",
        "the second tf_apply would fail, finding them made",
        "create_shared",
        cmd=("tf_apply:dev",),
    ),
    c(
        "public-cidrs-adding-up-to-the-internet",
        D,
        replace("endpoint_public_cidrs: [203.0.113.0/24]", "endpoint_public_cidrs: [0.0.0.0/1, 128.0.0.0/1]"),
        "cloud.endpoint_public_cidrs",
        "0.0.0.0/1, 128.0.0.0/1 together are the whole internet: the Kubernetes API would be open to anyone",
        "0.0.0.0/1",
        cmd=("tf_plan:dev",),
    ),
    c(
        "public-cidrs-in-three-blocks-adding-up-to-the-internet",
        STAGING,
        replace(
            "endpoint_public_cidrs: [203.0.113.0/24]",
            "endpoint_public_cidrs: [0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/1]",
        ),
        "cloud.endpoint_public_cidrs",
        "0.0.0.0/2, 64.0.0.0/2, 128.0.0.0/1 together are the whole internet",
        "0.0.0.0/2",
        cmd=("validate",),
    ),
    c(
        "public-cidrs-one-inside-another",
        STAGING,
        replace(
            "endpoint_public_cidrs: [203.0.113.0/24]",
            "endpoint_public_cidrs: [203.0.113.0/24, 203.0.113.128/25]",
        ),
        "cloud.endpoint_public_cidrs[1]",
        "203.0.113.128/25 overlaps 203.0.113.0/24 (endpoint_public_cidrs[0])",
        "203.0.113.128/25",
        cmd=("tf_plan:staging",),
    ),
    c(
        "public-cidr-the-whole-internet",
        D,
        replace("endpoint_public_cidrs: [203.0.113.0/24]", "endpoint_public_cidrs: [0.0.0.0/0]"),
        "cloud.endpoint_public_cidrs[0]",
        "'0.0.0.0/0' opens the Kubernetes API to the whole internet",
        "endpoint_public_cidrs: [0.0.0.0/0]",
        cmd=("render",),
    ),
]

NAME_CASES = [
    c(
        "environment-named-base",
        "environments/base.yaml",
        copy_of(L),
        "(file name)",
        "'base' is a name the tool uses itself: k8s/base (the stack's Kustomize base) "
        "and the task render:k8s-base",
        cmd=("list",),
        extra=("git mv environments/base.yaml environments/base-env.yaml",),
    ),
    c(
        "environment-named-components",
        "environments/components.yaml",
        copy_of(L),
        "(file name)",
        "'components' is a name the tool uses itself: k8s/components and the task render:k8s-components",
    ),
    c(
        "environment-named-modules",
        "environments/modules.yaml",
        copy_of(L),
        "(file name)",
        "'modules' is a name the tool uses itself: terraform/modules",
        cmd=("compose_up", "env=modules"),
    ),
    c(
        "environment-name-of-237-characters",
        f"environments/{LONG_ENV}.yaml",
        copy_of(L),
        "(file name)",
        "the environment name is 237 characters; it lands in file names, Kubernetes labels and Terraform "
        "(`environment`), which take at most 63",
    ),
    c(
        "environment-name-of-64-characters",
        f"environments/{'b' * 64}.yaml",
        copy_of(L),
        "(file name)",
        "the environment name is 64 characters",
        cmd=("list",),
        extra=("rename the file to a name of at most 63 characters",),
    ),
    c(
        "environment-name-in-capitals",
        "environments/QA.yaml",
        copy_of(L),
        "(file name)",
        "environment name 'QA' is not a valid DNS-1123 label",
        cmd=("list",),
        extra=("(e.g. environments/qa.yaml)",),
    ),
    c(
        "environment-file-ending-in-yml",
        "environments/qa.yml",
        copy_of(L),
        "(file name)",
        "environments/qa.yml is never read: environment files end in .yaml",
        cmd=("list",),
        extra=("rename it: git mv environments/qa.yml environments/qa.yaml",),
    ),
    c(
        "environment-ending-in-yml-named-on-the-command-line",
        "environments/qa.yml",
        copy_of(L),
        None,
        "unknown environment 'qa': environments/qa.yml is never read (environment files end in .yaml)",
        cmd=("compose_up", "env=qa"),
        code=64,
    ),
    c(
        "built-database-named-builder",
        OFF,
        edits(
            ("  redis: {image:", "  builder: {port: 6380, env_var: BUILDER_HOST, image:"),
            ("rabbitmq: compose}", "rabbitmq: compose, builder: compose}"),
        ),
        "databases.builder",
        "'builder' is the name of the tool's own builder image, and this database's image is built",
        "builder: {port",
        cmd=("list",),
        extra=("rename the database: its image would overwrite that one's record (images:builder)",),
    ),
    c(
        "built-database-named-base",
        OFF,
        edits(
            ("  redis: {image:", "  base: {port: 6380, env_var: BASE_HOST, image:"),
            ("rabbitmq: compose}", "rabbitmq: compose, base: compose}"),
        ),
        "databases.base",
        "'base' is the name of the tool's own base image, and this database's image is built",
        "base: {port",
        cmd=("images", "env=offline"),
    ),
    c(
        "cluster-database-name-too-long-for-a-statefulset",
        M,
        edits(
            (
                "rabbitmq: cluster}",
                "rabbitmq: cluster, queue-store-for-the-session-agents-and-the-engine-xyz: cluster}",
            ),
            (
                "components: [ingress]\n",
                "components: [ingress]\ndatabases:\n"
                "  queue-store-for-the-session-agents-and-the-engine-xyz:\n"
                "    {image: redis:7.2-bookworm, port: 6390, env_var: QUEUE_HOST, data_dir: /data,"
                " cluster: {storage: 1Gi, uid: 10998}}\n",
            ),
        ),
        "databases.queue-store-for-the-session-agents-and-the-engine-xyz",
        "'queue-store-for-the-session-agents-and-the-engine-xyz' is 53 characters: as a StatefulSet its pods "
        "would never start",
        "  queue-store",
        cmd=("minikube_up",),
        extra=("shorten the name to 52 characters or fewer",),
    ),
]

COLLISION_CASES = [
    c(
        "two-databases-share-an-env-var",
        S,
        replace("env_var: RABBITMQ_HOST", "env_var: REDIS_HOST  # was RABBITMQ_HOST"),
        "databases.rabbitmq.env_var",
        "REDIS_HOST is also databases.redis.env_var: services would get one address for both",
        "# was RABBITMQ_HOST",
        extra=("give rabbitmq its own env_var (e.g. RABBITMQ_HOST)",),
    ),
    c(
        "config-key-is-a-database-address",
        S,
        replace("  RABBITMQ_USER: srvthreds\n", "  RABBITMQ_USER: srvthreds\n  MONGO_HOST: mongo.internal\n"),
        "config.MONGO_HOST",
        "MONGO_HOST is databases.mongodb.env_var: the database's address would silently replace this value",
        "mongo.internal",
    ),
    c(
        "config-key-of-an-environment-is-a-database-address",
        L,
        append("config: {REDIS_HOST: cache.internal}\n"),
        "config.REDIS_HOST",
        "REDIS_HOST is databases.redis.env_var: the database's address would silently replace this value",
        "cache.internal",
        cmd=("compose_up",),
        extra=("rename the config key (the address comes from redis's placement)",),
    ),
    c(
        "service-env-is-a-database-address",
        S,
        replace("env: {LOG_LEVEL: info}", "env: {LOG_LEVEL: info, RABBITMQ_HOST: mq.internal}"),
        "services.engine.env.RABBITMQ_HOST",
        "RABBITMQ_HOST is databases.rabbitmq.env_var: this would replace the address engine gets",
        "mq.internal",
    ),
    c(
        "database-address-is-a-secret",
        S,
        replace("env_var: RABBITMQ_HOST", "env_var: RABBITMQ_PASSWORD"),
        "databases.rabbitmq.env_var",
        "RABBITMQ_PASSWORD is also a secret (secrets:): the address and the secret would both set it",
        "env_var: RABBITMQ_PASSWORD",
        cmd=("list",),
    ),
    c(
        "database-variable-both-plain-and-secret",
        S,
        replace(
            "env: {RABBITMQ_DEFAULT_USER: srvthreds}",
            "env: {RABBITMQ_DEFAULT_USER: srvthreds, RABBITMQ_DEFAULT_PASS: guest}",
        ),
        "databases.rabbitmq.secret_env.RABBITMQ_DEFAULT_PASS",
        "RABBITMQ_DEFAULT_PASS is also in databases.rabbitmq.env: the container would get it twice",
        "secret_env:",
    ),
    c(
        "config-key-is-a-secret",
        L,
        append("config: {RABBITMQ_PASSWORD: hunter2}\n"),
        "config.RABBITMQ_PASSWORD",
        "RABBITMQ_PASSWORD is a secret: this value would be written in plain text",
        "hunter2",
        cmd=("compose_up",),
    ),
]

DOCKER_LIMIT_CASES = [
    c(
        "cpus-0.001",
        S,
        edits(
            ("requests: {cpu: 100m, memory: 64Mi}", "requests: {cpu: 0.001, memory: 64Mi}"),
            ("limits: {cpu: 500m, memory: 256Mi}", "limits: {cpu: 0.001, memory: 256Mi}"),
        ),
        "services.engine.resources.limits.cpu",
        "a CPU limit of 0.001 is below what Docker accepts (10m, `cpus: 0.01`)",
        "limits: {cpu: 0.001",
        extra=("use 10m or more",),
    ),
    c(
        "cpu-limit-5m-in-an-environment",
        L,
        append(
            "services: {engine: {resources: "
            "{limits: {cpu: 5m, memory: 256Mi}, requests: {cpu: 5m, memory: 64Mi}}}}\n"
        ),
        "services.engine.resources.limits.cpu",
        "a CPU limit of 5m is below what Docker accepts",
        "cpu: 5m",
        cmd=("compose_up",),
    ),
    c(
        "cpu-limit-in-a-kubernetes-environment",
        P,
        replace(
            "engine: {autoscale: {min: 3, max: 9, cpu: 70}}",
            "engine: {replicas: 3, resources: "
            "{limits: {cpu: 9m, memory: 256Mi}, requests: {cpu: 9m, memory: 64Mi}}}",
        ),
        "services.engine.resources.limits.cpu",
        "a CPU limit of 9m is below what Docker accepts",
        "cpu: 9m",
        cmd=("deploy:prod",),
    ),
    c(
        "memory-4Mi",
        S,
        edits(
            ("requests: {cpu: 100m, memory: 64Mi}", "requests: {cpu: 100m, memory: 4Mi}"),
            ("limits: {cpu: 500m, memory: 256Mi}", "limits: {cpu: 500m, memory: 4Mi}"),
        ),
        "services.engine.resources.limits.memory",
        "a memory limit of 4Mi is below what Docker accepts (6Mi)",
        "limits: {cpu: 500m, memory: 4Mi}",
        extra=("use 6Mi or more",),
    ),
    c(
        "memory-request-below-6Mi",
        S,
        replace("requests: {cpu: 100m, memory: 64Mi}", "requests: {cpu: 100m, memory: 5000Ki}"),
        "services.engine.resources.requests.memory",
        "a memory request of 5000Ki is below what Docker accepts (6Mi)",
        "5000Ki",
        cmd=("compose_config",),
    ),
    c(
        "job-with-replicas-5",
        S,
        replace("    kind: job\n", "    kind: job\n    replicas: 5\n"),
        "services.bootstrap.replicas",
        "job 'bootstrap' has replicas 5, but a job runs one container (accepted: 1)",
        "replicas: 5",
        extra=("remove `replicas:` (or make it a deployment, which runs replicas)",),
    ),
    c(
        "job-with-replicas-0-in-an-environment",
        L,
        append("services: {bootstrap: {replicas: 0}}\n"),
        "services.bootstrap.replicas",
        "job 'bootstrap' has replicas 0, but a job runs one container",
        "replicas: 0",
        cmd=("compose_jobs",),
    ),
]

BUILD_INPUT_CASES = [
    c(
        "build-context-linked-out-of-the-project",
        S,
        also(replace("context: demo\n", "context: demo-linked\n"), linked_out("demo-linked", "demo")),
        "images.builder.context",
        "demo-linked leads out of the project (to ",
        "context: demo-linked",
        extra=("build from files inside the project: copy them in, or point at the real path inside",),
        restore=("demo-linked",),
    ),
    c(
        "dockerfile-linked-out-of-the-project",
        S,
        also(
            replace(f"dockerfile: {BUILDER_DOCKERFILE}", f"dockerfile: {BUILDER_DOCKERFILE}.linked"),
            linked_out(f"{BUILDER_DOCKERFILE}.linked", BUILDER_DOCKERFILE),
        ),
        "images.builder.dockerfile",
        f"{BUILDER_DOCKERFILE}.linked leads out of the project (to ",
        "Dockerfile.builder.linked",
        cmd=("builder_image",),
        restore=(f"{BUILDER_DOCKERFILE}.linked",),
    ),
    c(
        "database-build-folder-linked-out-of-the-project",
        OFF,
        also(nothing, moved_out("docker/rabbitmq")),
        "databases.rabbitmq.build",
        "docker/rabbitmq leads out of the project (to ",
        "build: docker/rabbitmq",
        cmd=("compose_up", "env=offline"),
        restore=("docker/rabbitmq",),
    ),
    c(
        "fifo-named-like-the-builders-dockerfile",
        S,
        also(nothing, fifo(BUILDER_DOCKERFILE)),
        "images.builder.dockerfile",
        f"{BUILDER_DOCKERFILE} is a special file (a FIFO, socket or device), not a file",
        f"dockerfile: {BUILDER_DOCKERFILE}",
        cmd=("validate",),
        extra=("replace it with a regular file",),
        restore=(BUILDER_DOCKERFILE,),
    ),
    c(
        "fifo-named-like-a-databases-dockerfile",
        OFF,
        also(nothing, fifo("docker/redis/Dockerfile")),
        "databases.redis.build",
        "docker/redis/Dockerfile is a special file (a FIFO, socket or device), not a file",
        "build: docker/redis",
        cmd=("images", "env=offline"),
        restore=("docker/redis/Dockerfile",),
    ),
    c(
        "dockerfile-is-a-folder",
        S,
        replace(f"dockerfile: {BUILDER_DOCKERFILE}", "dockerfile: demo/docker"),
        "images.builder.dockerfile",
        "demo/docker is not a file in the project",
        "dockerfile: demo/docker",
    ),
    c(
        "build-target-not-a-stage",
        S,
        replace("    builder: true\n", "    builder: true\n    target: runtime\n"),
        "images.service_build.target",
        "'runtime' is not a stage of demo/docker/Dockerfile.service (its stages: builder)",
        "target: runtime",
        extra=("name one of its stages, or add `AS runtime` to a FROM line",),
    ),
    c(
        "build-target-of-a-dockerfile-without-stages",
        S,
        replace(
            f"dockerfile: {BUILDER_DOCKERFILE}\n", f"dockerfile: {BUILDER_DOCKERFILE}\n    target: test\n"
        ),
        "images.builder.target",
        f"'test' is not a stage of {BUILDER_DOCKERFILE} (it names no stage: `FROM ... AS <name>`)",
        "target: test",
        cmd=("builder_image",),
    ),
]

CLUSTER_BLOCK_CASES = [
    c(
        "cluster-block-without-storage",
        S,
        replace("cluster: {storage: 1Gi, uid: 10999}", "cluster: {uid: 10999}"),
        "databases.rabbitmq.cluster",
        "missing required key 'storage'",
        "cluster: {uid",
        extra=("add `storage:` under databases.rabbitmq.cluster",),
    ),
    c(
        "cluster-block-without-uid",
        S,
        replace("cluster: {storage: 1Gi, uid: 10999}", "cluster: {storage: 1Gi}"),
        "databases.rabbitmq.cluster",
        "missing required key 'uid'",
        "cluster: {storage: 1Gi}",
        cmd=("minikube_up",),
        extra=("add `uid:` under databases.rabbitmq.cluster",),
    ),
    c(
        "cluster-block-empty",
        S,
        replace("cluster: {storage: 1Gi, uid: 10999}", "cluster: {}"),
        "databases.rabbitmq.cluster",
        "missing required key 'storage' (also 'uid')",
        "cluster: {}",
        extra=("add `storage:`, `uid:` under databases.rabbitmq.cluster",),
    ),
    c(
        "cluster-block-of-an-environments-database-without-uid",
        M,
        edits(
            ("rabbitmq: cluster}", "rabbitmq: cluster, cache: cluster}"),
            (
                "components: [ingress]\n",
                "components: [ingress]\ndatabases:\n  cache: {image: redis:7.2-bookworm, port: 6390,"
                " env_var: CACHE_HOST, data_dir: /data, cluster: {storage: 1Gi}}\n",
            ),
        ),
        "databases.cache.cluster",
        "missing required key 'uid'",
        "cache: {image",
        cmd=("minikube_up",),
    ),
]

RENDER_CASES = [
    c(
        "render-into-a-compose-folder-linked-out",
        L,
        also(append("config: {EXTRA: x}\n"), moved_out("compose/local")),
        None,
        "refusing to write compose/local/docker-compose-services.yml: compose/local is a symlink to ",
        code=1,
        extra=("outside the project", "Fix: replace the link compose/local with a real folder or file"),
        restore=("compose/local",),
    ),
    c(
        "render-into-an-overlay-linked-out",
        P,
        also(
            replace("  engine: {autoscale: {min: 3, max: 9, cpu: 70}}\n", ""), moved_out("k8s/overlays/prod")
        ),
        None,
        "refusing to write k8s/overlays/prod/kustomization.yaml: k8s/overlays/prod is a symlink to ",
        code=1,
        restore=("k8s/overlays/prod",),
    ),
    c(
        "render-into-a-terraform-root-linked-out",
        D,
        also(
            replace("node_count: {min: 1, max: 3, desired: 2}", "node_count: {min: 1, max: 4, desired: 2}"),
            moved_out("terraform/environments/dev"),
        ),
        None,
        "refusing to write terraform/environments/dev/terraform.tfvars: "
        "terraform/environments/dev is a symlink",
        code=1,
        restore=("terraform/environments/dev",),
    ),
    c(
        "render-into-an-output-file-linked-out",
        L,
        also(append("config: {EXTRA: x}\n"), moved_out("compose/local/docker-compose-services.yml")),
        None,
        "refusing to write compose/local/docker-compose-services.yml: "
        "compose/local/docker-compose-services.yml is a symlink to ",
        code=1,
        restore=("compose/local/docker-compose-services.yml",),
    ),
    c(
        "render-into-k8s-linked-out",
        M,
        also(replace("components: [ingress]", "components: []"), moved_out("k8s")),
        None,
        "refusing to write k8s/overlays/minikube/kustomization.yaml: k8s is a symlink to ",
        cmd=("render", "validate:k8s-minikube"),
        code=1,
        restore=("k8s",),
    ),
]

ROUND_THREE = [
    *CLOUD_VALUE_CASES,
    *NAME_CASES,
    *COLLISION_CASES,
    *DOCKER_LIMIT_CASES,
    *BUILD_INPUT_CASES,
    *CLUSTER_BLOCK_CASES,
    *RENDER_CASES,
]


@pytest.mark.parametrize("case", ROUND_THREE, ids=[case.id for case in ROUND_THREE])
def test_bad_cloud_value_name_or_build_input_gets_one_clean_error_and_changes_nothing(
    base: Path, case: Case
) -> None:
    test_bad_input_gets_one_clean_error_and_changes_nothing(base, case)


# ======================================================================================
# Valid edits and skipped checks (issue 22, "Command line and reports"): a valid edit never
# exits 2, render removes all it made for a deleted environment and nothing else, and a check
# that cannot run here reads as skipped, in every reporter. Verdicts: exit 0, no traceback, no
# DependencyError, the same again on a second run; once the edit is undone, a render gives
# back every generated file byte for byte.
# ======================================================================================


def hand_written(rel: str) -> Edit:
    def edit(root: Path) -> None:
        (root / rel).write_text("# our notes: render did not make this file\n")

    return edit


VALID_RUNS = [
    c(
        "replicas-back-to-the-default",
        P,
        replace("  engine: {autoscale: {min: 3, max: 9, cpu: 70}}\n", ""),
        None,
        "removed k8s/overlays/prod/scale-engine.patch.yaml",
        cmd=("validate:k8s-prod",),
        code=0,
        extra=("k8s/overlays/prod: schema",),
    ),
    c(
        "database-moved-into-the-cluster",
        P,
        edits(
            ("rabbitmq: external}", "rabbitmq: cluster}"),
            ("  rabbitmq: prod.example.cloudamqp.com:5672\n", ""),
        ),
        None,
        "removed k8s/overlays/prod/delete-rabbitmq.patch.yaml",
        cmd=("validate:k8s-prod",),
        code=0,
    ),
    c(
        "deleted-environment-takes-its-outputs-and-leaves-hand-written-files",
        STAGING,
        also(special("delete"), hand_written("compose/staging/NOTES.md")),
        None,
        "kept compose/staging/NOTES.md: render did not make it",
        code=0,
        extra=(
            "removed compose/staging/docker-compose-services.yml",
            "removed k8s/overlays/staging/kustomization.yaml",
            "removed terraform/environments/staging/main.tf",
        ),
        restore=("compose/staging",),
    ),
    c(
        "json-report-in-a-project-without-doit-cfg-says-skipped",
        "pyproject.toml",
        replace("[tool.doit.plugins.reporter]", "[tool.unused]"),
        None,
        '{"name": "tf_validate", "result": "skipped"',
        cmd=("--reporter", "json", "tf_validate"),
        code=0,
        extra=('"reason": "provider schema validation',),
    ),
    c(
        "parallel-skips-keep-their-own-reasons",
        S,
        nothing,
        None,
        r"^tf_validate +skipped \(provider schema validation",
        cmd=("-n", "2", "-P", "thread", "tf_validate", "checkov"),
        code=0,
        extra=(r"^checkov +skipped \(checkov is not installed",),
    ),
]


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user's shell has it: no checkov, no provider mirror, not CI; doit's own JSON reporter
    class as imported (the run installs what says "skipped")."""
    monkeypatch.delenv("STACKBUILD_TF_PLUGIN_DIR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    paths = os.environ.get("PATH", "").split(os.pathsep)
    monkeypatch.setenv("PATH", os.pathsep.join(p for p in paths if not (Path(p) / "checkov").exists()))
    for name, method in reporter.DOIT_JSON.items():
        monkeypatch.setattr(JsonReporter, name, method)


@pytest.mark.parametrize("case", VALID_RUNS, ids=[case.id for case in VALID_RUNS])
def test_a_valid_edit_runs_clean_and_skips_read_as_skips(base: Path, case: Case, fresh_process: None) -> None:
    committed = snapshot(base, *GENERATED, "docs")
    target = base / case.file
    saved = target.read_bytes() if target.is_file() else None
    try:
        case.edit(base)
        first = bounded(base, *case.cmd)
        for text in (case.text, *case.extra):  # "^...": a summary row, as a pattern
            found = re.search(text, first.out, re.M) if text.startswith("^") else text in first.out
            assert found, first.out
        again = bounded(base, *case.cmd)  # the edit is made: nothing left for a second run to fix
        for result in (first, again):
            assert result.code == 0, result.out
            assert "Traceback" not in result.out and "DependencyError" not in result.out, result.out
    finally:
        if saved is not None:
            target.write_bytes(saved)
        for rel in case.restore:
            pristine(base, rel)
        restored = run_doit(base, "render")
    assert restored.code == 0, restored.out
    assert snapshot(base, *GENERATED, "docs") == committed


# Each class of mistake issue 22's third round found, in its words, and the cases that make it.
CLASSES: dict[str, tuple[str, ...]] = {
    # --- secrets
    ".env written in forms Compose reads differently from the tool": (
        "dotenv-unclosed-quote",
        "dotenv-space-in-a-name",
        "dotenv-bad-character-in-a-name",
        "dotenv-required-variable-unset",
        "dotenv-dollar-brace-without-a-name",
        "dotenv-not-utf8",
        "dotenv-empty-secret",
        "dotenv-placeholder-outside-local",
    ),
    "a .env that is not a private regular file of the project (a link out, a FIFO)": (
        "dotenv-readable-by-others",
        "dotenv-linked-outside-the-project",
        "dotenv-dangling-link",
        "dotenv-fifo",
        "dotenv-directory",
    ),
    "a secret named like a variable the tool sets itself": (
        "secret-is-an-image-variable",
        "secret-is-a-database-address",
        "secret-is-a-built-databases-image",
        "secret-is-a-compose-setting",
        "secret-is-a-docker-setting",
    ),
    "a password written in an endpoint URL or another plain value": (
        "endpoint-with-a-password",
        "endpoint-with-a-password-no-scheme",
        "config-url-with-a-password",
        "service-env-url-with-a-password",
        "database-env-url-with-a-password",
    ),
    # --- cloud values that only failed at tf_plan or in AWS
    "a VPC size the networking module does not take (/8)": ("vpc-a-slash-8", "vpc-a-slash-28"),
    "node counts all 0": ("node-counts-all-zero",),
    "no instance types": ("no-instance-types",),
    "an sts assumed-role ARN, or an empty list, as cluster admins": (
        "cluster-admin-is-an-sts-session",
        "cluster-reader-is-an-sts-session",
        "no-cluster-admins",
    ),
    "a registry that is not ECR, or ECR of another region": (
        "registry-not-ecr",
        "registry-in-another-region",
    ),
    "a project name longer than the roots accept": ("project-name-of-25-characters",),
    "a name made from project and environment too long for a cloud resource (Redis: 40)": (
        "redis-subscription-name-over-40-characters",
        "vpc-name-over-48-characters",
    ),
    "an RDS user name PostgreSQL reserves (admin)": (
        "rds-user-admin",
        "rds-user-a-reserved-word",
        "rds-default-user-from-a-reserved-project-name",
    ),
    "a GitHub repository written org/name.git": (
        "github-repository-ending-in-git",
        "github-repository-as-a-url",
    ),
    "create_shared in two environments of one account": (
        "create-shared-in-two-environments",
        "create-shared-in-two-environments-planned",
        "create-shared-in-two-environments-applied-from-the-first",
    ),
    "public endpoint CIDRs that add up to the whole internet": (
        "public-cidrs-adding-up-to-the-internet",
        "public-cidrs-in-three-blocks-adding-up-to-the-internet",
        "public-cidrs-one-inside-another",
        "public-cidr-the-whole-internet",
    ),
    # --- names, collisions and files
    "an environment named like the tool's own outputs (base, components)": (
        "environment-named-base",
        "environment-named-components",
        "environment-named-modules",
    ),
    "an environment name too long for the places it lands (237 characters)": (
        "environment-name-of-237-characters",
        "environment-name-of-64-characters",
        "environment-name-in-capitals",
    ),
    "a stray environments/*.yml": (
        "environment-file-ending-in-yml",
        "environment-ending-in-yml-named-on-the-command-line",
    ),
    "a built database named like the tool's images (builder), or too long for a StatefulSet": (
        "built-database-named-builder",
        "built-database-named-base",
        "cluster-database-name-too-long-for-a-statefulset",
    ),
    "two databases sharing an env_var; a config key or env equal to one, or to a secret": (
        "two-databases-share-an-env-var",
        "config-key-is-a-database-address",
        "config-key-of-an-environment-is-a-database-address",
        "service-env-is-a-database-address",
        "database-address-is-a-secret",
        "database-variable-both-plain-and-secret",
        "config-key-is-a-secret",
    ),
    "render writing through a symlink out of the project": (
        "render-into-a-compose-folder-linked-out",
        "render-into-an-overlay-linked-out",
        "render-into-a-terraform-root-linked-out",
        "render-into-an-output-file-linked-out",
        "render-into-k8s-linked-out",
    ),
    "render deleting only what it made, and all of it": (
        "deleted-environment-takes-its-outputs-and-leaves-hand-written-files",
    ),
    "a build context or Dockerfile linked out of the project, or a special file": (
        "build-context-linked-out-of-the-project",
        "dockerfile-linked-out-of-the-project",
        "database-build-folder-linked-out-of-the-project",
        "fifo-named-like-the-builders-dockerfile",
        "fifo-named-like-a-databases-dockerfile",
        "dockerfile-is-a-folder",
    ),
    "a build target that is not a stage of the Dockerfile": (
        "build-target-not-a-stage",
        "build-target-of-a-dockerfile-without-stages",
    ),
    "a cluster block missing storage or uid": (
        "cluster-block-without-storage",
        "cluster-block-without-uid",
        "cluster-block-empty",
        "cluster-block-of-an-environments-database-without-uid",
    ),
    # --- values Docker refuses later
    "Compose limits below what Docker accepts (cpus: 0.001, memory: 4Mi)": (
        "cpus-0.001",
        "cpu-limit-5m-in-an-environment",
        "cpu-limit-in-a-kubernetes-environment",
        "memory-4Mi",
        "memory-request-below-6Mi",
    ),
    "a job with replicas": ("job-with-replicas-5", "job-with-replicas-0-in-an-environment"),
    # --- command line and reports
    "a run variable written as an option (--env=local)": (
        "env-written-as-an-option",
        "env-written-as-an-option-with-a-space",
        "confirm-written-as-an-option",
    ),
    "confirm= that confirms nothing": (
        "confirm-on-a-local-command",
        "confirm-on-an-unprotected-environment",
        "confirm-names-another-environment",
        "confirm-on-a-read-only-task",
    ),
    "a run variable given twice": ("env-given-twice", "wipe-given-twice"),
    "a valid edit exiting 2": ("replicas-back-to-the-default", "database-moved-into-the-cluster"),
    "a skipped check read as a success": (
        "json-report-in-a-project-without-doit-cfg-says-skipped",
        "parallel-skips-keep-their-own-reasons",
    ),
}


def test_every_class_of_the_third_round_has_cases_and_every_case_a_class() -> None:
    new = [*SECRET_CASES, *ROUND_THREE, *VALID_RUNS]
    ids = [case.id for case in new]
    assert len(set(ids)) == len(ids) and not set(ids) & {case.id for case in CASES}
    assert len(new) >= 80  # the issue's "at least 80 new ones"
    listed = [case_id for members in CLASSES.values() for case_id in members]
    assert all(CLASSES.values())
    assert sorted(listed) == sorted(ids), (set(listed) ^ set(ids)) or "a case in two classes"
