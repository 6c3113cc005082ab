"""tasks/checks/policy.py: the restricted Pod Security Standard and our container hygiene, rule by rule.

Every example starts from a pod that passes (GOOD), breaks one rule, and expects that rule's
violation: a rule that stops firing fails its own test, whatever the others do."""

from __future__ import annotations

import copy
from collections.abc import Callable
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


def _shipper(
    kind: str = "DaemonSet", name: str = "fluent-bit", namespace: str = "app-logging"
) -> dict[str, Any]:
    """GOOD, made into the logging component's pod: root, reading the node's /var/log."""
    obj = copy.deepcopy(GOOD)
    obj["kind"], obj["metadata"] = kind, {"name": name, "namespace": namespace}
    spec = obj["spec"]["template"]["spec"]
    spec["securityContext"].update(runAsUser=0, runAsNonRoot=False)
    spec["volumes"].append({"name": "varlog", "hostPath": {"path": "/var/log"}})
    spec["containers"][0]["name"] = name
    return obj


def test_the_log_shipper_exception_covers_its_daemonset_in_its_namespace() -> None:
    assert policy.violations([_shipper()], [policy.log_shipper("app-logging")]) == []


def test_without_the_exception_the_log_shipper_is_refused_for_each_rule() -> None:
    assert sorted(policy.violations([_shipper()])) == sorted(
        [
            "DaemonSet/fluent-bit: pod runAsUser must not be 0",
            "DaemonSet/fluent-bit: volume varlog uses hostPath",
            "DaemonSet/fluent-bit: container fluent-bit: runAsNonRoot must be true",
            "DaemonSet/fluent-bit: container fluent-bit: runAsUser must be a non-zero UID",
        ]
    )


@pytest.mark.parametrize(
    "obj",
    [
        _shipper(kind="Deployment", name="fluent-bit"),  # the same pod as a service's Deployment
        _shipper(name="web"),  # another DaemonSet in the logging namespace
        _shipper(namespace="app"),  # the DaemonSet in the stack's own namespace
    ],
    ids=["deployment", "other-name", "other-namespace"],
)
def test_the_same_host_path_elsewhere_is_still_refused(obj: dict[str, Any]) -> None:
    problems = policy.violations([obj], [policy.log_shipper("app-logging")])
    assert any("uses hostPath" in p for p in problems)
    assert any("runAsUser must not be 0" in p for p in problems)


def test_the_exception_covers_only_its_rules_not_others_of_the_same_pod() -> None:
    obj = _shipper()
    spec = obj["spec"]["template"]["spec"]
    spec["volumes"].append({"name": "etc", "hostPath": {"path": "/etc"}})
    spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False
    spec["hostNetwork"] = True
    assert policy.violations([obj], [policy.log_shipper("app-logging")]) == [
        "DaemonSet/fluent-bit: hostNetwork must not be true",
        "DaemonSet/fluent-bit: volume etc uses hostPath",
        "DaemonSet/fluent-bit: container fluent-bit: readOnlyRootFilesystem must be true",
    ]
