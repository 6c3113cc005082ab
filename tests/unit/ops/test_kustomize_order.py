"""tasks/ops/kustomize_order.py: kustomize's legacy order, from kinds to names, and a whole
build of the real kustomize is already in it (the byte-for-byte check against slices is in
test_kustomize_slices.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tasks.ops import kustomize_order, validate
from tasks.programs import kubectl
from testing.project import REPO


def doc(kind: str, name: str = "x", namespace: str | None = None, api: str = "v1") -> dict[str, object]:
    meta: dict[str, object] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": api, "kind": kind, "metadata": meta}


def kinds(docs: list[dict[str, object]]) -> list[str]:
    return [str(d["kind"]) for d in docs]


def test_kinds_kustomize_orders_first_come_first_then_the_others_then_the_webhooks() -> None:
    mixed = [
        doc("ValidatingWebhookConfiguration", api="admissionregistration.k8s.io/v1"),
        doc("Deployment", api="apps/v1"),
        doc("NetworkPolicy", api="networking.k8s.io/v1"),
        doc("ConfigMap"),
        doc("MutatingWebhookConfiguration", api="admissionregistration.k8s.io/v1"),
        doc("Namespace"),
        doc("HorizontalPodAutoscaler", api="autoscaling/v2"),
    ]
    assert kinds(kustomize_order.ordered(mixed)) == [
        "Namespace",
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",  # kinds not named rank between, by group: autoscaling < networking
        "NetworkPolicy",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ]


def test_one_kind_is_ordered_by_namespace_and_name_as_one_string() -> None:
    docs = [
        doc("Service", "b", "ns"),
        doc("Service", "a", "ns"),
        doc("Service", "z"),
        doc("Service", "a", "ns2"),
    ]
    # "ns2|a" sorts before "ns|a" ("2" before "|"), as kustomize compares them; a pair of
    # namespace and name would put "ns" first. No namespace is "~X": after every letter.
    assert [d["metadata"] for d in kustomize_order.ordered(docs)] == [
        {"name": "a", "namespace": "ns2"},
        {"name": "a", "namespace": "ns"},
        {"name": "b", "namespace": "ns"},
        {"name": "z"},
    ]


@pytest.mark.parametrize("overlay", sorted(p.name for p in (REPO / "k8s/overlays").iterdir()))
def test_a_whole_build_is_already_in_this_order(
    overlay: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(REPO / "k8s", tmp_path / "k8s")
    monkeypatch.chdir(tmp_path)
    docs = [
        yaml.safe_load(d)
        for d in validate.documents(kubectl.kustomize(f"k8s/overlays/{overlay}"))
        if d.strip()
    ]
    assert len({str(d["kind"]) for d in docs}) > 5
    assert kustomize_order.ordered(list(reversed(docs))) == docs


def test_namespaces_and_names_come_out_as_the_real_kustomize_puts_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    names = [("b", "ns"), ("a", "ns"), ("z", None), ("a", "ns2"), ("ab", "ns"), ("a", "n")]
    docs = [doc("Service", name, ns) for name, ns in names] + [
        doc("Namespace", "ns"),
        doc("ConfigMap", "c", "ns"),
    ]
    # Kinds kustomize does not rank: by group (none sorts after any), version, then kind.
    docs += [
        doc("ReplicationController", "r", "ns"),
        doc("Pod", "p", "ns"),
        doc("NetworkPolicy", "n", "ns", api="networking.k8s.io/v1"),
        doc("Ingress", "i", "ns", api="networking.k8s.io/v1"),
        doc("ControllerRevision", "c", "ns", api="apps/v1"),
        doc("HorizontalPodAutoscaler", "h", "ns", api="autoscaling/v2"),
        doc("HorizontalPodAutoscaler", "g", "ns", api="autoscaling/v1"),
    ]
    (tmp_path / "r.yaml").write_text(yaml.safe_dump_all(docs))
    (tmp_path / "kustomization.yaml").write_text("resources: [r.yaml]\n")
    built = [yaml.safe_load(d) for d in validate.documents(kubectl.kustomize(".")) if d.strip()]
    assert kustomize_order.ordered(docs) == built
