"""Platforms: which ones an environment's images are built for, and which this machine can build.

The host's platform is built natively. Any other (a "foreign" one: linux/arm64 on an amd64
machine) runs its programs under qemu's user-mode emulation, which the kernel starts for a
foreign binary through binfmt_misc: debootstrap's second stage in the base's root, and each
RUN step of a `docker build --platform`. Where binfmt_misc has no qemu entry for it, the
platform cannot be built here.
"""

from __future__ import annotations

import platform as _platform
from pathlib import Path

from tasks.config import load as config
from tasks.errors import StackError
from tasks.model import Config

# `uname -m` -> Docker's platform name, for the machines Docker runs on.
MACHINES = {"x86_64": "linux/amd64", "amd64": "linux/amd64", "aarch64": "linux/arm64", "arm64": "linux/arm64"}
# Docker's platform -> the qemu-user binary binfmt_misc names its entry after.
QEMU = {"linux/amd64": "qemu-x86_64", "linux/arm64": "qemu-aarch64"}
BINFMT = Path("/proc/sys/fs/binfmt_misc")
EMULATION_FIX = (
    "install qemu's user-mode emulation and register it with the kernel: on Debian or Ubuntu "
    "`apt-get install qemu-user-static binfmt-support` (it registers itself; in a container, "
    "`mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc` and `update-binfmts --enable` first), "
    "in GitHub Actions docker/setup-qemu-action (each registers qemu with the F flag a container needs)"
)


def host() -> str:
    """The platform this machine builds natively (`linux/amd64`)."""
    machine = _platform.machine()
    return MACHINES.get(machine, f"linux/{machine}")


def pushed(cfg: Config) -> tuple[str, ...]:
    """The platforms an environment's pushed images are made for (the host's when none listed)."""
    return cfg.images.platforms or (host(),)


def foreign(cfg: Config) -> tuple[str, ...]:
    """The listed platforms other than the host's: each needs emulation to build."""
    native = host()
    return tuple(p for p in cfg.images.platforms if p != native)


def emulated(platform: str, binfmt: Path | None = None) -> bool:
    """Can this machine run `platform`'s programs in a build? Its qemu entry in binfmt_misc is
    enabled and has the F (fix-binary) flag: the kernel then holds qemu open from registration,
    so a foreign program starts inside a container or a chroot too (a `docker build` RUN step,
    debootstrap's second stage), where qemu's own path does not exist. Without F every such step
    fails with "no such file or directory"."""
    entry = (binfmt or BINFMT) / QEMU.get(platform, "")
    try:
        lines = entry.read_text().splitlines() if entry.is_file() else []
    except OSError:
        return False
    flags = next((line.partition(":")[2] for line in lines if line.startswith("flags:")), "")
    return lines[:1] == ["enabled"] and "F" in flags


def _no_entry() -> str:
    return f"no enabled qemu entry with the F (fix-binary) flag in {BINFMT}"


def unbuildable(cfg: Config, binfmt: Path | None = None) -> tuple[str, ...]:
    """The foreign platforms this machine cannot build (no emulation for them)."""
    return tuple(p for p in foreign(cfg) if not emulated(p, binfmt))


def refuse_unbuildable(cfg: Config, missing: tuple[str, ...], root: Path) -> StackError:
    """A cloud environment's images must be pushed for every platform it lists: its nodes may be
    of any of them, and a manifest list without one would fail to pull there. Located at the
    images.platforms that lists them (file and line), whose removal is the other fix."""
    problem = (
        f"environment {cfg.env} lists images.platforms {', '.join(cfg.images.platforms)}, but this "
        f"machine ({host()}) cannot run {', '.join(missing)} programs: {_no_entry()}"
    )
    fix = f"{EMULATION_FIX}; or, if no node runs it, remove {', '.join(missing)} from images.platforms"
    try:
        return config.read(str(cfg.env), root).error(("images", "platforms"), problem, fix)
    except StackError:  # the files changed since the run began: say it without the line
        return StackError(problem, fix=fix)


def host_only_note(cfg: Config, missing: tuple[str, ...]) -> str:
    """Said once for a local environment: it builds the host's platform and goes on."""
    return (
        f"{', '.join(missing)} not built: this machine ({host()}) cannot run their programs "
        f"({_no_entry()}); building {host()} only. To build them, {EMULATION_FIX}"
    )
