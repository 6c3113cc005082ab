"""Restricted-profile edges the mutation benchmark found unguarded (bench/mutation.py policy).

Each test pins one boundary or one rule of tasks/checks/policy.py: the exact UID limit, which
containers need probes, and the rules whose violation was never shown to be reported.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tasks.checks import policy
from tests.test_policy import GOOD


def _deployment() -> tuple[dict[str, Any], dict[str, Any]]:
    obj = copy.deepcopy(GOOD)
    return obj, obj["spec"]["template"]["spec"]


def test_the_uid_limit_itself_is_allowed_and_one_below_is_not() -> None:
    obj, spec = _deployment()
    spec["securityContext"]["runAsUser"] = policy.HIGH_UID
    assert policy.violations([obj]) == []
    spec["securityContext"]["runAsUser"] = policy.HIGH_UID - 1
    low, high = policy.HIGH_UID - 1, policy.HIGH_UID
    assert policy.violations([obj]) == [
        f"Deployment/web: container web: runAsUser {low} is below {high}; use a UID of at least {high}"
    ]


@pytest.mark.parametrize("uid", [1, -1, 10001])
def test_pod_level_runasuser_rule_fires_only_for_root(uid: int) -> None:
    obj, spec = _deployment()
    spec["securityContext"]["runAsUser"] = uid
    spec["containers"][0]["securityContext"]["runAsUser"] = 10001
    assert not any("pod runAsUser" in v for v in policy.violations([obj]))


def test_pod_level_root_is_reported_even_when_the_container_overrides_it() -> None:
    obj, spec = _deployment()
    spec["securityContext"]["runAsUser"] = 0
    spec["containers"][0]["securityContext"]["runAsUser"] = 10001
    assert policy.violations([obj]) == ["Deployment/web: pod runAsUser must not be 0"]


@pytest.mark.parametrize(
    "caps, ok",
    [
        ({"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}, True),
        ({"drop": ["ALL"], "add": ["SYS_ADMIN"]}, False),
    ],
)
def test_only_net_bind_service_may_be_added(caps: dict[str, list[str]], ok: bool) -> None:
    obj, spec = _deployment()
    spec["containers"][0]["securityContext"]["capabilities"] = caps
    expected = (
        [] if ok else ["Deployment/web: container web: only NET_BIND_SERVICE may be added to capabilities"]
    )
    assert policy.violations([obj]) == expected


def test_host_port_is_reported_and_a_container_port_is_not() -> None:
    obj, spec = _deployment()
    spec["containers"][0]["ports"] = [{"containerPort": 8080}]
    assert policy.violations([obj]) == []
    spec["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": 8080}]
    assert policy.violations([obj]) == ["Deployment/web: container web: hostPort is not allowed"]


def test_a_volume_of_an_allowed_kind_passes_and_the_bad_kind_is_named() -> None:
    obj, spec = _deployment()
    spec["volumes"] = [
        {"name": "cfg", "configMap": {"name": "c"}},
        {"name": "mixed", "secret": {"secretName": "s"}, "hostPath": {"path": "/"}},
    ]
    assert policy.violations([obj]) == ["Deployment/web: volume mixed uses hostPath"]


def test_probes_are_required_of_long_running_app_containers_only() -> None:
    obj, spec = _deployment()
    init = copy.deepcopy(spec["containers"][0])
    init["name"] = "migrate"
    del init["livenessProbe"], init["readinessProbe"]
    spec["initContainers"] = [init]
    assert policy.violations([obj]) == [], "an init container needs no probes"

    job = copy.deepcopy(GOOD)
    job["kind"] = "Job"
    for key in ("livenessProbe", "readinessProbe"):
        del job["spec"]["template"]["spec"]["containers"][0][key]
    assert policy.violations([job]) == [], "a Job's container needs no probes"
