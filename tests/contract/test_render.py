"""`doit render` as a user runs it: the committed outputs are what rendering makes, byte for byte,
in any process; every generated file names its template; an edit reaches the files it changes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.config import load as config
from tasks.programs import tools
from tasks.render import placement
from testing import netpol as netpol_table
from testing.project import REPO, run_doit
from testing.rendered import all_outputs


def _built(project: Path, env: str) -> list[dict[str, Any]]:
    """The overlay as the cluster would get it (real `kubectl kustomize`)."""
    out = tools.run("kubectl", "kustomize", str(project / "k8s/overlays" / env)).stdout
    return [d for d in yaml.safe_load_all(out) if isinstance(d, dict)]


def _named(docs: list[dict[str, Any]], kind: str, name: str) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") == kind and (d.get("metadata") or {}).get("name") == name]


def test_replicas_zero_is_accepted_and_leaves_no_autoscaler(project: Path) -> None:
    prod = project / "environments/prod.yaml"
    text = prod.read_text()
    assert "engine: {autoscale: {min: 3, max: 9, cpu: 70}}" in text
    prod.write_text(text.replace("engine: {autoscale: {min: 3, max: 9, cpu: 70}}", "engine: {replicas: 0}"))
    result = run_doit(project, "render")
    assert result.code == 0, result.out
    docs = _built(project, "prod")
    (engine,) = _named(docs, "Deployment", "engine")
    assert engine["spec"]["replicas"] == 0
    # No autoscale here: no autoscaler (the API refuses minReplicas 0) and no budget.
    assert _named(docs, "HorizontalPodAutoscaler", "engine") == []
    assert _named(docs, "PodDisruptionBudget", "engine") == []
    (other,) = _named(docs, "HorizontalPodAutoscaler", "session-agent")
    assert other["spec"]["minReplicas"] == 2
    validated = run_doit(project, "validate:k8s-prod")
    assert validated.code == 0, validated.out


def test_an_environments_autoscale_raises_the_stacks_replicas_to_its_minimum(project: Path) -> None:
    stack = project / "environments/stack.yaml"
    text = stack.read_text()
    assert text.count("    replicas: 1\n") == 3
    stack.write_text(text.replace("    replicas: 1\n", "    replicas: 0\n", 1))
    result = run_doit(project, "render")
    assert result.code == 0, result.out
    docs = _built(project, "prod")
    (engine,) = _named(docs, "Deployment", "engine")
    (hpa,) = _named(docs, "HorizontalPodAutoscaler", "engine")
    (pdb,) = _named(docs, "PodDisruptionBudget", "engine")
    assert engine["spec"]["replicas"] == hpa["spec"]["minReplicas"] == 3
    assert (hpa["spec"]["maxReplicas"], pdb["spec"]["maxUnavailable"]) == (9, 1)
    # An environment without autoscale keeps the stack's count, with no autoscaler.
    dev = _built(project, "dev")
    assert _named(dev, "Deployment", "engine")[0]["spec"]["replicas"] == 0
    assert [d for d in dev if d["kind"] in ("HorizontalPodAutoscaler", "PodDisruptionBudget")] == []


@pytest.fixture
def outputs(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(REPO)
    return all_outputs(REPO)


def test_rendering_twice_is_byte_identical(outputs: dict[str, str]) -> None:
    assert all_outputs(REPO) == outputs


def test_committed_output_is_up_to_date(outputs: dict[str, str]) -> None:
    stale = [p for p, text in outputs.items() if (REPO / p).read_text() != text]
    assert stale == [], "run `doit render` and commit the result"


def test_every_generated_file_names_its_template(outputs: dict[str, str]) -> None:
    for path, text in outputs.items():
        first = text.splitlines()[0]
        assert "Generated from templates/" in first and "`doit render`" in first, path
        template = first.split("templates/")[1].split(" ")[0]
        assert (REPO / "templates" / template).is_file(), path


def test_no_secret_value_is_rendered(outputs: dict[str, str]) -> None:
    for path, text in outputs.items():
        assert "RABBITMQ_PASSWORD=" not in text or path.endswith(".env.example"), path
        if path.endswith(".env.example"):
            assert "RABBITMQ_PASSWORD=change-me" in text


def test_offline_compose_has_no_mongodb_and_no_persistence_agent(outputs: dict[str, str]) -> None:
    db = outputs["compose/offline/docker-compose-db.yml"]
    services = outputs["compose/offline/docker-compose-services.yml"]
    assert "mongodb" not in db and "redis:" in db and "${REDIS_IMAGE:-srvthreds/redis-offline:latest}" in db
    assert "persistence-agent" not in services and "MONGO_HOST" not in services


def test_local_compose_initialises_the_mongodb_replica_set(outputs: dict[str, str]) -> None:
    db = outputs["compose/local/docker-compose-db.yml"]
    assert "rs.initiate" in db and '"--replSet", "rs0"' in db


# Rendering twice in one process uses one hash seed, so iterating a set (whose order depends on
# PYTHONHASHSEED) looks stable there and still changes the output from one `doit render` to the
# next. So each render below runs in a fresh interpreter with its own PYTHONHASHSEED.
# Every environment's outputs (testing/rendered.py all_outputs), as path -> sha256.
RENDER = """
import hashlib, json, os, sys
from pathlib import Path
os.chdir(sys.argv[1])
sys.path.insert(0, sys.argv[1])
from testing.rendered import all_outputs
out = all_outputs(Path(sys.argv[1]))
print(json.dumps({p: hashlib.sha256(t.encode()).hexdigest() for p, t in sorted(out.items())}))
"""


SEEDS = ("0", "1", "4242")


def _render(seed: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONHASHSEED=seed)
    result = subprocess.run(
        [sys.executable, "-c", RENDER, str(REPO)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rendered: dict[str, str] = json.loads(result.stdout)
    return rendered


def test_render_is_byte_identical_under_different_hash_seeds() -> None:
    first, *others = [_render(seed) for seed in SEEDS]
    assert len(first) > 20  # every environment rendered, not an empty dict twice
    for seed, other in zip(SEEDS[1:], others, strict=False):
        differ = sorted(p for p in first.keys() | other.keys() if first.get(p) != other.get(p))
        assert differ == [], f"PYTHONHASHSEED={seed} renders these differently from seed {SEEDS[0]}: {differ}"


def test_each_fresh_process_renders_what_is_committed() -> None:
    rendered = _render("12345")
    stale = sorted(
        p for p, digest in rendered.items() if hashlib.sha256((REPO / p).read_bytes()).hexdigest() != digest
    )
    assert stale == [], "run `doit render` and commit the result"


def test_committed_placement_doc_is_up_to_date() -> None:
    configs = [config.load(env, REPO) for env in config.environments(REPO)]
    assert (REPO / placement.PATH).read_text() == placement.markdown(configs), (
        "run `doit render` and commit docs/placement.md"
    )


def test_render_rewrites_it_when_a_placement_changes(project: Path) -> None:
    assert run_doit(project, "render").code == 0
    env = project / "environments" / "local.yaml"
    env.write_text(
        env.read_text().replace("mongodb: compose", "mongodb: external")
        + "endpoints: {mongodb: mongo.example.net:27017}\n"
    )
    again = run_doit(project, "render")
    assert again.code == 0, again.out
    assert "render:docs-placement" in again.executed()
    assert "| **mongodb** | external | external |" in (project / placement.PATH).read_text()


def test_render_says_removed_for_a_file_it_deleted(project: Path) -> None:
    dev = project / "environments" / "dev.yaml"
    original = dev.read_text()
    dev.write_text(original + "services: {engine: {replicas: 7}}\n")
    first = run_doit(project, "render")
    assert first.code == 0 and "wrote k8s/overlays/dev/scale-engine.patch.yaml" in first.out, first.out
    dev.write_text(original)
    second = run_doit(project, "render")
    assert second.code == 0 and "removed k8s/overlays/dev/scale-engine.patch.yaml" in second.out, second.out
    assert "wrote k8s/overlays/dev/scale-engine.patch.yaml" not in second.out
    assert not (project / "k8s/overlays/dev/scale-engine.patch.yaml").exists()


def _policy_table(project: Path, env: str) -> tuple[dict[Any, bool], set[Any]]:
    cfg = config.load(env, project)
    return netpol_table.allowed(_built(project, env), netpol_table.pods(cfg)), netpol_table.declared(cfg)


@pytest.mark.parametrize(
    ("root", "env"), [(REPO, "minikube"), (REPO, "prod"), (REPO / "examples/guestbook", "minikube")]
)
def test_each_overlay_allows_exactly_the_declared_paths(root: Path, env: str) -> None:
    found, declared = _policy_table(root, env)
    assert found and {path for path, ok in found.items() if ok} == declared


def _egress_ports(docs: list[dict[str, Any]], workload: str) -> list[list[int]]:
    (policy,) = _named(docs, "NetworkPolicy", f"egress-{workload}")
    return [[p["port"] for p in rule["ports"]] for rule in policy["spec"]["egress"]]


def test_egress_follows_an_environments_host_port_and_endpoint(project: Path) -> None:
    """Minikube reaches the host's Redis where the host publishes it; a cloud environment
    reaches its managed Redis at its endpoint's port. Before, both were blocked at 6379."""
    minikube = project / "environments/minikube.yaml"
    minikube.write_text(minikube.read_text() + "databases:\n  redis: {publish: 18379}\n")
    dev = project / "environments/dev.yaml"
    dev.write_text(dev.read_text().replace("redis-cloud.com:6379", "redis-cloud.com:16379"))
    result = run_doit(project, "render")
    assert result.code == 0, result.out
    assert (project / "k8s/overlays/minikube/egress-engine.patch.yaml").exists()
    built = _built(project, "minikube")
    assert _egress_ports(built, "engine") == [[5672], [18379]]  # rabbitmq in the cluster, redis on the host
    assert _egress_ports(built, "persistence-agent") == [[5672], [27017]]  # unchanged: the base's
    assert not (project / "k8s/overlays/minikube/egress-persistence-agent.patch.yaml").exists()
    assert [16379] in _egress_ports(_built(project, "dev"), "session-agent")
    validated = run_doit(project, "validate:k8s-minikube", "validate:k8s-dev")
    assert validated.code == 0, validated.out


