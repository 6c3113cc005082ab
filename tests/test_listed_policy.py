"""Issue 15, "Security policy": each restricted-profile rule has its own failing example.

Every example starts from a pod that passes, breaks exactly one rule, and expects exactly
that one violation: a rule that stops firing fails its own test, whatever the others do.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tasks.checks import policy
from tests.test_policy import GOOD

Pod = dict[str, Any]


def _container(pod: Pod) -> Pod:
    return pod["containers"][0]  # type: ignore[no-any-return]


def _set(key: str, value: Any) -> Callable[[Pod], None]:
    def edit(pod: Pod) -> None:
        pod[key] = value

    return edit


def _unset_automount(pod: Pod) -> None:
    del pod["automountServiceAccountToken"]


def _add_capability(name: str) -> Callable[[Pod], None]:
    def edit(pod: Pod) -> None:
        _container(pod)["securityContext"]["capabilities"]["add"] = [name]

    return edit


def _host_port(pod: Pod) -> None:
    _container(pod)["ports"] = [{"name": "http", "containerPort": 8080, "hostPort": 8080}]


def _pod_root_container_uid(pod: Pod) -> None:
    # The container sets its own UID, so only the pod-level rule can see the root UID.
    pod["securityContext"]["runAsUser"] = 0
    _container(pod)["securityContext"]["runAsUser"] = 10001


RULES = [
    ("hostPID", _set("hostPID", True), "hostPID must not be true"),
    ("hostIPC", _set("hostIPC", True), "hostIPC must not be true"),
    ("hostNetwork", _set("hostNetwork", True), "hostNetwork must not be true"),
    (
        "capabilities.add SYS_ADMIN",
        _add_capability("SYS_ADMIN"),
        "container web: only NET_BIND_SERVICE may be added to capabilities",
    ),
    ("hostPort", _host_port, "container web: hostPort is not allowed"),
    ("automountServiceAccountToken unset", _unset_automount, "automountServiceAccountToken must be false"),
    ("pod-level runAsUser 0", _pod_root_container_uid, "pod runAsUser must not be 0"),
]


@pytest.mark.parametrize(("edit", "expected"), [(e, x) for _, e, x in RULES], ids=[r[0] for r in RULES])
def test_each_restricted_rule_fails_its_own_example(edit: Callable[[Pod], None], expected: str) -> None:
    bad = copy.deepcopy(GOOD)
    edit(bad["spec"]["template"]["spec"])
    assert policy.violations([bad]) == [f"Deployment/web: {expected}"]


def test_net_bind_service_is_the_one_capability_that_may_be_added() -> None:
    ok = copy.deepcopy(GOOD)
    _add_capability("NET_BIND_SERVICE")(ok["spec"]["template"]["spec"])
    assert policy.violations([ok]) == []


def test_a_container_port_without_host_port_passes() -> None:
    ok = copy.deepcopy(GOOD)
    _container(ok["spec"]["template"]["spec"])["ports"] = [{"name": "http", "containerPort": 8080}]
    assert policy.violations([ok]) == []


def test_rules_apply_to_init_containers_and_cronjobs() -> None:
    spec = copy.deepcopy(GOOD["spec"]["template"]["spec"])
    init = copy.deepcopy(_container(spec))
    init["name"] = "init"
    _host_port({"containers": [init]})
    spec["initContainers"] = [init]
    cron = {
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}},
    }
    assert policy.violations([cron]) == ["CronJob/nightly: container init: hostPort is not allowed"]
