"""kustomize's output order (its default, "legacy" sort), for documents built in slices.

A deploy hashes and applies the documents in the order kustomize gives a whole build: the
Namespace before what lives in it, a ConfigMap before the Deployment that reads it. The slices
come back slice by slice, so deploy puts them in that order again. The order is kustomize's
(kyaml/resid/gvk.go and the legacy sorter of api/resmap, Apache-2.0): kinds it orders first,
then every other kind, then the webhook configurations; within one rank by group, version and
kind; within one kind by namespace, then name. tests/unit/ops/test_kustomize_order.py checks it
against a whole build of the real kustomize, byte for byte.
"""

from __future__ import annotations

from typing import Any

FIRST = (
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
)
LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
# Every kind not named ranks 0: after FIRST (negative), before LAST (positive).
RANK = {kind: i - len(FIRST) for i, kind in enumerate(FIRST)} | {kind: i + 1 for i, kind in enumerate(LAST)}


def key(doc: dict[str, Any]) -> tuple[int, str, str]:
    """Where kustomize puts one document: rank of its kind, its group/version/kind, then its
    namespace and name as one string, as kustomize compares them (`a|x` sorts after `ab|x`;
    an empty one is spelt `~X` or `~N`)."""
    api = str(doc.get("apiVersion") or "")
    group, slash, version = api.partition("/")  # at the first slash, as kustomize splits it
    if not slash:
        group, version = "", api
    kind = str(doc.get("kind") or "")
    meta = doc.get("metadata") or {}
    gvk = "_".join([group or "~G", version or "~V", kind or "~K"])
    return (RANK.get(kind, 0), gvk, f"{meta.get('namespace') or '~X'}|{meta.get('name') or '~N'}")


def ordered(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents in kustomize's order (a whole build's own order is left as it is)."""
    return sorted(docs, key=key)
