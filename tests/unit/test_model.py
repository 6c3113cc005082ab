"""The typed configuration (tasks/model.py): its queries, and that nothing can change it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tasks.model import STACK, ArgoCD, Build, Health, Metrics, Port
from testing.configs import cloud, cloud_database, config, database, service


def test_model_queries() -> None:
    cfg = config(
        "dev",
        [service("web-api"), service("migrate", kind="job"), service("worker")],
        [
            database("pg", "cluster", build="docker/pg"),
            database("cache", "cluster"),
            database("queue", "compose", build="docker/queue"),
            database("old", "disabled", build="docker/old"),
            database("ext", "external"),
        ],
    )
    assert cfg.services["web-api"].env_prefix == "WEB_API"
    assert cfg.image_ref("worker") == "acme/worker"
    assert [s.name for s in cfg.deployments()] == ["web-api", "worker"]
    assert [s.name for s in cfg.jobs()] == ["migrate"]
    assert cfg.built_images() == ["web-api", "migrate", "worker", "pg", "queue"]
    assert cfg.cluster_images() == ["web-api", "migrate", "worker", "pg"]
    assert [d.name for d in cfg.placed("cluster")] == ["pg", "cache"]
    assert [d.name for d in cfg.placed("external")] == ["ext"]


def test_monitored_services_are_the_deployments_that_declare_metrics() -> None:
    metrics = Metrics(port=8080, path="/metrics", port_name="http")
    cfg = config(
        "dev",
        [service("web", metrics=metrics), service("worker"), service("migrate", kind="job", metrics=metrics)],
        [],
    )
    assert [s.name for s in cfg.monitored()] == ["web"]


def test_a_service_is_given_only_what_it_uses() -> None:
    cfg = config(
        "dev",
        [
            service("web", uses=("pg",), optional_uses=("old", "cache"), secrets=("API_KEY",)),
            service("quiet", secrets=("API_KEY",)),
        ],
        [
            database(
                "pg", env_var="PG_ADDR", endpoint="pg:5432", secret_env={"POSTGRES_PASSWORD": "PG_PASSWORD"}
            ),
            database("cache", env_var="CACHE_ADDR", endpoint="cache:6379", secret_env={"A": "CACHE_TOKEN"}),
            database("old", "disabled", env_var="OLD_ADDR", secret_env={"B": "OLD_SECRET"}),
            database("other", env_var="OTHER_ADDR", secret_env={"C": "OTHER_SECRET"}),
        ],
    )
    web, quiet = cfg.services["web"], cfg.services["quiet"]
    assert [db.name for db in cfg.used(web)] == ["pg", "cache"]  # not the disabled one, nor `other`
    assert cfg.addresses(web) == {"PG_ADDR": "pg:5432", "CACHE_ADDR": "cache:6379"}
    assert cfg.secrets_of(web) == ("PG_PASSWORD", "CACHE_TOKEN", "API_KEY")
    assert (cfg.addresses(quiet), cfg.secrets_of(quiet)) == ({}, ("API_KEY",))


def test_the_configuration_is_immutable() -> None:
    cfg = config("dev", [service("web", ports=(Port("http", 80, None),))], [database("pg")])
    web = cfg.services["web"]
    health = Health(kind="tcp", port=1)
    objects: list[Any] = [
        cfg,
        cfg.images,
        cfg.minikube,
        web,
        web.ports[0],
        web.build,
        cfg.databases["pg"],
        health,
        *_cloud_parts(),
    ]
    for obj in objects:
        name = dataclasses.fields(obj)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, name, None)
    assert Build(context="app", dockerfile="app/Dockerfile").builder is False


def _cloud_parts() -> list[Any]:
    block = cloud(databases={"pg": cloud_database("rds-postgres", instance_class="db.t4g.micro")})
    return [block, block.node_count, block.state, block.access, block.github, block.databases["pg"]]


def test_a_cloud_block_has_the_defaults_a_file_may_leave_out() -> None:
    block = cloud()
    assert block.endpoint_private is False and block.endpoint_public_cidrs == ()
    assert block.create_shared is False and block.access.readers == ()


def test_the_stack_alone_has_a_name_no_environment_can_have() -> None:
    # environments/<name>.yaml is an environment; stack.yaml is the stack itself.
    assert STACK == "stack"
    assert config(STACK, [], []).env == STACK


def test_an_argo_cd_application_is_named_after_project_and_environment_with_safe_defaults() -> None:
    dev = config("dev", [], [], runtime="kubernetes", cloud=cloud())
    assert dev.application_name() == f"{dev.project}-dev"
    defaults = ArgoCD("https://github.com/o/r.git")
    assert (defaults.revision, defaults.namespace, defaults.project) == ("HEAD", "argocd", "default")
    assert (defaults.automated, defaults.prune, defaults.self_heal) == (True, False, True)
    assert dev.cloud is not None and (dev.cloud.deploy_mode, dev.cloud.argocd) == ("kubectl", None)
