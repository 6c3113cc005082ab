"""The restricted-profile check catches each kind of violation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tasks.checks import policy

GOOD: dict[str, Any] = {
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "template": {
            "spec": {
                "automountServiceAccountToken": False,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 10001,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "volumes": [{"name": "tmp", "emptyDir": {}}],
                "containers": [
                    {
                        "name": "web",
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]},
                        },
                        "resources": {
                            "requests": {"cpu": "1", "memory": "1Mi"},
                            "limits": {"cpu": "1", "memory": "1Mi"},
                        },
                        "livenessProbe": {},
                        "readinessProbe": {},
                    }
                ],
            }
        }
    },
}


def test_good_pod_passes() -> None:
    assert policy.violations([GOOD]) == []


@pytest.mark.parametrize(
    "path, value, expected",
    [
        (["securityContext", "runAsUser"], 0, "runAsUser must be a non-zero UID"),
        (["securityContext", "runAsNonRoot"], False, "runAsNonRoot must be true"),
        (["securityContext", "seccompProfile"], {"type": "Unconfined"}, "seccompProfile.type"),
        (
            ["containers", 0, "securityContext", "allowPrivilegeEscalation"],
            True,
            "allowPrivilegeEscalation must be false",
        ),
        (
            ["containers", 0, "securityContext", "capabilities"],
            {"drop": ["NET_RAW"]},
            "capabilities.drop must include ALL",
        ),
        (
            ["containers", 0, "securityContext", "readOnlyRootFilesystem"],
            False,
            "readOnlyRootFilesystem must be true",
        ),
        (["containers", 0, "securityContext", "privileged"], True, "privileged must not be true"),
        (["volumes"], [{"name": "h", "hostPath": {"path": "/"}}], "volume h uses hostPath"),
        (["hostNetwork"], True, "hostNetwork must not be true"),
        (["automountServiceAccountToken"], True, "automountServiceAccountToken must be false"),
        (["containers", 0, "resources"], {}, "resources.requests.cpu is missing"),
    ],
)
def test_each_violation_is_reported(path: list[Any], value: Any, expected: str) -> None:
    bad = copy.deepcopy(GOOD)
    node = bad["spec"]["template"]["spec"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    found = policy.violations([bad])
    assert any(expected in v for v in found), found
    assert all(v.startswith("Deployment/web: ") for v in found)


def test_missing_probes_on_long_running_workloads() -> None:
    bad = copy.deepcopy(GOOD)
    del bad["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    assert policy.violations([bad]) == ["Deployment/web: container web: livenessProbe is missing"]


def test_secret_looking_configmap_keys() -> None:
    cm = {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"DB_PASSWORD": "x", "HOST": "y"}}
    assert policy.violations([cm]) == ["ConfigMap/c: key DB_PASSWORD looks like a secret; put it in a Secret"]
