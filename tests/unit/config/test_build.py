"""Building the typed Config (tasks/config/build.py): every setting reaches it, with the
defaults and derived values (endpoints, build specs, health kinds, the typed cloud block)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.config import build
from tasks.model import (
    STACK,
    Access,
    ArgoCD,
    Build,
    CloudDatabase,
    Database,
    GitHub,
    Health,
    Metrics,
    NodeCount,
    Port,
    TerraformState,
)
from testing.configs import CLOUD, KUBE, LOCAL, cloud_env, load, read, refused, small_project, stack


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return small_project(tmp_path)


def test_the_stack_alone_loads_with_defaults(root: Path) -> None:
    cfg = load(root)
    assert cfg.env == STACK and cfg.runtime == "compose" and cfg.protected is False
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
        "cluster": {"storage": "1Gi", "uid": 10999},
        "data_dir": "/data",
    }
    data["config"] = {"NODE_ENV": "x"}
    data["components"] = ["ingress"]
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
    assert cfg.config == {"NODE_ENV": "x"} and cfg.components == ("ingress",)
    assert cfg.hooks == {"pre_build": ("make assets",), "post_build": ()}
    assert cfg.minikube.addons == ("ingress",)
    assert cfg.timeouts == {"rollout": 5, "healthy": 120}
    cache = cfg.databases["cache"]
    assert (cache.command, cache.healthcheck, cache.env) == (
        ("redis-server",),
        ("redis-cli", "ping"),
        {"A": 1},
    )
    assert cache.cluster == {"storage": "1Gi", "uid": 10999} and cache.placement == "cluster"
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
    assert build.endpoint(read(root, data, KUBE), "pg") == "host.docker.internal:5432"


def test_a_disabled_service_is_left_out(root: Path) -> None:
    assert list(load(root, None, {**LOCAL, "disabled_services": ["migrate"]}).services) == ["web"]
    assert list(build.services(read(root, None, {**LOCAL, "disabled_services": ["web"]}))) == ["migrate"]


def test_a_service_build_of_its_own_replaces_the_default_whole(root: Path) -> None:
    (root / "web").mkdir()
    (root / "web" / "Dockerfile.web").write_text("FROM scratch AS runtime\n")
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


def test_a_build_spec_defaults_to_the_contexts_dockerfile() -> None:
    assert build.build_spec({"context": "app/"}) == Build("app", "app/Dockerfile")
    assert build.build_spec({"context": "app", "dockerfile": "x/F", "builder": True}) == Build(
        "app", "x/F", builder=True
    )


def test_health_check_kinds_load(root: Path) -> None:
    data = stack()
    data["services"]["web"]["health"] = {"kind": "exec", "command": ["check", "-q"]}
    assert load(root, data).services["web"].health == Health(kind="exec", command=("check", "-q"))
    data["services"]["web"]["health"] = {"kind": "tcp", "port": 7}
    assert load(root, data).services["web"].health == Health(kind="tcp", port=7)
    assert build.health({"port": 1, "path": "/"}) == Health(kind="http", port=1, path="/")


def test_a_cloud_environment_loads_into_the_typed_cloud_block(root: Path) -> None:
    cfg = load(root, None, cloud_env(endpoint_private=True, endpoint_public_cidrs=[]))
    assert cfg.cloud is not None
    assert (cfg.cloud.region, cfg.cloud.cluster_name, cfg.cloud.cluster_version) == (
        "us-west-2",
        "shop-dev",
        "1.33",
    )
    assert cfg.cloud.registry == CLOUD["registry"] and cfg.cloud.vpc_cidr == "10.10.0.0/16"
    assert cfg.cloud.node_instance_types == ("t3.medium",)
    assert cfg.cloud.node_count == NodeCount(min=1, max=3, desired=2)
    assert cfg.cloud.state == TerraformState("shop-tfstate-dev", "shop-tflock-dev")
    assert cfg.cloud.access == Access(admins=("arn:aws:iam::123456789012:role/admin",), readers=())
    assert cfg.cloud.github == GitHub("acme/shop")
    assert cfg.cloud.endpoint_private is True and cfg.cloud.endpoint_public_cidrs == ()
    assert cfg.cloud.create_shared is False and cfg.cloud.databases == {}
    assert load(root, None, LOCAL).cloud is None


def test_the_cloud_block_keeps_what_each_file_gives(root: Path) -> None:
    cfg = load(
        root,
        None,
        cloud_env(
            endpoint_public_cidrs=["10.0.0.0/8", "203.0.113.7/32"],
            access={"admins": ["arn:aws:iam::123456789012:user/a"], "readers": []},
            create_shared=True,
            databases={"pg": {"module": "rds-postgres", "instance_class": "db.t4g.micro"}},
        ),
    )
    assert cfg.cloud is not None and cfg.cloud.create_shared is True and cfg.cloud.endpoint_private is False
    assert cfg.cloud.endpoint_public_cidrs == ("10.0.0.0/8", "203.0.113.7/32")
    assert cfg.cloud.access.admins == ("arn:aws:iam::123456789012:user/a",)
    assert cfg.cloud.databases == {"pg": CloudDatabase("rds-postgres", {"instance_class": "db.t4g.micro"})}


def test_a_cloud_environment_deploys_with_kubectl_unless_it_says_argocd(tmp_path: Path) -> None:
    root = small_project(tmp_path)
    plain = load(root, None, cloud_env())
    assert plain.cloud is not None
    assert (plain.cloud.deploy_mode, plain.cloud.argocd) == ("kubectl", None)
    argo = load(root, None, cloud_env(deploy_mode="argocd"))
    assert argo.cloud is not None and argo.cloud.deploy_mode == "argocd"
    assert argo.cloud.argocd == ArgoCD(f"https://github.com/{CLOUD['github']['repository']}.git")
    assert (argo.cloud.argocd.automated, argo.cloud.argocd.prune, argo.cloud.argocd.self_heal) == (
        True,
        False,
        True,
    )
    given = load(
        root,
        None,
        cloud_env(
            deploy_mode="argocd",
            argocd={"repo_url": "git@example.com:o/r.git", "revision": "release", "prune": True},
        ),
    )
    assert given.cloud is not None and given.cloud.argocd is not None
    assert (given.cloud.argocd.repo_url, given.cloud.argocd.revision, given.cloud.argocd.prune) == (
        "git@example.com:o/r.git",
        "release",
        True,
    )


def test_a_deploy_mode_other_than_kubectl_or_argocd_is_refused_at_its_line(tmp_path: Path) -> None:
    root = small_project(tmp_path)
    err = refused(root, None, cloud_env(deploy_mode="helm"))
    assert (err.file, err.keypath) == ("environments/test.yaml", "cloud.deploy_mode")
    assert err.line is not None and err.line > 1
    assert err.problem == "'helm' is not one of kubectl, argocd"
    assert "argocd, kubectl" in str(err.fix)


def test_metrics_load_with_the_name_of_their_port_and_the_prometheus_namespace(root: Path) -> None:
    data = stack()
    data["services"]["web"]["ports"].append({"name": "metrics", "port": 9100})
    data["services"]["web"]["metrics"] = {"port": 9100, "path": "/stats"}
    data["monitoring"] = {"namespace": "observability"}
    cfg = load(root, data, KUBE)
    assert cfg.services["web"].metrics == Metrics(port=9100, path="/stats", port_name="metrics", queue=None)
    assert cfg.services["migrate"].metrics is None
    assert cfg.monitoring_namespace == "observability"
    assert load(root, stack(), KUBE).monitoring_namespace == "monitoring"
