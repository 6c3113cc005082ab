"""tasks/render/logship.py: the logging component, a Fluent Bit DaemonSet shipping to Loki."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import yaml

from tasks.checks import policy
from tasks.model import Config
from tasks.render import logship
from tasks.render.templates import texts
from testing import configs

FOLDER = "k8s/components/logging"


def _stack(**changes: Any) -> Config:
    cfg = configs.config("stack", [configs.service("api")], [], runtime="kubernetes")
    return replace(cfg, **changes)


def _docs(cfg: Config) -> list[dict[str, Any]]:
    files = texts(logship.components(cfg))
    return [
        doc
        for name in ("namespace.yaml", "rbac.yaml", "configmap.yaml", "daemonset.yaml")
        for doc in yaml.safe_load_all(files[f"{FOLDER}/{name}"])
        if doc
    ]


def _one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [doc for doc in docs if doc["kind"] == kind]
    return found


def test_the_component_lists_its_manifests_in_its_kustomization() -> None:
    files = texts(logship.components(_stack()))
    kustomization = yaml.safe_load(files[f"{FOLDER}/kustomization.yaml"])
    assert kustomization["kind"] == "Component"
    assert kustomization["resources"] == sorted(logship.FILES)
    assert f"{FOLDER}/README.md" in files


def test_everything_lives_in_the_project_logging_namespace_by_default() -> None:
    cfg = _stack()
    docs = _docs(cfg)
    namespace = _one(docs, "Namespace")
    assert namespace["metadata"]["name"] == f"{cfg.project}-logging"
    namespaced = [d for d in docs if d["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding")]
    assert {d["metadata"]["namespace"] for d in namespaced} == {f"{cfg.project}-logging"}
    binding = _one(docs, "ClusterRoleBinding")
    assert binding["subjects"][0]["namespace"] == f"{cfg.project}-logging"


def test_the_namespace_enforces_privileged_and_warns_at_restricted() -> None:
    labels = _one(_docs(_stack()), "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"


def test_a_stack_level_namespace_moves_the_component() -> None:
    docs = _docs(_stack(logging_namespace="logs"))
    assert _one(docs, "Namespace")["metadata"]["name"] == "logs"
    assert _one(docs, "DaemonSet")["metadata"]["namespace"] == "logs"


def test_the_service_account_may_only_read_pods_and_namespaces() -> None:
    docs = _docs(_stack())
    (rule,) = _one(docs, "ClusterRole")["rules"]
    assert rule == {"apiGroups": [""], "resources": ["pods", "namespaces"], "verbs": ["get", "list", "watch"]}
    assert _one(docs, "ServiceAccount")["automountServiceAccountToken"] is False


def test_the_daemonset_breaks_only_the_written_exception() -> None:
    cfg = _stack()
    docs = _docs(cfg)
    assert policy.violations(docs, [policy.log_shipper(cfg.log_namespace())]) == []
    without = policy.violations(docs)
    assert sorted(p.split(": ", 1)[1] for p in without) == sorted(policy.log_shipper("x").problems)


def test_the_host_logs_are_mounted_read_only_and_everything_else_is_tight() -> None:
    daemonset = _one(_docs(_stack()), "DaemonSet")
    pod = daemonset["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (host,) = [v for v in pod["volumes"] if "hostPath" in v]
    assert host["hostPath"]["path"] == "/var/log"
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == host["name"]]
    assert mount["readOnly"] is True
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert set(container["resources"]) == {"requests", "limits"}


def test_the_config_tails_only_the_stack_namespace_and_labels_loki_streams() -> None:
    cfg = _stack()
    conf = _one(_docs(cfg), "ConfigMap")["data"]["fluent-bit.conf"]
    assert f"/var/log/containers/*_{cfg.namespace}_*.log" in conf
    assert "Name                 kubernetes" in conf
    assert "Merge_Log            On" in conf
    for label in (
        "namespace=$kubernetes['namespace_name']",
        "app=$kubernetes['labels']['app.kubernetes.io/name']",
        "level=$level",
    ):
        assert label in conf


def test_the_default_loki_url_is_split_into_host_port_and_path() -> None:
    conf = _one(_docs(_stack()), "ConfigMap")["data"]["fluent-bit.conf"]
    assert "Host         loki.logging.svc" in conf
    assert "Port         3100" in conf
    assert "Uri          /loki/api/v1/push" in conf
    assert "tls          off" in conf


def test_an_https_url_without_a_port_uses_tls_on_443() -> None:
    assert logship.loki("https://logs.example.com/loki/api/v1/push") == {
        "host": "logs.example.com",
        "port": 443,
        "uri": "/loki/api/v1/push",
        "tls": "on",
    }


def test_a_url_without_a_path_pushes_to_lokis_push_path() -> None:
    assert logship.loki("http://loki:3100")["uri"] == "/loki/api/v1/push"
