"""Minikube itself: is the cluster up, which addons/images it has, what its identity is.

Each function is one `minikube`/`kubectl` call through the tools door, so the task
module can count exactly what a no-op run asks (the target is a handful of reads).
"""

from __future__ import annotations

import json
from typing import Any

from tasks.model import Minikube
from tasks.programs import kubectl, tools


def require() -> None:
    tools.require("minikube")


def mk(profile: str, *args: str, check: bool = True) -> tools.Result:
    return tools.run("minikube", "-p", profile, *args, check=check)


def status(profile: str) -> dict[str, Any] | None:
    """`minikube status` as JSON; None when the profile does not exist (exit 85)."""
    res = mk(profile, "status", "--output", "json", check=False)
    try:
        data = json.loads(res.stdout)
    except ValueError:
        return None  # "Profile not found" is printed as text, not JSON
    return data if isinstance(data, dict) else None


def running(profile: str) -> bool:
    st = status(profile)
    return bool(st and st.get("Host") == "Running" and st.get("APIServer") == "Running")


def start(m: Minikube) -> None:
    # Starting an existing stopped cluster keeps its identity (and its images).
    mk(
        m.profile,
        "start",
        f"--driver={m.driver}",
        f"--cpus={m.cpus}",
        f"--memory={m.memory}",
        f"--disk-size={m.disk}",
        check=True,
    )


def enabled_addons(profile: str) -> set[str]:
    data = json.loads(mk(profile, "addons", "list", "--output", "json").stdout or "{}")
    return {name for name, info in data.items() if str(info.get("Status")) == "enabled"}


def missing_addons(m: Minikube) -> list[str]:
    have = enabled_addons(m.profile)
    return [a for a in m.addons if a not in have]


def docker_env(profile: str) -> dict[str, str]:
    """The variables that point docker at Minikube's daemon (`--shell none`: KEY=VALUE lines)."""
    out = mk(profile, "docker-env", "--shell", "none").stdout
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
    data = json.loads(mk(profile, "image", "ls", "--format", "json").stdout or "[]")
    return {normalize(tag) for item in data for tag in item.get("repoTags", [])}


def load_image(profile: str, ref: str) -> None:
    print(f"  minikube image load {ref}", flush=True)
    mk(profile, "image", "load", ref)
