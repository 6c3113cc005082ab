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
    "in GitHub Actions docker/setup-qemu-action"
)


def host() -> str:
    """The platform this machine builds natively (`linux/amd64`)."""
    machine = _platform.machine()
    return MACHINES.get(machine, f"linux/{machine}")


def arch(platform: str) -> str:
    """`linux/arm64` -> `arm64`: Debian's architecture name and the suffix of the image tasks."""
    return platform.rpartition("/")[2]


def pushed(cfg: Config) -> tuple[str, ...]:
    """The platforms an environment's pushed images are made for (the host's when none listed)."""
    return cfg.images.platforms or (host(),)


def foreign(cfg: Config) -> tuple[str, ...]:
    """The listed platforms other than the host's: each needs emulation to build."""
    native = host()
    return tuple(p for p in cfg.images.platforms if p != native)


def emulated(platform: str, binfmt: Path | None = None) -> bool:
    """Can this machine run `platform`'s programs? Its qemu entry in binfmt_misc is enabled."""
    entry = (binfmt or BINFMT) / QEMU.get(platform, "")
    try:
        return entry.is_file() and entry.read_text().startswith("enabled")
    except OSError:
        return False


def unbuildable(cfg: Config, binfmt: Path | None = None) -> tuple[str, ...]:
    """The foreign platforms this machine cannot build (no emulation for them)."""
    return tuple(p for p in foreign(cfg) if not emulated(p, binfmt))


def refuse_unbuildable(cfg: Config, missing: tuple[str, ...]) -> StackError:
    """A cloud environment's images must be pushed for every platform it lists: its nodes may be
    of any of them, and a manifest list without one would fail to pull there."""
    return StackError(
        f"environment {cfg.env} lists images.platforms {', '.join(cfg.images.platforms)}, but this "
        f"machine ({host()}) cannot run {', '.join(missing)} programs: no qemu entry in {BINFMT}",
        fix=EMULATION_FIX,
    )


def host_only_note(cfg: Config, missing: tuple[str, ...]) -> str:
    """Said once for a local environment: it builds the host's platform and goes on."""
    return (
        f"{', '.join(missing)} not built: this machine ({host()}) cannot run their programs "
        f"(no qemu entry in {BINFMT}); building {host()} only. To build them, {EMULATION_FIX}"
    )
