"""What `doit validate` checks, on the committed overlays: each builds with real kustomize, passes
strict schemas and the restricted profile, and holds what its environment says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.checks import policy
from tasks.config import load as config
from tasks.programs import tools
from testing.configs import edit
from testing.project import REPO, run_doit

OVERLAYS = sorted(p.name for p in (REPO / "k8s" / "overlays").iterdir())
VERSION = config.load_stack(REPO).kubernetes_version
LOGGING = f"{config.load_stack(REPO).project}-logging"  # the logging component's namespace


def build(env: str) -> list[dict[str, Any]]:
    text = tools.run("kubectl", "kustomize", str(REPO / "k8s" / "overlays" / env)).stdout
    return [doc for doc in yaml.safe_load_all(text) if doc]


def stack_config(docs: list[dict[str, Any]]) -> dict[str, str]:
    """The stack's addresses ConfigMap (the logging component has a ConfigMap of its own)."""
    wanted = ("ConfigMap", "srvthreds-addresses")
    (data,) = [d["data"] for d in docs if (d["kind"], d["metadata"]["name"]) == wanted]
    return dict(data)


def kinds(docs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(d["kind"], d["metadata"]["name"]) for d in docs}


def test_every_kubernetes_environment_has_an_overlay() -> None:
    expected = [e for e in config.environments(REPO) if config.load(e, REPO).runtime == "kubernetes"]
    assert OVERLAYS == sorted(expected) == ["dev", "minikube", "prod", "staging"]


@pytest.mark.parametrize("env", OVERLAYS)
def test_overlay_is_valid_and_restricted(env: str, tmp_path: Any) -> None:
    docs = build(env)
    out = tmp_path / f"{env}.yaml"
    out.write_text(yaml.safe_dump_all(docs))
    tools.run("kubernetes-validate", "--strict", "--quiet", "-k", VERSION, str(out))
    # The logging component (prod lists it) is the one written exception, in its own namespace.
    assert policy.violations(docs, [policy.log_shipper(LOGGING)]) == []
    names = {name for _, name in kinds(docs)}
    assert (("DaemonSet", "fluent-bit") in kinds(docs)) == (env == "prod")  # prod lists `logging`
    assert "mongodb" not in names and "redis" not in names
    for doc in docs:
        if doc["kind"] in ("Namespace", "ClusterRole", "ClusterRoleBinding"):
            continue
        # Every other object, components' included, lands in ours; the logging component's in its own.
        expected = LOGGING if doc["metadata"]["name"] == "fluent-bit" else "srvthreds"
        assert doc["metadata"].get("namespace") == expected, f"{doc['kind']}/{doc['metadata']['name']}"


def test_minikube_overlay_content() -> None:
    docs = build("minikube")
    found = kinds(docs)
    for item in [
        ("Deployment", "engine"),
        ("Deployment", "session-agent"),
        ("Deployment", "persistence-agent"),
        ("Job", "bootstrap"),
        ("StatefulSet", "rabbitmq"),
        ("ConfigMap", "srvthreds-config"),
        ("Ingress", "srvthreds"),
    ]:
        assert item in found
    data = stack_config(docs)
    assert data["MONGO_HOST"] == "host.minikube.internal:27017"
    assert data["REDIS_HOST"] == "host.minikube.internal:6379"
    assert data["RABBITMQ_HOST"] == "rabbitmq:5672"


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_cloud_overlays_use_managed_endpoints_and_drop_rabbitmq(env: str) -> None:
    docs = build(env)
    assert ("StatefulSet", "rabbitmq") not in kinds(docs)
    data = stack_config(docs)
    assert data["MONGO_HOST"].endswith(".mongodb.net:27017")
    assert "cloudamqp.com" in data["RABBITMQ_HOST"]
    images = {
        c["image"]
        for d in docs
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert all(i.startswith("123456789012.dkr.ecr.us-west-2.amazonaws.com/srvthreds/") for i in images)


def test_prod_scales_engine_and_agents() -> None:
    replicas = {
        d["metadata"]["name"]: d["spec"]["replicas"] for d in build("prod") if d["kind"] == "Deployment"
    }
    assert replicas == {"engine": 3, "session-agent": 2, "persistence-agent": 2}


def test_prod_watches_each_service_that_declares_metrics() -> None:
    docs = build("prod")
    watched = {"engine", "session-agent", "persistence-agent"}
    assert {name for kind, name in kinds(docs) if kind == "ServiceMonitor"} == watched
    assert {name for kind, name in kinds(docs) if kind == "PrometheusRule"} == {
        f"srvthreds-alerts-{name}" for name in watched
    }
    assert {name for kind, name in kinds(docs) if kind == "ConfigMap" and "-dashboard-" in name} == {
        f"srvthreds-dashboard-{name}" for name in watched
    }
    assert {
        name for kind, name in kinds(docs) if kind == "NetworkPolicy" and name.startswith("allow-metrics-")
    } == {f"allow-metrics-{name}" for name in watched}


def test_an_environment_may_scrape_by_annotation_instead(project: Path) -> None:
    """The other monitoring component, in a copy's Minikube environment: it renders, passes
    `doit validate` (strict schemas, restricted profile) and annotates the watched pods."""
    edit(project, "minikube.yaml", "components: [ingress]", "components: [ingress, monitoring-annotations]")
    result = run_doit(project, "render", "validate:k8s-minikube")
    assert result.code == 0, result.out
    docs = [d for d in yaml.safe_load_all((project / ".build/manifests/minikube.yaml").read_text()) if d]
    assert not {kind for kind, _ in kinds(docs)} & {"ServiceMonitor", "PrometheusRule"}
    annotated = {
        d["metadata"]["name"]
        for d in docs
        if d["kind"] == "Deployment"
        and d["spec"]["template"]["metadata"].get("annotations", {}).get("prometheus.io/scrape") == "true"
    }
    assert annotated == {"engine", "session-agent", "persistence-agent"}
    assert {name for kind, name in kinds(docs) if kind == "ConfigMap" and "-prometheus-rules-" in name} == {
        f"srvthreds-prometheus-rules-{name}" for name in annotated
    }
