"""The environments of the tool's own stack, copied into a scratch folder (to break them): what
resolving a run reads, without the whole project."""

from __future__ import annotations

import shutil
from pathlib import Path

from testing.project import REPO


def copy_environments(dest: Path) -> Path:
    """environments/ (a copy) and the folders its build specs name (links)."""
    shutil.copytree(REPO / "environments", dest / "environments")
    for folder in ("demo", "docker"):
        (dest / folder).symlink_to(REPO / folder, target_is_directory=True)
    return dest


def break_environment(root: Path, env: str) -> None:
    """Make environments/<env>.yaml a configuration error."""
    (root / "environments" / f"{env}.yaml").write_text("nonsense_key: 1\n")
