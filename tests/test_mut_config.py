"""Configuration loading (tasks/config/load.py): the rules and derived values bench/mutation.py
found unguarded.

Each test writes a small made-up stack (one service, one job, one database) to a temporary
project and calls `config.load` on it directly: fast, and each rule is seen alone. The
realistic end-to-end mistakes are in tests/test_config.py and tests/test_bad_inputs.py."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.config import load as config
from tasks.errors import ConfigError, StackError
from tasks.model import Build, Config, Database, Health, Port

RESOURCES = {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": 1, "memory": "128Mi"}}
STACK: dict[str, Any] = {
    "project": "shop",
    "namespace": "shop",
    "network": "shop-net",
    "images": {"prefix": "acme", "service_build": {"context": "app"}},
    "services": {
        "web": {
            "command": ["serve"],
            "health": {"port": 8080, "path": "/healthz"},
            "ports": [{"name": "http", "port": 8080, "publish": 8080}],
            "uses": ["pg"],
            "resources": RESOURCES,
        },
        "migrate": {"kind": "job", "command": ["migrate"], "uses": ["pg"], "resources": RESOURCES},
    },
    "secrets": ["PG_PASSWORD"],
    "databases": {
        "pg": {
            "image": "postgres:16",
            "port": 5432,
            "publish": 15432,
            "env_var": "PG_HOST",
            "data_dir": "/data",
            "secret_env": {"POSTGRES_PASSWORD": "PG_PASSWORD"},
        }
    },
}
CLOUD: dict[str, Any] = {
    "region": "us-west-2",
    "cluster_name": "shop-dev",
    "registry": "123456789012.dkr.ecr.us-west-2.amazonaws.com",
    "vpc_cidr": "10.10.0.0/16",
    "node_instance_types": ["t3.medium"],
    "node_count": {"min": 1, "max": 3, "desired": 2},
    "state": {"bucket": "shop-tfstate-dev", "lock_table": "shop-tflock-dev"},
    "cluster_version": "1.33",
    "endpoint_public_cidrs": ["203.0.113.0/24"],
    "access": {"admins": ["arn:aws:iam::123456789012:role/admin"]},
    "github": {"repository": "acme/shop"},
}


def stack() -> dict[str, Any]:
    return copy.deepcopy(STACK)


def write(root: Path, name: str, data: dict[str, Any]) -> None:
    folder = root / "environments"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text("FROM scratch\n")
    write(tmp_path, "stack.yaml", STACK)
    return tmp_path


def load(root: Path, data: dict[str, Any] | None = None, env: dict[str, Any] | None = None) -> Config:
    """The stack (`data`, else the default one) alone, or with `env` as environments/test.yaml."""
    if data is not None:
        write(root, "stack.yaml", data)
    if env is None:
        return config.load(None, root)
    write(root, "test.yaml", env)
    return config.load("test", root)


def refused(root: Path, data: dict[str, Any] | None = None, env: dict[str, Any] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(root, data, env)
    return info.value


KUBE = {"runtime": "kubernetes", "placement": {"pg": "compose"}}
LOCAL = {"runtime": "compose", "placement": {"pg": "compose"}}


# --- what a valid stack loads into ---------------------------------------------------


def test_the_stack_alone_loads_with_defaults(root: Path) -> None:
    cfg = load(root)
    assert cfg.env is None and cfg.runtime == "compose" and cfg.protected is False
    assert (cfg.project, cfg.namespace, cfg.network, cfg.kubernetes_version) == (
        "shop",
        "shop",
        "shop-net",
        "1.33.0",
    )
    assert cfg.images.prefix == "acme" and cfg.images.base == "pull" and cfg.images.builder is None
    assert (cfg.images.base_image, cfg.images.suite, cfg.images.uid) == (
        "debian:bookworm-slim",
        "bookworm",
        10001,
    )
    assert cfg.minikube.profile == "minikube" and cfg.minikube.addons == ()
    assert (cfg.minikube.driver, cfg.minikube.cpus, cfg.minikube.memory) == ("docker", 2, 4096)
    assert (cfg.minikube.disk, cfg.minikube.image_strategy) == ("20g", "docker-env")
    assert cfg.host_address == "host.docker.internal"
    assert cfg.timeouts == {"rollout": 180, "healthy": 120}
    assert cfg.hooks == {"pre_build": (), "post_build": ()}
    assert cfg.secrets == ("PG_PASSWORD",) and cfg.config == {} and cfg.components == () and cfg.cloud is None
    assert cfg.sources == (root / "environments" / "stack.yaml",)
    web = cfg.services["web"]
    assert web.kind == "deployment" and web.replicas == 1 and web.command == ("serve",)
    assert web.ports == (Port("http", 8080, 8080),)
    assert web.health == Health(kind="http", port=8080, path="/healthz", command=())
    assert web.uses == ("pg",) and web.optional_uses == () and web.env == {}
    assert web.requests == {"cpu": "100m", "memory": "64Mi"} and web.limits == {"cpu": "1", "memory": "128Mi"}
    assert web.build == Build(context="app", dockerfile="app/Dockerfile", target=None, args={}, builder=False)
    assert cfg.services["migrate"].kind == "job" and cfg.services["migrate"].health is None
    assert cfg.databases["pg"] == Database(
        name="pg",
        image="postgres:16",
        build=None,
        port=5432,
        env_var="PG_HOST",
        placement="compose",
        endpoint="pg:5432",
        cluster=None,
        publish=15432,
        command=(),
        healthcheck=(),
        data_dir="/data",
        env={},
        secret_env={"POSTGRES_PASSWORD": "PG_PASSWORD"},
    )


def test_every_setting_reaches_the_config(root: Path) -> None:
    data = stack()
    (root / "builder").mkdir()
    (root / "builder" / "Containerfile").write_text("FROM scratch\n")
    data["images"]["builder"] = {"context": "builder/", "dockerfile": "builder/Containerfile"}
    data["images"]["service_build"]["builder"] = True
    data["services"]["web"]["env"] = {"LOG": "debug"}
    data["services"]["web"]["replicas"] = 0
    data["services"]["web"]["optional_uses"] = ["cache"]
    data["databases"]["cache"] = {
        "image": "redis:7",
        "port": 6379,
        "env_var": "CACHE_HOST",
        "command": ["redis-server"],
        "healthcheck": ["redis-cli", "ping"],
        "env": {"A": 1},
        "cluster": {"storage": "1Gi", "uid": 1},
        "data_dir": "/data",
    }
    data["config"] = {"NODE_ENV": "x"}
    data["components"] = ["hpa"]
    data["hooks"] = {"pre_build": ["make assets"]}
    data["minikube"] = {"addons": ["ingress"]}
    cfg = load(
        root,
        data,
        {
            **KUBE,
            "protected": True,
            "placement": {"pg": "external", "cache": "cluster"},
            "endpoints": {"pg": "db.example.com:5432"},
            "timeouts": {"rollout": 5},
        },
    )
    assert cfg.env == "test" and cfg.protected is True and cfg.runtime == "kubernetes"
    assert cfg.images.builder == Build(context="builder", dockerfile="builder/Containerfile")
    assert cfg.services["web"].build.builder is True and cfg.services["web"].env == {"LOG": "debug"}
    assert cfg.services["web"].replicas == 0 and cfg.services["web"].optional_uses == ("cache",)
    assert cfg.config == {"NODE_ENV": "x"} and cfg.components == ("hpa",)
    assert cfg.hooks == {"pre_build": ("make assets",), "post_build": ()}
    assert cfg.minikube.addons == ("ingress",)
    assert cfg.timeouts == {"rollout": 5, "healthy": 120}
    cache = cfg.databases["cache"]
    assert (cache.command, cache.healthcheck, cache.env) == (
        ("redis-server",),
        ("redis-cli", "ping"),
        {"A": 1},
    )
    assert cache.cluster == {"storage": "1Gi", "uid": 1} and cache.placement == "cluster"
    assert cache.endpoint == "cache:6379"
    assert cfg.databases["pg"].endpoint == "db.example.com:5432"
    assert cfg.sources == (root / "environments/stack.yaml", root / "environments/test.yaml")


def test_a_host_database_is_reached_from_a_cluster_where_the_host_publishes_it(root: Path) -> None:
    assert load(root, None, KUBE).databases["pg"].endpoint == "host.docker.internal:15432"
    assert (
        load(root, None, {**KUBE, "host_address": "host.minikube.internal"}).databases["pg"].endpoint
        == "host.minikube.internal:15432"
    )
    data = stack()
    del data["databases"]["pg"]["publish"]
    assert load(root, data, KUBE).databases["pg"].endpoint == "host.docker.internal:5432"
    assert load(root, data, LOCAL).databases["pg"].endpoint == "pg:5432"


def test_an_edited_file_is_read_again(root: Path) -> None:
    assert load(root, None, LOCAL).services["web"].replicas == 1
    write(root, "test.yaml", {**LOCAL, "services": {"web": {"replicas": 1, "env": {"A": "long enough"}}}})
    assert config.load("test", root).services["web"].env == {"A": "long enough"}


def test_environment_files_merge_mappings_and_replace_lists(root: Path) -> None:
    cfg = load(root, None, {**LOCAL, "services": {"web": {"command": ["run", "fast"], "env": {"B": "2"}}}})
    web = cfg.services["web"]
    assert web.command == ("run", "fast") and web.env == {"B": "2"}
    assert web.health == Health(kind="http", port=8080, path="/healthz")


def test_a_disabled_service_is_left_out(root: Path) -> None:
    cfg = load(root, None, {**LOCAL, "disabled_services": ["migrate"]})
    assert list(cfg.services) == ["web"]


# --- environment names ---------------------------------------------------------------


def test_environments_are_the_visible_yaml_files_beside_the_stack(root: Path) -> None:
    for name in ("b.yaml", "a.yaml", ".#a.yaml", "notes.txt"):
        (root / "environments" / name).write_text("runtime: compose\n")
    assert config.environments(root) == ["a", "b"]
    assert config.env_file("a", root) == root / "environments" / "a.yaml"


def test_unknown_environment_names(root: Path) -> None:
    write(root, "local.yaml", LOCAL)

    def message(name: str) -> str:
        with pytest.raises(StackError) as info:
            config.check_env_name(name, root)
        assert not isinstance(info.value, ConfigError)
        return str(info.value)

    config.check_env_name("local", root)
    assert (
        message("local.yaml")
        == "unknown environment 'local.yaml'\nFix: write env=local (the file name without .yaml)"
    )
    assert message("local.yml").endswith("write env=local (the file name without .yaml)")
    assert message("locl") == (
        "unknown environment 'locl'; known environments: local\n"
        "Fix: did you mean 'local'? To add one, copy a small file: "
        "cp environments/local.yaml environments/locl.yaml"
    )
    assert message("qa") == (
        "unknown environment 'qa'; known environments: local\n"
        "Fix: To add one, copy a small file: cp environments/local.yaml environments/qa.yaml"
    )
    how = "use lowercase letters, digits and '-' (an environment is environments/<name>.yaml)"
    assert message("").endswith(f"Fix: {how}")
    assert message("Q_A").endswith(f"Fix: {how}")
    (root / "environments" / "local.yaml").unlink()
    assert message("qa") == (
        "unknown environment 'qa'; known environments: (none)\n"
        "Fix: create environments/qa.yaml (see README, Configuration reference)"
    )


@pytest.mark.parametrize("name, example", [("Dev_1", "dev-1"), ("___", "myenv")])
def test_an_environment_file_name_must_be_a_dns_label(root: Path, name: str, example: str) -> None:
    write(root, f"{name}.yaml", LOCAL)
    with pytest.raises(ConfigError) as info:
        config.load(name, root)
    err = info.value
    assert (err.file, err.keypath, err.line) == (f"environments/{name}.yaml", "(file name)", None)
    assert err.problem == f"environment name {name!r} is not a valid DNS-1123 label"
    assert err.fix == (
        f"rename the file to lowercase letters, digits and '-' (e.g. environments/{example}.yaml)"
    )


# --- where an error is reported ------------------------------------------------------


def test_the_stack_alone_must_name_what_defaults_would_fill(root: Path) -> None:
    data = stack()
    del data["images"]
    for svc in data["services"].values():
        svc["build"] = {"context": "app"}
    err = refused(root, data)
    assert (err.file, err.keypath) == ("environments/stack.yaml", "")
    assert err.problem == "missing required key 'images'"


def test_a_key_missing_after_the_merge_is_named_with_where_to_add_it(root: Path) -> None:
    # An environment file may add a service: what it requires is checked on the merged result.
    err = refused(root, None, {**LOCAL, "services": {"api": {"kind": "job", "resources": RESOURCES}}})
    assert (err.file, err.keypath, err.line) == ("environments/test.yaml", "services.api", 5)
    assert err.problem == "missing required key 'command'" and err.fix == "add `command:` under services.api"


def test_an_error_is_reported_in_the_file_that_set_the_key(root: Path) -> None:
    err = refused(root, None, {**LOCAL, "services": {"web": {"replicas": 2}}})
    assert (err.file, err.keypath, err.line) == ("environments/test.yaml", "services.web.replicas", 6)
    # Set only in the stack: reported there, though an environment file is loaded.
    data = stack()
    data["services"]["web"]["replicas"] = 2
    err = refused(root, data, LOCAL)
    assert (err.file, err.keypath) == ("environments/stack.yaml", "services.web.replicas")


# --- placement and endpoints ---------------------------------------------------------


def test_placement_and_endpoints_name_known_databases(root: Path) -> None:
    err = refused(root, None, {**LOCAL, "placement": {"pg": "compose", "pgg": "compose"}})
    assert (err.keypath, err.problem, err.fix) == (
        "placement.pgg",
        "unknown database 'pgg'",
        "did you mean 'pg'? (allowed: pg)",
    )
    err = refused(root, None, {**LOCAL, "endpoints": {"pgs": "db:1"}})
    assert (err.keypath, err.problem, err.fix) == (
        "endpoints.pgs",
        "unknown database 'pgs'",
        "did you mean 'pg'? (allowed: pg)",
    )


def test_each_database_needs_a_placement_in_an_environment(root: Path) -> None:
    err = refused(root, None, {"runtime": "compose"})
    assert (err.file, err.keypath) == ("environments/test.yaml", "placement")
    assert err.problem == "database 'pg' has no placement"
    assert err.fix == "add `pg: compose|cluster|external|disabled` under placement"


def test_cluster_placement_needs_a_cluster_block_and_kubernetes(root: Path) -> None:
    err = refused(root, None, {**KUBE, "placement": {"pg": "cluster"}})
    assert err.keypath == "placement.pg" and err.problem.startswith("pg cannot be placed in the cluster")
    data = stack()
    data["databases"]["pg"]["cluster"] = {"storage": "1Gi"}
    err = refused(root, data, {**LOCAL, "placement": {"pg": "cluster"}})
    assert (err.keypath, err.problem) == ("placement.pg", "pg is placed in a cluster, but runtime is compose")
    assert err.fix == "use `placement: compose` or `runtime: kubernetes`"
    assert load(root, data, {**KUBE, "placement": {"pg": "cluster"}}).databases["pg"].placement == "cluster"


def test_an_external_database_needs_an_endpoint_and_only_it_may_have_one(root: Path) -> None:
    err = refused(root, None, {**KUBE, "placement": {"pg": "external"}})
    assert (err.keypath, err.problem, err.fix) == (
        "endpoints",
        "pg is external but has no endpoint",
        "add `pg: host:port` under endpoints",
    )
    err = refused(root, None, {**KUBE, "endpoints": {"pg": "db:5432"}})
    assert (err.keypath, err.problem) == (
        "endpoints.pg",
        "pg is placed compose here, so its endpoint is unused",
    )
    assert err.fix == "remove `pg` from endpoints, or place it `external`"


# --- services ------------------------------------------------------------------------


def test_secret_env_names_a_declared_secret(root: Path) -> None:
    data = stack()
    data["secrets"] = ["OTHER"]
    err = refused(root, data)
    assert (err.keypath, err.problem) == (
        "databases.pg.secret_env.POSTGRES_PASSWORD",
        "undeclared secret 'PG_PASSWORD'",
    )
    assert err.fix == "add PG_PASSWORD to the top-level `secrets:` list"


def test_disabled_services_and_uses_name_known_things(root: Path) -> None:
    err = refused(root, None, {**LOCAL, "disabled_services": ["migrate", "wbe"]})
    assert (err.keypath, err.problem, err.fix) == (
        "disabled_services[1]",
        "unknown service 'wbe'",
        "did you mean 'web'? (allowed: migrate, web)",
    )
    for key in ("uses", "optional_uses"):
        data = stack()
        data["services"]["migrate"][key] = ["pg", "pgx"]
        err = refused(root, data)
        assert (err.keypath, err.problem, err.fix) == (
            f"services.migrate.{key}[1]",
            "unknown database 'pgx'",
            "did you mean 'pg'? (allowed: pg)",
        )


def test_a_service_using_a_disabled_database_must_be_disabled(root: Path) -> None:
    err = refused(root, None, {**LOCAL, "placement": {"pg": "disabled"}, "disabled_services": ["migrate"]})
    assert (err.keypath, err.problem) == (
        "disabled_services",
        "service 'web' needs pg, which is disabled here",
    )
    assert err.fix == "add web to disabled_services, or place pg"
    cfg = load(
        root, None, {**LOCAL, "placement": {"pg": "disabled"}, "disabled_services": ["migrate", "web"]}
    )
    assert cfg.services == {}


def test_an_optional_use_may_be_disabled(root: Path) -> None:
    data = stack()
    data["services"]["migrate"]["uses"] = []
    data["services"]["migrate"]["optional_uses"] = ["pg"]
    cfg = load(root, data, {**LOCAL, "placement": {"pg": "disabled"}, "disabled_services": ["web"]})
    assert cfg.services["migrate"].optional_uses == ("pg",)


def test_deployments_need_a_health_check_and_jobs_may_not_have_one(root: Path) -> None:
    data = stack()
    del data["services"]["web"]["health"]
    err = refused(root, data)
    assert (err.keypath, err.problem) == ("services.web", "deployment 'web' has no health check")
    data = stack()
    data["services"]["migrate"]["health"] = {"kind": "tcp", "port": 1}
    err = refused(root, data)
    assert (err.keypath, err.problem) == ("services.migrate.health", "job 'migrate' has a health check")
    assert err.fix == "remove it: a job runs once, and its exit code says whether it worked"


@pytest.mark.parametrize(
    "health, keypath, problem, fix",
    [
        (
            {"port": 1},
            "services.web.health",
            "a health check of kind http needs 'path'",
            "add `path: /healthz` under health",
        ),
        (
            {"kind": "tcp"},
            "services.web.health",
            "a health check of kind tcp needs 'port'",
            "add `port: 8080` under health",
        ),
        (
            {"kind": "exec"},
            "services.web.health",
            "a health check of kind exec needs 'command'",
            "add `command: [my-check]` under health",
        ),
        (
            {"kind": "tcp", "port": 1, "path": "/x"},
            "services.web.health.path",
            "'path' is not used by a health check of kind tcp",
            "remove it, or set the kind that uses it (http)",
        ),
        (
            {"kind": "exec", "command": ["x"], "port": 1},
            "services.web.health.port",
            "'port' is not used by a health check of kind exec",
            "remove it, or set the kind that uses it (http, tcp)",
        ),
        (
            {"kind": "exec", "command": []},
            "services.web.health.command",
            "the health command is empty",
            "write the program and its arguments, e.g. [my-check, --quiet]",
        ),
    ],
)
def test_a_health_check_has_exactly_the_keys_of_its_kind(
    root: Path, health: dict[str, Any], keypath: str, problem: str, fix: str
) -> None:
    data = stack()
    data["services"]["web"]["health"] = health
    err = refused(root, data)
    assert (err.keypath, err.problem, err.fix) == (keypath, problem, fix)


def test_health_check_kinds_load(root: Path) -> None:
    data = stack()
    data["services"]["web"]["health"] = {"kind": "exec", "command": ["check", "-q"]}
    assert load(root, data).services["web"].health == Health(kind="exec", command=("check", "-q"))
    data["services"]["web"]["health"] = {"kind": "tcp", "port": 7}
    assert load(root, data).services["web"].health == Health(kind="tcp", port=7)


# --- builds --------------------------------------------------------------------------


def test_a_service_build_of_its_own_replaces_the_default_whole(root: Path) -> None:
    (root / "web").mkdir()
    (root / "web" / "Dockerfile.web").write_text("FROM scratch\n")
    data = stack()
    data["images"]["service_build"]["builder"] = True
    data["images"]["builder"] = {"context": "app"}
    data["services"]["web"]["build"] = {
        "context": "web",
        "dockerfile": "web/Dockerfile.web",
        "target": "runtime",
        "args": {"LEVEL": 2},
    }
    cfg = load(root, data)
    assert cfg.services["web"].build == Build("web", "web/Dockerfile.web", "runtime", {"LEVEL": 2}, False)
    assert cfg.services["migrate"].build == Build("app", "app/Dockerfile", None, {}, True)
    assert cfg.images.builder == Build("app", "app/Dockerfile")


def test_a_service_needs_a_build_spec(root: Path) -> None:
    data = stack()
    del data["images"]["service_build"]
    err = refused(root, data)
    assert (err.keypath, err.problem) == ("services.web", "service 'web' has no build spec")


def test_copying_from_the_builder_needs_a_builder(root: Path) -> None:
    data = stack()
    data["images"]["service_build"]["builder"] = True
    err = refused(root, data)
    assert (err.keypath, err.problem) == (
        "images.service_build.builder",
        "service 'web' copies from the builder, but there is no builder",
    )


@pytest.mark.parametrize("arg", ["BASE_IMAGE", "UID", "SERVICE", "BUILDER_IMAGE"])
def test_build_args_the_tool_passes_are_refused(root: Path, arg: str) -> None:
    data = stack()
    data["images"]["service_build"]["args"] = {"OK": "1", arg: "x"}
    err = refused(root, data)
    assert (err.keypath, err.problem) == (
        f"images.service_build.args.{arg}",
        f"build arg {arg} is passed by the tool itself",
    )
    data["images"]["service_build"]["args"] = {"OK": "1"}
    assert load(root, data).services["web"].build.args == {"OK": "1"}


def test_build_inputs_must_exist(root: Path) -> None:
    data = stack()
    data["images"]["service_build"] = {"context": "nowhere"}
    err = refused(root, data)
    assert (err.keypath, err.problem) == (
        "images.service_build.context",
        "nowhere is not a folder in the project",
    )
    assert err.fix == "fix the path (relative to the project root) or create it"
    (root / "app" / "Dockerfile").unlink()
    err = refused(root, stack())
    assert (err.keypath, err.problem) == (
        "images.service_build.context",
        "app/Dockerfile is not a file in the project",
    )
    data = stack()
    data["images"]["service_build"]["dockerfile"] = "app"
    err = refused(root, data)
    assert (err.keypath, err.problem) == (
        "images.service_build.dockerfile",
        "app is not a file in the project",
    )


def test_the_builder_build_inputs_must_exist(root: Path) -> None:
    data = stack()
    data["images"]["builder"] = {"context": "app", "dockerfile": "app/Dockerfile.builder"}
    err = refused(root, data)
    assert (err.keypath, err.problem) == (
        "images.builder.dockerfile",
        "app/Dockerfile.builder is not a file in the project",
    )


def test_a_database_we_build_needs_its_dockerfile_unless_disabled(root: Path) -> None:
    data = stack()
    data["databases"]["pg"]["build"] = "docker/pg"
    err = refused(root, data)
    assert (err.keypath, err.problem) == ("databases.pg.build", "docker/pg is not a folder in the project")
    (root / "docker" / "pg").mkdir(parents=True)
    err = refused(root, data)
    assert (err.keypath, err.problem) == (
        "databases.pg.build",
        "docker/pg/Dockerfile is not a file in the project",
    )
    assert load(
        root, data, {**LOCAL, "placement": {"pg": "disabled"}, "disabled_services": ["web", "migrate"]}
    )
    (root / "docker" / "pg" / "Dockerfile").write_text("FROM scratch\n")
    assert load(root, data).databases["pg"].build == "docker/pg"


# --- cross-field rules ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["base", "builder"])
def test_a_service_may_not_take_the_name_of_the_tools_images(root: Path, name: str) -> None:
    data = stack()
    data["services"][name] = data["services"].pop("migrate")
    err = refused(root, data)
    assert (err.keypath, err.problem) == (
        f"services.{name}",
        f"{name!r} is the name of the tool's own {name} image",
    )


def test_a_name_is_a_service_or_a_database(root: Path) -> None:
    data = stack()
    data["services"]["pg"] = data["services"].pop("migrate")
    err = refused(root, data)
    assert (err.keypath, err.problem) == ("services.pg", "'pg' names both a service and a database")


@pytest.mark.parametrize(
    "key, value, keypath",
    [
        ("secrets", ["PG_PASSWORD", "PG_PASSWORD"], "secrets[1]"),
        ("components", ["hpa", "ingress", "hpa"], "components[2]"),
        ("minikube", {"addons": ["a", "a"]}, "minikube.addons[1]"),
    ],
)
def test_lists_have_no_repeats(root: Path, key: str, value: Any, keypath: str) -> None:
    data = stack()
    data[key] = value
    err = refused(root, data)
    assert (err.keypath, err.fix) == (keypath, "remove the duplicate")
    assert err.problem.endswith("is listed twice")


def test_disabled_services_and_uses_have_no_repeats(root: Path) -> None:
    err = refused(root, None, {**LOCAL, "disabled_services": ["migrate", "migrate"]})
    assert err.keypath == "disabled_services[1]"
    data = stack()
    data["services"]["web"]["uses"] = ["pg", "pg"]
    assert refused(root, data).keypath == "services.web.uses[1]"
    data["services"]["web"]["uses"] = ["pg"]
    data["services"]["web"]["optional_uses"] = ["pg"]
    err = refused(root, data)
    assert (err.keypath, err.problem) == (
        "services.web.optional_uses[0]",
        "'pg' is in both uses and optional_uses",
    )


@pytest.mark.parametrize("where", ["config", "env"])
def test_a_secret_is_never_a_plain_value(root: Path, where: str) -> None:
    data = stack()
    if where == "config":
        data["config"] = {"A": "1", "PG_PASSWORD": "x"}
        keypath = "config.PG_PASSWORD"
    else:
        data["services"]["migrate"]["env"] = {"A": "1", "PG_PASSWORD": "x"}
        keypath = "services.migrate.env.PG_PASSWORD"
    err = refused(root, data)
    assert (err.keypath, err.problem) == (
        keypath,
        "PG_PASSWORD is a secret: this value would be written in plain text",
    )


def test_ports_are_unique_per_service_and_host(root: Path) -> None:
    data = stack()
    ports = data["services"]["web"]["ports"]
    ports.append({"name": "admin", "port": 8080})
    err = refused(root, data)
    assert (err.keypath, err.problem) == (
        "services.web.ports[1].port",
        "port 8080 is listed twice (also ports[0])",
    )
    ports[1] = {"name": "http", "port": 9090}
    err = refused(root, data)
    assert (err.keypath, err.problem) == (
        "services.web.ports[1].name",
        "port name 'http' is used twice (also ports[0])",
    )
    ports[1] = {"name": "admin", "port": 9090, "publish": 8080}
    err = refused(root, data)
    assert (err.keypath, err.problem) == (
        "services.web.ports[1].publish",
        "host port 8080 is already published by services.web.ports[0].publish",
    )
    ports[1] = {"name": "admin", "port": 9090, "publish": 15432}
    err = refused(root, data)
    assert (err.keypath, err.problem) == (
        "databases.pg.publish",
        "host port 15432 is already published by services.web.ports[1].publish",
    )
    # Not published on the host in this environment: no clash.
    assert load(root, data, {**KUBE, "placement": {"pg": "external"}, "endpoints": {"pg": "db:1"}})
    ports[1] = {"name": "admin", "port": 9090}
    assert len(load(root, data).services["web"].ports) == 2


@pytest.mark.parametrize(
    "res, request_, limit, ok",
    [
        ("cpu", "500m", "0.5", True),
        ("cpu", "501m", "0.5", False),
        ("cpu", "2", "1500m", False),
        ("memory", "1Gi", "1024Mi", True),
        ("memory", "1G", "1Gi", True),
        ("memory", "1025Mi", "1Gi", False),
    ],
)
def test_a_request_is_at_most_its_limit(root: Path, res: str, request_: str, limit: str, ok: bool) -> None:
    data = stack()
    data["services"]["web"]["resources"] = copy.deepcopy(RESOURCES)
    data["services"]["web"]["resources"]["requests"][res] = request_
    data["services"]["web"]["resources"]["limits"][res] = limit
    if ok:
        assert load(root, data).services["web"].limits[res] == limit
    else:
        err = refused(root, data)
        assert (err.keypath, err.problem) == (
            f"services.web.resources.requests.{res}",
            f"the {res} request {request_} is above the limit {limit}",
        )


def test_quantities() -> None:
    assert config.cpu_millis("250m") == Decimal(250) and config.cpu_millis("1.5") == Decimal(1500)
    assert [config.memory_bytes(f"1{unit}") for unit in ("Ki", "Mi", "Gi", "Ti", "K", "M", "G", "T")] == [
        1024,
        1024**2,
        1024**3,
        1024**4,
        10**3,
        10**6,
        10**9,
        10**12,
    ]
    assert config.memory_bytes("3Mi") == 3 * 1024**2 and config.memory_bytes("512") == 512


def test_a_database_that_may_run_in_a_cluster_needs_a_data_dir(root: Path) -> None:
    data = stack()
    data["databases"]["pg"]["cluster"] = {"storage": "1Gi"}
    del data["databases"]["pg"]["data_dir"]
    err = refused(root, data)
    assert (err.keypath, err.problem) == ("databases.pg", "pg may run in a cluster but has no data_dir")


def test_compose_runs_one_container_of_a_service_that_publishes_a_port(root: Path) -> None:
    err = refused(root, None, {**LOCAL, "services": {"web": {"replicas": 3}}})
    assert (err.keypath, err.problem) == (
        "services.web.replicas",
        "web publishes host port 8080, so Compose can run only one container of it, not 3",
    )
    assert load(root, None, {**KUBE, "services": {"web": {"replicas": 3}}}).services["web"].replicas == 3
    data = stack()
    data["services"]["web"]["replicas"] = 2
    assert load(root, data).services["web"].replicas == 2  # the stack alone runs nowhere
    del data["services"]["web"]["ports"][0]["publish"]
    assert load(root, data, LOCAL).services["web"].replicas == 2


# --- value checks --------------------------------------------------------------------


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
    data["databases"]["pg"]["cluster"] = {"uid": 1}
    data["config"] = {"_A1": "x"}
    cfg = load(root, data)
    assert cfg.minikube.memory == 1024 and cfg.images.uid == 2**31 - 1
    data["databases"]["pg"]["cluster"] = {"uid": 0}
    err = refused(root, data)
    assert (err.keypath, err.problem, err.fix) == (
        "databases.pg.cluster.uid",
        "0 is less than 1",
        "use 1 or more",
    )


def cloud_env(**cloud: Any) -> dict[str, Any]:
    return {**KUBE, "placement": {"pg": "external"}, "endpoints": {"pg": "db:1"}, "cloud": {**CLOUD, **cloud}}


def test_a_cloud_environment_loads(root: Path) -> None:
    cfg = load(root, None, cloud_env(endpoint_private=True, endpoint_public_cidrs=[]))
    assert cfg.cloud is not None and cfg.cloud["cluster_name"] == "shop-dev"
    load(root, None, cloud_env(node_count={"min": 2, "max": 2, "desired": 2}))


@pytest.mark.parametrize(
    "cloud, keypath, problem",
    [
        (
            {"node_count": {"min": 2, "max": 3, "desired": 1}},
            "cloud.node_count",
            "node_count needs min <= desired <= max, got min 2, desired 1, max 3",
        ),
        (
            {"node_count": {"min": 1, "max": 3, "desired": 4}},
            "cloud.node_count",
            "node_count needs min <= desired <= max, got min 1, desired 4, max 3",
        ),
        (
            {"cluster_version": "1.32"},
            "cloud.cluster_version",
            "EKS runs Kubernetes 1.32, but the manifests are validated against kubernetes_version 1.33.0",
        ),
        (
            {"endpoint_public_cidrs": []},
            "cloud",
            "the public Kubernetes API endpoint has no allowed CIDR blocks",
        ),
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
            "not",
        ),
        (
            {"databases": {"pq": {"module": "redis-cloud", "deployment_cidr": "10.1.0.0/24"}}},
            "cloud.databases.pq",
            "unknown database 'pq'",
        ),
    ],
)
def test_cloud_rules(root: Path, cloud: dict[str, Any], keypath: str, problem: str) -> None:
    err = refused(root, None, cloud_env(**cloud))
    assert err.keypath == keypath
    assert problem in err.problem


def test_cloud_settings_that_pass(root: Path) -> None:
    cfg = load(
        root,
        None,
        cloud_env(
            endpoint_public_cidrs=["10.0.0.0/8", "203.0.113.7/32"],
            access={"admins": ["arn:aws:sts::123456789012:assumed-role/a/b"], "readers": []},
            databases={"pg": {"module": "redis-cloud", "deployment_cidr": "10.1.0.0/24"}},
        ),
    )
    assert cfg.cloud is not None and cfg.cloud["databases"]["pg"]["deployment_cidr"] == "10.1.0.0/24"
