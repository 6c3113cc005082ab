"""debootstrap: a minimal Debian root file system, made without any registry."""

from __future__ import annotations

from pathlib import Path

from tasks.programs import tools


def minbase(suite: str, root: Path, *, prefix: str, arch: str | None = None) -> None:
    """`debootstrap --variant=minbase SUITE ROOT` (debootstrap's default mirror: nothing
    site-specific written here). `arch`: another architecture than the host's (`arm64`); its
    second stage then runs under qemu's emulation (tasks/ops/platforms.py)."""
    other = [f"--arch={arch}"] if arch else []
    tools.run("debootstrap", "--variant=minbase", *other, suite, str(root), prefix=prefix)
