"""The declared fields (tasks/config/fields.py): each value is checked alone, in the file
and at the line that wrote it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tasks.config import fields
from testing.configs import cloud_env, edit, error, line_of, load, refused, small_project, stack


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


# --- on the shipped stack --------------------------------------------------------------------


def test_an_unknown_key_suggests_the_right_one(project: Path) -> None:
    edit(project, "stack.yaml", "    replicas: 1\n", "    replcas: 1\n")
    err = error(project, None)
    assert err.keypath == "services.engine.replcas"
    assert err.line == line_of(project, "stack.yaml", "replcas")
    assert "unknown key 'replcas'" in str(err)
    assert "did you mean 'replicas'?" in str(err)


def test_a_service_name_is_a_dns_label(project: Path) -> None:
    edit(project, "stack.yaml", "  session-agent:\n", "  Session_Agent:\n")
    err = error(project, None)
    assert err.keypath == "services.Session_Agent"
    assert "'Session_Agent' is not a valid DNS-1123 label" in str(err)


def test_a_port_is_in_range(project: Path) -> None:
    edit(
        project,
        "stack.yaml",
        "{name: http, port: 3000, publish: 3000}",
        "{name: http, port: 70000, publish: 3000}",
    )
    err = error(project, None)
    assert err.keypath == "services.session-agent.ports[0].port"
    assert "port 70000 is out of range" in str(err) and "between 1 and 65535" in str(err)


def test_a_resource_quantity_is_kubernetes_one(project: Path) -> None:
    edit(project, "stack.yaml", "limits: {cpu: 500m, memory: 256Mi}", "limits: {cpu: 500m, memory: 256MB}")
    err = error(project, None)
    assert err.keypath == "services.engine.resources.limits.memory"
    assert "'256MB' is not a valid resource quantity" in str(err)


# --- ranges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value, problem",
    [
        ("config", {"bad-name": "x"}, "'bad-name' is not a valid environment variable name"),
        ("minikube", {"memory": 1023}, "1023 is less than 1024"),
        (
            "images",
            {"prefix": "acme", "service_build": {"context": "app"}, "uid": 2**31},
            "between 1 and 2147483647",
        ),
    ],
)
def test_values_out_of_their_range(root: Path, key: str, value: Any, problem: str) -> None:
    data = stack()
    data[key] = value
    assert problem in refused(root, data).problem


def test_values_at_the_edge_of_their_range(root: Path) -> None:
    data = stack()
    data["minikube"] = {"memory": 1024}
    data["images"]["uid"] = 2**31 - 1
    data["databases"]["pg"]["cluster"] = {"storage": "1Gi", "uid": 10000}
    data["config"] = {"_A1": "x"}
    cfg = load(root, data)
    assert cfg.minikube.memory == 1024 and cfg.images.uid == 2**31 - 1


def test_a_secret_name_longer_than_a_secret_key_is_refused_at_its_key(root: Path) -> None:
    """Before, it rendered and `doit validate` failed on the ExternalSecret's `secretKey`."""
    data = stack()
    name = "S" * 254
    data["secrets"] = ["PG_PASSWORD", name]
    data["services"]["web"]["secrets"] = [name]
    err = refused(root, data)
    assert (err.file, err.keypath) == ("environments/stack.yaml", "secrets[1]")
    lines = (root / "environments/stack.yaml").read_text().splitlines()
    assert err.line is not None and lines[err.line - 1] == "- " + name  # the top-level entry
    assert err.problem == (
        "the secret name is 254 characters; it is a key of the cluster's Secret (an ExternalSecret "
        "`secretKey`), which takes at most 253"
    )
    assert err.fix == "shorten it to at most 253 characters"
    data["secrets"][1] = data["services"]["web"]["secrets"][0] = "S" * 253
    assert load(root, data).secrets[1] == "S" * 253


def test_a_database_uid_below_the_pod_floor_is_refused_at_its_key(root: Path) -> None:
    """Before, uid 999 passed here and failed `doit validate` with "fix the templates"."""
    data = stack()
    data["databases"]["pg"]["cluster"] = {"storage": "1Gi", "uid": 999}
    err = refused(root, data)
    assert (err.file, err.keypath, err.problem, err.fix) == (
        "environments/stack.yaml",
        "databases.pg.cluster.uid",
        "uid 999 is below 10000: it may be a host account's, so the restricted Pod Security policy "
        "refuses the pod",
        "use a uid of 10000 or more that the image can run as (e.g. 10999, made in its Dockerfile)",
    )
    assert err.line is not None