NEW_SERVICE = """  notifier:
    kind: deployment
    command: [python3, -m, srvthreds_demo.notifier]
    health: {port: 8080, path: /healthz}
    secrets: [NOTIFIER_TOKEN]
    autoscale: {min: 2, max: 5, cpu: 60}
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: 500m, memory: 256Mi}
"""


def test_a_service_added_to_the_stack_is_autoscaled_and_given_its_secrets_with_no_other_edit(
    project: Path,
) -> None:
    stack = project / "environments/stack.yaml"
    text = stack.read_text()
    assert "\nsecrets:\n" in text and "  - RABBITMQ_PASSWORD\n" in text and "\ndatabases:\n" in text
    text = text.replace("\nsecrets:\n", f"{NEW_SERVICE}\nsecrets:\n", 1)
    stack.write_text(
        text.replace("  - RABBITMQ_PASSWORD\n", "  - RABBITMQ_PASSWORD\n  - NOTIFIER_TOKEN\n", 1)
    )
    result = run_doit(project, "render", "validate:k8s-prod", "validate:k8s-dev")
    assert result.code == 0, result.out
    for env in ("prod", "dev"):
        docs = _built(project, env)
        (hpa,) = _named(docs, "HorizontalPodAutoscaler", "notifier")
        assert hpa["spec"]["scaleTargetRef"]["name"] == "notifier"
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
        assert _named(docs, "PodDisruptionBudget", "notifier") != []
        (external,) = _named(docs, "ExternalSecret", "srvthreds-secrets")
        keys = {d["secretKey"]: d["remoteRef"]["key"] for d in external["spec"]["data"]}
        assert keys == {
            "RABBITMQ_PASSWORD": f"srvthreds/{env}/RABBITMQ_PASSWORD",
            "NOTIFIER_TOKEN": f"srvthreds/{env}/NOTIFIER_TOKEN",
        }
    tfvars = (project / "terraform/environments/prod/terraform.tfvars").read_text()
    assert '["RABBITMQ_PASSWORD", "NOTIFIER_TOKEN"]' in tfvars
    # A service without autoscale gets no autoscaler.
    assert _named(_built(project, "dev"), "HorizontalPodAutoscaler", "engine") == []


