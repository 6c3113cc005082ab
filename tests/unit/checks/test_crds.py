"""tasks/checks/crds.py: custom resources against the CRD schemas shipped in schemas/crds/,
strictly (unknown fields refused), and no kind of a shipped group skipped."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.checks import crds
from tasks.errors import StackError
from testing.project import REPO

PROD = REPO / "k8s/overlays/prod/external-secrets.yaml"


def _rendered() -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in yaml.safe_load_all(PROD.read_text()) if d}


SERVICE_MONITOR: dict[str, Any] = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "ServiceMonitor",
    "metadata": {"name": "engine", "labels": {"app.kubernetes.io/name": "engine"}},
    "spec": {
        "selector": {"matchLabels": {"app.kubernetes.io/name": "engine"}},
        "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
    },
}
PROMETHEUS_RULE: dict[str, Any] = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PrometheusRule",
    "metadata": {"name": "engine"},
    "spec": {
        "groups": [
            {
                "name": "engine",
                "rules": [{"alert": "EngineDown", "expr": 'up{job="engine"} == 0', "for": "5m"}],
            }
        ]
    },
}


def test_the_five_kinds_ship_with_a_named_source_version_and_licence() -> None:
    assert sorted(kind for _, kind in crds.shipped()) == [
        "Application",
        "ExternalSecret",
        "PrometheusRule",
        "SecretStore",
        "ServiceMonitor",
    ]
    readme = (REPO / crds.FOLDER / "README.md").read_text()
    for path in crds.shipped().values():
        (row,) = [line for line in readme.splitlines() if f"`{path.name}`" in line]
        assert "https://github.com/" in row and "Apache-2.0" in row and "| v" in row
    assert sorted(Path(p).name for p in crds.schema_files()) == sorted(
        p.name for p in crds.shipped().values()
    )


def test_the_rendered_external_secrets_objects_are_valid() -> None:
    rendered = _rendered()
    assert crds.problems(rendered["ExternalSecret"]) == []
    assert crds.problems(rendered["SecretStore"]) == []
    assert not crds.is_custom(rendered["ServiceAccount"])


@pytest.mark.parametrize("doc", [SERVICE_MONITOR, PROMETHEUS_RULE], ids=lambda d: d["kind"])
def test_prometheus_operator_objects_are_valid(doc: dict[str, Any]) -> None:
    assert crds.problems(doc) == []


def test_an_unknown_field_is_refused_where_it_is() -> None:
    secret = copy.deepcopy(_rendered()["ExternalSecret"])
    secret["spec"]["data"][0]["remoteRef"]["keyy"] = "x"
    (problem,) = crds.problems(secret)
    assert problem.startswith(
        "ExternalSecret srvthreds-secrets (external-secrets.io/v1): spec.data.0.remoteRef:"
    )
    assert "'keyy' was unexpected" in problem


def test_a_wrong_type_and_a_missing_required_field_are_refused() -> None:
    monitor = copy.deepcopy(SERVICE_MONITOR)
    monitor["spec"]["endpoints"][0]["interval"] = 30
    del monitor["spec"]["selector"]
    found = crds.problems(monitor)
    assert any("spec.endpoints.0.interval: 30 is not of type 'string'" in p for p in found), found
    assert any("'selector' is a required property" in p for p in found), found


def test_metadata_is_checked_too() -> None:
    rule = copy.deepcopy(PROMETHEUS_RULE)
    rule["metadata"] = {"name": "Engine_Rules", "lables": {}}
    found = crds.problems(rule)
    assert any("metadata.name: 'Engine_Rules' does not match" in p for p in found), found
    assert any("'lables' was unexpected" in p for p in found), found


@pytest.mark.parametrize(
    ("api", "kind"),
    [("external-secrets.io/v1", "ClusterSecretStore"), ("external-secrets.io/v1beta1", "ExternalSecret")],
)
def test_a_kind_or_version_of_a_shipped_group_without_a_schema_is_an_error(api: str, kind: str) -> None:
    (problem,) = crds.problems({"apiVersion": api, "kind": kind, "metadata": {"name": "x"}})
    assert problem.startswith(
        f"{kind} x ({api}): no schema for this kind and version is shipped in schemas/crds"
    )


def test_closing_keeps_what_the_crd_leaves_open() -> None:
    schema = {
        "type": "object",
        "properties": {
            "open": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"a": {}}},
            "map": {"type": "object", "additionalProperties": {"type": "string"}},
            "shut": {"type": "object", "properties": {"b": {"type": "string"}}},
        },
    }
    out = crds.closed(schema)
    assert out["additionalProperties"] is False
    assert "additionalProperties" not in out["properties"]["open"]
    assert out["properties"]["map"]["additionalProperties"] == {"type": "string"}
    assert out["properties"]["shut"]["additionalProperties"] is False
    assert "additionalProperties" not in schema  # the input is left as it was


def test_native_passes_kubernetes_kinds_on_and_refuses_a_bad_custom_resource() -> None:
    texts = PROD.read_text().split("\n---\n")
    native = crds.native(texts, "k8s/overlays/prod")
    assert len(native) == 1 and "kind: ServiceAccount" in native[0]
    bad = yaml.safe_dump({**SERVICE_MONITOR, "spec": {**SERVICE_MONITOR["spec"], "bogus": 1}})
    with pytest.raises(StackError) as info:
        crds.native([*texts, bad], "k8s/overlays/prod")
    message = str(info.value)
    assert message.startswith("k8s/overlays/prod has custom resources their CRD schemas refuse:")
    assert "ServiceMonitor engine (monitoring.coreos.com/v1): spec: Additional properties" in message


def test_the_fingerprint_follows_the_content_of_every_shipped_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied = tmp_path / "crds"
    copied.mkdir()
    for name in crds.schema_files():
        (copied / Path(name).name).write_bytes(Path(name).read_bytes())
    monkeypatch.setattr(crds, "folder", lambda: copied)
    crds.fingerprint.cache_clear()
    before = crds.fingerprint()
    first = sorted(copied.glob("*.json"))[0]
    first.write_text(first.read_text() + " ")
    crds.fingerprint.cache_clear()
    try:
        assert crds.fingerprint() != before
    finally:
        crds.fingerprint.cache_clear()


APPLICATION: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "shop-dev", "namespace": "argocd"},
    "spec": {
        "project": "default",
        "source": {"repoURL": "https://github.com/o/r.git", "targetRevision": "HEAD", "path": "deploy/dev"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"},
        "syncPolicy": {"automated": {"prune": False, "selfHeal": True}},
    },
}


def test_an_argo_cd_application_is_checked_strictly_against_its_crd() -> None:
    assert crds.problems(APPLICATION) == []
    typo = copy.deepcopy(APPLICATION)
    typo["spec"]["syncPolicy"]["automated"]["selfheal"] = True
    (problem,) = crds.problems(typo)
    assert problem.startswith("Application shop-dev (argoproj.io/v1alpha1): spec.syncPolicy.automated:")
    assert "'selfheal' was unexpected" in problem
    wrong = copy.deepcopy(APPLICATION)
    del wrong["spec"]["destination"]
    assert any("'destination' is a required property" in p for p in crds.problems(wrong))
    other = {**APPLICATION, "kind": "ApplicationSet"}
    (missing,) = crds.problems(other)
    assert "no schema for this kind and version is shipped in schemas/crds" in missing