# --- the cloud block ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "cloud, keypath, problem",
    [
        (
            {"endpoint_public_cidrs": ["0.0.0.0/0"]},
            "cloud.endpoint_public_cidrs[0]",
            "'0.0.0.0/0' opens the Kubernetes API to the whole internet",
        ),
        (
            {"endpoint_public_cidrs": ["10.0.0.300/8"]},
            "cloud.endpoint_public_cidrs[0]",
            "'10.0.0.300/8' is not an IPv4 CIDR block",
        ),
        (
            {"cluster_version": "1.33.0"},
            "cloud.cluster_version",
            "'1.33.0' is not a Kubernetes minor version",
        ),
        (
            {"access": {"admins": ["arn:aws:iam::12345:role/x"]}},
            "cloud.access.admins[0]",
            "'arn:aws:iam::12345:role/x' is not an IAM role or user ARN",
        ),
        (
            {"databases": {"pg": {"module": "redis-cloud", "deployment_cidr": "10.1.0.0/16"}}},
            "cloud.databases.pg.deployment_cidr",
            "'10.1.0.0/16' is not a /24 block",
        ),
        (
            {"databases": {"pg": {"module": "redis-cloud", "deployment_cidr": "10.1.0/24"}}},
            "cloud.databases.pg.deployment_cidr",
            "is not a valid IPv4 CIDR block",
        ),
        (
            {"mongodb_instance_size": "M10"},
            "cloud.mongodb_instance_size",
            "'mongodb_instance_size' is no longer a key here",
        ),
    ],
)
def test_cloud_values_are_checked_where_they_are_written(
    root: Path, cloud: dict[str, Any], keypath: str, problem: str
) -> None:
    err = refused(root, None, cloud_env(**cloud))
    assert (err.file, err.keypath) == ("environments/test.yaml", keypath)
    assert problem in err.problem


@pytest.mark.parametrize("missing", ["storage", "uid"])
def test_a_cluster_block_names_its_storage_and_uid(root: Path, missing: str) -> None:
    data = stack()
    data["databases"]["pg"]["cluster"] = {"storage": "1Gi", "uid": 10000}
    del data["databases"]["pg"]["cluster"][missing]
    err = refused(root, data)
    assert (err.keypath, err.problem) == ("databases.pg.cluster", f"missing required key {missing!r}")


def _with_metrics(**metrics: Any) -> dict[str, Any]:
    data = stack()
    data["services"]["web"]["metrics"] = metrics
    return data


@pytest.mark.parametrize(
    ("metrics", "keypath", "problem", "fix"),
    [
        ({"port": 70000, "path": "/metrics"}, "port", "port 70000 is out of range", "between 1 and 65535"),
        ({"port": 0, "path": "/metrics"}, "port", "port 0 is out of range", "between 1 and 65535"),
        ({"port": 8080, "path": "metrics"}, "path", "'metrics' is not a valid metrics path", "'/metrics'"),
        ({"port": 8080, "path": "/metrics?x=1"}, "path", "is not a valid metrics path", "'/metrics'"),
        (
            {"port": 8080, "path": "/metrics", "queue": "queue-depth"},
            "queue",
            "'queue-depth' is not a valid Prometheus metric name",
            "'work_queue_depth'",
        ),
    ],
)
def test_a_bad_metrics_value_is_refused_at_its_key(
    root: Path, metrics: dict[str, Any], keypath: str, problem: str, fix: str
) -> None:
    err = refused(root, _with_metrics(**metrics))
    assert (err.file, err.keypath) == ("environments/stack.yaml", f"services.web.metrics.{keypath}")
    assert err.line == line_of(root, "stack.yaml", f"{keypath}: {metrics[keypath]}")
    assert problem in err.problem and fix in str(err.fix)


def test_metrics_need_a_port_and_a_path(root: Path) -> None:
    err = refused(root, _with_metrics(port=8080))
    assert err.keypath == "services.web.metrics"
    assert "path" in err.problem


def test_metrics_on_a_declared_port_load(root: Path) -> None:
    cfg = load(root, _with_metrics(port=8080, path="/metrics", queue="jobs_waiting"))
    metrics = cfg.services["web"].metrics
    assert metrics is not None
    assert (metrics.port, metrics.port_name) == (8080, "http")
    assert (metrics.path, metrics.queue) == ("/metrics", "jobs_waiting")


def test_the_monitoring_components_are_known_and_a_typo_is_not(root: Path) -> None:
    data = _with_metrics(port=8080, path="/metrics")
    env = {"runtime": "kubernetes", "placement": {"pg": "compose"}}
    assert load(root, data, {**env, "components": ["monitoring"]}).components == ("monitoring",)
    err = refused(root, data, {**env, "components": ["monitorng"]})
    assert err.keypath == "components[0]" and "monitoring" in str(err)


