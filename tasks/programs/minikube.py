"""Minikube itself: is the cluster up, which addons/images it has, what its identity is;
start, enable, load and delete.

Each function is one `minikube`/`kubectl` call through the tools door, so the operations
can count exactly what a no-op run asks (the target is a handful of reads); callers never
see argv or parse minikube's output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tasks.model import Minikube
from tasks.output import console
from tasks.programs import kubectl, tools


def require() -> None:
    tools.require("minikube")


def _mk(profile: str, *args: str, check: bool = True) -> tools.Result:
    return tools.run("minikube", "-p", profile, *args, check=check)


@dataclass(frozen=True)
class Status:
    host: str  # Running | Stopped | ...
    apiserver: str


def status(profile: str) -> Status | None:
    """`minikube status`; None when the profile does not exist (exit 85)."""
    res = _mk(profile, "status", "--output", "json", check=False)
    try:
        data = json.loads(res.stdout)
    except ValueError:
        return None  # "Profile not found" is printed as text, not JSON
    if not isinstance(data, dict):
        return None
    return Status(str(data.get("Host")), str(data.get("APIServer")))


def running(profile: str) -> bool:
    st = status(profile)
    return st is not None and st.host == "Running" and st.apiserver == "Running"


def start(m: Minikube) -> None:
    # Starting an existing stopped cluster keeps its identity (and its images).
    _mk(
        m.profile,
        "start",
        f"--driver={m.driver}",
        f"--cpus={m.cpus}",
        f"--memory={m.memory}",
        f"--disk-size={m.disk}",
        check=True,
    )


def enabled_addons(profile: str) -> set[str]:
    data = json.loads(_mk(profile, "addons", "list", "--output", "json").stdout or "{}")
    return {name for name, info in data.items() if str(info.get("Status")) == "enabled"}


def missing_addons(m: Minikube) -> list[str]:
    have = enabled_addons(m.profile)
    return [a for a in m.addons if a not in have]


def docker_env(profile: str) -> dict[str, str]:
    """The variables that point docker at Minikube's daemon (`--shell none`: KEY=VALUE lines)."""
    out = _mk(profile, "docker-env", "--shell", "none").stdout
    pairs = (line.split("=", 1) for line in out.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def cluster_uid(profile: str) -> str | None:
    """The cluster's identity: kube-system's UID changes only when the cluster is recreated."""
    return kubectl.namespace_uid(profile, "kube-system")  # the context is named after the profile


def normalize(ref: str) -> str:
    """`docker.io/library/x:t` and `x:t` name the same image; compare in the short form."""
    for prefix in ("docker.io/", "library/"):
        ref = ref.removeprefix(prefix)
    return ref


def images(profile: str) -> set[str]:
    data = json.loads(_mk(profile, "image", "ls", "--format", "json").stdout or "[]")
    return {normalize(tag) for item in data for tag in item.get("repoTags", [])}


def load_image(profile: str, ref: str) -> None:
    console.step(f"minikube image load {ref}")
    _mk(profile, "image", "load", ref)


def enable_addon(profile: str, addon: str) -> None:
    _mk(profile, "addons", "enable", addon)


def delete(profile: str) -> None:
    """Delete the cluster itself (and its kubectl context)."""
    _mk(profile, "delete")
