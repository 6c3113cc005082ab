"""debootstrap: a minimal Debian root file system, made without any registry."""

from __future__ import annotations

from pathlib import Path

from tasks.programs import tools


def minbase(suite: str, root: Path, *, prefix: str) -> None:
    """`debootstrap --variant=minbase SUITE ROOT` (debootstrap's default mirror: nothing
    site-specific written here)."""
    tools.run("debootstrap", "--variant=minbase", suite, str(root), prefix=prefix)
