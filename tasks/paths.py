"""Where things live. doit runs every task creator and action in the project root."""
from __future__ import annotations

from pathlib import Path

# All state that is not source: doit's databases, image IDs, deploy-time files, logs.
# Git-ignored; deleting it is always safe.
BUILD = Path(".build")
PY_SOURCES = sorted(str(p.relative_to(Path(__file__).parent.parent))
                    for p in Path(__file__).parent.glob("*.py"))


def root() -> Path:
    return Path.cwd()


def files_under(*folders: str) -> list[str]:
    """Every file below the folders, as sorted relative paths (a folder can't be a file_dep)."""
    out: list[str] = []
    for folder in folders:
        out += [p.as_posix() for p in Path(folder).rglob("*") if p.is_file()]
    return sorted(out)
