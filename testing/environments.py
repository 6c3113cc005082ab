"""The environments of the tool's own stack, copied into a scratch folder (to break them): what
resolving a run reads, without the whole project."""

from __future__ import annotations

import shutil
from pathlib import Path

from testing.project import REPO


def copy_environments(dest: Path) -> Path:
    """environments/ and the folders its build specs name (copies: build inputs must be inside
    the project, so links out of it are refused)."""
    shutil.copytree(REPO / "environments", dest / "environments")
    for folder in ("demo", "docker"):
        shutil.copytree(REPO / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def break_environment(root: Path, env: str) -> None:
    """Make environments/<env>.yaml a configuration error."""
    (root / "environments" / f"{env}.yaml").write_text("nonsense_key: 1\n")


def render_tree(dest: Path) -> Path:
    """A copy of the tool's checkout with what rendering reads (its terraform/ a link: only read)."""
    for name in ("environments", "templates", "tasks", "demo", "docker"):
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "terraform").symlink_to(REPO / "terraform", target_is_directory=True)
    return dest