def test_the_prod_overlay_autoscales_budgets_and_takes_its_secrets_from_secrets_manager() -> None:
    docs = _built(REPO, "prod")
    kinds = sorted({d["kind"] for d in docs})
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "ExternalSecret", "SecretStore"} <= set(kinds)
    deployments = sorted(d["metadata"]["name"] for d in docs if d["kind"] == "Deployment")
    for kind in ("HorizontalPodAutoscaler", "PodDisruptionBudget"):
        assert sorted(d["metadata"]["name"] for d in docs if d["kind"] == kind) == deployments
    for d in docs:
        if d["kind"] == "Deployment":
            (hpa,) = _named(docs, "HorizontalPodAutoscaler", d["metadata"]["name"])
            assert d["spec"]["replicas"] == hpa["spec"]["minReplicas"] >= 2
    (store,) = [d for d in docs if d["kind"] == "SecretStore"]
    (account,) = _named(docs, "ServiceAccount", "srvthreds-external-secrets")
    auth = store["spec"]["provider"]["aws"]["auth"]["jwt"]["serviceAccountRef"]["name"]
    assert auth == "srvthreds-external-secrets"
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == (
        "arn:aws:iam::123456789012:role/srvthreds-prod-eso"
    )
    assert account["automountServiceAccountToken"] is False
    # Local environments keep the .env flow: no External Secrets objects.
    assert [d for d in _built(REPO, "minikube") if "external-secrets" in str(d.get("apiVersion"))] == []


def test_the_overlays_service_account_and_role_are_the_ones_terraform_makes() -> None:
    """The names are derived twice (the overlay, the root's module call): they must agree."""
    main = (REPO / "terraform/environments/prod/main.tf").read_text()
    assert 'service_account   = "${var.project}-external-secrets"' in main
    assert (
        'role_name         = "${local.name}-eso"' in main
        and 'name       = "${var.project}-${var.environment}"' in main
    )
    assert 'name_prefix       = "${var.project}/${var.environment}"' in main
    external = (REPO / "k8s/overlays/prod/external-secrets.yaml").read_text()
    assert "name: srvthreds-external-secrets\n" in external
    assert "eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/srvthreds-prod-eso\n" in external
    assert "key: srvthreds/prod/RABBITMQ_PASSWORD\n" in external