def test_the_logging_component_and_its_stack_settings_load(root: Path) -> None:
    data = stack()
    env = {"runtime": "kubernetes", "placement": {"pg": "compose"}, "components": ["logging"]}
    cfg = load(root, data, env)
    assert cfg.components == ("logging",)
    assert cfg.log_namespace() == f"{cfg.project}-logging"
    assert cfg.loki_url == "http://loki.logging.svc:3100/loki/api/v1/push"
    data["logging"] = {"namespace": "logs", "loki_url": "https://loki.example.com/loki/api/v1/push"}
    cfg = load(root, data, env)
    assert (cfg.log_namespace(), cfg.loki_url) == ("logs", "https://loki.example.com/loki/api/v1/push")


@pytest.mark.parametrize(
    ("logging", "keypath", "problem"),
    [
        ({"loki_url": "loki:3100"}, "logging.loki_url", "Loki push URL"),
        ({"namespace": "Logs_NS"}, "logging.namespace", "not a valid DNS-1123 label"),
        ({"url": "http://loki:3100"}, "logging.url", "unknown key 'url'"),
    ],
    ids=["url-without-scheme", "namespace-not-a-label", "unknown-key"],
)
def test_a_bad_logging_setting_is_refused_at_its_key(
    root: Path, logging: dict[str, str], keypath: str, problem: str
) -> None:
    data = stack()
    data["logging"] = logging
    err = refused(root, data)
    assert (err.file, err.keypath) == ("environments/stack.yaml", keypath)
    key, value = next(iter(logging.items()))
    assert err.line == line_of(root, "stack.yaml", f"{key}: {value}")
    assert problem in str(err)


def test_a_port_reference_is_a_port_number_or_a_port_name() -> None:
    assert fields.port_ref(8080) is None and fields.port_ref("http") is None
    assert fields.port_ref(0) is not None and fields.port_ref(65536) is not None
    assert fields.port_ref("Not_A_Label") is not None


def test_a_pod_uid_below_the_floor_says_the_floor_and_a_uid_to_use() -> None:
    assert fields.pod_uid(fields.MIN_POD_UID) is None
    problem, fix = fields.pod_uid(fields.MIN_POD_UID - 1) or ("", "")
    assert problem.startswith(f"uid {fields.MIN_POD_UID - 1} is below {fields.MIN_POD_UID}")
    assert f"a uid of {fields.MIN_POD_UID} or more" in fix


def test_the_removed_hpa_component_says_where_autoscaling_went() -> None:
    for known in fields.COMPONENTS:
        assert fields.component(known) is None
    problem, fix = fields.component("hpa") or ("", "")
    assert problem.startswith("the hpa component is gone") and "autoscale: {min: 2, max: 6, cpu: 70}" in fix
    assert fields.component("ingres") is not None


def test_a_secret_name_is_a_variable_name_of_at_most_a_secret_keys_length() -> None:
    assert fields.secret_name("A" * fields.MAX_SECRET_NAME) is None
    problem, fix = fields.secret_name("A" * (fields.MAX_SECRET_NAME + 1)) or ("", "")
    assert problem.startswith(f"the secret name is {fields.MAX_SECRET_NAME + 1} characters")
    assert fix == f"shorten it to at most {fields.MAX_SECRET_NAME} characters"
    assert fields.secret_name("not a name") is not None


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("app/main.py", "is not an absolute path in the container"),
        ("/", "is the container's root"),
        ("//", "is the container's root"),
        ("/app/../etc", "climbs out of its folder"),
        ("/app/ma in.py", "has characters"),
    ],
)
def test_a_sync_target_is_an_absolute_container_path(path: str, says: str) -> None:
    assert fields.container_path("/app/srv/main.py") is None and fields.container_path("/app/") is None
    problem, fix = fields.container_path(path) or ("", "")
    assert says in problem and fix.startswith("write the path the image keeps this code at")


def test_a_sync_restart_is_the_container_keyword_or_a_command() -> None:
    assert fields.sync_restart("container") is None and fields.sync_restart("kill -HUP 1") is None
    problem, fix = fields.sync_restart("Container") or ("", "")
    assert "is not the keyword 'container'" in problem and "kill -HUP 1" in fix
    assert fields.sync_restart(" ") is not None


def test_an_unknown_platform_is_refused_at_its_line_with_the_known_ones(root: Path) -> None:
    data = stack()
    data["images"]["platforms"] = ["linux/amd64", "linux/s390x"]
    err = refused(root, data)
    assert (err.file, err.keypath) == ("environments/stack.yaml", "images.platforms[1]")
    lines = (root / "environments/stack.yaml").read_text().splitlines()
    assert err.line is not None and lines[err.line - 1].strip() == "- linux/s390x"
    assert "linux/amd64" in f"{err.problem} {err.fix}" and "linux/arm64" in f"{err.problem} {err.fix}"
    data["images"]["platforms"] = ["linux/arm64", "linux/amd64"]
    assert load(root, data).images.platforms == ("linux/arm64", "linux/amd64")
    assert load(root, stack()).images.platforms == ()  # none listed: the host's
